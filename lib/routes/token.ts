// POST {prefix}/token: a short-lived Authsignal token that lets a client SDK enrol a new authenticator
// (the guide's "Custom UI" flow).
import type { FastifyInstance } from 'fastify'
import { assertRecentSignIn } from '../cognito/identity.js'
import type { ResolvedRoutes } from '../options/index.js'
import type { RouteContext } from './context.js'
import { authsignalTokenAnswer, commonErrors, routeSchema } from './schemas.js'

type TokenRoute = Exclude<ResolvedRoutes['token'], false>

export function tokenRoute (fastify: FastifyInstance, route: TokenRoute, { api, authenticate, claimsOf, userIdOf, options }: RouteContext): void {
  fastify.post(route.path, {
    onRequest: authenticate,
    bodyLimit: 1024,
    schema: routeSchema(options.openapi, {
      summary: 'Get an Authsignal token to enrol a new authenticator',
      description: `Tracks the \`${route.action}\` action for the token's user with scope \`${route.scope}\`. The returned token lets a client SDK (web or mobile) enrol an authenticator.`,
      response: { 200: authsignalTokenAnswer('Short-lived; pass it to the client SDK\'s setToken'), ...commonErrors }
    })
  }, async (request) => {
    const userId = userIdOf(request)
    assertRecentSignIn(claimsOf(request), route.maxAuthAgeSec)
    const context = { ipAddress: request.ip, userAgent: request.headers['user-agent'] }
    return { authsignalToken: await api.enrolmentToken(userId, route.action, route.scope, context) }
  })
}
