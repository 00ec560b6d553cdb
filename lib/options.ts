// The plugin's options: their types, their defaults (in this one place) and their validation at
// registration, so a wrong option fails `register` with a message that names it.
import type { Authsignal } from '@authsignal/node'
import { resolveDecorators, type DecoratorOptions, type ResolvedDecorators } from './decorators.js'
import { InvalidOptionError } from './errors.js'

export type TokenUse = 'access' | 'id'
export type UserIdClaim = 'sub' | 'username' | 'cognito:username'

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
  /** Tolerance for `exp`/`nbf`/`iat`, in seconds. Default 5. */
  clockToleranceSec?: number
  /** All of these groups must be in `cognito:groups` (403 otherwise). */
  requiredGroups?: string[]
  /** All of these scopes must be in `scope` (403 otherwise; access tokens only). */
  requiredScopes?: string[]
  /** Bound on one JWKS fetch, in ms. Default 3000. */
  jwksTimeoutMs?: number
  /** An unknown `kid` triggers at most one JWKS fetch per this window, in ms. Default 10000. */
  jwksPenaltyMs?: number
  /** Verified tokens kept until their `exp` (at most this many; 0 turns the cache off). Default 10000. */
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
  scope?: string
  /** Refuse (401, RFC 9470) when the Cognito `auth_time` is older than this many seconds. */
  maxAuthAgeSec?: number
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
}

export interface RemoveRouteOptions {
  path?: string
  /** Refuse to remove the user's last authenticator (409). Default true. */
  protectLast?: boolean
  /** Demand an Authsignal token of a completed challenge in the `x-authsignal-token` header. Default false. */
  requireChallenge?: boolean
  /** The action that challenge must be for. Default `'removeAuthenticator'`. */
  challengeAction?: string
}

export interface AuthenticatorsPluginOptions {
  cognito: CognitoOptions
  authsignal: AuthsignalOptions
  /** Where the routes mount. Default `'/authenticators'`. */
  prefix?: string
  routes?: {
    token?: TokenRouteOptions | false
    prebuiltUi?: PrebuiltUiRouteOptions | false
    list?: ListRouteOptions | false
    remove?: RemoveRouteOptions | false
  }
  /** Names of `app.authenticate` and `request.user`, for hosts where another plugin holds them. */
  decorators?: DecoratorOptions
}

export interface ResolvedCognitoOptions {
  userPoolId: string
  clientIds: string[]
  tokenUse: TokenUse
  issuers: string[]
  jwksUri: string
  userIdClaim: UserIdClaim
  clockToleranceMs: number
  requiredGroups: string[]
  requiredScopes: string[]
  jwksTimeoutMs: number
  jwksPenaltyMs: number
  tokenCacheSize: number
}

export interface ResolvedAuthsignalOptions {
  apiSecretKey: string | undefined
  apiUrl: string
  timeoutMs: number
  client: Authsignal | undefined
}

export interface ResolvedRoutes {
  token: Required<Omit<TokenRouteOptions, 'maxAuthAgeSec'>> & { maxAuthAgeSec: number | undefined } | false
  prebuiltUi: { path: string, action: string, redirectUrl: string | undefined, allowedRedirectUrls: string[] } | false
  list: Required<ListRouteOptions> | false
  remove: Required<RemoveRouteOptions> | false
}

export interface ResolvedOptions {
  cognito: ResolvedCognitoOptions
  authsignal: ResolvedAuthsignalOptions
  prefix: string
  routes: ResolvedRoutes
  decorators: ResolvedDecorators
}

export const DEFAULTS = {
  tokenUse: 'access',
  userIdClaim: 'sub',
  clockToleranceSec: 5,
  jwksTimeoutMs: 3000,
  jwksPenaltyMs: 10_000,
  tokenCacheSize: 10_000,
  apiUrl: 'https://api.authsignal.com/v1',
  timeoutMs: 5000,
  prefix: '/authenticators',
  token: { path: '/token', action: 'addAuthenticator', scope: 'add:authenticators' },
  prebuiltUi: { path: '/prebuilt-ui', action: 'manageAuthenticators' },
  list: { path: '/', showContactDetails: false },
  remove: { path: '/:userAuthenticatorId', protectLast: true, requireChallenge: false, challengeAction: 'removeAuthenticator' }
} as const

