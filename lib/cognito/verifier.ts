// `app.authenticate`: verifies the Cognito bearer token of a request, keys from the pool's JWKS only,
// and answers every bad token with a 401 and a stable code.
//
// The signature, `exp` and `nbf` are checked by fast-jwt, the verifier inside @fastify/jwt, called
// directly with one verifier (holding a ready key object) per pool key. @fastify/jwt's `request.jwtVerify()`
// takes ~38 us where fast-jwt alone takes ~27 us and a bare RS256 verify ~22 us (it decodes every token
// twice and merges its options per request; README, How verification works), and its key callback cannot
// keep key objects.
import { createVerifier, TokenError } from 'fast-jwt'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyError } from '@fastify/error'
import { headerSegment, readBearerToken } from './bearer-token.js'
import { assertCognitoClaims, type CognitoClaims } from './claims.js'
import {
  TokenAlgorithmError, TokenClaimsError, TokenExpiredError, TokenMalformedError, TokenNotYetValidError,
  TokenSignatureError, TokenUnknownKeyError, withChallenge
} from '../errors.js'
import { checkGates, hasGates } from './gates.js'
import { JwksKeyStore, type PoolKey } from './jwks.js'
import type { ResolvedCognitoOptions } from '../options.js'
import { VerifiedTokenCache } from './token-cache.js'

/**
 * Usable as an `onRequest`/`preHandler` hook (Fastify passes `done`) or awaited by hand
 * (`await app.authenticate(request, reply)`, no `done`: then it always returns a promise).
 */
export type AuthenticateHook = (request: FastifyRequest, reply: FastifyReply, done?: (err?: Error) => void) => Promise<void> | undefined

type Verify = (token: string) => Record<string, unknown>

// fast-jwt's codes, as ours. Anything else it may throw is still a token we cannot trust: 401, never 500.
const FAST_JWT_ERRORS: Record<string, (err: Error) => FastifyError> = {
  [TokenError.codes.invalidSignature]: () => new TokenSignatureError(),
  [TokenError.codes.expired]: () => new TokenExpiredError(),
  [TokenError.codes.inactive]: () => new TokenNotYetValidError('nbf is in the future'),
  [TokenError.codes.invalidClaimType]: (err) => new TokenClaimsError(err.message)
}

export interface CognitoVerifier {
  authenticate: AuthenticateHook
  keyStore: JwksKeyStore
  tokenCache: VerifiedTokenCache
}

/**
 * The token's `kid`, after its header is judged: `none`, HS* and any `alg` but RS256 are refused before any
 * key lookup. The key will come from the configured pool's JWKS only: `jku`, `x5u` and `jwk` are never read.
 */
function keyIdOf (token: string): string {
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(headerSegment(token), 'base64url').toString('utf8'))
  } catch (err) {
    throw err instanceof TokenMalformedError ? err : new TokenMalformedError('header is not base64url JSON')
  }
  if (typeof header !== 'object' || header === null) throw new TokenMalformedError('header is not a JSON object')
  const { alg, kid } = header as Record<string, unknown>
  if (alg !== 'RS256') throw new TokenAlgorithmError()
  if (typeof kid !== 'string' || kid === '') throw new TokenUnknownKeyError('no kid')
  return kid
}

/** `claimsKey`: the request property the verified claims go to (`decorators.user`). */
export function createCognitoVerifier (fastify: FastifyInstance, options: ResolvedCognitoOptions, claimsKey: string): CognitoVerifier {
  const keyStore = new JwksKeyStore({ jwksUri: options.jwksUri, timeoutMs: options.jwksTimeoutMs, penaltyMs: options.jwksPenaltyMs })
  const tokenCache = new VerifiedTokenCache(options.tokenCacheSize)
  // One fast-jwt verifier per pool key, built once; dropped with the key when a refetch replaces the set.
  const verifiers = new WeakMap<PoolKey, Verify>()
  const gated = hasGates(options)

  function verifierFor (key: PoolKey): Verify {
    let verify = verifiers.get(key)
    if (verify === undefined) {
      // Claims other than exp/nbf are checked in cognito-claims.ts, where each failure has its own code.
      verify = createVerifier({ key: key.pem, algorithms: ['RS256'], clockTolerance: options.clockToleranceMs, cache: false }) as Verify
      verifiers.set(key, verify)
    }
    return verify
  }

  fastify.addHook('onReady', async function prewarmJwks () {
    await keyStore.refresh().catch((err: Error) => {
      this.log.warn({ jwksUri: options.jwksUri, reason: err.message }, 'fastify-authsignal-cognito: JWKS prewarm failed; will retry on first use')
    })
  })
  fastify.addHook('onClose', async () => keyStore.close())

  function verifyWith (key: PoolKey, token: string): CognitoClaims {
    let payload: Record<string, unknown>
    try {
      payload = verifierFor(key)(token)
    } catch (err) {
      const make = FAST_JWT_ERRORS[(err as TokenError).code]
      throw make !== undefined ? make(err as Error) : new TokenMalformedError('rejected by the JWT verifier')
    }
    const claims = assertCognitoClaims(payload, options)
    tokenCache.set(token, claims)
    return claims
  }

  function accept (request: FastifyRequest, claims: CognitoClaims): void {
    (request as unknown as Record<string, unknown>)[claimsKey] = claims
    if (gated) checkGates(claims, options)
  }

  async function fetchKeyAndAccept (request: FastifyRequest, token: string, kid: string): Promise<void> {
    accept(request, verifyWith(await keyStore.getKey(kid), token))
  }

  // Synchronous through `done` whenever no JWKS fetch is needed (a cache hit, or a key already held):
  // no promise and no microtask on those paths.
  function authenticate (request: FastifyRequest, _reply: FastifyReply, done?: (err?: Error) => void): Promise<void> | undefined {
    let token: string
    let kid = ''
    let claims: CognitoClaims | undefined
    try {
      token = readBearerToken(request)
      claims = tokenCache.get(token)
      if (claims === undefined) {
        kid = keyIdOf(token)
        const key = keyStore.peek(kid)
        if (key !== undefined) claims = verifyWith(key, token)
      }
      if (claims !== undefined) accept(request, claims)
    } catch (err) {
      return fail(err as FastifyError, done)
    }
    // Outside the try: `done` runs the rest of the request, whose errors are not ours to answer.
    if (claims !== undefined) {
      if (done === undefined) return Promise.resolve()
      done()
      return undefined
    }
    const pending = fetchKeyAndAccept(request, token, kid).catch((err: FastifyError) => fail(err, undefined))
    if (done === undefined) return pending
    pending.then(() => done(), done)
    return undefined
  }

  return { authenticate, keyStore, tokenCache }
}

function fail (err: FastifyError, done: ((err?: Error) => void) | undefined): Promise<void> | undefined {
  withChallenge(err)
  if (done === undefined) return Promise.reject(err)
  done(err)
  return undefined
}
