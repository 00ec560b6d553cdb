// Who a verified token speaks for: the Authsignal user id, always from the verified claims and never from
// the request (the pool's claim, after the pool's prefix), and whether the sign-in is recent enough.
import type { CognitoClaims } from './claims.js'
import { poolOf, type VerifiedUser } from './user.js'
import { AuthTooOldError, MachineTokenError, TokenClaimsError, withChallenge } from '../errors.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Client-credentials tokens act for an app, not a person: `sub` is the client and there is no username. */
function isMachineToken (claims: CognitoClaims): boolean {
  return claims.token_use === 'access' && claims.sub === claims.client_id && claims.username === undefined
}

export function authsignalUserId (user: VerifiedUser): string {
  const pool = poolOf(user)
  // A client-credentials token has no user: sending its sub to Authsignal would create a phantom user.
  if (isMachineToken(user)) throw new MachineTokenError()
  const claim = pool.userIdClaim
  const value = user[claim]
  if (typeof value !== 'string' || value === '') throw new TokenClaimsError(`${claim} is required to identify the user`)
  // Registration let this pool's ids stand apart from another pool's because Cognito subs are UUIDs.
  if (pool.uuidUserIds && !UUID.test(value)) throw new TokenClaimsError(`${claim} must be a UUID to tell this pool's users from another pool's`)
  const userId = pool.userIdPrefix + value
  // `.` and `..` survive encodeURIComponent and URL parsing turns them into steps up the path
  // (`/v1/users/../actions/x` is `/v1/actions/x`): they cannot name an Authsignal user.
  if (userId === '.' || userId === '..') throw new TokenClaimsError(`${claim} cannot be used as an Authsignal user id`)
  return userId
}

/** RFC 9470: refuses (401) a token whose `auth_time` is older than `maxAgeSec`, asking for a fresh sign-in. */
export function assertRecentSignIn (claims: CognitoClaims, maxAgeSec: number | undefined): void {
  if (maxAgeSec === undefined) return
  if (Date.now() / 1000 - (claims.auth_time ?? 0) > maxAgeSec) throw withChallenge(new AuthTooOldError(maxAgeSec))
}
