// Mounts the routes that are turned on, under the plugin's prefix.
import type { FastifyInstance } from 'fastify'
import { challengeTokenRoute } from './challenge-token.js'
import type { RouteContext } from './context.js'
import { listRoute } from './list.js'
import { prebuiltUiRoute } from './prebuilt-ui.js'
import { removeRoute } from './remove.js'
import { tokenRoute } from './token.js'
import { verifyRoute } from './verify.js'
import { webhookRoute } from './webhook.js'

export async function authenticatorRoutes (fastify: FastifyInstance, context: RouteContext): Promise<void> {
  const { routes } = context.options
  if (routes.token) tokenRoute(fastify, routes.token, context)
  if (routes.prebuiltUi) prebuiltUiRoute(fastify, routes.prebuiltUi, context)
  if (routes.list) listRoute(fastify, routes.list, context)
  if (routes.remove) removeRoute(fastify, routes.remove, context)
  if (routes.challengeToken) challengeTokenRoute(fastify, routes.challengeToken, context)
  if (routes.webhook) webhookRoute(fastify, routes.webhook, context)
  if (routes.verify) verifyRoute(fastify, routes.verify, context)
}
