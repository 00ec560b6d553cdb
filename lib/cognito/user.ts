// `request.user`: the verified claims of a token, as one frozen object shared by every request that
// presents the same token (the verified-token cache keeps it). Kept light so a full cache weighs little:
// values every token of a pool repeats (issuer, client, scope, groups) are shared between tokens, and the
// three per-token identifiers Cognito adds for its own bookkeeping (`jti`, `origin_jti`, `event_id`) are
// not kept: a host that needs one reads it from the (verified) bearer token itself.
import type { CognitoClaims } from './claims.js'
import type { ResolvedPool } from '../options/types.js'

const POOL = Symbol('fastify-authsignal-cognito.pool')
const DROPPED = new Set(['jti', 'origin_jti', 'event_id'])
const SHARED = new Set(['iss', 'client_id', 'aud', 'token_use', 'scope'])
// Values of verified tokens only, but bounded all the same: past this many, values are kept per token.
const MAX_SHARED_VALUES = 1000

/** What the plugin keeps of a verified token: its claims (enumerable), the pool that verified it (hidden). */
export interface VerifiedUser extends CognitoClaims {
  readonly [POOL]: ResolvedPool
}

/** One per pool: the values its tokens share, each kept once. */
export class SharedValues {
  private readonly values = new Map<string, string | readonly string[]>()

  /** The one copy of a string. */
  share (value: string): string {
    return this.keep(value, value) as string
  }

  /** The one copy of a list of strings (`cognito:groups`), frozen. */
  shareList (value: string[]): readonly string[] {
    return this.keep(`\u0000${value.join('\u0000')}`, value) as readonly string[]
  }

  private keep (key: string, value: string | string[]): string | readonly string[] {
    const known = this.values.get(key)
    if (known !== undefined) return known
    const kept = typeof value === 'string' ? value : Object.freeze(value)
    if (this.values.size < MAX_SHARED_VALUES) this.values.set(key, kept)
    return kept
  }
}

function deepFreeze (value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

export function toVerifiedUser (payload: Record<string, unknown>, pool: ResolvedPool, shared: SharedValues): VerifiedUser {
  const user: Record<string | symbol, unknown> = {}
  for (const [name, value] of Object.entries(payload)) {
    if (DROPPED.has(name)) continue
    // assertCognitoClaims has checked that cognito:groups is a list of strings.
    if (name === 'cognito:groups') user[name] = shared.shareList(value as string[])
    else if (SHARED.has(name) && typeof value === 'string') user[name] = shared.share(value)
    else user[name] = name === 'username' && value === payload.sub ? payload.sub : deepFreeze(value)
  }
  // Not claims: hidden from JSON and from Object.keys, so `request.user` serialises as the token's claims.
  Object.defineProperty(user, 'userPoolId', { value: pool.userPoolId })
  Object.defineProperty(user, POOL, { value: pool })
  return Object.freeze(user) as unknown as VerifiedUser
}

export function poolOf (user: VerifiedUser): ResolvedPool {
  return user[POOL]
}
