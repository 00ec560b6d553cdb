// The plugin's options as a host writes them, and as the plugin holds them once resolved.
import type { Authsignal } from '@authsignal/node'
import type { DecoratorOptions, ResolvedDecorators } from '../decorators.js'
import type { AuthenticatorChangeHook } from '../events/change.js'
import type { LockStore } from '../stores/lock-store.js'

export type TokenUse = 'access' | 'id'
export type UserIdClaim = 'sub' | 'username' | 'cognito:username'

/** One Cognito user pool whose tokens the plugin accepts. */
export interface CognitoOptions {
  /** `<region>_<id>`; any id is accepted when `issuer` is given (cognito-local makes `local_…` ids). */
  userPoolId: string
  /** Accepted app clients: `client_id` of access tokens, `aud` of ID tokens. */
  clientId: string | string[]
  /** Which kind of token the routes accept; the other kind is refused. Default `'access'`. */
  tokenUse?: TokenUse
  /** Exact issuer(s). Default: both forms Cognito issues for the pool (ORIGINAL and UPDATED). */
  issuer?: string | string[]
  /** Default `<first issuer>/.well-known/jwks.json`. Never taken from the token. */
  jwksUri?: string
  /** Claim used as the Authsignal user id. Default `'sub'`. */
  userIdClaim?: UserIdClaim
  /** Put before the claim to make the Authsignal user id, keeping pools apart. Default `''`. */
  userIdPrefix?: string
  /** Tolerance for `exp`/`nbf`/`iat`, in seconds. Default 5. */
  clockToleranceSec?: number
  /** All of these groups must be in `cognito:groups` (403 otherwise). */
  requiredGroups?: string[]
  /** All of these scopes must be in `scope` (403 otherwise; access tokens only). */
  requiredScopes?: string[]
  /** Bound on one JWKS fetch, in ms. Default 3000. */
  jwksTimeoutMs?: number
  /** After a JWKS fetch that did not yield an unknown `kid` (or failed), no other fetch for this long, in ms. Default 10000. */
  jwksPenaltyMs?: number
  /** Verified tokens of this pool kept until their `exp` (0 turns caching off for the pool). Default 10000. */
  tokenCacheSize?: number
}

export interface AuthsignalOptions {
  /** Authsignal server API secret. Required unless `client` is given. Never logged. */
  apiSecretKey?: string
  /** Authsignal server API base URL. Default `https://api.authsignal.com/v1`. */
  apiUrl?: string
  /** Bound on every upstream call the plugin makes, in ms. Default 5000. */
  timeoutMs?: number
  /** An existing `Authsignal` instance to use instead of `apiSecretKey` + `apiUrl`. */
  client?: Authsignal
}

export interface TokenRouteOptions {
  path?: string
  action?: string
  /** The scope a strong sign-in's token carries: it lets a client SDK enrol without a challenge. Default `add:authenticators`. */
  scope?: string
  /** Refuse (401, RFC 9470) when the Cognito `auth_time` is older than this many seconds. Default: no limit. */
  maxAuthAgeSec?: number
  /**
   * Strong binding: a sign-in (`auth_time`) younger than this many seconds gets a token with `scope`. Otherwise
   * a user who already has an authenticator gets a token without it and `challengeRequired: true`: the client
   * completes a challenge with an existing authenticator before it enrols (a stolen access token alone cannot
   * add a factor). A user with no authenticator yet enrols a first one without a challenge. `0`: an enrolled
   * user always challenges first. Raising it widens what a stolen access token can do. Default 600, at most 86400.
   */
  freshSignInSec?: number
}

export interface PrebuiltUiRouteOptions {
  path?: string
  action?: string
  /** Redirect URL used when the body names none. */
  redirectUrl?: string
  /** Redirect URLs a client may ask for in the body; anything else is a 400. */
  allowedRedirectUrls?: string[]
}

export interface ListRouteOptions {
  path?: string
  /** Show email addresses and phone numbers in full instead of masked. Default false. */
  showContactDetails?: boolean
  /**
   * The WebAuthn RP id of the app's passkeys (Authsignal's relying party, e.g. `example.com`). With it the list
   * also answers `passkeySignal`, what `PublicKeyCredential.signalAllAcceptedCredentials` needs. Default: none.
   */
  passkeyRpId?: string
}

