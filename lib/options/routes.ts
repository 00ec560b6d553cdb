// The `routes` option: which routes are mounted, where, and how each behaves.
import { isLockStore, leaseFor, type LockStore } from '../stores/lock-store.js'
import { memoryLock } from '../stores/memory-lock.js'
import { boolean, fail, httpUrl, integer, isObject, knownKeys, nonEmptyString, routePath, stringList } from './check.js'
import { DEFAULTS } from './defaults.js'
import { resolveWebhook, WEBHOOK_KEYS } from './events.js'
import type { ResolvedRemoveRoute, ResolvedRoutes, ResolvedSupportRoute } from './types.js'

const ACTION = /^[A-Za-z0-9_-]{1,64}$/
const ROUTE_KEYS = {
  token: ['path', 'action', 'scope', 'maxAuthAgeSec', 'freshSignInSec'],
  prebuiltUi: ['path', 'action', 'redirectUrl', 'allowedRedirectUrls'],
  list: ['path', 'showContactDetails', 'passkeyRpId'],
  remove: ['path', 'protectLast', 'requireChallenge', 'challengeAction', 'lock', 'lockWaitMs'],
  challengeToken: ['path'],
  webhook: WEBHOOK_KEYS,
  support: ['requiredGroups', 'requireChallenge', 'path']
} as const

// A WebAuthn RP id is a domain: the page's host or a registrable suffix of it, never an IP address.
const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/

function action (value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !ACTION.test(value)) fail(name, 'expected 1 to 64 characters of A-Z a-z 0-9 _ -')
  return value
}

function rpId (value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !DOMAIN.test(value) || /^[\d.]+$/.test(value)) {
    fail(name, 'expected a lower-case domain such as example.com (the WebAuthn RP id: no scheme, port, path or IP address)')
  }
  return value
}

// `false` turns a route off; `undefined` or `true` keeps its defaults (`undefined`: `unset` if given); an object refines them.
function routeOptions (routes: Record<string, unknown>, route: keyof typeof ROUTE_KEYS, unset: Record<string, unknown> | false = {}): Record<string, unknown> | false {
  const value = routes[route]
  const name = `routes.${route}`
  if (value === false) return false
  if (value === undefined) return unset
  if (value === true) return {}
  if (!isObject(value)) fail(name, 'expected an object or false')
  knownKeys(value, name, ROUTE_KEYS[route])
  return value
}

function resolveRemove (remove: Record<string, unknown>, timeoutMs: number): ResolvedRemoveRoute {
  const path = routePath(remove.path, 'routes.remove.path', DEFAULTS.remove.path)
  // The id must be a path parameter: it is validated as one before any upstream call.
  if (!path.includes(':userAuthenticatorId')) fail('routes.remove.path', 'expected a path with :userAuthenticatorId')
  const lock: LockStore = remove.lock === undefined ? memoryLock() : remove.lock as LockStore
  if (!isLockStore(lock)) fail('routes.remove.lock', 'expected a lock store: memoryLock(), redisLock({ client }) or dynamoDbLock({ client, tableName })')
  const needed = leaseFor(timeoutMs)
  if (lock.leaseMs !== undefined && lock.leaseMs < needed) {
    fail('routes.remove.lock', `its leaseMs ${lock.leaseMs} is shorter than the work it guards: ${needed} ms (two Authsignal calls of ` +
      `authsignal.timeoutMs ${timeoutMs} ms each, plus a margin); give it leaseMs ≥ ${needed} or leave leaseMs out`)
  }
  return {
    path,
    protectLast: boolean(remove.protectLast, 'routes.remove.protectLast', DEFAULTS.remove.protectLast),
    requireChallenge: boolean(remove.requireChallenge, 'routes.remove.requireChallenge', DEFAULTS.remove.requireChallenge),
    challengeAction: action(remove.challengeAction, 'routes.remove.challengeAction', DEFAULTS.remove.challengeAction),
    lock,
    lockWaitMs: integer(remove.lockWaitMs, 'routes.remove.lockWaitMs', DEFAULTS.remove.lockWaitMs, 0, 60_000),
    leaseMs: lock.leaseMs ?? needed
  }
}

