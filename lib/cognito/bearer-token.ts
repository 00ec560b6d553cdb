// Reads the bearer token from the request, strictly: exactly one Authorization header holding
// "Bearer <JWS compact serialisation>", bounded in size, before any decoding or key lookup; and the two
// unverified parts read before verification: the header's `kid` (after judging its `alg`), and the `iss`
// that chooses the pool.
import type { FastifyRequest } from 'fastify'
import { BadAuthorizationHeaderError, NoTokenError, TokenAlgorithmError, TokenMalformedError, TokenUnknownKeyError } from '../errors.js'

/** Cognito tokens are 1 to 2 KiB; a much longer one is refused before it is decoded. */
export const MAX_TOKEN_LENGTH = 8192

const BASE64URL = /^[A-Za-z0-9_-]+$/

/** The credential of `Authorization: Bearer <credential>`. Cheap: it runs on every request, cached or not. */
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
  // "Bearer" in any case, then exactly one space (no regex over a 1 KiB header on the hot path).
  if (header.charCodeAt(6) !== 32 || header.slice(0, 6).toLowerCase() !== 'bearer') {
    throw new BadAuthorizationHeaderError('not a Bearer credential')
  }
  const token = header.slice(7)
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenMalformedError(`longer than ${MAX_TOKEN_LENGTH} characters`)
  return token
}

/**
 * Three non-empty segments; the header (read before any key lookup) and the signature (which fast-jwt
 * decodes leniently) must be base64url. fast-jwt's decoder checks the payload's alphabet, so it is not
 * scanned twice. Returns the header segment.
 */
export function headerSegment (token: string): string {
  const first = token.indexOf('.')
  const last = token.lastIndexOf('.')
  if (first <= 0 || last === first || last === token.length - 1 || token.indexOf('.', first + 1) !== last) {
    throw new TokenMalformedError('expected three base64url segments')
  }
  const header = token.slice(0, first)
  if (!BASE64URL.test(header) || !BASE64URL.test(token.slice(last + 1))) throw new TokenMalformedError('expected three base64url segments')
  return header
}

function decodeSegment (segment: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
  } catch {
    throw new TokenMalformedError(`${what} is not base64url JSON`)
  }
  if (typeof value !== 'object' || value === null) throw new TokenMalformedError(`${what} is not a JSON object`)
  return value as Record<string, unknown>
}

/**
 * The token's `kid`, after its header is judged: `none`, HS* and any `alg` but RS256 are refused before any
 * key lookup. The key will come from the token's pool's JWKS only: `jku`, `x5u` and `jwk` are never read.
 */
export function keyIdOf (token: string): string {
  const { alg, kid } = decodeSegment(headerSegment(token), 'header')
  if (alg !== 'RS256') throw new TokenAlgorithmError()
  if (typeof kid !== 'string' || kid === '') throw new TokenUnknownKeyError('no kid')
  return kid
}

/** The token's unverified `iss`: used only to choose which pool's keys may verify it. */
export function issuerOf (token: string): unknown {
  return decodeSegment(token.slice(token.indexOf('.') + 1, token.lastIndexOf('.')), 'payload').iss
}
