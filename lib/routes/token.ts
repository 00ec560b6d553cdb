// POST {prefix}/token: a short-lived Authsignal token that lets a client SDK enrol a new authenticator
// (the guide's "Custom UI" flow), under strong binding (DESIGN.md "Binding"): only a fresh sign-in gets the
// enrolment scope; otherwise an enrolled user completes a challenge with an existing authenticator first.
import type { FastifyInstance } from 'fastify'
import { assertRecentSignIn } from '../cognito/identity.js'
import type { ResolvedRoutes } from '../options/index.js'
import type { RouteContext } from './context.js'
import { commonErrors, routeSchema } from './schemas.js'
import { trackContext, trackedRouteHooks } from './tracked.js'

type TokenRoute = Exclude<ResolvedRoutes['token'], false>

export function tokenRoute (fastify: FastifyInstance, route: TokenRoute, context: RouteContext): void {
  const { api, authenticate, claimsOf, userIdOf, options } = context
  fastify.post(route.path, {
    onRequest: authenticate,
    ...trackedRouteHooks(context),
    bodyLimit: 1024,
    schema: routeSchema(options.openapi, {
      summary: 'Get an Authsignal token to enrol a new authenticator',
      description: `Tracks the \`${route.action}\` action for the token's user. A sign-in younger than ${route.freshSignInSec} s gets scope ` +
        `\`${route.scope}\`: the client SDK enrols directly. Otherwise, for a user who has an authenticator, the token has no scope and ` +
        '`challengeRequired` is true: complete a challenge with an existing authenticator through the client SDK first (it then holds a ' +
        'token that may enrol). 403 FST_AUTHSIGNAL_ACTION_BLOCKED when Authsignal\'s rules block the action.',
      response: {
        200: {
          type: 'object',
          required: ['authsignalToken', 'challengeRequired'],
          properties: {
            authsignalToken: { type: 'string', description: 'Short-lived; pass it to the client SDK\'s setToken' },
            challengeRequired: { type: 'boolean', description: 'True: complete a challenge with one of the user\'s authenticators before enrolling' }
          }
        },
        ...commonErrors
      }
    })
  }, async (request) => {
    const userId = userIdOf(request)
    const claims = claimsOf(request)
    assertRecentSignIn(claims, route.maxAuthAgeSec)
    // No auth_time: not a fresh sign-in.
    const fresh = Date.now() / 1000 - (claims.auth_time ?? 0) < route.freshSignInSec
    const issued = await api.enrolmentToken(userId, route.action, route.scope, fresh, trackContext(request))
    request.log.info({ event: 'authsignal.enrolment.token', userId, route: request.routeOptions.url, scoped: issued.scoped, challengeRequired: issued.challengeRequired, reason: issued.reason },
      `fastify-authsignal-cognito: enrolment token issued ${issued.scoped ? 'with' : 'without'} the enrolment scope (${issued.reason})`)
    return { authsignalToken: issued.token, challengeRequired: issued.challengeRequired }
  })
}
