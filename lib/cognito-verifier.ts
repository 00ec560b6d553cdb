// `app.authenticate`: verifies the Cognito bearer token of a request with @fastify/jwt (fast-jwt),
// keys from the pool's JWKS only, and answers every bad token with a 401 and a stable code.
import fastifyJwt, { type TokenOrHeader } from '@fastify/jwt'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyError } from '@fastify/error'
import { readBearerToken } from './bearer-token.js'
import { assertCognitoClaims, missingGroup, missingScope, type CognitoClaims } from './cognito-claims.js'
import {
  MissingGroupError, MissingScopeError, TokenAlgorithmError, TokenClaimsError, TokenExpiredError,
  TokenMalformedError, TokenNotYetValidError, TokenSignatureError, TokenUnknownKeyError
} from './errors.js'
import { JwksKeyStore } from './jwks.js'
import type { ResolvedCognitoOptions } from './options.js'
import { VerifiedTokenCache } from './token-cache.js'

export type AuthenticateHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

// Several registrations (two pools, two prefixes) each need their own @fastify/jwt namespace.
let registrations = 0

// fast-jwt codes that @fastify/jwt passes through unwrapped.
const FAST_JWT_ERRORS: Record<string, (err: Error) => FastifyError> = {
  FAST_JWT_INACTIVE: () => new TokenNotYetValidError('nbf is in the future'),
  FAST_JWT_INVALID_CLAIM_TYPE: (err) => new TokenClaimsError(err.message)
}

export interface CognitoVerifier {
  authenticate: AuthenticateHook
  keyStore: JwksKeyStore
  tokenCache: VerifiedTokenCache
}

export async function registerCognitoVerifier (fastify: FastifyInstance, options: ResolvedCognitoOptions): Promise<CognitoVerifier> {
  const keyStore = new JwksKeyStore({ jwksUri: options.jwksUri, timeoutMs: options.jwksTimeoutMs, penaltyMs: options.jwksPenaltyMs })
  const tokenCache = new VerifiedTokenCache(options.tokenCacheSize)
  // Requests whose token decoded and whose key was found: an "invalid" from @fastify/jwt after that is the signature.
  const keyFound = new WeakSet<FastifyRequest>()
  const namespace = `authsignalCognito${registrations++}`
  const verifyName = `${namespace}JwtVerify`

  await fastify.register(fastifyJwt, {
    namespace,
    decode: { complete: true },
    // Algorithm and kid are checked before any key lookup: `none`, HS* and others never reach the JWKS.
    // The key comes from the configured pool's JWKS only; `jku`, `x5u` and `jwk` headers are never read.
    secret: async (request: FastifyRequest, token: TokenOrHeader) => {
      // With `decode: { complete: true }` @fastify/jwt hands us the whole decoded token.
      const { alg, kid } = (token as { header: Record<string, unknown> }).header
      if (alg !== 'RS256') throw new TokenAlgorithmError()
      if (typeof kid !== 'string' || kid === '') throw new TokenUnknownKeyError('no kid')
      const pem = await keyStore.getKey(kid)
      keyFound.add(request)
      return pem
    },
    // Claims other than exp/nbf are checked in cognito-claims.ts, where each failure has its own code.
    verify: { algorithms: ['RS256'], clockTolerance: options.clockToleranceMs, cache: false }
  })

  fastify.addHook('onReady', async function prewarmJwks () {
    await keyStore.refresh().catch((err: Error) => {
      this.log.warn({ jwksUri: options.jwksUri, reason: err.message }, 'fastify-authsignal-cognito: JWKS prewarm failed; will retry on first use')
    })
  })
  fastify.addHook('onClose', async () => keyStore.close())

  async function verify (request: FastifyRequest, token: string): Promise<CognitoClaims> {
    let payload: Record<string, unknown>
    try {
      payload = await (request as unknown as Record<string, () => Promise<Record<string, unknown>>>)[verifyName]!()
    } catch (err) {
      throw translate(err as FastifyError, keyFound.has(request))
    }
    const claims = assertCognitoClaims(payload, options)
    tokenCache.set(token, claims)
    return claims
  }

  async function authenticate (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    try {
      const token = readBearerToken(request)
      const claims = tokenCache.get(token) ?? await verify(request, token)
      request.user = claims
      checkGates(claims, options)
    } catch (err) {
      setChallengeHeader(reply, err as FastifyError)
      throw err
    }
  }

  return { authenticate, keyStore, tokenCache }
}

function translate (err: FastifyError, keyWasFound: boolean): Error {
  if (err.statusCode !== undefined && err.code.startsWith('FST_COGNITO')) return err
  if (err.code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED') return new TokenExpiredError()
  if (err.code === 'FST_JWT_AUTHORIZATION_TOKEN_INVALID') {
    return keyWasFound ? new TokenSignatureError() : new TokenMalformedError('header or payload is not base64url JSON')
  }
  const make = FAST_JWT_ERRORS[err.code]
  // Anything else @fastify/jwt or fast-jwt may throw is still a token we cannot trust: 401, never 500.
  return make !== undefined ? make(err) : new TokenMalformedError('rejected by the JWT verifier')
}

function checkGates (claims: CognitoClaims, options: ResolvedCognitoOptions): void {
  const group = missingGroup(claims, options.requiredGroups)
  if (group !== undefined) throw new MissingGroupError(group)
  const scope = missingScope(claims, options.requiredScopes)
  if (scope !== undefined) throw new MissingScopeError(scope)
}

/** RFC 6750 / RFC 9470 `WWW-Authenticate` for the errors that ask the client to authenticate differently. */
export function setChallengeHeader (reply: FastifyReply, err: FastifyError): void {
  if (err.code === 'FST_COGNITO_NO_TOKEN') {
    reply.header('WWW-Authenticate', 'Bearer')
  } else if (err.code === 'FST_COGNITO_AUTH_TOO_OLD') {
    reply.header('WWW-Authenticate', `Bearer error="insufficient_user_authentication", error_description="${err.message}"`)
  } else if (err.statusCode === 401) {
    reply.header('WWW-Authenticate', `Bearer error="invalid_token", error_description="${err.message}"`)
  } else if (err.code === 'FST_COGNITO_MISSING_SCOPE') {
    reply.header('WWW-Authenticate', 'Bearer error="insufficient_scope"')
  }
}
