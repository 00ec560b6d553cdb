// POST {prefix}/challenge-token: a short-lived Authsignal token for the removal's step-up challenge. The page
// completes the challenge with it through a client SDK (email OTP, authenticator app, passkey...), then sends
// it to the remove route in `x-authsignal-token`. The action is the remove route's `challengeAction`, fixed
// by configuration: a body could otherwise choose an action whose challenge proves less. No scope: this
// token is for a challenge, not an enrolment.
import type { FastifyInstance } from 'fastify'
import type { ResolvedRoutes } from '../options/index.js'
import type { RouteContext } from './context.js'
import { trackContext, trackedRouteHooks } from './tracked.js'
import { authsignalTokenAnswer, commonErrors, routeSchema } from './schemas.js'

type ChallengeTokenRoute = Exclude<ResolvedRoutes['challengeToken'], false>

export function challengeTokenRoute (fastify: FastifyInstance, route: ChallengeTokenRoute, context: RouteContext): void {
  const { api, authenticate, userIdOf, options } = context
  fastify.post(route.path, {
    onRequest: authenticate,
    ...trackedRouteHooks(context),
    bodyLimit: 1024,
    schema: routeSchema(options.openapi, {
      summary: 'Get an Authsignal token to complete the step-up challenge a removal needs',
      description: `Tracks the \`${route.action}\` action for the token's user. Complete its challenge with a client SDK, using another ` +
        'factor than the one to remove, then send the token in `x-authsignal-token` with the DELETE.',
      response: {
        200: authsignalTokenAnswer('Short-lived; pass it to the client SDK (setToken, or the token parameter of its challenge calls)'),
        ...commonErrors
      }
    })
  }, async (request) => {
    return { authsignalToken: await api.challengeToken(userIdOf(request), route.action, trackContext(request)) }
  })
}
