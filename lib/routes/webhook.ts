// POST {prefix}{routes.webhook.path}: Authsignal's signed webhooks (authenticator.created / .updated /
// .deleted). No Cognito token here: the caller is Authsignal, proven by the signature. In order: the body's
// size (413, before anything is read into memory past the bound), the signature on the raw bytes (4xx, nothing
// done), the event's shape (400), then once per event id across the fleet (lib/events/inbox.ts): the Cognito
// attribute sync, then `onAuthenticatorChange`. Unknown event types are acknowledged and ignored.
//
// The raw body is needed for the signature, so this route has its own encapsulated context whose only
// content-type parser keeps the bytes: the plugin's other routes and the host's keep their JSON parser.
// It is hidden from the OpenAPI document: it is not a route for the API's users, and its caller follows
// Authsignal's documentation, not ours.
import type { FastifyInstance } from 'fastify'
import type { AuthsignalApi } from '../authsignal/api.js'
import { AttributeSync, COGNITO_CALLS_PER_EVENT } from '../cognito-admin/attribute-sync.js'
import { CognitoAdmin } from '../cognito-admin/admin.js'
import { notifyChange } from '../events/change.js'
import { EventInbox } from '../events/inbox.js'
import { parseWebhookEvent, type WebhookEvent } from '../events/webhook-event.js'
import { SIGNATURE_HEADER } from '../authsignal/webhook-signature.js'
import type { ResolvedOptions, ResolvedWebhookRoute } from '../options/index.js'
import { LEASE_MARGIN_MS, STORE_TIMEOUT_MS } from '../stores/lock-store.js'
import type { RouteContext } from './context.js'
import { errorSchema } from './schemas.js'

/** How long one event is claimed: every call its work makes, each under its deadline, and a margin. */
export function webhookLeaseMs (options: ResolvedOptions): number {
  const calls = options.events.cognitoSync === undefined ? 0 : 1 + COGNITO_CALLS_PER_EVENT
  // The store operations between the claim and its release: the done key's acquire and extend.
  return calls * options.authsignal.timeoutMs + options.events.hookTimeoutMs + 2 * STORE_TIMEOUT_MS + LEASE_MARGIN_MS
}

function eventProcessor (api: AuthsignalApi, options: ResolvedOptions) {
  const { cognitoSync, onChange, hookTimeoutMs } = options.events
  const sync = cognitoSync === undefined
    ? undefined
    : new AttributeSync(api, new CognitoAdmin(cognitoSync.client, options.authsignal.timeoutMs), options.pools, cognitoSync)
  return async (event: Required<WebhookEvent>, requestId: string, log: FastifyInstance['log']): Promise<void> => {
    const { authenticator: a } = event
    await sync?.apply(a, log)
    await notifyChange(onChange, {
      type: a.change,
      userId: a.userId,
      verificationMethod: a.verificationMethod,
      userAuthenticatorId: a.userAuthenticatorId,
      at: a.at,
      source: 'webhook',
      requestId,
      eventId: event.id
    }, log, hookTimeoutMs)
  }
}

const answer = {
  type: 'object',
  required: ['received'],
  properties: { received: { type: 'boolean' }, duplicate: { type: 'boolean' }, ignored: { type: 'boolean' } }
} as const

export function webhookRoute (fastify: FastifyInstance, route: ResolvedWebhookRoute, { api, options }: RouteContext): void {
  const inbox = new EventInbox(route.store, webhookLeaseMs(options), route.dedupeWindowMs)
  const process = eventProcessor(api, options)

  fastify.register(async (scope) => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: route.bodyLimit }, (_request, body, done) => { done(null, body) })
    scope.post(route.path, {
      bodyLimit: route.bodyLimit,
      schema: {
        hide: true,
        response: { 200: answer, '4xx': errorSchema, '5xx': errorSchema }
      }
    }, async (request) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
      const signature = request.headers[SIGNATURE_HEADER] as string | undefined
      const event = parseWebhookEvent(api.webhookEvent(raw, signature, route.toleranceSec))
      const facts = { eventId: event.id, eventType: event.type }
      if (event.authenticator === undefined) {
        request.log.info(facts, 'fastify-authsignal-cognito: webhook event of a type the plugin does not act on; acknowledged')
        return { received: true, ignored: true }
      }
      const outcome = await inbox.handle(event.id, request.log, () => process(event as Required<WebhookEvent>, request.id, request.log))
      request.log.info({ ...facts, outcome }, 'fastify-authsignal-cognito: webhook event')
      return outcome === 'duplicate' ? { received: true, duplicate: true } : { received: true }
    })
  })
}
