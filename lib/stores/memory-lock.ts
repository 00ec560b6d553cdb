// The default lock store: a map in this process. Enough for one process; a fleet (several replicas, AWS
// Lambda) needs a shared store, `redisLock` or `dynamoDbLock`. Keys whose lease has run out are swept now and
// then, so a store that records many keys (the webhook route's event ids) does not keep them all forever.
import type { LockStore } from './lock-store.js'

/** One sweep of the run-out leases every this many acquires. */
export const SWEEP_EVERY = 256

export function memoryLock (): LockStore {
  return memoryLockOn(Date.now)
}

/** The same store on a clock of the caller's (a test moves it by hand to see leases run out). */
export function memoryLockOn (clock: () => number): LockStore {
  const held = new Map<string, { token: string, until: number }>()
  let acquires = 0
  const sweep = (now: number): void => {
    for (const [key, entry] of held) if (entry.until <= now) held.delete(key)
  }
  return {
    kind: 'memory',
    async acquire (key, token, leaseMs) {
      const now = clock()
      if (++acquires % SWEEP_EVERY === 0) sweep(now)
      const current = held.get(key)
      if (current !== undefined && current.until > now) return false
      held.set(key, { token, until: now + leaseMs })
      return true
    },
    async release (key, token) {
      if (held.get(key)?.token === token) held.delete(key)
    },
    async extend (key, token, leaseMs) {
      const now = clock()
      const current = held.get(key)
      if (current?.token !== token || current.until <= now) return false
      current.until = now + leaseMs
      return true
    }
  }
}
