// What every route needs: the Authsignal facade, the verifier's hook, who the request speaks for, the options.
import type { FastifyRequest } from 'fastify'
import type { AuthsignalApi } from '../authsignal/api.js'
import type { CognitoClaims } from '../cognito/claims.js'
import { authsignalUserId } from '../cognito/identity.js'
import type { AuthenticateHook } from '../cognito/verifier.js'
import type { ResolvedOptions } from '../options.js'

export interface RouteContext {
  api: AuthsignalApi
  authenticate: AuthenticateHook
  options: ResolvedOptions
  /** The verified claims of a request that passed `authenticate` (under `decorators.user`). */
  claimsOf: (request: FastifyRequest) => CognitoClaims
  /** The Authsignal user id of a request that passed `authenticate`. */
  userIdOf: (request: FastifyRequest) => string
}

export function routeContext (api: AuthsignalApi, authenticate: AuthenticateHook, options: ResolvedOptions): RouteContext {
  const claim = options.cognito.userIdClaim
  const key = options.decorators.user
  const claimsOf = (request: FastifyRequest): CognitoClaims => (request as unknown as Record<string, CognitoClaims>)[key] as CognitoClaims
  return { api, authenticate, options, claimsOf, userIdOf: (request) => authsignalUserId(claimsOf(request), claim) }
}
