// `app.authenticate`: verifies the Cognito bearer token of a request against the configured user pools
// (keys from each pool's own JWKS only), and answers every bad token with a 401 and a stable code.
//
// Hand-written JWS check (RS256 only: `crypto.verify` on the key's KeyObject, each segment decoded once,
// then our own claim checks) rather than fast-jwt: its generic decoder, claim validators and per-call option
// handling cost more than the RSA check they wrap (bench/README.md, row 5s), and every check it made for us
// is one line here (alg, crit, nbf, exp).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyError } from '@fastify/error'
import { readBearerToken, UnverifiedToken } from './bearer-token.js'
import { IssuerMismatchLog } from './issuer-log.js'
import { assertCognitoClaims } from './claims.js'
import {
  TokenIssuerError, TokenMalformedError, TokenSignatureError, withChallenge
} from '../errors.js'
import { settledWithin } from '../deadline.js'
import { checkGates, hasGates } from './gates.js'
import { JwksKeyStore, type KeyStoreStatus, type PoolKey } from './jwks.js'
import type { AuthenticateHook } from '../decorators.js'
import type { ResolvedPool } from '../options/types.js'
import { VerifiedTokenCache } from './token-cache.js'
import { poolOf, SharedValues, toVerifiedUser, type VerifiedUser } from './user.js'

export type { AuthenticateHook }

/** How long `ready()` waits for the first JWKS fetch (Fastify fails an onReady hook after 10 s). */
const PREWARM_WAIT_MS = 5000

/** One configured pool at run time: its keys, the values its tokens share. */
class PoolVerifier {
  readonly keyStore: JwksKeyStore
  readonly shared = new SharedValues()
  readonly gated: boolean

  constructor (readonly pool: ResolvedPool) {
    this.keyStore = new JwksKeyStore({ jwksUri: pool.jwksUri, timeoutMs: pool.jwksTimeoutMs, penaltyMs: pool.jwksPenaltyMs })
    this.gated = hasGates(pool)
  }
}

export interface PoolStatus extends KeyStoreStatus { userPoolId: string, issuers: string[] }

export interface CognitoVerifier {
  authenticate: AuthenticateHook
  status: () => PoolStatus[]
}

