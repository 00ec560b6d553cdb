// Rows 10o, in a fresh process: one lock's acquire + release, in µs (wall clock: the shared stores are a
// network round trip away), sequential, on each store as the plugin calls it.
import { closeStoreClients, lockStore } from './apps.js'
import { serveParent } from './ipc.js'
import type { LockKind } from './stores.js'

export interface LockOpsArgs { lock: LockKind, operations: number }
export interface LockOpsResult { us: number }

async function run ({ lock, operations }: LockOpsArgs): Promise<LockOpsResult> {
  const store = lockStore(lock)
  const signal = new AbortController().signal
  const pair = async (i: number): Promise<void> => {
    const key = `bench-user-${i % 100}`
    if (!await store.acquire(key, 'token', 10_000, signal)) throw new Error(`${lock.kind}: ${key} was held`)
    await store.release(key, 'token', signal)
  }
  for (let i = 0; i < 200; i++) await pair(i) // warm-up: connections, JIT
  const start = performance.now()
  for (let i = 0; i < operations; i++) await pair(i)
  return { us: (performance.now() - start) * 1000 / operations }
}

serveParent({}, { run: (args) => run(args as LockOpsArgs) }, async () => { closeStoreClients() })
