// POST {prefix}/verify: the guide's `verify-authenticator` Lambda as a route. Copies the caller's verified email
// and phone number, as their Authsignal authenticators carry them, to their Cognito attributes on demand (an app
// written against the guide calls it after an enrolment; no webhook needed). The caller only: the user id comes
// from the verified token. Fill-only, as `cognitoSync` (lib/cognito-admin/attribute-sync.ts): a verified
// address is never replaced unless the host set `cognitoSync.replaceVerified`.
import type { FastifyInstance } from 'fastify'
import { audit } from '../audit.js'
import { AttributeSync } from '../cognito-admin/attribute-sync.js'
import { CognitoAdmin } from '../cognito-admin/admin.js'
import type { ResolvedCognitoSync, ResolvedRoutes } from '../options/index.js'
import type { RouteContext } from './context.js'
import { commonErrors, routeSchema } from './schemas.js'

type VerifyRoute = Exclude<ResolvedRoutes['verify'], false>

export function verifyRoute (fastify: FastifyInstance, route: VerifyRoute, { api, authenticate, userIdOf, options }: RouteContext): void {
  // Registration refuses routes.verify without cognitoSync (lib/options/events.ts).
  const cognitoSync = options.events.cognitoSync as ResolvedCognitoSync
  const sync = new AttributeSync(api, new CognitoAdmin(cognitoSync.client, options.authsignal.timeoutMs), options.pools, cognitoSync)

  fastify.post(route.path, {
    onRequest: authenticate,
    bodyLimit: 1024,
    schema: routeSchema(options.openapi, {
      summary: 'Copy the caller\'s verified email and phone number to Cognito',
      description: `Sets the caller's Cognito ${cognitoSync.attributes.map(a => `\`${a}\``).join(' and ')} (and their \`_verified\` flags) from the ` +
        'authenticators that verified them, where the attribute is empty or unverified (a verified one is kept unless cognitoSync.replaceVerified).',
      response: { 204: { type: 'null', description: 'In step' }, ...commonErrors }
    })
  }, async (request, reply) => {
    const userId = userIdOf(request)
    await sync.syncUser(userId, request.log)
    audit(request.log, 'info', 'cognito.synced', { userId, route: request.routeOptions.url as string })
    return reply.code(204).send()
  })
}
