// The plugin: validates its options, verifies Cognito tokens (`app.authenticate`), decorates the
// Authsignal client (`app.authsignal`) and mounts the authenticator routes under `prefix`.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { AuthsignalCaller, createAuthsignalClient } from './authsignal-client.js'
import type { CognitoClaims } from './cognito-claims.js'
import { createCognitoVerifier } from './cognito-verifier.js'
import { resolveOptions, type AuthenticatorsPluginOptions } from './options.js'
import { authenticatorRoutes } from './routes/index.js'

async function authenticators (fastify: FastifyInstance, opts: AuthenticatorsPluginOptions): Promise<void> {
  const options = resolveOptions(opts)
  const verifier = createCognitoVerifier(fastify, options.cognito)
  const client = options.authsignal.client ?? createAuthsignalClient(options.authsignal)
  const caller = new AuthsignalCaller(client, options.authsignal.timeoutMs)

  // A host that also uses @fastify/jwt has decorated `user` already; the slot is shared.
  if (!fastify.hasRequestDecorator('user')) fastify.decorateRequest<CognitoClaims | null>('user', null)
  fastify.decorate('authsignal', client)
  fastify.decorate('authenticate', verifier.authenticate)
  await fastify.register(async (routes) => authenticatorRoutes(routes, { caller, authenticate: verifier.authenticate, options }), { prefix: options.prefix })
}

export const authenticatorsPlugin = fp(authenticators, { fastify: '5.x', name: 'fastify-authsignal-cognito' })
