// The emulator's webhooks, sent as Authsignal sends its authenticator events (docs.authsignal.com, "Webhooks"):
// a POST of the JSON envelope `{ version: 1, id, source: 'https://authsignal.com', time, tenantId, type, data }`
// with `Content-Type: application/json` and `X-Signature-V2: t=<unix seconds>,v2=<signature>`, the signature
// being HMAC-SHA256 of `${t}.${body}` under the API secret, base64 without its '=' padding. A non-2xx answer
// (or no answer) is retried up to 3 times, at least 30 s apart; the delays are an option so tests run fast.
// Each attempt is signed when it is sent (its timestamp is the attempt's), and carries the same event id.
import { randomUUID } from 'node:crypto'
import { request } from 'node:http'
import { webhookSignature } from '../../authsignal/webhook-signature.js'
import type { AuthenticatorChange, UserAuthenticator, WebhookDelivery, WebhookOptions } from './types.js'

/** Authsignal's retries of an authenticator event: up to 3, at least 30 s apart. */
export const AUTHSIGNAL_RETRY_DELAYS_MS = [30_000, 30_000, 30_000] as const

/** The `X-Signature-V2` header of `body`, signed with `secret` at `timestampSec` (default now). */
export function signWebhook (secret: string, body: string, timestampSec = Math.floor(Date.now() / 1000)): string {
  return `t=${timestampSec},v2=${webhookSignature(secret, timestampSec, Buffer.from(body))}`
}

// What an authenticator event's `data` carries, by type (each field only where Authsignal sends it).
export function eventData (change: AuthenticatorChange): Record<string, unknown> {
  const a: UserAuthenticator = change.authenticator
  const when = change.type === 'authenticator.created'
    ? { createdAt: a.createdAt }
    : change.type === 'authenticator.updated' ? { updatedAt: change.time } : { createdAt: a.createdAt, deletedAt: change.time }
  const passkey = a.webauthnCredential
  return Object.fromEntries(Object.entries({
    userId: a.userId,
    verificationMethod: a.verificationMethod,
    ...when,
    userAuthenticatorId: a.userAuthenticatorId,
    email: a.email,
    phoneNumber: a.phoneNumber,
    credentialId: passkey?.credentialId,
    aaguid: passkey?.aaguid,
    credentialName: passkey?.name
  }).filter(([, value]) => value !== undefined))
}

export class WebhookSender {
  url: string | undefined
  readonly deliveries: WebhookDelivery[] = []
  private readonly retryDelaysMs: readonly number[]
  private readonly timeoutMs: number
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly inFlight = new Set<AbortController>()
  private pending = 0
  private waiting: Array<() => void> = []
  private closed = false

  constructor (private readonly secret: string, private readonly tenantId: string, options: WebhookOptions = {}) {
    this.url = options.url
    this.retryDelaysMs = options.retryDelaysMs ?? AUTHSIGNAL_RETRY_DELAYS_MS
    this.timeoutMs = options.timeoutMs ?? 10_000
  }

  /** Sends the event of a change to `url`, if one is set. */
  send (change: AuthenticatorChange): void {
    const url = this.url
    if (url === undefined || this.closed) return
    const body = JSON.stringify({
      version: 1,
      id: randomUUID(),
      source: 'https://authsignal.com',
      time: change.time,
      tenantId: this.tenantId,
      type: change.type,
      data: eventData(change)
    })
    this.pending += 1
    this.attempt(url, body, change.type, 1)
  }

  /** Resolves once every event sent so far has been delivered or has run out of retries. */
  async idle (): Promise<void> {
    if (this.pending === 0) return
    await new Promise<void>(resolve => this.waiting.push(resolve))
  }

  close (): void {
    this.closed = true
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    for (const controller of this.inFlight) controller.abort()
    this.settle(this.pending)
  }

  private attempt (url: string, body: string, type: string, attempt: number): void {
    const controller = new AbortController()
    this.inFlight.add(controller)
    const record: WebhookDelivery = { eventId: JSON.parse(body).id, type, attempt, body, at: new Date().toISOString() }
    post(url, body, signWebhook(this.secret, body), AbortSignal.any([controller.signal, AbortSignal.timeout(this.timeoutMs)]))
      .then((status) => { record.status = status }, (err: unknown) => { record.error = (err as Error).name })
      .finally(() => {
        this.inFlight.delete(controller)
        if (this.closed) return
        this.deliveries.push(record)
        const delay = this.retryDelaysMs[attempt - 1]
        const delivered = record.status !== undefined && record.status >= 200 && record.status < 300
        if (delivered || delay === undefined) return this.settle(1)
        const retry = setTimeout(() => {
          this.timers.delete(retry)
          this.attempt(url, body, type, attempt + 1)
        }, delay)
        retry.unref()
        this.timers.add(retry)
      })
  }

  private settle (count: number): void {
    this.pending -= count
    if (this.pending > 0) return
    for (const wake of this.waiting.splice(0)) wake()
  }
}

// One POST on a connection of its own (no keep-alive agent, so `Connection: close`): a delivery never leaves
// an idle connection behind that would hold up the receiving server's close.
async function post (url: string, body: string, signature: string, signal: AbortSignal): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent: false,
      signal,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-signature-v2': signature }
    }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode as number))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}
