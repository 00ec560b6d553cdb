// The shared lock failing: a store that stops, refuses our password, is slow or stalls, and a holder that
// crashes. The guarantee is fail-closed: a 503 with its own code and Retry-After, nothing deleted, one log
// line with no secret in it; and the store coming back works again without restarting the app.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { dynamoDbLock, redisLock, type LockStore } from '../index.js'
import { STORE_TIMEOUT_MS } from '../lib/stores/user-lock.js'
import { runTsx } from './fixtures/children.js'
import { LOCK_TABLE, startDynamo } from './fixtures/dynamodb.js'
import type { InstanceConfig } from './fixtures/lock-instance.js'
import { startRedis } from './fixtures/redis-server.js'
import { bearer, buildApp, cognitoOptions, emulatorFor, emulatorOptions, issuerFor, tokenOnly } from './helpers.js'

// Answers within the store's bound plus what a busy machine adds; a hang would hit tap's own timeout.
const BOUND_MS = STORE_TIMEOUT_MS + 2000
const TIMEOUT_MS = 2000

const issuer = await issuerFor(t)
const emu = await emulatorFor(t)

interface Setup { app: FastifyInstance, lines: string[], user: string, ids: string[], token: string }

async function setup (t: Test, lock: LockStore, lockWaitMs?: number, timeoutMs = TIMEOUT_MS): Promise<Setup> {
  const lines: string[] = []
  const app = await buildApp(t, issuer, {
    authsignal: emulatorOptions(emu, { timeoutMs }),
    routes: { remove: { ...tokenOnly, lock, ...(lockWaitMs !== undefined && { lockWaitMs }) } },
    logStream: { write: (line: string) => { lines.push(line) } }
  })
  const user = randomUUID()
  const ids = [emu.seedAuthenticator(user, { verificationMethod: 'SMS' }), emu.seedAuthenticator(user, { verificationMethod: 'EMAIL_OTP' })].map(a => a.userAuthenticatorId)
  return { app, lines, user, ids, token: issuer.mint({ sub: user }) }
}

async function remove (s: Setup, id = s.ids[0] as string): Promise<{ status: number, code: string | undefined, retryAfter: unknown, ms: number }> {
  const started = performance.now()
  const res = await s.app.inject({ method: 'DELETE', url: `/authenticators/${id}`, headers: bearer(s.token) })
  return { status: res.statusCode, code: res.statusCode === 204 ? undefined : res.json().code, retryAfter: res.headers['retry-after'], ms: performance.now() - started }
}

