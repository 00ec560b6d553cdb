// Two app instances sharing a store (a real Redis, a real DynamoDB API), as a fleet behind a load balancer:
// the same event delivered to both at once, and delivered again as Authsignal retries, is acted on once.
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { dynamoDbLock, redisLock, type AuthenticatorChangeEvent, type LockStore } from '../index.js'
import { LOCK_TABLE, startDynamo } from './fixtures/dynamodb.js'
import { startRedis } from './fixtures/redis-server.js'
import { deliver, eventBody, listen } from './fixtures/webhooks.js'
import { buildApp, emulatorFor, emulatorOptions, issuerFor } from './helpers.js'

const issuer = await issuerFor(t)
const emu = await emulatorFor(t)
const redisServer = await startRedis(t)
const dynamo = await startDynamo(t)
const EVENTS = 20

async function instance (t: Test, store: LockStore, changes: AuthenticatorChangeEvent[]): Promise<string> {
  const app = await buildApp(t, issuer, {
    authsignal: emulatorOptions(emu),
    routes: { webhook: { store } },
    onAuthenticatorChange: async (change) => {
      changes.push(change)
      // Some work, so that deliveries overlap.
      await new Promise(resolve => setImmediate(resolve))
    }
  })
  return await listen(app)
}

/** Delivers until a 2xx, as Authsignal retries a non-2xx; returns the answers' bodies. */
async function untilAcknowledged (url: string, body: string): Promise<Array<Record<string, unknown>>> {
  const answers: Array<Record<string, unknown>> = []
  for (;;) {
    const res = await deliver(url, body)
    answers.push(res.json)
    if (res.status < 300) return answers
  }
}

const stores: Array<[string, () => LockStore]> = [
  ['redis', () => {
    const client = new Redis(redisServer.url)
    t.teardown(() => client.disconnect())
    return redisLock({ client })
  }],
  ['dynamodb', () => dynamoDbLock({ client: dynamo.client(), tableName: LOCK_TABLE })]
]

for (const [kind, makeStore] of stores) {
  t.test(`${kind}: ${EVENTS} events, each delivered to two instances at once and retried until acknowledged, are each acted on once`, async t => {
    const changes: AuthenticatorChangeEvent[] = []
    const [a, b] = [await instance(t, makeStore(), changes), await instance(t, makeStore(), changes)] as [string, string]
    const ids = Array.from({ length: EVENTS }, () => randomUUID())
    const outcomes = await Promise.all(ids.map(async (id) => {
      const body = eventBody('authenticator.created', { userId: 'u', verificationMethod: 'SMS', userAuthenticatorId: id }, id)
      return (await Promise.all([untilAcknowledged(a, body), untilAcknowledged(b, body)])).flat()
    }))
    t.same(changes.map(c => c.eventId).sort(), [...ids].sort(), 'each event acted on exactly once')
    const acted = outcomes.flat().filter(o => o.received === true && o.duplicate === undefined).length
    const duplicates = outcomes.flat().filter(o => o.duplicate === true).length
    const inProgress = outcomes.flat().filter(o => o.code === 'FST_AUTHSIGNAL_WEBHOOK_IN_PROGRESS').length
    t.equal(acted, EVENTS)
    t.equal(duplicates, EVENTS, 'the other instance acknowledged each as a duplicate')
    t.comment(`${inProgress} deliveries met the event in progress on the other instance (409, delivered again)`)
    // A late redelivery, to either instance.
    const late = eventBody('authenticator.created', { userId: 'u', verificationMethod: 'SMS', userAuthenticatorId: 'x' }, ids[0])
    t.same((await deliver(b, late)).json, { received: true, duplicate: true })
    t.equal(changes.length, EVENTS)
  })
}

t.test('redis: an event acted on is remembered for the dedupe window (its key\'s expiry), its claim freed', async t => {
  const client = new Redis(redisServer.url)
  t.teardown(() => client.disconnect())
  const url = await instance(t, redisLock({ client, prefix: 'fleet:' }), [])
  const id = randomUUID()
  await deliver(url, eventBody('authenticator.deleted', { userId: 'u', verificationMethod: 'SMS', userAuthenticatorId: 'a' }, id))
  const ttl = await client.pttl(`fleet:webhook:done:${id}`)
  t.ok(ttl > 86_400_000 - 60_000 && ttl <= 86_400_000, `remembered for a day (${ttl} ms left)`)
  t.equal(await client.exists(`fleet:webhook:claim:${id}`), 0, 'the claim is freed')
})
