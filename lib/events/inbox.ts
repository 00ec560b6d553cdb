// Acting on each webhook event once, however often Authsignal delivers it (at least once, in any order) and
// however many instances receive it: the event id is claimed in a lock store shared by the fleet.
//
// Two keys per event id, in the same store as the removal lock (`LockStore`):
// - `webhook:claim:<id>` is held while one request acts on the event, and freed after;
// - `webhook:done:<id>` is taken with the same short lease before acting, and once the work has succeeded
//   its lease is extended to the dedupe window (the store's `extend`): the event is then remembered as done.
// So a delivery that finds the claim held answers 409 (Authsignal delivers it again later: if the holder
// fails, the event is not lost); one that finds the claim free but the event done answers 2xx and does
// nothing. A failure of the work frees both keys and answers 5xx, so Authsignal's retry acts on it again.
// A holder that dies loses both keys when their short lease runs out. The short lease outlives the work:
// every call the work makes has a deadline (lib/routes/webhook.ts counts them).
// The claim's lease ends after the done key's: the done key reaches the store after the claim (up to two store
// bounds later), so with equal leases a redelivery after a crash could find the claim free but the event still
// "done" and drop it. With the claim outliving it, that redelivery finds the claim held (409, delivered again).
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { retryLater, WebhookInProgressError, WebhookStoreUnavailableError } from '../errors.js'
import { LEASE_MARGIN_MS, releaseLateAcquire, STORE_TIMEOUT_MS, storeCall, type LockStore } from '../stores/lock-store.js'

export type InboxOutcome = 'acted' | 'duplicate'

/** How much longer the claim is held than the done key: the two acquires' bounds, and clock differences between writers. */
export const CLAIM_EXTRA_MS = 2 * STORE_TIMEOUT_MS + LEASE_MARGIN_MS

export class EventInbox {
  constructor (private readonly store: LockStore, private readonly leaseMs: number, private readonly dedupeWindowMs: number) {}

  async handle (eventId: string, log: FastifyBaseLogger, act: () => Promise<void>): Promise<InboxOutcome> {
    const token = randomUUID()
    const claim = `webhook:claim:${eventId}`
    const done = `webhook:done:${eventId}`
    if (!await this.acquire(claim, token, this.leaseMs + CLAIM_EXTRA_MS, log)) throw retryLater(new WebhookInProgressError(), 30)
    try {
      if (!await this.acquire(done, token, this.leaseMs, log)) return 'duplicate'
      try {
        await act()
      } catch (err) {
        await this.release(done, token, log)
        throw err
      }
      const remembered = await this.bounded('extend', log, signal => (this.store.extend as NonNullable<LockStore['extend']>)(done, token, this.dedupeWindowMs, signal))
        .catch(() => false)
      // Acted on already: a 5xx now would only make Authsignal's retry act again. Said, not thrown.
      if (!remembered) log.warn({ eventId }, 'fastify-authsignal-cognito: acted on a webhook event but could not remember it; a redelivery may act on it again')
      return 'acted'
    } finally {
      await this.release(claim, token, log)
    }
  }

  private async acquire (key: string, token: string, leaseMs: number, log: FastifyBaseLogger): Promise<boolean> {
    return await this.bounded('acquire', log, signal => this.store.acquire(key, token, leaseMs, signal)).catch(() => {
      releaseLateAcquire(this.store, key, token, leaseMs)
      throw retryLater(new WebhookStoreUnavailableError(`the ${this.store.kind} store failed`))
    })
  }

  private async release (key: string, token: string, log: FastifyBaseLogger): Promise<void> {
    await this.bounded('release', log, signal => this.store.release(key, token, signal)).catch(() => {}) // logged; the lease ends it anyway
  }

  private async bounded<T> (operation: string, log: FastifyBaseLogger, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return await storeCall(this.store, operation, log, 'fastify-authsignal-cognito: the webhook event store failed', fn)
  }
}
