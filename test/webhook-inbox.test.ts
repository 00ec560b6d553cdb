// The webhook inbox (lib/events/inbox.ts) on a lock store with a clock the test moves: what a redelivery
// finds after a holder crashed between acting and remembering, at every moment until the leases run out.
import Fastify from 'fastify'
import t from 'tap'
import { EventInbox, type InboxOutcome } from '../lib/events/inbox.js'
import type { LockStore } from '../lib/stores/lock-store.js'

/** A store whose time only moves when the test says, and whose answers take `latencyMs` of that time. */
function clockedStore (): { store: LockStore, held: Map<string, { token: string, until: number }>, advance: (ms: number) => void, latencyMs: { value: number } } {
  let now = 0
  const latencyMs = { value: 0 }
  const held = new Map<string, { token: string, until: number }>()
  const store: LockStore = {
    kind: 'clocked',
    async acquire (key, token, leaseMs) {
      now += latencyMs.value
      const current = held.get(key)
      if (current !== undefined && current.until > now) return false
      held.set(key, { token, until: now + leaseMs })
      return true
    },
    async release (key, token) {
      if (held.get(key)?.token === token) held.delete(key)
    },
    async extend (key, token, leaseMs) {
      const current = held.get(key)
      if (current?.token !== token || current.until <= now) return false
      current.until = now + leaseMs
      return true
    }
  }
  return { store, held, advance: ms => { now += ms }, latencyMs }
}

const log = Fastify().log

t.test('a redelivery after a holder crashed mid-work is never taken for a duplicate: 409 until the leases end, then acted on', async t => {
  const { store, held, advance, latencyMs } = clockedStore()
  const inbox = new EventInbox(store, 100, 60_000)
  // The first holder: its store answers are slow (50 ms each), and it dies while acting: nothing is released.
  latencyMs.value = 50
  inbox.handle('evt_1', log, async () => await new Promise<void>(() => {})).catch(() => {})
  while (held.size < 2) await new Promise(resolve => setImmediate(resolve))
  latencyMs.value = 0

  let acted = 0
  const outcomes: Array<InboxOutcome | string> = []
  // Authsignal's redeliveries, every 10 ms of the store's time, until one is acted on.
  while (acted === 0 && outcomes.length < 1000) {
    advance(10)
    outcomes.push(await inbox.handle('evt_1', log, async () => { acted += 1 }).catch((err: { code: string }) => err.code))
  }

  t.notOk(outcomes.includes('duplicate'), 'no redelivery was dropped as a duplicate')
  t.equal(outcomes.at(-1), 'acted', 'a redelivery was acted on')
  t.equal(acted, 1)
  t.ok(outcomes.slice(0, -1).every(o => o === 'FST_AUTHSIGNAL_WEBHOOK_IN_PROGRESS'), 'every earlier one was told to come again (409)')
})
