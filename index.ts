// fastify-authsignal-cognito: let Amazon Cognito users enrol, list and remove their Authsignal
// authenticators. `app.register(authenticatorsPlugin, { cognito, authsignal })`.
import type { Authsignal } from '@authsignal/node'
import type { CognitoClaims } from './lib/cognito/claims.js'
import type { AuthenticateHook } from './lib/cognito/verifier.js'
import { authenticatorsPlugin } from './lib/plugin.js'
import type { AuthenticatorsStatus } from './lib/status.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The @authsignal/node client the plugin uses; any SDK method may be called on it. */
    authsignal: Authsignal
    /** Verifies the Cognito bearer token; use as `onRequest` or `preHandler` on any route. */
    authenticate: AuthenticateHook
    /** For health checks: keys held per pool, the last JWKS fetch, the last Authsignal call. Reads memory only. */
    authenticatorsStatus: () => AuthenticatorsStatus
  }
  interface FastifyRequest {
    /** The verified Cognito claims, set by `app.authenticate`. */
    user: CognitoClaims
  }
}

export { authenticatorsPlugin }
export default authenticatorsPlugin
export type { CognitoClaims } from './lib/cognito/claims.js'
export type { AuthenticateHook, PoolStatus } from './lib/cognito/verifier.js'
export type { AuthenticatorsStatus } from './lib/status.js'
export type { LastCall } from './lib/authsignal/api.js'
export type {
  AuthenticatorsPluginOptions, AuthsignalOptions, CognitoOptions, ListRouteOptions, OpenApiOptions, PrebuiltUiRouteOptions,
  RemoveRouteOptions, TokenRouteOptions, TokenUse, UserIdClaim
} from './lib/options/index.js'
export type { AuthenticatorSummary } from './lib/routes/list.js'
export * as errors from './lib/errors.js'
export { safeLoggerOptions } from './lib/logging.js'
export { memoryLock } from './lib/stores/memory-lock.js'
export { redisLock, type RedisLockClient, type RedisLockOptions } from './lib/stores/redis-lock.js'
export { dynamoDbLock, type DynamoDbLockClient, type DynamoDbLockOptions } from './lib/stores/dynamodb-lock.js'
export type { LockStore } from './lib/stores/lock-store.js'
