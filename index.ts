// fastify-authsignal-cognito: let Amazon Cognito users enrol, list and remove their Authsignal
// authenticators. `app.register(authenticatorsPlugin, { cognito, authsignal })`.
import type { Authsignal } from '@authsignal/node'
import type { FastifyInstance } from 'fastify'
import type { CognitoClaims } from './lib/cognito/claims.js'
import type { AuthenticateHook } from './lib/cognito/verifier.js'
import type { AuthenticateName, UserName } from './lib/decorators.js'
import { authenticatorsPlugin } from './lib/plugin.js'
import type { AuthenticatorsStatus } from './lib/status.js'

// The hook and the claims are declared on base interfaces that FastifyInstance and FastifyRequest extend,
// not on them directly. A property declared directly must have the same type in every declaration: ours and
// @fastify/jwt's `request.user` clash (TS2717 under skipLibCheck: false; under skipLibCheck: true whichever
// file TypeScript reads first silently wins, so the type flips with import order). A base interface's
// property is instead overridden by any direct declaration whose type fits it, in whatever order the files
// are read. So:
// - they are declared under the names of `DecoratorNames` (the host's `decorators` option, said in types);
// - the shared `request.user` is ours only while @fastify/jwt is not in the program. With it, the slot is
//   @fastify/jwt's (`unknown` here, so its `UserType` wins; hosts type it through its `FastifyJWT`), and a
//   host that wants both kinds of claims typed renames ours (`decorators.user`, `DecoratorNames.user`).
type ClaimsType<N extends string> = N extends 'user' ? (FastifyInstance extends { jwt: unknown } ? unknown : CognitoClaims) : CognitoClaims
type AuthenticateSlot = { [N in AuthenticateName]: AuthenticateHook }
type ClaimsSlot = { [N in UserName]: ClaimsType<N> }

declare module 'fastify' {
  interface FastifyInstance extends AuthenticateSlot {
    /** The @authsignal/node client the plugin uses; any SDK method may be called on it. */
    authsignal: Authsignal
    /** For health checks: keys held per pool, the last JWKS fetch, the last Authsignal call. Reads memory only. */
    authenticatorsStatus: () => AuthenticatorsStatus
  }
  // Verified claims, set by the hook (`request.user` unless renamed).
  interface FastifyRequest extends ClaimsSlot {}
}

export { authenticatorsPlugin }
export default authenticatorsPlugin
export type { CognitoClaims } from './lib/cognito/claims.js'
export type { AuthenticateHook, PoolStatus } from './lib/cognito/verifier.js'
export type { AuthenticatorsStatus } from './lib/status.js'
export type { LastCall } from './lib/authsignal/api.js'
export type { AuthenticateName, DecoratorNames, DecoratorOptions, UserName } from './lib/decorators.js'
export type {
  AuthenticatorsPluginOptions, AuthsignalOptions, ChallengeTokenRouteOptions, CognitoAdminClient, CognitoOptions, CognitoSyncOptions,
  ListRouteOptions, OpenApiOptions, PrebuiltUiRouteOptions, RemoveRouteOptions, RevokeSessionsOptions, SyncedAttribute, TokenRouteOptions,
  TokenUse, UserIdClaim, WebhookRouteOptions
} from './lib/options/index.js'
export type { SupportRouteOptions } from './lib/options/index.js'
export type { AuthenticatorChangeEvent, AuthenticatorChangeHook } from './lib/events/change.js'
export type { SupportActor } from './lib/events/change.js'
export type { AuthenticatorSummary, PasskeySignal, PasskeySummary } from './lib/routes/list.js'
export * as errors from './lib/errors.js'
export { safeLoggerOptions } from './lib/logging.js'
export { removalWorstCaseMs } from './lib/routes/removal-time.js'
export { memoryLock } from './lib/stores/memory-lock.js'
export { redisLock, type RedisLockClient, type RedisLockOptions } from './lib/stores/redis-lock.js'
export { dynamoDbLock, type DynamoDbLockClient, type DynamoDbLockOptions } from './lib/stores/dynamodb-lock.js'
export type { LockStore } from './lib/stores/lock-store.js'
