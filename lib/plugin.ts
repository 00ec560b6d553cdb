// The plugin: validates its options, verifies Cognito tokens (`app.authenticate`), decorates the
// Authsignal client (`app.authsignal`) and mounts the authenticator routes under `prefix`.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { AuthsignalApi } from './authsignal/api.js'
import { createAuthsignalClient } from './authsignal/client.js'
import { createCognitoVerifier } from './cognito/verifier.js'
import { decorateAuthentication } from './decorators.js'
import { resolveOptions, type AuthenticatorsPluginOptions } from './options/index.js'
import { optionWarnings } from './options/warnings.js'
import { routeContext } from './routes/context.js'
import { authenticatorRoutes } from './routes/index.js'
import { statusOf } from './status.js'

async function authenticators (fastify: FastifyInstance, opts: AuthenticatorsPluginOptions): Promise<void> {
  const options = resolveOptions(opts)
  for (const warning of optionWarnings({ pools: options.pools, apiUrl: options.authsignal.apiUrl, hasClient: options.authsignal.client !== undefined })) {
    fastify.log.warn(`fastify-authsignal-cognito: ${warning}`)
  }
  const verifier = createCognitoVerifier(fastify, options.pools, options.decorators.user)
  const client = options.authsignal.client ?? createAuthsignalClient({ apiSecretKey: options.authsignal.apiSecretKey as string, apiUrl: options.authsignal.apiUrl })
  const api = new AuthsignalApi(client, options.authsignal.timeoutMs)

  decorateAuthentication(fastify, options.decorators, verifier.authenticate)
  fastify.decorate('authsignal', client)
  fastify.decorate('authenticatorsStatus', statusOf(verifier, api))
  const context = routeContext(api, verifier.authenticate, options)
  await fastify.register(async (routes) => authenticatorRoutes(routes, context), { prefix: options.prefix })
}

export const authenticatorsPlugin = fp(authenticators, { fastify: '5.x', name: 'fastify-authsignal-cognito' })
