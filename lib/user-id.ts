// The Authsignal user id of a request: always from the verified token, never from the request itself.
import type { FastifyRequest } from 'fastify'
import { isMachineToken, type CognitoClaims } from './cognito-claims.js'
import { MachineTokenError, TokenClaimsError } from './errors.js'
import type { UserIdClaim } from './options.js'

export function userIdOf (request: FastifyRequest, claim: UserIdClaim): string {
  const claims = request.user as CognitoClaims
  // A client-credentials token has no user: sending its sub to Authsignal would create a phantom user.
  if (isMachineToken(claims)) throw new MachineTokenError()
  const userId = claims[claim]
  if (typeof userId !== 'string' || userId === '') throw new TokenClaimsError(`${claim} is required to identify the user`)
  // `.` and `..` survive encodeURIComponent and URL parsing turns them into steps up the path
  // (`/v1/users/../actions/x` is `/v1/actions/x`): they cannot name an Authsignal user.
  if (userId === '.' || userId === '..') throw new TokenClaimsError(`${claim} cannot be used as an Authsignal user id`)
  return userId
}

/** The SDK puts user ids into URL paths unencoded: encode them ourselves (Authsignal decodes the segment). */
export function pathSegment (id: string): string {
  return encodeURIComponent(id)
}
