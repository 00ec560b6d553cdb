// Who a verified token speaks for: the Authsignal user id, always from the verified claims and never from
// the request, and whether the sign-in is recent enough for an operation.
import { isMachineToken, type CognitoClaims } from './claims.js'
import { AuthTooOldError, MachineTokenError, TokenClaimsError, withChallenge } from '../errors.js'
import type { UserIdClaim } from '../options.js'

export function authsignalUserId (claims: CognitoClaims, claim: UserIdClaim): string {
  // A client-credentials token has no user: sending its sub to Authsignal would create a phantom user.
  if (isMachineToken(claims)) throw new MachineTokenError()
  const userId = claims[claim]
  if (typeof userId !== 'string' || userId === '') throw new TokenClaimsError(`${claim} is required to identify the user`)
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
