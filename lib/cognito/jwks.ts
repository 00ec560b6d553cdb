// The user pool's signing keys, fetched from its JWKS and kept ready to verify with.
//
// Hand-written rather than get-jwks, because each of get-jwks's shortfalls is in its core:
// - it fetches per (kid) and keeps one JWK per kid, so it cannot tell "unknown kid" from "not fetched yet"
//   and has no negative cache: a flood of random kids is a flood of JWKS fetches. Here the whole set is
//   fetched at once, and an unknown kid triggers at most one refetch per penalty window (as aws-jwt-verify);
// - its `timeout` option is not a fetch option, so a hung JWKS server hangs the request: here every fetch
//   carries an AbortSignal that really ends it;
// - it parses the body before it checks the status, and its errors reach clients as 500 through
//   @fastify/jwt: here a 5xx, a non-JSON or empty answer is a JwksUnavailableError (503);
// - its README pattern converts JWK to PEM on every request: here each key is converted once per fetch,
//   and the verifier keeps one ready key object per key (cognito-verifier.ts).
import { createPublicKey } from 'node:crypto'
import { JwksUnavailableError, TokenUnknownKeyError } from '../errors.js'

export interface JwksKeyStoreOptions {
  jwksUri: string
  timeoutMs: number
  penaltyMs: number
}

// Cognito's JWKS is about 1 KiB; anything much larger is not a key set we want to parse.
const MAX_JWKS_BYTES = 256 * 1024

interface Jwk { kid?: unknown, kty?: unknown, use?: unknown, alg?: unknown }

/** One signing key of the pool. The object lives until a refetch replaces the set: verifiers can be cached on it. */
export interface PoolKey { readonly kid: string, readonly pem: string }

export class JwksKeyStore {
  private keys = new Map<string, PoolKey>()
  private inflight: Promise<void> | undefined
  private lastFetchAt = -Infinity
  private lastError: string | undefined
  private readonly closing = new AbortController()
  /** How many JWKS fetches were started (the flood test and the benchmark read it). */
  fetchCount = 0

  constructor (private readonly options: JwksKeyStoreOptions) {}

  /** The key of `kid` if it is held now (the hot path: no promise). */
  peek (kid: string): PoolKey | undefined {
    return this.keys.get(kid)
  }

  /** The key of `kid`, fetching the JWKS at most once per penalty window when the kid is unknown. */
  async getKey (kid: string): Promise<PoolKey> {
    const cached = this.keys.get(kid)
    if (cached !== undefined) return cached
    if (this.inflight === undefined && Date.now() - this.lastFetchAt < this.options.penaltyMs) {
      throw this.unknownKid()
    }
    await this.refresh().catch(() => {})
    return this.keys.get(kid) ?? this.throwUnknownKid()
  }

  /** Fetches the JWKS now (merged with a fetch already under way). Rejects when it cannot be had. */
  refresh (): Promise<void> {
    this.inflight ??= this.fetchKeys().finally(() => { this.inflight = undefined })
    return this.inflight
  }

  close (): void {
    this.closing.abort()
  }

  private throwUnknownKid (): never {
    throw this.unknownKid()
  }

  // When the last fetch failed, a kid we do not hold cannot be judged (503); else it is a bad token (401).
  private unknownKid (): Error {
    if (this.lastError !== undefined) return new JwksUnavailableError(this.lastError)
    return new TokenUnknownKeyError('unknown kid')
  }

  private async fetchKeys (): Promise<void> {
    this.lastFetchAt = Date.now()
    this.fetchCount++
    try {
      this.keys = await this.download()
      this.lastError = undefined
    } catch (err) {
      // Stale beats an outage: keys already known stay in use.
      this.lastError = (err as Error).message
      throw new JwksUnavailableError(this.lastError)
    }
  }

  private async download (): Promise<Map<string, PoolKey>> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.closing.signal])
    let text: string
    try {
      const response = await fetch(this.options.jwksUri, { signal, redirect: 'error', headers: { accept: 'application/json' } })
      if (!response.ok) {
        await response.body?.cancel()
        throw new Error(`JWKS answered HTTP ${response.status}`)
      }
      text = await readBounded(response)
    } catch (err) {
      const e = err as Error
      if (e.name === 'TimeoutError') throw new Error(`JWKS did not answer within ${this.options.timeoutMs} ms`)
      if (e.message.startsWith('JWKS')) throw e
      throw new Error(`JWKS could not be fetched (${e.name})`)
    }
    return parseJwks(text)
  }
}

async function readBounded (response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0)
  if (declared > MAX_JWKS_BYTES) {
    await response.body?.cancel()
    throw new Error('JWKS answer is too large')
  }
  const text = await response.text()
  if (text.length > MAX_JWKS_BYTES) throw new Error('JWKS answer is too large')
  return text
}

/** Keeps the RSA signing keys of a JWKS document, ready to verify with. */
export function parseJwks (text: string): Map<string, PoolKey> {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new Error('JWKS answer is not JSON')
  }
  const list = (doc as { keys?: unknown } | null)?.keys
  if (!Array.isArray(list)) throw new Error('JWKS answer has no "keys" array')
  const keys = new Map<string, PoolKey>()
  for (const jwk of list as Jwk[]) {
    if (typeof jwk?.kid !== 'string' || jwk.kty !== 'RSA') continue
    if (jwk.use !== undefined && jwk.use !== 'sig') continue
    if (jwk.alg !== undefined && jwk.alg !== 'RS256') continue
    try {
      const pem = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' })
      keys.set(jwk.kid, { kid: jwk.kid, pem: pem as string })
    } catch {
      // One unusable key does not make the others unusable.
    }
  }
  if (keys.size === 0) throw new Error('JWKS has no usable RS256 signing key')
  return keys
}