// Staff acting on other users' factors: the gate is the point, so a support route without one is refused.
function resolveSupport (support: Record<string, unknown> | false, remove: ResolvedRemoveRoute | false): ResolvedSupportRoute | false {
  if (support === false) return false
  // The removal's lock (so a user's removal and an agent's never interleave) and its challenge action are the support routes' too.
  if (remove === false) fail('routes.support', 'needs routes.remove: support removals take its lock and its challengeAction')
  const groups = support.requiredGroups
  if (groups === undefined) fail('routes.support.requiredGroups', 'required: the Cognito groups of the staff who may act on other users\' authenticators')
  if (Array.isArray(groups) && groups.length === 0) fail('routes.support.requiredGroups', 'expected at least one group: with none, every signed-in user could act on other users\' authenticators')
  const path = routePath(support.path, 'routes.support.path', DEFAULTS.support.path)
  // The routes add `/:userId/…` under it: a parameter here would be read as the user id.
  if (path.includes(':') || path.includes('*')) fail('routes.support.path', 'expected a static path (no parameter or wildcard)')
  return {
    path: path.replace(/\/+$/, ''),
    requiredGroups: stringList(groups, 'routes.support.requiredGroups'),
    requireChallenge: boolean(support.requireChallenge, 'routes.support.requireChallenge', DEFAULTS.support.requireChallenge)
  }
}

export function resolveRoutes (value: unknown, timeoutMs: number): ResolvedRoutes {
  if (value !== undefined && !isObject(value)) fail('routes', 'expected an object')
  const routes = value ?? {}
  knownKeys(routes, 'routes', Object.keys(ROUTE_KEYS))
  const token = routeOptions(routes, 'token')
  const prebuiltUi = routeOptions(routes, 'prebuiltUi')
  const list = routeOptions(routes, 'list')
  const remove = routeOptions(routes, 'remove')
  const resolvedRemove = remove && resolveRemove(remove, timeoutMs)
  const support = resolveSupport(routes.support === undefined ? false : routeOptions(routes, 'support'), resolvedRemove)
  // On by default exactly when a removal demands a challenge: the page needs a token to complete one. Support's
  // agents complete theirs with it whenever support is on (the host may turn their challenge off, not the route).
  const challengeToken = routeOptions(routes, 'challengeToken', ((resolvedRemove !== false && resolvedRemove.requireChallenge) || support !== false) && {})
  if (challengeToken && !resolvedRemove) fail('routes.challengeToken', 'needs routes.remove: it tracks routes.remove.challengeAction')
  if (support !== false && !challengeToken) fail('routes.challengeToken', 'needed by routes.support: the agents complete their own challenge with its token')
  return {
    token: token && {
      path: routePath(token.path, 'routes.token.path', DEFAULTS.token.path),
      action: action(token.action, 'routes.token.action', DEFAULTS.token.action),
      scope: token.scope === undefined ? DEFAULTS.token.scope : nonEmptyString(token.scope, 'routes.token.scope'),
      maxAuthAgeSec: token.maxAuthAgeSec === undefined ? undefined : integer(token.maxAuthAgeSec, 'routes.token.maxAuthAgeSec', 0, 1, 86_400 * 365),
      freshSignInSec: integer(token.freshSignInSec, 'routes.token.freshSignInSec', DEFAULTS.token.freshSignInSec, 0, 86_400)
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
      showContactDetails: boolean(list.showContactDetails, 'routes.list.showContactDetails', DEFAULTS.list.showContactDetails),
      passkeyRpId: rpId(list.passkeyRpId, 'routes.list.passkeyRpId')
    },
    remove: resolvedRemove,
    challengeToken: challengeToken && resolvedRemove && {
      path: routePath(challengeToken.path, 'routes.challengeToken.path', DEFAULTS.challengeToken.path),
      action: resolvedRemove.challengeAction
    },
    // Off unless asked for: a route that changes things on an unauthenticated POST must be chosen.
    webhook: resolveWebhook(routes.webhook === undefined ? false : routeOptions(routes, 'webhook')),
    support
  }
}
