// Reads the bearer token from the request, strictly: exactly one Authorization header holding
// "Bearer <JWS compact serialisation>", bounded in size, before any decoding or key lookup.
import type { FastifyRequest } from 'fastify'
import { BadAuthorizationHeaderError, NoTokenError, TokenMalformedError } from './errors.js'

/** Cognito tokens are 1 to 2 KiB; a much longer one is refused before it is decoded. */
export const MAX_TOKEN_LENGTH = 8192

const BEARER = /^Bearer (.*)$/i
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

export function readBearerToken (request: FastifyRequest): string {
  const header = request.headers.authorization
  if (header === undefined || header === '') throw new NoTokenError()
  // Node keeps only the first of several Authorization headers: count them on the raw list.
  const raw = request.raw.rawHeaders
  let count = 0
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).length === 13 && (raw[i] as string).toLowerCase() === 'authorization') count++
  }
  if (count > 1) throw new BadAuthorizationHeaderError('several Authorization headers')
  const token = BEARER.exec(header)?.[1]
  if (token === undefined) throw new BadAuthorizationHeaderError('not a Bearer credential')
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenMalformedError(`longer than ${MAX_TOKEN_LENGTH} characters`)
  if (!COMPACT_JWS.test(token)) throw new TokenMalformedError('expected three base64url segments')
  return token
}
