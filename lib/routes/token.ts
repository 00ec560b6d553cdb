// POST {prefix}/token: a short-lived Authsignal token that lets a client SDK enrol a new authenticator
// (the guide's "Custom UI" flow).
import type { FastifyInstance } from 'fastify'
import { assertRecentSignIn } from '../cognito/identity.js'
import type { ResolvedRoutes } from '../options/index.js'
import type { RouteContext } from './context.js'
import { authsignalTokenAnswer, badRequest, commonErrors, routeSchema } from './schemas.js'

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

export function tokenRoute (fastify: FastifyInstance, route: TokenRoute, { api, authenticate, claimsOf, userIdOf, options }: RouteContext): void {
  fastify.post<{ Body: GuideBody }>(route.path, {
    onRequest: authenticate,
    // The body is optional: Fastify would validate a missing one as `undefined` against `type: 'object'`.
    preValidation: async (request) => { request.body ??= {} },
    bodyLimit: 1024,
    schema: routeSchema(options.openapi, {
      summary: 'Get an Authsignal token to enrol a new authenticator',
      description: `Tracks the \`${route.action}\` action for the token's user with scope \`${route.scope}\`. The returned token lets a client SDK (web or mobile) enrol an authenticator. ` +
        'The optional body of the guide\'s Lambda, `{ email, phoneNumber }`, goes to Authsignal with the action (its rules may use them); unknown body fields are removed.',
      body: GUIDE_BODY,
      response: { 200: authsignalTokenAnswer('Short-lived; pass it to the client SDK\'s setToken'), 400: badRequest, ...commonErrors }
    })
  }, async (request) => {
    const userId = userIdOf(request)
    assertRecentSignIn(claimsOf(request), route.maxAuthAgeSec)
    const { email, phoneNumber } = request.body
    const context = { ipAddress: request.ip, userAgent: request.headers['user-agent'], ...(email !== undefined && { email }), ...(phoneNumber !== undefined && { phoneNumber }) }
    return { authsignalToken: await api.enrolmentToken(userId, route.action, route.scope, context) }
  })
}