export interface ChallengeTokenRouteOptions {
  path?: string
}

export interface RemoveRouteOptions {
  path?: string
  /** Refuse to remove the user's last authenticator (409); recovery codes do not count as one. Default true. */
  protectLast?: boolean
  /**
   * Demand an Authsignal token of a challenge completed with another factor than the one removed, in the
   * `x-authsignal-token` header. Default false.
   */
  requireChallenge?: boolean
  /** The action that challenge must be for. Default `'removeAuthenticator'`. */
  challengeAction?: string
  /** Where removals of one user are serialised: `redisLock(…)` or `dynamoDbLock(…)` for several instances. Default: in this process. */
  lock?: LockStore
  /** How long a removal waits for the user's lock held by another, in ms, before a 503. Default 3000. */
  lockWaitMs?: number
}

/** Staff routes to list and remove another user's authenticators (DESIGN.md, "Support"). */
export interface SupportRouteOptions {
  /** Every one of these Cognito groups must be in the caller's `cognito:groups` (403 otherwise). Required, non-empty. */
  requiredGroups: string[]
  /** The caller completes a challenge of their own (`routes.remove.challengeAction`) before each removal. Default true. */
  requireChallenge?: boolean
  /** Under `prefix`; the routes are `{path}/:userId/authenticators[/:userAuthenticatorId]`. Default `'/support/users'`. */
  path?: string
}

export interface OpenApiOptions {
  /**
   * The name of the bearer scheme each route's security requirement references in a host's @fastify/swagger
   * document. Default `'cognito'`. The plugin declares it (HTTP bearer, JWT) when the host's document does not;
   * a scheme the host declares under that name is used as the host declared it.
   */
  securityScheme?: string
}

export interface AuthenticatorsPluginOptions {
  /** One user pool, or several (each token is matched to its pool by its exact `iss`). */
  cognito: CognitoOptions | CognitoOptions[]
  authsignal: AuthsignalOptions
  /** Where the routes mount. Default `'/authenticators'`. */
  prefix?: string
  /** How the routes describe themselves to @fastify/swagger. */
  openapi?: OpenApiOptions
  routes?: {
    token?: TokenRouteOptions | false
    prebuiltUi?: PrebuiltUiRouteOptions | false
    list?: ListRouteOptions | false
    remove?: RemoveRouteOptions | false
    /** `POST {prefix}/challenge-token`: a token to complete the removal's step-up challenge. Default: on when `remove.requireChallenge` is. */
    challengeToken?: ChallengeTokenRouteOptions | boolean
    /** Authsignal's signed webhooks. Off by default; `true` or an object mounts it. */
    webhook?: WebhookRouteOptions | boolean
    /** Staff routes for a user who lost their factors. Off by default; needs `routes.remove` (its lock and challenge action). */
    support?: SupportRouteOptions | false
  }
  /** Names of `app.authenticate` and `request.user`, for hosts where another plugin holds them. */
  decorators?: DecoratorOptions
  /** Called after the plugin removes an authenticator and for each verified webhook event about one. */
  onAuthenticatorChange?: AuthenticatorChangeHook
  /** How long a request waits for `onAuthenticatorChange` at most, in ms. Default 1000. */
  onAuthenticatorChangeTimeoutMs?: number
  /** Keeps the user's Cognito `email` / `phone_number` (+ `_verified`) in step with their Authsignal authenticators. Needs `routes.webhook`. */
  cognitoSync?: CognitoSyncOptions
  /** After the remove route deletes an authenticator, ends the user's sessions. */
  revokeSessionsOnRemove?: RevokeSessionsOptions
}

export interface ResolvedPool {
  userPoolId: string
  clientIds: string[]
  tokenUse: TokenUse
  issuers: string[]
  jwksUri: string
  userIdClaim: UserIdClaim
  userIdPrefix: string
  clockToleranceMs: number
  requiredGroups: string[]
  requiredScopes: string[]
  jwksTimeoutMs: number
  jwksPenaltyMs: number
  tokenCacheSize: number
  /** Set when telling this pool's user ids from another pool's relies on its subs being UUIDs. */
  uuidUserIds: boolean
}

