// What every route needs: the Authsignal facade, the verifier's hook, who the request speaks for, the options.
import type { FastifyRequest } from 'fastify'
import type { AuthsignalApi } from '../authsignal/api.js'
import { authsignalUserId } from '../cognito/identity.js'
import type { VerifiedUser } from '../cognito/user.js'
import type { AuthenticateHook } from '../cognito/verifier.js'
import type { ResolvedOptions } from '../options/index.js'

export interface RouteContext {
  api: AuthsignalApi
  authenticate: AuthenticateHook
  options: ResolvedOptions
  /** The verified claims of a request that passed `authenticate` (under `decorators.user`). */
  claimsOf: (request: FastifyRequest) => VerifiedUser
  /** The Authsignal user id of a request that passed `authenticate` (its pool's claim and prefix). */
  userIdOf: (request: FastifyRequest) => string
}

export function routeContext (api: AuthsignalApi, authenticate: AuthenticateHook, options: ResolvedOptions): RouteContext {
  const key = options.decorators.user
  const claimsOf = (request: FastifyRequest): VerifiedUser => (request as unknown as Record<string, VerifiedUser>)[key] as VerifiedUser
  return { api, authenticate, options, claimsOf, userIdOf: (request) => authsignalUserId(claimsOf(request)) }
}
