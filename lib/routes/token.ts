// POST {prefix}/token: a short-lived Authsignal token that lets a client SDK enrol a new authenticator
// (the guide's "Custom UI" flow).
import type { FastifyInstance } from 'fastify'
import { expectShape } from '../authsignal-client.js'
import { setChallengeHeader } from '../cognito-verifier.js'
import type { CognitoClaims } from '../cognito-claims.js'
import { AuthTooOldError } from '../errors.js'
import type { ResolvedRoutes } from '../options.js'
import { pathSegment, userIdOf } from '../user-id.js'
import { isRecord, type RouteContext } from './context.js'
import { commonErrors, routeSchema, SECURITY, TAGS } from './schemas.js'

type TokenRoute = Exclude<ResolvedRoutes['token'], false>

const hasToken = (value: unknown): value is { token: string } => isRecord(value) && typeof value.token === 'string' && value.token !== ''

export function tokenRoute (fastify: FastifyInstance, route: TokenRoute, { caller, authenticate, options }: RouteContext): void {
  fastify.post(route.path, {
    onRequest: authenticate,
    bodyLimit: 1024,
    schema: routeSchema({
      summary: 'Get an Authsignal token to enrol a new authenticator',
      description: `Tracks the \`${route.action}\` action for the token's user with scope \`${route.scope}\`. The returned token lets a client SDK (web or mobile) enrol an authenticator.`,
      tags: TAGS,
      security: SECURITY,
      response: {
        200: {
          type: 'object',
          required: ['authsignalToken'],
          properties: { authsignalToken: { type: 'string', description: 'Short-lived; pass it to the client SDK\'s setToken' } }
        },
        ...commonErrors
      }
    })
  }, async (request, reply) => {
    const userId = userIdOf(request, options.cognito.userIdClaim)
    if (route.maxAuthAgeSec !== undefined) {
      const authTime = (request.user as CognitoClaims).auth_time ?? 0
      if (Date.now() / 1000 - authTime > route.maxAuthAgeSec) {
        const err = new AuthTooOldError(route.maxAuthAgeSec)
        setChallengeHeader(reply, err)
        throw err
      }
    }
    const answer = await caller.call('track', client => client.track({
      userId: pathSegment(userId),
      action: route.action,
      attributes: { scope: route.scope, ipAddress: request.ip, userAgent: request.headers['user-agent'] }
    }))
    return { authsignalToken: expectShape(answer, 'track', hasToken).token }
  })
}