export interface ResolvedAuthsignalOptions {
  apiSecretKey: string | undefined
  apiUrl: string
  timeoutMs: number
  client: Authsignal | undefined
}

export interface ResolvedRemoveRoute {
  path: string
  protectLast: boolean
  requireChallenge: boolean
  challengeAction: string
  lock: LockStore
  lockWaitMs: number
  /** How long the lock is held at most: longer than the work it guards (see lib/stores/user-lock.ts). */
  leaseMs: number
}

export interface ResolvedRoutes {
  token: Required<Omit<TokenRouteOptions, 'maxAuthAgeSec'>> & { maxAuthAgeSec: number | undefined } | false
  prebuiltUi: { path: string, action: string, redirectUrl: string | undefined, allowedRedirectUrls: string[] } | false
  list: { path: string, showContactDetails: boolean, passkeyRpId: string | undefined } | false
  remove: ResolvedRemoveRoute | false
  /** Tracks `action` (the remove route's `challengeAction`, never taken from the request). */
  challengeToken: { path: string, action: string } | false
  webhook: ResolvedWebhookRoute | false
  support: ResolvedSupportRoute | false
}

export interface ResolvedSupportRoute {
  path: string
  requiredGroups: string[]
  requireChallenge: boolean
}

export interface ResolvedOpenApi { securityScheme: string }

export interface ResolvedOptions {
  pools: ResolvedPool[]
  openapi: ResolvedOpenApi
  authsignal: ResolvedAuthsignalOptions
  prefix: string
  routes: ResolvedRoutes
  decorators: ResolvedDecorators
  events: ResolvedEvents
}

/** The part of a `CognitoIdentityProviderClient` (@aws-sdk/client-cognito-identity-provider) the plugin uses. */
export interface CognitoAdminClient {
  send (command: object, options?: { abortSignal?: AbortSignal }): Promise<unknown>
}

export type SyncedAttribute = 'email' | 'phone_number'

export interface WebhookRouteOptions {
  /** Under `prefix`, like the other routes. Default `'/webhook'`. */
  path?: string
  /** A delivery whose signature timestamp is further than this from now, either way, is refused. Default 300. */
  toleranceSec?: number
  /** Larger bodies are refused (413) before anything is verified. Default 65536. */
  bodyLimit?: number
  /** Where event ids are claimed and remembered: `redisLock(…)` / `dynamoDbLock(…)` for a fleet. Default: in this process. */
  store?: LockStore
  /** How long an event id acted on is remembered, so a redelivery is not acted on again. Default 86400 (a day). */
  dedupeWindowSec?: number
}

export interface CognitoSyncOptions {
  /** A `CognitoIdentityProviderClient` allowed AdminUpdateUserAttributes, AdminGetUser and ListUsers on the pools. */
  client: CognitoAdminClient
  /** Which attributes to keep in step. Default both, `['email', 'phone_number']`. */
  attributes?: SyncedAttribute[]
  /**
   * When the last authenticator carrying the address the user's attribute holds is removed: `'unverify'` sets
   * `email_verified` / `phone_number_verified` to false (the address itself stays); `'keep'` leaves both. Default `'unverify'`.
   */
  onRemove?: 'unverify' | 'keep'
}

export interface RevokeSessionsOptions {
  /** Revoke the user's Authsignal sessions (`revokeUserSessions`). Default false. */
  authsignal?: boolean
  /** Sign the user out of Cognito everywhere (AdminUserGlobalSignOut) with this `CognitoIdentityProviderClient`. */
  cognito?: CognitoAdminClient
}

export interface ResolvedWebhookRoute {
  path: string
  toleranceSec: number
  bodyLimit: number
  store: LockStore
  dedupeWindowMs: number
}

export interface ResolvedCognitoSync {
  client: CognitoAdminClient
  attributes: SyncedAttribute[]
  onRemove: 'unverify' | 'keep'
}

export interface ResolvedEvents {
  onChange: AuthenticatorChangeHook | undefined
  hookTimeoutMs: number
  cognitoSync: ResolvedCognitoSync | undefined
  revoke: { authsignal: boolean, cognito: CognitoAdminClient | undefined }
}
