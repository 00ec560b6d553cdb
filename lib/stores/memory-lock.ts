// The default lock store: a map in this process. Enough for one process; a fleet (several replicas, AWS
// Lambda) needs a shared store, `redisLock` or `dynamoDbLock`.
import type { LockStore } from './lock-store.js'

export function memoryLock (): LockStore {
  const held = new Map<string, { token: string, until: number }>()
  return {
    kind: 'memory',
    async acquire (key, token, leaseMs) {
      const now = Date.now()
      const current = held.get(key)
      if (current !== undefined && current.until > now) return false
      held.set(key, { token, until: now + leaseMs })
      return true
    },
    async release (key, token) {
      if (held.get(key)?.token === token) held.delete(key)
    }
  }
}
