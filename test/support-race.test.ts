// A user's own removal racing a support agent's lost-phone reset, on two instances sharing one Redis lock store
// and one Authsignal emulator: in every trial the pair of answers adds up to what disappeared (the user's 204 and
// the agent's `removed` count each removal once, one delete call each), and with protectLast the user's own
// removal is a 204 only when it came before the reset took anything (else a 404 or a 409). A control shows the
// race is real: with each instance's own in-process lock, the answers over-count what was deleted.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { memoryLock, redisLock, type LockStore } from '../index.js'
import { startRedis } from './fixtures/redis-server.js'
import { bearer, buildApp, emulatorFor, emulatorOptions, issuerFor } from './helpers.js'

const TRIALS = 40
const AGENT = 'a9e00000-0000-4000-8000-000000000003'

const issuer = await issuerFor(t)
const emu = await emulatorFor(t)
// Every list takes 15 ms: both sides list before either deletes, unless the lock orders them.
emu.setFault({ kind: 'latency', ms: 15 }, { path: /\/authenticators$/ })
const redisServer = await startRedis(t)

async function instance (t: Test, lock: LockStore): Promise<FastifyInstance> {
  // The agent's own challenge is validated before the lock is taken: off here, so both sides reach the lock together.
  return await buildApp(t, issuer, {
    authsignal: emulatorOptions(emu),
    routes: { remove: { lock, requireChallenge: false, protectLast: true }, support: { requiredGroups: ['support'], requireChallenge: false } }
  })
}

function redisClient (t: Test): Redis {
  const client = new Redis(redisServer.url)
  t.teardown(() => client.disconnect())
  return client
}

interface Outcome { own: number, removed: number | undefined, reset: number, disappeared: number, left: number, deleteCalls: number }

/** Resolves once the emulator has received a request matching `line` since `from`. */
async function received (from: number, line: string): Promise<void> {
  while (!emu.requests.slice(from).some(r => `${r.method} ${r.path}` === line)) await new Promise(resolve => setImmediate(resolve))
}

/**
 * A fresh user with two factors; the user removes one of them (`target`) through one instance while an agent
 * resets them through the other: both sent at once, or the user's sent once the reset's first list has arrived.
 */
async function trial (user: FastifyInstance, agent: FastifyInstance, { target, resetFirst }: { target: 0 | 1, resetFirst: boolean }): Promise<Outcome> {
  const id = randomUUID()
  const seeded = [emu.seedAuthenticator(id, { verificationMethod: 'SMS', phoneNumber: '+6421555123' }), emu.seedAuthenticator(id, { verificationMethod: 'AUTHENTICATOR_APP' })]
  const from = emu.requests.length
  const resetting = agent.inject({ method: 'DELETE', url: `/authenticators/support/users/${id}/authenticators`, headers: bearer(issuer.mint({ sub: AGENT, groups: ['support'] })), payload: { reason: 'lost phone' } })
  if (resetFirst) await received(from, `GET /v1/users/${id}/authenticators`)
  const [own, reset] = await Promise.all([
    user.inject({ method: 'DELETE', url: `/authenticators/${seeded[target]?.userAuthenticatorId}`, headers: bearer(issuer.mint({ sub: id })) }),
    resetting
  ])
  const left = emu.authenticators(id).length
  return {
    own: own.statusCode,
    removed: reset.statusCode === 200 ? reset.json<{ removed: number }>().removed : undefined,
    reset: reset.statusCode,
    disappeared: 2 - left,
    left,
    deleteCalls: emu.requests.slice(from).filter(r => r.method === 'DELETE').length
  }
}

/** The pair of answers agrees with what was deleted, and protectLast held. */
function consistent (o: Outcome): boolean {
  const counted = (o.own === 204 ? 1 : 0) + (o.removed ?? 0)
  const ownFirst = o.own === 204 && o.removed === 1
  const resetFirst = (o.own === 404 || o.own === 409) && o.removed === 2
  return o.reset === 200 && counted === o.disappeared && o.deleteCalls === o.disappeared && o.left === 0 && (ownFirst || resetFirst)
}

t.test('control: with each instance\'s own in-process lock, the answers over-count what was deleted', async t => {
  const [user, agent] = [await instance(t, memoryLock()), await instance(t, memoryLock())]
  const outcomes: Outcome[] = []
  for (let i = 0; i < 10; i++) outcomes.push(await trial(user, agent, { target: 0, resetFirst: false }))
  t.ok(outcomes.some(o => !consistent(o)), 'the race is real: some trial\'s answers disagree with what was deleted')
})

t.test('redisLock, two instances: the user\'s removal and the agent\'s reset agree with what disappeared in every trial', async t => {
  const [user, agent] = [await instance(t, redisLock({ client: redisClient(t) })), await instance(t, redisLock({ client: redisClient(t) }))]
  const outcomes: Outcome[] = []
  for (let i = 0; i < TRIALS; i++) outcomes.push(await trial(user, agent, { target: (i % 2) as 0 | 1, resetFirst: i % 4 >= 2 }))
  t.same(outcomes.filter(o => !consistent(o)), [], `all ${TRIALS} trials: 204 + { removed: 1 }, or 404/409 + { removed: 2 }; one delete call per removal; nothing left`)
  const seen = [...new Set(outcomes.map(o => `${o.own} + ${o.removed ?? '-'}`))].sort()
  t.ok(seen.length >= 2, `both orders happened: ${seen.join(', ')}`)
})