/** `claimsKey`: the request property the verified claims go to (`decorators.user`). */
export function createCognitoVerifier (fastify: FastifyInstance, pools: ResolvedPool[], claimsKey: string): CognitoVerifier {
  const verifiers = pools.map(pool => new PoolVerifier(pool))
  const byIssuer = new Map(verifiers.flatMap(v => v.pool.issuers.map(issuer => [issuer, v] as const)))
  const byPool = new Map(verifiers.map(v => [v.pool, v]))
  const single = verifiers.length === 1 ? verifiers[0] : undefined
  const gated = verifiers.some(v => v.gated)
  const issuerLog = new IssuerMismatchLog([...byIssuer.keys()])
  const tokenCache = new VerifiedTokenCache(pools.reduce((sum, pool) => sum + pool.tokenCacheSize, 0))

  fastify.addHook('onReady', async function prewarmJwks () {
    const prewarm = Promise.all(verifiers.map(async ({ keyStore, pool }) => keyStore.refresh().catch((err: Error) => {
      this.log.warn({ jwksUri: pool.jwksUri, reason: err.message }, 'fastify-authsignal-cognito: JWKS prewarm failed; will retry on first use')
    })))
    // Start-up waits for the keys, but not past Fastify's own onReady bound: a slower fetch goes on meanwhile.
    await settledWithin(prewarm, PREWARM_WAIT_MS)
  })
  fastify.addHook('onClose', async () => { for (const { keyStore } of verifiers) keyStore.close() })

  /** The pool whose issuer the token names: chosen before any key lookup, so a foreign issuer costs no fetch. */
  function poolFor (token: UnverifiedToken): PoolVerifier {
    const iss = token.payload.iss
    const verifier = typeof iss === 'string' ? byIssuer.get(iss) : undefined
    if (verifier === undefined) throw new TokenIssuerError()
    return verifier
  }

  function verifyWith (request: FastifyRequest, verifier: PoolVerifier, key: PoolKey, token: UnverifiedToken, cacheKey: string | undefined): VerifiedUser {
    // The payload is decoded (and a malformed one refused) before the signature is checked.
    const payload = token.payload
    if (!token.signedBy(key.key)) throw new TokenSignatureError()
    // No extension is understood, so a token that lists one as critical is refused (RFC 7515 §4.1.11).
    if (token.header.crit) throw new TokenMalformedError('crit header is not supported')
    const user = toVerifiedUser(assertCognitoClaims(payload, verifier.pool), verifier.pool, verifier.shared)
    if (verifier.pool.tokenCacheSize > 0) {
      tokenCache.set(cacheKey, user)
      tokenCache.remember(request.raw.socket, token.token, user)
    }
    return user
  }

  // Gates first: a token they refuse leaves no claims on the request, where another @fastify/auth strategy would find them.
  function accept (request: FastifyRequest, user: VerifiedUser): void {
    if (gated) {
      const verifier = single ?? byPool.get(poolOf(user)) as PoolVerifier
      if (verifier.gated) checkGates(user, verifier.pool)
    }
    (request as unknown as Record<string, unknown>)[claimsKey] = user
  }

  async function fetchKeyAndAccept (request: FastifyRequest, token: UnverifiedToken, verifier: PoolVerifier, cacheKey: string | undefined): Promise<void> {
    // One pool: its issuer is checked after the signature, except before a JWKS fetch, which a foreign issuer must not cost.
    if (single !== undefined) poolFor(token)
    accept(request, verifyWith(request, verifier, await verifier.keyStore.getKey(token.kid), token, cacheKey))
  }

  // Synchronous through `done` whenever no JWKS fetch is needed (a cache hit, or a key already held):
  // no promise and no microtask on those paths.
  function authenticate (request: FastifyRequest, _reply: FastifyReply, done?: (err?: Error) => void): Promise<void> | undefined {
    let token: string | undefined
    let cacheKey: string | undefined
    let unverified: UnverifiedToken | undefined
    let verifier: PoolVerifier | undefined
    let user: VerifiedUser | undefined
    try {
      token = readBearerToken(request)
      user = tokenCache.onConnection(request.raw.socket, token)
      if (user === undefined) {
        cacheKey = tokenCache.keyOf(token)
        user = tokenCache.get(cacheKey)
        if (user !== undefined) tokenCache.remember(request.raw.socket, token, user)
      }
      if (user === undefined) {
        unverified = new UnverifiedToken(token)
        verifier = single ?? poolFor(unverified)
        const key = verifier.keyStore.peek(unverified.kid)
        if (key !== undefined) user = verifyWith(request, verifier, key, unverified, cacheKey)
      }
      if (user !== undefined) accept(request, user)
    } catch (err) {
      issuerLog.explain(err, token, request.log)
      return fail(err as FastifyError, done)
    }
    // Outside the try: `done` runs the rest of the request, whose errors are not ours to answer.
    if (user !== undefined) {
      if (done === undefined) return Promise.resolve()
      done()
      return undefined
    }
    const pending = fetchKeyAndAccept(request, unverified as UnverifiedToken, verifier as PoolVerifier, cacheKey).catch((err: FastifyError) => {
      issuerLog.explain(err, token, request.log)
      return fail(err, undefined)
    })
    if (done === undefined) return pending
    pending.then(() => done(), done)
    return undefined
  }

  function status (): PoolStatus[] {
    return verifiers.map(({ pool, keyStore }) => ({ userPoolId: pool.userPoolId, issuers: pool.issuers, ...keyStore.status() }))
  }

  return { authenticate, status }
}

function fail (err: FastifyError, done: ((err?: Error) => void) | undefined): Promise<void> | undefined {
  withChallenge(err)
  if (done === undefined) return Promise.reject(err)
  done(err)
  return undefined
}
