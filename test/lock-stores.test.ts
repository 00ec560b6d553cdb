// The lock stores behind the last-authenticator guard, each against a real server (Redis: Debian's
// redis-server; DynamoDB: dynalite): the same contract for all three, and their bad configurations.
import { Redis } from 'ioredis'
import t from 'tap'
import { dynamoDbLock, memoryLock, redisLock, type LockStore } from '../index.js'
import { LOCK_TABLE, startDynamo } from './fixtures/dynamodb.js'
import { startRedis } from './fixtures/redis-server.js'
import { SWEEP_EVERY } from '../lib/stores/memory-lock.js'

const redisServer = await startRedis(t)
const redis = new Redis(redisServer.url)
t.teardown(() => redis.disconnect())
const dynamo = await startDynamo(t)

const stores: Array<[string, LockStore]> = [
  ['memory', memoryLock()],
  ['redis', redisLock({ client: redis })],
  ['dynamodb', dynamoDbLock({ client: dynamo.client(), tableName: LOCK_TABLE })]
]
const signal = new AbortController().signal

for (const [kind, store] of stores) {
  t.test(`${kind}: one holder at a time; only the holder's token frees the lock`, async t => {
    const key = `user-${kind}-1`
    t.equal(store.kind, kind)
    t.equal(await store.acquire(key, 'token-a', 10_000, signal), true, 'a free lock is taken')
    t.equal(await store.acquire(key, 'token-b', 10_000, signal), false, 'a held lock is not taken by another')
    t.equal(await store.acquire(key, 'token-a', 10_000, signal), false, 'nor again by its holder')
    await store.release(key, 'token-b', signal)
    t.equal(await store.acquire(key, 'token-c', 10_000, signal), false, 'another token does not free it')
    await store.release(key, 'token-a', signal)
    t.equal(await store.acquire(key, 'token-c', 10_000, signal), true, 'its holder\'s token does')
    t.equal(await store.acquire(`user-${kind}-2`, 'token-d', 10_000, signal), true, 'another user\'s lock is another lock')
    await store.release(key, 'token-c', signal)
    await store.release(key, 'token-c', signal)
    t.pass('releasing a free lock is harmless')
  })

  t.test(`${kind}: a lock whose holder never released it is free once its lease has run out`, async t => {
    const key = `user-${kind}-lease`
    const leaseMs = 300
    const taken = Date.now()
    t.equal(await store.acquire(key, 'gone', leaseMs, signal), true)
    t.equal(await store.acquire(key, 'next', leaseMs, signal), false, 'held within the lease')
    // Wait on the condition (the lock taken by the next holder), and check it did not come early.
    while (!await store.acquire(key, 'next', leaseMs, signal)) await new Promise(resolve => setTimeout(resolve, 20))
    t.ok(Date.now() - taken >= leaseMs, `free after ${Date.now() - taken} ms, not before the ${leaseMs} ms lease`)
    await store.release(key, 'gone', signal)
    t.equal(await store.acquire(key, 'third', leaseMs, signal), false, 'the old holder\'s late release does not free the new holder\'s lock')
  })

  t.test(`${kind}: extend gives the holder's key a new lease, and only while it holds it`, async t => {
    const key = `user-${kind}-extend`
    const extend = store.extend?.bind(store) as NonNullable<LockStore['extend']>
    t.equal(await extend(key, 'nobody', 10_000, signal), false, 'a key no one holds is not extended (nor created)')
    t.equal(await store.acquire(key, 'nobody', 10_000, signal), true, 'and is still free')
    await store.release(key, 'nobody', signal)

    const shortMs = 300
    t.equal(await store.acquire(key, 'holder', shortMs, signal), true)
    t.equal(await extend(key, 'other', 60_000, signal), false, 'another token does not extend it')
    const extendedAt = Date.now()
    t.equal(await extend(key, 'holder', 60_000, signal), true, 'its holder does')
    // Wait on the short lease's end having passed, then see the key still held.
    while (Date.now() - extendedAt < shortMs * 2) await new Promise(resolve => setTimeout(resolve, 50))
    t.equal(await store.acquire(key, 'next', shortMs, signal), false, 'held past the first lease')
    t.equal(await extend(key, 'holder', shortMs, signal), true, 'a lease may also be shortened')
    while (!await store.acquire(key, 'next', 60_000, signal)) await new Promise(resolve => setTimeout(resolve, 20))
    t.equal(await extend(key, 'holder', 60_000, signal), false, 'a run-out lease taken by another is not extended by its old holder')
    await store.release(key, 'next', signal)

    t.equal(await store.acquire(key, 'late', shortMs, signal), true)
    const taken = Date.now()
    while (Date.now() - taken <= shortMs + 50) await new Promise(resolve => setTimeout(resolve, 20))
    t.equal(await extend(key, 'late', 60_000, signal), false, 'a run-out lease is not brought back, even by its holder')
  })
}

