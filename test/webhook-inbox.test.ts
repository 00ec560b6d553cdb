// The webhook inbox (lib/events/inbox.ts) on a lock store with a clock the test moves: what a redelivery
// finds after a holder crashed between acting and remembering, at every moment until the leases run out.
import Fastify from 'fastify'
import t from 'tap'
import { EventInbox, type InboxOutcome } from '../lib/events/inbox.js'
import { memoryLockOn } from '../lib/stores/memory-lock.js'

const log = Fastify().log

t.test('a redelivery after a holder crashed mid-work is never taken for a duplicate: 409 until the leases end, then acted on', async t => {
  // The store's time moves only when the test says, and by `latency` more at each read of it (a slow answer).
  let now = 0
  let latency = 50
  const inbox = new EventInbox(memoryLockOn(() => (now += latency)), 100, 60_000)
  // The first holder: its store answers are slow, and it dies while acting (claim and done taken): nothing is released.
  let crash = (): void => {}
  const crashed = new Promise<void>(resolve => { crash = resolve })
  inbox.handle('evt_1', log, async () => { crash(); await new Promise<void>(() => {}) }).catch(() => {})
  await crashed
  latency = 0

  let acted = 0
  const outcomes: Array<InboxOutcome | string> = []
  // Authsignal's redeliveries, every 10 ms of the store's time, until one is acted on.
  while (acted === 0 && outcomes.length < 1000) {
    now += 10
    outcomes.push(await inbox.handle('evt_1', log, async () => { acted += 1 }).catch((err: { code: string }) => err.code))
  }

  t.notOk(outcomes.includes('duplicate'), 'no redelivery was dropped as a duplicate')
  t.equal(outcomes.at(-1), 'acted', 'a redelivery was acted on')
  t.equal(acted, 1)
  t.ok(outcomes.slice(0, -1).every(o => o === 'FST_AUTHSIGNAL_WEBHOOK_IN_PROGRESS'), 'every earlier one was told to come again (409)')
})
