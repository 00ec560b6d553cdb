// The headline promise across a fleet: two (or three) instances sharing one lock store and one Authsignal
// emulator; a user's authenticators removed at the same moment through different instances; every trial
// ends with exactly one authenticator left and one delete call per removal. A control shows the race is
// real: with each instance's own in-process lock, the same trials remove both.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { dynamoDbLock, memoryLock, redisLock, type LockStore } from '../index.js'
import type { AuthsignalEmulator } from '../lib/testing/authsignal-emulator.js'
import type { CognitoIssuer } from '../lib/testing/cognito-issuer.js'
import { runTsx } from './fixtures/children.js'
import { LOCK_TABLE, startDynamo } from './fixtures/dynamodb.js'
import type { InstanceConfig } from './fixtures/lock-instance.js'
import { startRedis } from './fixtures/redis-server.js'
import { bearer, buildApp, cognitoOptions, emulatorFor, emulatorOptions, issuerFor, tokenOnly } from './helpers.js'

const TRIALS = 50
const sms = { verificationMethod: 'SMS', phoneNumber: '+6421555123' }
const email = { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' }
const totp = { verificationMethod: 'AUTHENTICATOR_APP' }

const issuer = await issuerFor(t)
const emu = await emulatorFor(t)
// Every ownership list takes 15 ms: both removals of a trial list before either deletes, unless a lock orders them.
emu.setFault({ kind: 'latency', ms: 15 }, { path: /\/authenticators$/ })
const redisServer = await startRedis(t)
const dynamo = await startDynamo(t)

type Remove = (userAuthenticatorId: string, token: string) => Promise<number>

async function instance (t: Test, lock: LockStore): Promise<Remove> {
  const app: FastifyInstance = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { remove: { ...tokenOnly, lock } } })
  return async (id, token) => (await app.inject({ method: 'DELETE', url: `/authenticators/${id}`, headers: bearer(token) })).statusCode
}

function redisClient (t: Test): Redis {
  const client = new Redis(redisServer.url)
  t.teardown(() => client.disconnect())
  return client
}

interface Outcome { statuses: number[], deleteCalls: number, left: number }

/** One trial: a fresh user with one authenticator per instance, each removed through its own instance at once. */
async function trial (removes: Remove[]): Promise<Outcome> {
  const user = randomUUID()
  const seeded = [sms, email, totp].slice(0, removes.length).map(a => emu.seedAuthenticator(user, a))
  const token = issuer.mint({ sub: user })
  const from = emu.requests.length
  const statuses = await Promise.all(removes.map(async (remove, i) => await remove((seeded[i] as { userAuthenticatorId: string }).userAuthenticatorId, token)))
  const deleteCalls = emu.requests.slice(from).filter(r => r.method === 'DELETE').length
  return { statuses: statuses.sort(), deleteCalls, left: emu.authenticators(user).length }
}

async function trials (t: Test, removes: Remove[], expected: number[]): Promise<void> {
  const outcomes: Outcome[] = []
  for (let i = 0; i < TRIALS; i++) outcomes.push(await trial(removes))
  const wrong = outcomes.filter(o => o.statuses.join() !== expected.join() || o.deleteCalls !== expected.filter(s => s === 204).length || o.left !== 1)
  t.same(wrong, [], `all ${TRIALS} trials: statuses ${expected.join(', ')}, one delete call per 204, one authenticator left`)
}

t.test('control: with each instance\'s own in-process lock, two instances remove both of a user\'s two authenticators', async t => {
  const removes = [await instance(t, memoryLock()), await instance(t, memoryLock())]
  const outcomes: Outcome[] = []
  for (let i = 0; i < 5; i++) outcomes.push(await trial(removes))
  t.ok(outcomes.some(o => o.left === 0 && o.deleteCalls === 2), 'the race is real: the user was left with nothing')
})

t.test('redisLock: two instances, two authenticators: one 204 and one 409 in every trial', async t => {
  await trials(t, [await instance(t, redisLock({ client: redisClient(t) })), await instance(t, redisLock({ client: redisClient(t) }))], [204, 409])
})

t.test('redisLock: three instances, three authenticators: exactly two removed in every trial', async t => {
  const removes = [await instance(t, redisLock({ client: redisClient(t) })), await instance(t, redisLock({ client: redisClient(t) })), await instance(t, redisLock({ client: redisClient(t) }))]
  await trials(t, removes, [204, 204, 409])
})

t.test('dynamoDbLock: two instances, two authenticators: one 204 and one 409 in every trial', async t => {
  const lock = (): LockStore => dynamoDbLock({ client: dynamo.client(), tableName: LOCK_TABLE })
  await trials(t, [await instance(t, lock()), await instance(t, lock())], [204, 409])
})

t.test('dynamoDbLock: three instances, three authenticators: exactly two removed in every trial', async t => {
  const lock = (): LockStore => dynamoDbLock({ client: dynamo.client(), tableName: LOCK_TABLE })
  await trials(t, [await instance(t, lock()), await instance(t, lock()), await instance(t, lock())], [204, 204, 409])
})

async function processInstance (t: Test, store: InstanceConfig['store']): Promise<Remove> {
  const config: InstanceConfig = { cognito: cognitoOptions(issuer as CognitoIssuer), authsignal: { ...emulatorOptions(emu as AuthsignalEmulator), timeoutMs: 2000 } as InstanceConfig['authsignal'], store }
  const child = runTsx('./lock-instance.ts', [JSON.stringify(config)])
  t.teardown(async () => { child.process.kill(); await child.closed })
  const port = Number((await child.line(/^listening (\d+)$/))[1])
  return async (id, token) => (await fetch(`http://127.0.0.1:${port}/authenticators/${id}`, { method: 'DELETE', headers: bearer(token) })).status
}

t.test('two instances in two processes over HTTP, sharing Redis: one 204 and one 409 in every trial', async t => {
  const store = { kind: 'redis', url: redisServer.url } as const
  const [a, b] = await Promise.all([processInstance(t, store), processInstance(t, store)])
  await trials(t, [a, b], [204, 409])
})

t.test('two instances in two processes over HTTP, sharing DynamoDB: one 204 and one 409 in every trial', async t => {
  const store = { kind: 'dynamodb', endpoint: dynamo.endpoint, tableName: LOCK_TABLE } as const
  const [a, b] = await Promise.all([processInstance(t, store), processInstance(t, store)])
  await trials(t, [a, b], [204, 409])
})
