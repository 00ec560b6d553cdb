// Reads the bearer token from the request, strictly: exactly one Authorization header holding
// "Bearer <JWS compact serialisation>", bounded in size, before any decoding or key lookup; then the token
// split and decoded for verifier.ts: the header's `kid` (after judging its `alg`), the payload whose `iss`
// chooses the pool, and the RS256 signature check on the pool's key.
import { verify, type KeyObject } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { BadAuthorizationHeaderError, NoTokenError, TokenAlgorithmError, TokenMalformedError, TokenUnknownKeyError } from '../errors.js'

/** Cognito tokens are 1 to 2 KiB; a much longer one is refused before it is decoded. */
export const MAX_TOKEN_LENGTH = 8192

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
 * A bearer token split once, each segment decoded at most once: the header (judged before any key lookup)
 * at construction, the payload when the pool is chosen or before the signature check, whichever is first.
 */
export class UnverifiedToken {
  readonly header: Record<string, unknown>
  /** The header's `kid`, after its `alg` is judged. */
  readonly kid: string
  private readonly first: number
  private readonly last: number
  private claims: Record<string, unknown> | undefined
  private readonly signature: Buffer

  /**
   * Three non-empty segments in canonical base64url (the payload's checked when it is decoded). `none`, HS*
   * and any `alg` but RS256 are refused before any key lookup. The key will come from the token's pool's JWKS
   * only: `jku`, `x5u` and `jwk` are never read.
   */
  constructor (readonly token: string) {
    const first = token.indexOf('.')
    const last = token.lastIndexOf('.')
    if (first <= 0 || last === first || last === token.length - 1 || token.indexOf('.', first + 1) !== last) {
      throw new TokenMalformedError('expected three base64url segments')
    }
    this.signature = canonicalBytes(token.slice(last + 1))
    this.first = first
    this.last = last
    this.header = judgedHeader(token.slice(0, first))
    this.kid = this.header.kid as string
  }

  /** The unverified claims: a JSON object (not an array), from a strictly base64url segment. */
  get payload (): Record<string, unknown> {
    if (this.claims === undefined) {
      const claims = decodeSegment(this.token.slice(this.first + 1, this.last), 'payload')
      if (Array.isArray(claims)) throw new TokenMalformedError('payload is not a JSON object')
      this.claims = claims
    }
    return this.claims
  }

  /** The RS256 signature over the first two segments (ASCII, checked above, so latin1 is their UTF-8). */
  signedBy (key: KeyObject): boolean {
    return verify('sha256', Buffer.from(this.token.slice(0, this.last), 'latin1'), key, this.signature)
  }
}

// A pool's tokens share a handful of headers (`alg` and `kid`): each is decoded and judged once, then found by
// its text. Cleared when full, so a flood of made-up headers cannot grow it nor keep the real ones out for long.
const judgedHeaders = new Map<string, Record<string, unknown>>()
const MAX_JUDGED_HEADERS = 64

function judgedHeader (segment: string): Record<string, unknown> {
  let header = judgedHeaders.get(segment)
  if (header === undefined) {
    header = decodeSegment(segment, 'header')
    const { alg, kid } = header
    if (alg !== 'RS256') throw new TokenAlgorithmError()
    if (typeof kid !== 'string' || kid === '') throw new TokenUnknownKeyError('no kid')
    if (judgedHeaders.size >= MAX_JUDGED_HEADERS) judgedHeaders.clear()
    judgedHeaders.set(segment, Object.freeze(header))
  }
  return header
}

/**
 * The bytes of a segment in canonical base64url only (its alphabet, no padding, no stray bits after the last
 * byte: Node's decoder would take all of those), checked by encoding the bytes again, which costs less than a
 * regular expression over the segment.
 */
function canonicalBytes (segment: string): Buffer {
  const bytes = Buffer.from(segment, 'base64url')
  if (bytes.toString('base64url') !== segment) throw new TokenMalformedError('expected three base64url segments')
  return bytes
}

/** A JSON object from a canonical base64url segment. */
function decodeSegment (segment: string, what: string): Record<string, unknown> {
  const bytes = canonicalBytes(segment)
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch {
    throw new TokenMalformedError(`${what} is not base64url JSON`)
  }
  if (typeof value !== 'object' || value === null) throw new TokenMalformedError(`${what} is not a JSON object`)
  return value as Record<string, unknown>
}

/** A token's unverified `iss`, for a log line about a refused issuer (its payload has been decoded before). */
export function issuerOf (token: string): unknown {
  return decodeSegment(token.slice(token.indexOf('.') + 1, token.lastIndexOf('.')), 'payload').iss
}
