// `request.user`: the verified claims of a token, as one frozen object shared by every request that
// presents the same token (the verified-token cache keeps it). Kept light so a full cache weighs little:
// values every token of a pool repeats (issuer, client, scope, groups) are shared between tokens, and the
// three per-token identifiers Cognito adds for its own bookkeeping (`jti`, `origin_jti`, `event_id`) are
// not kept: a host that needs one reads it from the (verified) bearer token itself.
import type { CognitoClaims } from './claims.js'
import type { ResolvedPool } from '../options/types.js'

const POOL = Symbol('fastify-authsignal-cognito.pool')
const DROPPED = new Set(['jti', 'origin_jti', 'event_id', '__proto__'])
const SHARED = new Set(['iss', 'client_id', 'aud', 'token_use', 'scope'])
// Values of verified tokens only, but bounded all the same: past this many, values are kept per token.
const MAX_SHARED_VALUES = 1000

/** What the plugin keeps of a verified token: its claims (enumerable), the pool that verified it (hidden). */
export interface VerifiedUser extends CognitoClaims {
  readonly [POOL]: ResolvedPool
}

/** One per pool: the values its tokens share, each kept once, and the prototype its users share. */
export class SharedValues {
  private readonly values = new Map<string, string | readonly string[]>()
  private prototype: object | undefined

  /**
   * What every user of the pool inherits, hidden from JSON and from Object.keys (they are not claims): the
   * pool's id and the pool. Inherited, not defined on each user: two `defineProperty` calls per token cost
   * more than the rest of the object.
   */
  userPrototype (pool: ResolvedPool): object {
    this.prototype ??= Object.freeze(Object.create(Object.prototype, {
      userPoolId: { value: pool.userPoolId },
      [POOL]: { value: pool }
    }) as object)
    return this.prototype
  }

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
  const user = Object.create(shared.userPrototype(pool)) as Record<string, unknown>
  for (const name of Object.keys(payload)) {
    // `__proto__` would set the user's prototype, not a claim: dropped with Cognito's bookkeeping claims.
    if (DROPPED.has(name)) continue
    const value = payload[name]
    // assertCognitoClaims has checked that cognito:groups is a list of strings.
    if (name === 'cognito:groups') user[name] = shared.shareList(value as string[])
    else if (typeof value === 'string') user[name] = SHARED.has(name) ? shared.share(value) : name === 'username' && value === payload.sub ? payload.sub : value
    else user[name] = deepFreeze(value)
  }
  return Object.freeze(user) as unknown as VerifiedUser
}

export function poolOf (user: VerifiedUser): ResolvedPool {
  return user[POOL]
}