t.test('a lease given to a store factory is kept (and checked at registration)', async t => {
  t.equal(redisLock({ client: redis, leaseMs: 20_000 }).leaseMs, 20_000)
  t.equal(dynamoDbLock({ client: dynamo.client(), tableName: LOCK_TABLE, leaseMs: 30_000 }).leaseMs, 30_000)
  t.equal(redisLock({ client: redis }).leaseMs, undefined, 'none given: derived at registration')
})

t.test('memoryLock sweeps run-out leases as it goes, and keeps the held ones', async t => {
  const store = memoryLock()
  t.equal(await store.acquire('kept', 'a', 60_000, signal), true)
  t.equal(await store.acquire('gone', 'b', 1, signal), true)
  const taken = Date.now()
  while (Date.now() - taken < 5) await new Promise(resolve => setTimeout(resolve, 5))
  for (let i = 0; i < SWEEP_EVERY; i++) await store.acquire(`filler-${i}`, 'c', 60_000, signal)
  t.equal(await store.acquire('kept', 'd', 60_000, signal), false, 'a held key survives the sweep')
  t.equal(await store.extend?.('gone', 'b', 60_000, signal), false, 'a swept key is gone')
  t.equal(await store.acquire('gone', 'e', 60_000, signal), true)
})

t.test('redisLock keeps its keys under its prefix', async t => {
  const store = redisLock({ client: redis, prefix: 'my-app:locks:' })
  await store.acquire('user-1', 'token', 10_000, signal)
  t.equal(await redis.get('my-app:locks:user-1'), 'token')
  t.ok(await redis.pttl('my-app:locks:user-1') > 9000, 'with the lease as its expiry')
  t.equal(await store.extend?.('user-1', 'token', 50_000, signal), true)
  t.ok(await redis.pttl('my-app:locks:user-1') > 49_000, 'extend moves the expiry')
  await store.release('user-1', 'token', signal)
  t.equal(await redis.exists('my-app:locks:user-1'), 0)
})

t.test('bad store configurations fail with the option named', async t => {
  const rows: Array<[string, () => unknown, RegExp]> = [
    ['redisLock without a client', () => redisLock({} as never), /redisLock\(\{ client \}\): expected an ioredis client/],
    ['redisLock with something else', () => redisLock({ client: { get: () => {} } } as never), /redisLock\(\{ client \}\)/],
    ['redisLock with a bad prefix', () => redisLock({ client: redis, prefix: 3 as never }), /redisLock\(\{ prefix \}\): expected a string/],
    ['redisLock with a zero lease', () => redisLock({ client: redis, leaseMs: 0 }), /redisLock\(\{ leaseMs \}\): expected a positive integer/],
    ['redisLock with a fractional lease', () => redisLock({ client: redis, leaseMs: 1.5 }), /redisLock\(\{ leaseMs \}\)/],
    ['dynamoDbLock without a client', () => dynamoDbLock({ tableName: 'x' } as never), /dynamoDbLock\(\{ client \}\): expected a DynamoDBClient/],
    ['dynamoDbLock with an empty table name', () => dynamoDbLock({ client: dynamo.client(), tableName: ' ' }), /dynamoDbLock\(\{ tableName \}\): expected a non-empty table name/],
    ['dynamoDbLock with a negative lease', () => dynamoDbLock({ client: dynamo.client(), tableName: LOCK_TABLE, leaseMs: -5 }), /dynamoDbLock\(\{ leaseMs \}\)/]
  ]
  for (const [name, make, message] of rows) t.throws(make, { code: 'FST_AUTHSIGNAL_COGNITO_INVALID_OPTION', message }, name)
})