// aws-jwt-verify's shape for a Cognito pool id: the region, an underscore, the id.
const USER_POOL_ID = /^(?<region>[a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$/
const ACTION = /^[A-Za-z0-9_-]{1,64}$/

function fail (name: string, expected: string): never {
  throw new InvalidOptionError(name, expected)
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function nonEmptyString (value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') fail(name, 'expected a non-empty string')
  return value
}

function optionalString (value: unknown, name: string): string | undefined {
  return value === undefined ? undefined : nonEmptyString(value, name)
}

function stringList (value: unknown, name: string, { allowSingle = false, allowEmpty = true } = {}): string[] {
  if (allowSingle && typeof value === 'string') return [nonEmptyString(value, name)]
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0)) {
    fail(name, allowSingle ? 'expected a non-empty string or a non-empty array of strings' : 'expected an array of strings')
  }
  return value.map((item, i) => nonEmptyString(item, `${name}[${i}]`))
}

function integer (value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(name, `expected an integer from ${min} to ${max}`)
  }
  return value
}

function oneOf<T extends string> (value: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (!allowed.includes(value as T)) fail(name, `expected one of ${allowed.map(a => `'${a}'`).join(', ')}`)
  return value as T
}

function boolean (value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') fail(name, 'expected a boolean')
  return value
}

function httpUrl (value: unknown, name: string): string {
  const text = nonEmptyString(value, name)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    fail(name, 'expected an absolute http(s) URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(name, 'expected an absolute http(s) URL')
  return text
}

function routePath (value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  const path = nonEmptyString(value, name)
  if (!path.startsWith('/')) fail(name, 'expected a path starting with "/"')
  return path
}

function action (value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !ACTION.test(value)) fail(name, 'expected 1 to 64 characters of A-Z a-z 0-9 _ -')
  return value
}

// The id must be a path parameter: it is validated as one before any upstream call.
function removePath (value: unknown): string {
  const path = routePath(value, 'routes.remove.path', DEFAULTS.remove.path)
  if (!path.includes(':userAuthenticatorId')) fail('routes.remove.path', 'expected a path with :userAuthenticatorId')
  return path
}

// `false` turns a route off; `undefined` or `true` keeps its defaults; an object refines them.
function routeOptions (value: unknown, name: string): Record<string, unknown> | false {
  if (value === false) return false
  if (value === undefined || value === true) return {}
  if (!isObject(value)) fail(name, 'expected an object or false')
  return value
}

function resolveCognito (value: unknown): ResolvedCognitoOptions {
  if (!isObject(value)) fail('cognito', 'expected an object with userPoolId and clientId')
  const userPoolId = nonEmptyString(value.userPoolId, 'cognito.userPoolId')
  const region = USER_POOL_ID.exec(userPoolId)?.groups?.region
  let issuers: string[]
  if (value.issuer === undefined) {
    if (region === undefined) fail('cognito.userPoolId', 'expected "<region>_<id>" such as "eu-west-1_AbCdEf123" (or give cognito.issuer)')
    issuers = [
      `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`,
      `https://issuer-cognito-idp.${region}.amazonaws.com/${userPoolId}`
    ]
  } else {
    issuers = stringList(value.issuer, 'cognito.issuer', { allowSingle: true, allowEmpty: false })
    issuers.forEach((issuer, i) => httpUrl(issuer, `cognito.issuer[${i}]`))
  }
  const jwksUri = value.jwksUri === undefined
    ? `${(issuers[0] as string).replace(/\/+$/, '')}/.well-known/jwks.json`
    : httpUrl(value.jwksUri, 'cognito.jwksUri')
  return {
    userPoolId,
    clientIds: stringList(value.clientId, 'cognito.clientId', { allowSingle: true, allowEmpty: false }),
    tokenUse: oneOf(value.tokenUse, 'cognito.tokenUse', ['access', 'id'], DEFAULTS.tokenUse),
    issuers,
    jwksUri,
    userIdClaim: oneOf(value.userIdClaim, 'cognito.userIdClaim', ['sub', 'username', 'cognito:username'], DEFAULTS.userIdClaim),
    clockToleranceMs: integer(value.clockToleranceSec, 'cognito.clockToleranceSec', DEFAULTS.clockToleranceSec, 0, 300) * 1000,
    requiredGroups: value.requiredGroups === undefined ? [] : stringList(value.requiredGroups, 'cognito.requiredGroups'),
    requiredScopes: value.requiredScopes === undefined ? [] : stringList(value.requiredScopes, 'cognito.requiredScopes'),
    jwksTimeoutMs: integer(value.jwksTimeoutMs, 'cognito.jwksTimeoutMs', DEFAULTS.jwksTimeoutMs, 1, 60_000),
    jwksPenaltyMs: integer(value.jwksPenaltyMs, 'cognito.jwksPenaltyMs', DEFAULTS.jwksPenaltyMs, 0, 3_600_000),
    tokenCacheSize: integer(value.tokenCacheSize, 'cognito.tokenCacheSize', DEFAULTS.tokenCacheSize, 0, 1_000_000)
  }
}

