// POST {prefix}/prebuilt-ui: a URL that opens Authsignal's pre-built UI in its settings (manage) mode.
// A redirect URL from the body is used only if it is one of `allowedRedirectUrls`: never an open redirect.
import type { FastifyInstance } from 'fastify'
import { RedirectNotAllowedError } from '../errors.js'
import type { ResolvedRoutes } from '../options/index.js'
import type { RouteContext } from './context.js'
import { trackContext, trackedRouteHooks } from './tracked.js'
import { badRequest, commonErrors, optionalBody, routeSchema } from './schemas.js'

type PrebuiltUiRoute = Exclude<ResolvedRoutes['prebuiltUi'], false>

export function prebuiltUiRoute (fastify: FastifyInstance, route: PrebuiltUiRoute, context: RouteContext): void {
  const { api, authenticate, userIdOf, options } = context
  fastify.post<{ Body: { redirectUrl?: string } }>(route.path, {
    onRequest: authenticate,
    ...trackedRouteHooks(context),
    preValidation: optionalBody,
    bodyLimit: 4096,
    schema: routeSchema(options.openapi, {
      summary: 'Get a URL of Authsignal\'s pre-built UI to manage authenticators',
      description: `Tracks the \`${route.action}\` action and returns the pre-built UI URL in settings mode. Unknown body fields are removed.`,
      body: {
        type: 'object',
        additionalProperties: false,
        properties: { redirectUrl: { type: 'string', maxLength: 2048, description: 'Must be one of the allowed redirect URLs' } }
      },
      response: {
        200: {
          type: 'object',
          required: ['prebuiltUiUrl'],
          properties: { prebuiltUiUrl: { type: 'string' } }
        },
        400: badRequest,
        ...commonErrors
      }
    })
  }, async (request) => {
    const userId = userIdOf(request)
    const asked = request.body.redirectUrl
    if (asked !== undefined && !route.allowedRedirectUrls.includes(asked)) throw new RedirectNotAllowedError()
    return { prebuiltUiUrl: await api.prebuiltUiUrl(userId, route.action, asked ?? route.redirectUrl, trackContext(request)) }
  })
}