/** Retries the removal until it is a 204 (the store is back), up to `withinMs`. */
async function removedOnceBack (s: Setup, withinMs: number): Promise<number> {
  const until = Date.now() + withinMs
  for (;;) {
    const res = await remove(s)
    if (res.status === 204 || Date.now() > until) return res.status
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

t.test('Redis stopped mid-run: 503 within the bound and nothing sent to Authsignal; started again, removals work without a restart', async t => {
  const redisServer = await startRedis(t)
  const client = new Redis(redisServer.url)
  client.on('error', () => {}) // ioredis reports each refused reconnect as an event: expected while Redis is stopped
  t.teardown(() => client.disconnect())
  const s = await setup(t, redisLock({ client }))
  await redisServer.stop()
  const from = emu.requests.length

  const res = await remove(s)
  t.equal(res.status, 503)
  t.equal(res.code, 'FST_AUTHSIGNAL_LOCK_UNAVAILABLE')
  t.equal(res.retryAfter, '1', 'the client may retry')
  t.ok(res.ms < BOUND_MS, `answered in ${Math.round(res.ms)} ms (bound ${BOUND_MS} ms)`)
  t.same(emu.requests.slice(from), [], 'nothing reached Authsignal: no list, no delete')
  t.equal(emu.authenticators(s.user).length, 2)
  t.ok(s.lines.some(line => /"lockStore":"redis".*the lock store failed; nothing was removed/.test(line)), 'one clear log line')

  await redisServer.start()
  // The acquire we gave up on was queued by ioredis and ran on reconnect; so did the release queued after it.
  await client.ping()
  t.equal(await client.exists(`fastify-authsignal-cognito:lock:remove:${s.user}`), 0, 'the late acquire did not leave the user locked for a lease')
  t.equal(await removedOnceBack(s, 10_000), 204, 'removals work again, without restarting the app')
  t.equal(emu.authenticators(s.user).length, 1)
})

t.test('Redis refusing our password: 503, nothing deleted, and the password in no log line', async t => {
  const password = 'the-right-redis-password'
  const wrong = 'a-wrong-redis-password-42'
  const redisServer = await startRedis(t, { password })
  const client = new Redis(redisServer.url, { password: wrong, maxRetriesPerRequest: 1 })
  client.on('error', () => {}) // ioredis reports the refused AUTH as an event too
  t.teardown(() => client.disconnect())
  const s = await setup(t, redisLock({ client }))

  const res = await remove(s)
  t.equal(res.status, 503)
  t.equal(res.code, 'FST_AUTHSIGNAL_LOCK_UNAVAILABLE')
  t.equal(emu.authenticators(s.user).length, 2)
  t.ok(s.lines.some(line => line.includes('"lockStore":"redis"')), 'logged')
  t.same(s.lines.filter(line => line.includes(wrong) || line.includes(password)), [], 'no password in the log')
})

t.test('DynamoDB unreachable: 503 within the bound, nothing sent to Authsignal; back again, removals work', async t => {
  const dynamo = await startDynamo(t)
  const s = await setup(t, dynamoDbLock({ client: dynamo.client(), tableName: LOCK_TABLE }))
  await dynamo.stop()
  const from = emu.requests.length

  const res = await remove(s)
  t.equal(res.status, 503)
  t.equal(res.code, 'FST_AUTHSIGNAL_LOCK_UNAVAILABLE')
  t.ok(res.ms < BOUND_MS, `answered in ${Math.round(res.ms)} ms (bound ${BOUND_MS} ms)`)
  t.same(emu.requests.slice(from), [], 'nothing reached Authsignal')
  t.same(s.lines.filter(line => line.includes('test-secret-key')), [], 'no AWS secret in the log')

  await dynamo.start()
  t.equal(await removedOnceBack(s, 10_000), 204)
})

t.test('a lock left by a crashed holder (killed inside its removal) is busy, then free once its lease has run out', async t => {
  const redisServer = await startRedis(t)
  const user = randomUUID()
  const [first, second] = [emu.seedAuthenticator(user, { verificationMethod: 'SMS' }), emu.seedAuthenticator(user, { verificationMethod: 'EMAIL_OTP' })]
  const token = issuer.mint({ sub: user })
  const config: InstanceConfig = { cognito: cognitoOptions(issuer), authsignal: { ...emulatorOptions(emu), timeoutMs: TIMEOUT_MS } as InstanceConfig['authsignal'], store: { kind: 'redis', url: redisServer.url } }
  const holder = runTsx('./lock-instance.ts', [JSON.stringify(config)])
  t.teardown(async () => { holder.process.kill('SIGKILL'); await holder.closed })
  const port = Number((await holder.line(/^listening (\d+)$/))[1])

  // The holder's delete never gets an answer: it is inside its removal, holding the user's lock, when it dies.
  emu.setFault({ kind: 'hang' }, { path: /\/authenticators\/[^/]+$/ })
  const from = emu.requests.length
  fetch(`http://127.0.0.1:${port}/authenticators/${first?.userAuthenticatorId}`, { method: 'DELETE', headers: bearer(token) }).catch(() => {})
  while (!emu.requests.slice(from).some(r => r.method === 'DELETE')) await new Promise(resolve => setTimeout(resolve, 10))
  holder.process.kill('SIGKILL')
  await holder.closed
  const killedAt = Date.now()
  emu.setFault(null)

  const client = new Redis(redisServer.url)
  t.teardown(() => client.disconnect())
  const s = { ...(await setup(t, redisLock({ client }), 100)), user, token }
  const busy = await remove(s, second?.userAuthenticatorId)
  t.equal(busy.status, 503, 'the dead holder\'s lock still holds')
  t.equal(busy.code, 'FST_AUTHSIGNAL_LOCK_BUSY')
  const lease = 2 * TIMEOUT_MS + 2000
  const status = await removedOnceBack({ ...s, ids: [second?.userAuthenticatorId as string] }, lease + 10_000)
  t.equal(status, 204, `free again ${Date.now() - killedAt} ms after the kill (lease ${lease} ms)`)
  t.equal(emu.authenticators(user).length, 1, 'and the guard still held: one left')
})

t.test('a removal that cannot get the lock within lockWaitMs is a 503 FST_AUTHSIGNAL_LOCK_BUSY, and nothing is deleted', async t => {
  const redisServer = await startRedis(t)
  const client = new Redis(redisServer.url)
  t.teardown(() => client.disconnect())
  const s = await setup(t, redisLock({ client }), 50)
  await client.set(`fastify-authsignal-cognito:lock:remove:${s.user}`, 'someone-else', 'PX', 60_000)
  const from = emu.requests.length
  const res = await remove(s)
  t.equal(res.status, 503)
  t.equal(res.code, 'FST_AUTHSIGNAL_LOCK_BUSY')
  t.equal(res.retryAfter, '1')
  t.same(emu.requests.slice(from), [], 'nothing reached Authsignal')
})

t.test('a holder stalled past its lease\'s margin gives up (503) instead of acting on a lock it may have lost', async t => {
  const stalling: LockStore = {
    kind: 'stalling',
    async acquire () {
      // A pause as long as a big GC or a starved container, between taking the lock and using it.
      const until = Date.now() + 2300
      while (Date.now() < until) { /* the event loop is stalled */ }
      return true
    },
    async release () {}
  }
  // timeoutMs 100: a lease of 2 × 100 + 1000 (the step-up's record) + 2000 ms, and each call needs 100 + 1000 ms of
  // it left; 2.3 s are gone.
  const s = await setup(t, stalling, undefined, 100)
  const from = emu.requests.length
  const res = await remove(s)
  t.equal(res.status, 503)
  t.equal(res.code, 'FST_AUTHSIGNAL_LOCK_UNAVAILABLE')
  t.same(emu.requests.slice(from), [], 'nothing reached Authsignal')
})

t.test('a host\'s own store: a rejection that is not an Error is a 503; a failed release is logged and the removal stands', async t => {
  const rejecting: LockStore = { kind: 'odd', acquire: async () => { throw 'not an Error' }, release: async () => {} } // eslint-disable-line no-throw-literal
  const odd = await setup(t, rejecting)
  const res = await remove(odd)
  t.equal(res.status, 503)
  t.equal(res.code, 'FST_AUTHSIGNAL_LOCK_UNAVAILABLE')
  t.ok(odd.lines.some(line => line.includes('"reason":"not an Error"')), 'what it rejected with is logged')

  const leaky: LockStore = { kind: 'leaky', acquire: async () => true, release: async () => { throw new Error('release refused') } }
  const s = await setup(t, leaky)
  t.equal((await remove(s)).status, 204, 'the removal is done: its answer stands')
  t.ok(s.lines.some(line => /"operation":"release".*failed to release a lock; it ends with its lease/.test(line)), 'the failed release is logged')
})
