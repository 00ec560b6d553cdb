// The user pool's signing keys, fetched from its JWKS and kept ready to verify with.
//
// Hand-written rather than get-jwks, because each of get-jwks's shortfalls is in its core:
// - it fetches per (kid) and keeps one JWK per kid, so it cannot tell "unknown kid" from "not fetched yet"
//   and has no negative cache: a flood of random kids is a flood of JWKS fetches. Here the whole set is
//   fetched at once, and a fetch that did not yield the kid asked for (or failed) opens a penalty window in
//   which no other fetch is made (aws-jwt-verify's penalty box): a key Cognito has just published is found
//   by the first request that needs it, while a flood of random kids costs one fetch per window;
// - its `timeout` option is not a fetch option, so a hung JWKS server hangs the request: here every fetch
//   carries an AbortSignal that really ends it;
// - it parses the body before it checks the status, and its errors reach clients as 500 through
//   @fastify/jwt: here a 5xx, a non-JSON or empty answer is a JwksUnavailableError (503);
// - its README pattern converts JWK to PEM on every request: here each key becomes a KeyObject once per
//   fetch, which verifier.ts verifies with directly.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { JwksUnavailableError, TokenUnknownKeyError } from '../errors.js'
import { withTimeout } from '../deadline.js'
import { describeErrorCode } from '../network-failure.js'

export interface JwksKeyStoreOptions {
  jwksUri: string
  timeoutMs: number
  penaltyMs: number
}

// Cognito's JWKS is about 1 KiB; anything much larger is not a key set we want to parse.
const MAX_JWKS_BYTES = 256 * 1024

interface Jwk { kid?: unknown, kty?: unknown, use?: unknown, alg?: unknown }

/** One signing key of the pool, parsed once: `crypto.verify` takes the KeyObject as it is. */
export interface PoolKey { readonly kid: string, readonly key: KeyObject }

/** What a health check may read of a key store (`app.authenticatorsStatus()`). */
export interface KeyStoreStatus {
  keys: number
  fetches: number
  lastFetch: { at: string, error?: string } | undefined
}

export class JwksKeyStore {
  private keys = new Map<string, PoolKey>()
  private inflight: Promise<void> | undefined
  private penaltyUntil = -Infinity
  private lastError: string | undefined
  private lastFetchAt: number | undefined
  private fetches = 0
  private readonly closing = new AbortController()

  constructor (private readonly options: JwksKeyStoreOptions) {}

  /** The key of `kid` if it is held now (the hot path: no promise). */
  peek (kid: string): PoolKey | undefined {
    return this.keys.get(kid)
  }

  /** The key of `kid`, fetching the JWKS unless a fetch that did not yield a kid (or failed) was made within the penalty window. */
  async getKey (kid: string): Promise<PoolKey> {
    const cached = this.keys.get(kid)
    if (cached !== undefined) return cached
    if (this.inflight === undefined && Date.now() < this.penaltyUntil) throw this.unknownKid()
    await this.refresh().catch(() => {})
    const key = this.keys.get(kid)
    if (key !== undefined) return key
    this.penaltyUntil = Math.max(this.penaltyUntil, (this.lastFetchAt as number) + this.options.penaltyMs)
    throw this.unknownKid()
  }

  status (): KeyStoreStatus {
    const at = this.lastFetchAt
    return {
      keys: this.keys.size,
      fetches: this.fetches,
      lastFetch: at === undefined ? undefined : { at: new Date(at).toISOString(), ...(this.lastError !== undefined && { error: this.lastError }) }
    }
  }

  /** Fetches the JWKS now (merged with a fetch already under way). Rejects when it cannot be had. */
  refresh (): Promise<void> {
    this.inflight ??= this.fetchKeys().finally(() => { this.inflight = undefined })
    return this.inflight
  }

  close (): void {
    this.closing.abort()
  }

  // When the last fetch failed, a kid we do not hold cannot be judged (503); else it is a bad token (401).
  private unknownKid (): Error {
    if (this.lastError !== undefined) return new JwksUnavailableError(this.lastError)
    return new TokenUnknownKeyError('unknown kid')
  }

  private async fetchKeys (): Promise<void> {
    this.lastFetchAt = Date.now()
    this.fetches++
    try {
      this.keys = await this.download()
      this.lastError = undefined
    } catch (err) {
      // Stale beats an outage: keys already known stay in use. A failed fetch is not retried within the window.
      this.lastError = (err as Error).message
      this.penaltyUntil = this.lastFetchAt + this.options.penaltyMs
      throw new JwksUnavailableError(this.lastError)
    }
  }

  private async download (): Promise<Map<string, PoolKey>> {
    const { timeoutMs } = this.options
    const timedOut = (): Error => new Error(`JWKS did not answer within ${timeoutMs} ms`)
    return parseJwks(await withTimeout(timeoutMs, async signal => await this.fetchText(AbortSignal.any([signal, this.closing.signal])), timedOut))
  }

  private async fetchText (signal: AbortSignal): Promise<string> {
    try {
      const response = await this.get(signal)
      if (!response.ok) {
        await response.body?.cancel()
        throw new Error(`JWKS answered HTTP ${response.status}`)
      }
      return await readBounded(response)
    } catch (err) {
      const e = err as Error
      if (e.message.startsWith('JWKS')) throw e
      throw new Error(`JWKS could not be fetched: ${describeFailure(e)}`)
    }
  }

  private async get (signal: AbortSignal): Promise<Response> {
    const init: RequestInit = { signal, redirect: 'error', headers: { accept: 'application/json' } }
    try {
      return await fetch(this.options.jwksUri, init)
    } catch (err) {
      // A pooled keep-alive connection that the server has just closed fails at once with a reset: the GET
      // is idempotent, so it is sent again, once (undici then opens a new connection).
      if (!STALE_CONNECTION.has(String(((err as Error).cause as { code?: unknown } | undefined)?.code))) throw err
      return await fetch(this.options.jwksUri, init)
    }
  }
}

const STALE_CONNECTION = new Set(['ECONNRESET', 'UND_ERR_SOCKET'])

// undici's fetch says only "fetch failed"; the reason is its cause's code.
function describeFailure (err: Error): string {
  if (err.name === 'AbortError') return 'aborted (the plugin is closing)'
  const cause = err.cause as { code?: unknown } | undefined
  return typeof cause?.code === 'string' ? describeErrorCode(cause.code) : `${err.name}: ${err.message}`
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
      keys.set(jwk.kid, { kid: jwk.kid, key: createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }) })
    } catch {
      // One unusable key does not make the others unusable.
    }
  }
  if (keys.size === 0) throw new Error('JWKS has no usable RS256 signing key')
  return keys
}
