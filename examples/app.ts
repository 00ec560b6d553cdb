// The host app of `npm run dev`, written as the README shows it: what a host copies. The plugin with
// @fastify/swagger before it, a per-user rate limit, and a route of the host's own behind app.authenticate.
// With a Redis client (REDIS_URL in `npm run dev`), the rate limit, the last-authenticator lock and the webhook
// events acted on are shared by every instance that uses the same Redis; without one, they hold within this
// process only. Authsignal's webhooks arrive at POST /authenticators/webhook; with a Cognito admin client
// they keep the users' Cognito email / phone number in step (cognitoSync).
import rateLimit from '@fastify/rate-limit'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Redis } from 'ioredis'
// A host writes `from 'fastify-authsignal-cognito'`.
import authenticatorsPlugin, { redisLock, safeLoggerOptions, type AuthenticatorChangeHook, type CognitoAdminClient } from '../index.js'
import { registerOpenApi } from './openapi.js'

/** The Cognito group whose members may list and reset other users' authenticators (routes.support). */
export const SUPPORT_GROUP = 'support-agents'

export interface ExampleAppConfig {
  userPoolId: string
  clientId: string
  /** Only for cognito-local; a real pool's issuer follows from its id. */
  issuer?: string
  apiSecretKey: string
  apiUrl: string
  /** The app's logger options (level, stream), on top of the package's credential-free configuration. Default: no logger. */
  logger?: Exclude<FastifyServerOptions['logger'], boolean>
  /** Shares the rate limit, the removal lock and the webhook events acted on with every instance on this Redis. Default: in this process. */
  redis?: Redis
  /** A removal needs a step-up challenge completed with another factor (and POST /authenticators/challenge-token gives its token). Default false. */
  requireChallenge?: boolean
  /** How recent a sign-in must be to enrol without a challenge (routes.token.freshSignInSec). Default: the plugin's, 600. */
  freshSignInSec?: number
  /** The WebAuthn RP id of the app's passkeys: the list then carries what the browser's Signal API needs. Default: none. */
  passkeyRpId?: string
  /** A CognitoIdentityProviderClient allowed AdminUpdateUserAttributes and ListUsers on the pool: turns cognitoSync on. */
  cognitoAdmin?: CognitoAdminClient
  /** Told of each authenticator added, updated or removed, after the app has logged it. */
  onAuthenticatorChange?: AuthenticatorChangeHook
}

/** The host app, written as the README shows it. */
export async function buildExampleApp (config: ExampleAppConfig): Promise<FastifyInstance> {
  const app = Fastify({ logger: config.logger === undefined ? false : { ...safeLoggerOptions, ...config.logger } })
  // Before the plugin: @fastify/swagger collects the routes as they are added.
  await registerOpenApi(app)
  // Per user, after the routes' app.authenticate has set request.user (the README's SECURITY section).
  await app.register(rateLimit, {
    hook: 'preHandler',
    max: 120,
    timeWindow: '1 minute',
    keyGenerator: (request) => request.user?.sub ?? request.ip,
    // With Redis down the limit lets requests through rather than answer 500 with the store's error; the
    // removal lock, in the same Redis, fails closed (503) on its own.
    ...(config.redis !== undefined && { redis: config.redis, nameSpace: 'authenticators-rate-limit:', skipOnError: true })
  })
  const shared = config.redis === undefined ? undefined : redisLock({ client: config.redis })
  await app.register(authenticatorsPlugin, {
    cognito: { userPoolId: config.userPoolId, clientId: config.clientId, issuer: config.issuer },
    authsignal: { apiSecretKey: config.apiSecretKey, apiUrl: config.apiUrl },
    // examples/openapi.ts declares the bearer scheme as `bearerAuth`: the routes reference it.
    openapi: { securityScheme: 'bearerAuth' },
    routes: {
      token: { freshSignInSec: config.freshSignInSec },
      list: { passkeyRpId: config.passkeyRpId },
      remove: { requireChallenge: config.requireChallenge === true, ...(shared !== undefined && { lock: shared }) },
      // The URL to give Authsignal (Portal → Settings → Webhooks → authenticator events): <app>/authenticators/webhook.
      webhook: shared === undefined ? true : { store: shared },
      // Staff in this group help a user who lost their phone: list and reset their factors, with a challenge of their own.
      support: { requiredGroups: [SUPPORT_GROUP] }
    },
    ...(config.cognitoAdmin !== undefined && { cognitoSync: { client: config.cognitoAdmin } }),
    // After a removal through the app, the user's Authsignal sessions end too.
    revokeSessionsOnRemove: { authsignal: true },
    onAuthenticatorChange: async (change) => {
      // A support agent's free-text reason stays out of this line (the plugin's audit line writes it, redacted).
      app.log.info({ change: { ...change, actor: change.actor && { userId: change.actor.userId } } }, 'authenticator changed')
      await config.onAuthenticatorChange?.(change)
    }
  })
  app.get('/me', { onRequest: app.authenticate }, async (request) => ({ sub: request.user.sub, username: request.user.username }))
  return app
}
