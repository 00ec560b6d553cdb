// Runs one removal at a time per user, across every instance that shares the lock store, so that two
// concurrent removals cannot both see "two authenticators left" and both delete.
//
// Why the holder's work always ends before its lease: the work under the lock is CALLS_UNDER_LOCK Authsignal
// calls, each ended by its deadline (authsignal.timeoutMs: an abort plus a race, lib/authsignal/client.ts),
// and the lease is at least all of those deadlines plus a margin (leaseFor). The lease is counted here from
// before the acquire was sent, so the store's own count (from when it got the request) ends later than ours.
// And before each call the holder checks that what is left of its lease covers a whole call and half the
// margin: a process stalled long enough to eat the margin gives up (503) rather than act on a lock it may
// have lost.
// A call whose outcome we cannot see (a delete that timed out: it may still land at Authsignal, and a
// host-supplied client is not given our deadline's abort) is not followed by a release: the work says so with
// `lease.keepToEnd()` and the lease ends the lock, so the next removal lists the user's authenticators only once
// the late delete has had the rest of the lease to land (our own SDK client's abort ends the request at the
// deadline, which the lease outlives by its margin).
// Limits (README, Safety): a Redis lock lives on one primary (not Redlock across several), and a DynamoDB lease
// is judged on the writers' clocks.
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { LockBusyError, LockUnavailableError, retryLater } from '../errors.js'
import { LEASE_MARGIN_MS, releaseLateAcquire, storeCall, type LockStore } from './lock-store.js'

export { STORE_TIMEOUT_MS } from './lock-store.js'
const FIRST_PAUSE_MS = 5
const MAX_PAUSE_MS = 100

export interface UserLockOptions {
  store: LockStore
  leaseMs: number
  /** How long to wait for a lock held by another removal. */
  waitMs: number
  /** The deadline of one upstream call made under the lock. */
  callMs: number
}

/** Handed to the work under the lock: call `assertTime()` before each upstream call. */
export interface Lease {
  assertTime (): void
  /** A call's outcome is unknown (it may still land): the lock is not released, its lease ends it. */
  keepToEnd (): void
}

export class UserLock {
  // Removals in this process waiting for a key: woken as soon as this process releases it (others poll).
  private readonly waiting = new Map<string, Set<() => void>>()

  constructor (private readonly options: UserLockOptions) {}

  async run<T> (key: string, log: FastifyBaseLogger, work: (lease: Lease) => Promise<T>): Promise<T> {
    const token = randomUUID()
    const since = await this.acquire(key, token, log)
    const { leaseMs, callMs } = this.options
    let kept = false
    const lease: Lease = {
      assertTime: () => {
        if (since + leaseMs - Date.now() < callMs + LEASE_MARGIN_MS / 2) throw retryLater(new LockUnavailableError('its lease ran short'))
      },
      keepToEnd: () => { kept = true }
    }
    try {
      return await work(lease)
    } finally {
      if (kept) {
        log.warn({ lockStore: this.options.store.kind }, 'fastify-authsignal-cognito: an upstream call\'s outcome is unknown; the lock is kept until its lease ends')
      } else {
        await this.bounded('release', log, signal => this.options.store.release(key, token, signal))
          .catch(() => {}) // logged; the lease ends the lock anyway
        for (const wake of this.waiting.get(key) ?? []) wake()
      }
    }
  }

  private async acquire (key: string, token: string, log: FastifyBaseLogger): Promise<number> {
    const { store, leaseMs, waitMs } = this.options
    const started = Date.now()
    let pause = FIRST_PAUSE_MS
    for (;;) {
      const at = Date.now()
      const taken = await this.bounded('acquire', log, signal => store.acquire(key, token, leaseMs, signal)).catch((err: unknown) => {
        releaseLateAcquire(store, key, token, leaseMs)
        throw err
      })
      if (taken) return at
      const waited = Date.now() - started
      if (waited >= waitMs) throw retryLater(new LockBusyError(waited))
      await this.pause(key, Math.min(pause, waitMs - waited))
      pause = Math.min(pause * 2, MAX_PAUSE_MS)
    }
  }

  private async pause (key: string, ms: number): Promise<void> {
    const waiting = this.waiting.get(key) ?? new Set()
    this.waiting.set(key, waiting)
    await new Promise<void>(resolve => {
      const wake = (): void => {
        clearTimeout(timer)
        waiting.delete(wake)
        if (waiting.size === 0 && this.waiting.get(key) === waiting) this.waiting.delete(key)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      waiting.add(wake)
    })
  }

  /** One store operation within STORE_TIMEOUT_MS; any failure is a 503 and one log line with no secret in it. */
  private async bounded<T> (operation: string, log: FastifyBaseLogger, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { store } = this.options
    const failure = operation === 'release'
      ? 'fastify-authsignal-cognito: the lock store failed to release a lock; it ends with its lease'
      : 'fastify-authsignal-cognito: the lock store failed; nothing was removed'
    return await storeCall(store, operation, log, failure, fn).catch(() => {
      throw retryLater(new LockUnavailableError(`the ${store.kind} store failed`))
    })
  }
}
