// The small store interface behind the last-authenticator guard, in the spirit of @fastify/rate-limit's
// stores: the plugin's logic never knows which one it has. One lock per user, held by a random token,
// for a bounded lease: `memoryLock()` (one process), `redisLock(…)` and `dynamoDbLock(…)` (a fleet).
import type { FastifyBaseLogger } from 'fastify'
import { withTimeout } from '../deadline.js'
import { InvalidOptionError, reasonOf } from '../errors.js'

export interface LockStore {
  /** Names the store in log lines and errors: 'memory', 'redis', 'dynamodb', or a host's own. */
  readonly kind: string
  /** The lease the host configured, if any; checked at registration against the work it guards. */
  readonly leaseMs?: number | undefined
  /**
   * Takes `key` for `leaseMs`, holding `token`, if no one holds it (or its holder's lease has run out).
   * Resolves true when taken, false when someone else holds it; rejects when the store cannot say.
   */
  acquire (key: string, token: string, leaseMs: number, signal: AbortSignal): Promise<boolean>
  /** Frees `key` if `token` still holds it; never someone else's lock. */
  release (key: string, token: string, signal: AbortSignal): Promise<void>
  /**
   * Gives `key` a new lease of `leaseMs` from now if `token` still holds it (and its lease has not run out).
   * Resolves true when extended, false when `token` no longer holds it. Optional: the removal lock does not
   * use it; the webhook route's record of events acted on does (it is refused at registration without it).
   */
  extend? (key: string, token: string, leaseMs: number, signal: AbortSignal): Promise<boolean>
}

/**
 * A margin on top of the upstream calls' deadlines: the holder's own work between the calls (a few ms),
 * a store round trip, and clock differences between instances (DynamoDB leases are judged on their clocks).
 */
export const LEASE_MARGIN_MS = 2000

/** Upstream calls made while the lock is held: the ownership list, then the delete. */
export const CALLS_UNDER_LOCK = 2

/** The shortest lease that outlives the work it guards (lib/stores/user-lock.ts says why it always does). */
export function leaseFor (timeoutMs: number): number {
  return CALLS_UNDER_LOCK * timeoutMs + LEASE_MARGIN_MS
}

export function isLockStore (value: unknown): value is LockStore {
  const store = value as Partial<LockStore> | null
  return typeof store === 'object' && store !== null && typeof store.kind === 'string' &&
    typeof store.acquire === 'function' && typeof store.release === 'function'
}

/** A lease given to a store factory: a positive integer, in ms (checked against the work it guards at registration). */
export function checkLease (leaseMs: unknown, factory: string): number | undefined {
  if (leaseMs === undefined) return undefined
  if (typeof leaseMs !== 'number' || !Number.isInteger(leaseMs) || leaseMs <= 0) {
    throw new InvalidOptionError(`${factory}({ leaseMs })`, 'expected a positive integer (ms)')
  }
  return leaseMs
}

/** Bound on one store operation: a store that does not answer is a store we cannot use (fail closed). */
export const STORE_TIMEOUT_MS = 1000

/**
 * One store operation within STORE_TIMEOUT_MS (its signal aborted then), for the removal lock and the webhook
 * inbox alike: a failure is one log line (the store's kind, the operation and the reason, never the client's
 * error, which may carry its password) and is rethrown for the caller to turn into its own 503.
 */
export async function storeCall<T> (store: LockStore, operation: string, log: FastifyBaseLogger, failure: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return await withTimeout(STORE_TIMEOUT_MS, fn, () => new Error(`no answer within ${STORE_TIMEOUT_MS} ms`)).catch((err: unknown) => {
    log.error({ lockStore: store.kind, operation, reason: reasonOf(err) }, failure)
    throw err
  })
}

/**
 * After an acquire we gave up on (failed or out of time): it may still reach the store later (ioredis queues
 * commands while it is disconnected) and take the key for a whole lease; a release sent after it undoes that.
 * Not awaited: the caller has already given up, and the release's own bound is the lease.
 */
export function releaseLateAcquire (store: LockStore, key: string, token: string, leaseMs: number): void {
  store.release(key, token, AbortSignal.timeout(leaseMs)).catch(() => {})
}
