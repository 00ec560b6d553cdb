// From an Authsignal user id back to the Cognito user it was made from (lib/cognito/identity.ts makes it:
// the pool's `userIdPrefix` + the pool's `userIdClaim`). The prefix says which pool: the longest prefix that
// begins the id (registration only lets one prefix begin another when the shorter one's ids are UUID subs
// and the rest of the longer one is not UUID-shaped, so the longest match is the only pool the id can be of).
// A `username` / `cognito:username` claim is the Cognito username itself; a `sub` is not a username, and is
// looked up with ListUsers and the filter `sub = "…"` (AdminGetUser takes a username or an alias only).
import type { ResolvedPool } from '../options/index.js'
import type { CognitoAdmin } from './admin.js'

/** A Cognito user: its pool and username, and its attributes when the lookup already read them. */
export interface CognitoUser {
  pool: ResolvedPool
  username: string
  attributes: Record<string, string> | undefined
}

// Cognito subs are UUIDs; anything else could not be one, nor be put in a ListUsers filter safely.
const SUB = /^[0-9a-f-]{1,64}$/i

type AttributeList = Array<{ Name?: string, Value?: string }> | undefined

export function attributesOf (list: AttributeList): Record<string, string> {
  const attributes: Record<string, string> = {}
  for (const { Name, Value } of list ?? []) attributes[String(Name)] = String(Value)
  return attributes
}

/** The pool an Authsignal user id belongs to, and its claim value; undefined when it is no pool's. */
export function poolOfUserId (pools: readonly ResolvedPool[], userId: string): { pool: ResolvedPool, claim: string } | undefined {
  const pool = pools.filter(p => userId.startsWith(p.userIdPrefix) && userId.length > p.userIdPrefix.length)
    .sort((a, b) => b.userIdPrefix.length - a.userIdPrefix.length)[0]
  return pool === undefined ? undefined : { pool, claim: userId.slice(pool.userIdPrefix.length) }
}

/** The Cognito user behind an Authsignal user id, or undefined when there is none. */
export async function findCognitoUser (admin: CognitoAdmin, pools: readonly ResolvedPool[], userId: string): Promise<CognitoUser | undefined> {
  const found = poolOfUserId(pools, userId)
  if (found === undefined) return undefined
  const { pool, claim } = found
  if (pool.userIdClaim !== 'sub') return { pool, username: claim, attributes: undefined }
  if (!SUB.test(claim)) return undefined
  const answer = await admin.send<{ Users?: Array<{ Username?: string, Attributes?: AttributeList }> }>('ListUsers',
    c => new c.ListUsersCommand({ UserPoolId: pool.userPoolId, Filter: `sub = "${claim}"`, Limit: 1 }))
  const user = answer.Users?.[0]
  return user?.Username === undefined ? undefined : { pool, username: user.Username, attributes: attributesOf(user.Attributes) }
}
