// Mounts the routes that are turned on, under the plugin's prefix.
import type { FastifyInstance } from 'fastify'
import { challengeTokenRoute } from './challenge-token.js'
import type { ResolvedRemoveRoute } from '../options/index.js'
import type { RouteContext } from './context.js'
import { listRoute } from './list.js'
import { declareSecurityScheme } from './openapi.js'
import { prebuiltUiRoute } from './prebuilt-ui.js'
import { removeRoute } from './remove.js'
import { supportRoutes } from './support.js'
import { tokenRoute } from './token.js'
import { webhookRoute } from './webhook.js'

export async function authenticatorRoutes (fastify: FastifyInstance, context: RouteContext): Promise<void> {
  const { routes } = context.options
  declareSecurityScheme(fastify, context.options.openapi)
  if (routes.token) tokenRoute(fastify, routes.token, context)
  if (routes.prebuiltUi) prebuiltUiRoute(fastify, routes.prebuiltUi, context)
  if (routes.list) listRoute(fastify, routes.list, context)
  if (routes.remove) removeRoute(fastify, routes.remove, context)
  if (routes.challengeToken) challengeTokenRoute(fastify, routes.challengeToken, context)
  if (routes.webhook) webhookRoute(fastify, routes.webhook, context)
  // Options refuse routes.support without routes.remove: support removals take its lock and challenge action.
  if (routes.support) supportRoutes(fastify, routes.support, routes.remove as ResolvedRemoveRoute, context)
}
