// The options of the events back from Authsignal (DESIGN.md): the webhook route, the Cognito attribute sync,
// the factor-change hook and the sessions revoked after a removal.
import { isLockStore, type LockStore } from '../stores/lock-store.js'
import { memoryLock } from '../stores/memory-lock.js'
import { boolean, fail, integer, isObject, knownKeys, oneOf, routePath } from './check.js'
import { DEFAULTS } from './defaults.js'
import type { CognitoAdminClient, ResolvedCognitoSync, ResolvedEvents, ResolvedWebhookRoute, SyncedAttribute } from './types.js'

export const WEBHOOK_KEYS = ['path', 'toleranceSec', 'bodyLimit', 'store', 'dedupeWindowSec'] as const
export const EVENT_KEYS = ['onAuthenticatorChange', 'onAuthenticatorChangeTimeoutMs', 'cognitoSync', 'revokeSessionsOnRemove'] as const
const SYNCED: readonly SyncedAttribute[] = ['email', 'phone_number']

export function resolveWebhook (webhook: Record<string, unknown> | false): ResolvedWebhookRoute | false {
  if (webhook === false) return false
  const store: LockStore = webhook.store === undefined ? memoryLock() : webhook.store as LockStore
  if (!isLockStore(store)) fail('routes.webhook.store', 'expected a lock store: memoryLock(), redisLock({ client }) or dynamoDbLock({ client, tableName })')
  // Marking an event as acted on for the dedupe window is an extend of the key claimed to act on it.
  if (typeof store.extend !== 'function') fail('routes.webhook.store', `the ${store.kind} store has no extend(key, token, leaseMs, signal): the webhook route needs it to remember the events it acted on`)
  return {
    path: routePath(webhook.path, 'routes.webhook.path', DEFAULTS.webhook.path),
    toleranceSec: integer(webhook.toleranceSec, 'routes.webhook.toleranceSec', DEFAULTS.webhook.toleranceSec, 1, 3600),
    bodyLimit: integer(webhook.bodyLimit, 'routes.webhook.bodyLimit', DEFAULTS.webhook.bodyLimit, 1024, 10 * 1024 * 1024),
    store,
    dedupeWindowMs: integer(webhook.dedupeWindowSec, 'routes.webhook.dedupeWindowSec', DEFAULTS.webhook.dedupeWindowSec, 60, 30 * 86_400) * 1000
  }
}

function cognitoClient (value: unknown, name: string): CognitoAdminClient {
  if (!isObject(value) || typeof value.send !== 'function') fail(name, 'expected a CognitoIdentityProviderClient from @aws-sdk/client-cognito-identity-provider')
  return value as unknown as CognitoAdminClient
}

function resolveCognitoSync (value: unknown): ResolvedCognitoSync | undefined {
  if (value === undefined) return undefined
  if (!isObject(value)) fail('cognitoSync', 'expected an object with client')
  knownKeys(value, 'cognitoSync', ['client', 'attributes', 'onRemove', 'replaceVerified'])
  const attributes = value.attributes ?? DEFAULTS.cognitoSync.attributes
  if (!Array.isArray(attributes) || attributes.length === 0 || !attributes.every(a => SYNCED.includes(a))) {
    fail('cognitoSync.attributes', `expected a non-empty list of ${SYNCED.map(a => `'${a}'`).join(', ')}`)
  }
  return {
    client: cognitoClient(value.client, 'cognitoSync.client'),
    attributes: [...new Set(attributes as SyncedAttribute[])],
    onRemove: oneOf(value.onRemove, 'cognitoSync.onRemove', ['unverify', 'keep'], DEFAULTS.cognitoSync.onRemove),
    replaceVerified: boolean(value.replaceVerified, 'cognitoSync.replaceVerified', DEFAULTS.cognitoSync.replaceVerified)
  }
}

function resolveRevoke (value: unknown): ResolvedEvents['revoke'] {
  if (value === undefined) return { authsignal: false, cognito: undefined }
  if (!isObject(value)) fail('revokeSessionsOnRemove', 'expected an object: { authsignal?: boolean, cognito?: CognitoIdentityProviderClient }')
  knownKeys(value, 'revokeSessionsOnRemove', ['authsignal', 'cognito'])
  return {
    authsignal: boolean(value.authsignal, 'revokeSessionsOnRemove.authsignal', false),
    cognito: value.cognito === undefined ? undefined : cognitoClient(value.cognito, 'revokeSessionsOnRemove.cognito')
  }
}

/** A host's own Authsignal client must carry the SDK's webhook verifier, which holds the API secret webhooks are signed with. */
export function assertWebhookVerifier (client: unknown, webhook: ResolvedWebhookRoute | false): void {
  if (webhook === false || client === undefined) return
  const verifier = (client as { webhook?: Record<string, unknown> }).webhook
  if (typeof verifier?.apiSecretKey !== 'string' || typeof verifier.parseSignature !== 'function' || typeof verifier.constructEvent !== 'function') {
    fail('routes.webhook', 'Authsignal signs webhooks with the API secret: give authsignal.apiSecretKey, or an Authsignal instance of @authsignal/node as authsignal.client')
  }
}

/** `verify`: `routes.verify` is on (it syncs on demand, with cognitoSync's client). */
export function resolveEvents (options: Record<string, unknown>, webhook: ResolvedWebhookRoute | false, verify: boolean): ResolvedEvents {
  const hook = options.onAuthenticatorChange
  if (hook !== undefined && typeof hook !== 'function') fail('onAuthenticatorChange', 'expected a function')
  const cognitoSync = resolveCognitoSync(options.cognitoSync)
  // The sync acts on Authsignal's webhook events or on the caller's demand: without either it would silently do nothing.
  if (cognitoSync !== undefined && webhook === false && !verify) fail('cognitoSync', 'acts on Authsignal\'s webhook events: turn on routes.webhook too (or routes.verify)')
  if (cognitoSync === undefined && verify) fail('routes.verify', 'writes to Cognito with cognitoSync\'s client: give cognitoSync: { client }')
  return {
    onChange: hook as ResolvedEvents['onChange'],
    hookTimeoutMs: integer(options.onAuthenticatorChangeTimeoutMs, 'onAuthenticatorChangeTimeoutMs', DEFAULTS.onAuthenticatorChangeTimeoutMs, 1, 60_000),
    cognitoSync,
    revoke: resolveRevoke(options.revokeSessionsOnRemove)
  }
}
