// POST {prefix}/token: a short-lived Authsignal token that lets a client SDK enrol a new authenticator
// (the guide's "Custom UI" flow), under strong binding (DESIGN.md "Binding"): only a fresh sign-in gets the
// enrolment scope; otherwise an enrolled user completes a challenge with an existing authenticator first.
// The optional body of the guide's Lambda, `{ email, phoneNumber }`, goes to `track` as attributes.
import type { FastifyInstance } from 'fastify'
import { assertRecentSignIn } from '../cognito/identity.js'
import type { ResolvedRoutes } from '../options/index.js'
import type { RouteContext } from './context.js'
import { badRequest, commonErrors, optionalBody, routeSchema } from './schemas.js'
import { trackContext, trackedRouteHooks } from './tracked.js'

type TokenRoute = Exclude<ResolvedRoutes['token'], false>

/** The body the guide's app may send (its Lambda passes them to `track` as attributes). */
interface GuideBody { email?: string, phoneNumber?: string }

// Bounded and shaped before they reach Authsignal: an address (RFC 5321's 254), an E.164 number.
const GUIDE_BODY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    email: { type: 'string', maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$', description: 'Passed to Authsignal with the action' },
    phoneNumber: { type: 'string', pattern: '^\\+[1-9][0-9]{6,14}$', description: 'E.164; passed to Authsignal with the action' }
  }
}

export function tokenRoute (fastify: FastifyInstance, route: TokenRoute, context: RouteContext): void {
  const { api, authenticate, claimsOf, userIdOf, options } = context
  fastify.post<{ Body: GuideBody }>(route.path, {
    onRequest: authenticate,
    ...trackedRouteHooks(context),
    preValidation: optionalBody,
    bodyLimit: 1024,
    schema: routeSchema(options.openapi, {
      summary: 'Get an Authsignal token to enrol a new authenticator',
      description: `Tracks the \`${route.action}\` action for the token's user. A sign-in younger than ${route.freshSignInSec} s gets scope ` +
        `\`${route.scope}\`: the client SDK enrols directly. Otherwise, for a user who has an authenticator, the token has no scope and ` +
        '`challengeRequired` is true: complete a challenge with an existing authenticator through the client SDK first (it then holds a ' +
        'token that may enrol). 403 FST_AUTHSIGNAL_ACTION_BLOCKED when Authsignal\'s rules block the action. ' +
        'The optional body of the guide\'s Lambda, `{ email, phoneNumber }`, goes to Authsignal with the action (its rules may use them); unknown body fields are removed.',
      body: GUIDE_BODY,
      response: {
        200: {
          type: 'object',
          required: ['authsignalToken', 'challengeRequired'],
          properties: {
            authsignalToken: { type: 'string', description: 'Short-lived; pass it to the client SDK\'s setToken' },
            challengeRequired: { type: 'boolean', description: 'True: complete a challenge with one of the user\'s authenticators before enrolling' }
          }
        },
        400: badRequest,
        ...commonErrors
      }
    })
  }, async (request) => {
    const userId = userIdOf(request)
    const claims = claimsOf(request)
    assertRecentSignIn(claims, route.maxAuthAgeSec)
    // No auth_time: not a fresh sign-in.
    const fresh = Date.now() / 1000 - (claims.auth_time ?? 0) < route.freshSignInSec
    const { email, phoneNumber } = request.body
    const attributes = { ...trackContext(request), ...(email !== undefined && { email }), ...(phoneNumber !== undefined && { phoneNumber }) }
    const issued = await api.enrolmentToken(userId, route.action, route.scope, fresh, attributes)
    request.log.info({ event: 'authsignal.enrolment.token', userId, route: request.routeOptions.url, scoped: issued.scoped, challengeRequired: issued.challengeRequired, reason: issued.reason },
      `fastify-authsignal-cognito: enrolment token issued ${issued.scoped ? 'with' : 'without'} the enrolment scope (${issued.reason})`)
    return { authsignalToken: issued.token, challengeRequired: issued.challengeRequired }
  })
}