function resolveAuthsignal (value: unknown): ResolvedAuthsignalOptions {
  if (!isObject(value)) fail('authsignal', 'expected an object with apiSecretKey (or client)')
  const client = value.client
  if (client !== undefined && (!isObject(client) || typeof client.getAuthenticators !== 'function')) {
    fail('authsignal.client', 'expected an Authsignal instance from @authsignal/node')
  }
  const apiSecretKey = optionalString(value.apiSecretKey, 'authsignal.apiSecretKey')
  if (client === undefined && apiSecretKey === undefined) fail('authsignal.apiSecretKey', 'required unless authsignal.client is given')
  return {
    apiSecretKey,
    apiUrl: value.apiUrl === undefined ? DEFAULTS.apiUrl : httpUrl(value.apiUrl, 'authsignal.apiUrl').replace(/\/+$/, ''),
    timeoutMs: integer(value.timeoutMs, 'authsignal.timeoutMs', DEFAULTS.timeoutMs, 1, 120_000),
    client: client as Authsignal | undefined
  }
}

function resolveRoutes (value: unknown): ResolvedRoutes {
  if (value !== undefined && !isObject(value)) fail('routes', 'expected an object')
  const routes = value ?? {}
  const token = routeOptions(routes.token, 'routes.token')
  const prebuiltUi = routeOptions(routes.prebuiltUi, 'routes.prebuiltUi')
  const list = routeOptions(routes.list, 'routes.list')
  const remove = routeOptions(routes.remove, 'routes.remove')
  return {
    token: token && {
      path: routePath(token.path, 'routes.token.path', DEFAULTS.token.path),
      action: action(token.action, 'routes.token.action', DEFAULTS.token.action),
      scope: token.scope === undefined ? DEFAULTS.token.scope : nonEmptyString(token.scope, 'routes.token.scope'),
      maxAuthAgeSec: token.maxAuthAgeSec === undefined ? undefined : integer(token.maxAuthAgeSec, 'routes.token.maxAuthAgeSec', 0, 1, 86_400 * 365)
    },
    prebuiltUi: prebuiltUi && {
      path: routePath(prebuiltUi.path, 'routes.prebuiltUi.path', DEFAULTS.prebuiltUi.path),
      action: action(prebuiltUi.action, 'routes.prebuiltUi.action', DEFAULTS.prebuiltUi.action),
      redirectUrl: prebuiltUi.redirectUrl === undefined ? undefined : httpUrl(prebuiltUi.redirectUrl, 'routes.prebuiltUi.redirectUrl'),
      allowedRedirectUrls: prebuiltUi.allowedRedirectUrls === undefined
        ? []
        : stringList(prebuiltUi.allowedRedirectUrls, 'routes.prebuiltUi.allowedRedirectUrls').map((url, i) => httpUrl(url, `routes.prebuiltUi.allowedRedirectUrls[${i}]`))
    },
    list: list && {
      path: routePath(list.path, 'routes.list.path', DEFAULTS.list.path),
      showContactDetails: boolean(list.showContactDetails, 'routes.list.showContactDetails', DEFAULTS.list.showContactDetails)
    },
    remove: remove && {
      path: removePath(remove.path),
      protectLast: boolean(remove.protectLast, 'routes.remove.protectLast', DEFAULTS.remove.protectLast),
      requireChallenge: boolean(remove.requireChallenge, 'routes.remove.requireChallenge', DEFAULTS.remove.requireChallenge),
      challengeAction: action(remove.challengeAction, 'routes.remove.challengeAction', DEFAULTS.remove.challengeAction)
    }
  }
}

export function resolveOptions (options: unknown): ResolvedOptions {
  if (!isObject(options)) fail('options', 'expected an object with cognito and authsignal')
  return {
    cognito: resolveCognito(options.cognito),
    authsignal: resolveAuthsignal(options.authsignal),
    prefix: options.prefix === undefined ? DEFAULTS.prefix : routePath(options.prefix, 'prefix', DEFAULTS.prefix).replace(/\/+$/, ''),
    routes: resolveRoutes(options.routes),
    decorators: resolveDecorators(options.decorators)
  }
}
