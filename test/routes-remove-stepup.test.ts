// The removal's step-up (lib/step-up.ts) over real HTTP: one removal per completed challenge (a replay is a 403
// and removes nothing, on one instance and across instances sharing Redis or DynamoDB, even racing), a challenge
// older than maxChallengeAgeSec is refused, and one completed with a factor enrolled after the sign-in does not
// vouch for removing an older one. The audit lines and onAuthenticatorChange say who, what and with which step-up.
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { dynamoDbLock, memoryLock, redisLock, type AuthenticatorChangeEvent, type LockStore } from '../index.js'
import { LOCK_TABLE, startDynamo } from './fixtures/dynamodb.js'
import { startRedis } from './fixtures/redis-server.js'
import { bearer, buildApp, emulatorFor, emulatorOptions, issuerFor, type AppOptions } from './helpers.js'

const issuer = await issuerFor(t)
const emu = await emulatorFor(t)

const ACTION = 'removeAuthenticator'
const sms = { verificationMethod: 'SMS', phoneNumber: '+6421555123' }
const email = { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' }
const totp = { verificationMethod: 'AUTHENTICATOR_APP' }
const HOUR_MS = 3_600_000

interface Answer { status: number, body: { code?: string, message?: string } }

interface Instance {
  app: FastifyInstance
  lines: string[]
  /** DELETE over HTTP with `token` (default: `user` signed in now) and a step-up token. */
  remove: (user: string, id: string, challenge: string | undefined, token?: string) => Promise<Answer>
}

async function instance (t: Test, options: AppOptions = {}): Promise<Instance> {
  const lines: string[] = []
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), logStream: { write: (line: string) => { lines.push(line) } }, ...options })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  return {
    app,
    lines,
    remove: async (user, id, challenge, token = issuer.mint({ sub: user })) => {
      const res = await fetch(`${base}/authenticators/${id}`, {
        method: 'DELETE',
        headers: { ...bearer(token), ...(challenge !== undefined && { 'x-authsignal-token': challenge }) }
      })
      const text = await res.text()
      return { status: res.status, body: text === '' ? {} : JSON.parse(text) }
    }
  }
}

/** A fresh user with an SMS, an email and an authenticator app; a challenge completed with the app. */
function enrolled (): { user: string, phone: string, mail: string, app: string, challenge: string } {
  const user = randomUUID()
  const [phone, mail, app] = [sms, email, totp].map(a => emu.seedAuthenticator(user, a).userAuthenticatorId) as [string, string, string]
  return { user, phone, mail, app, challenge: emu.completeChallenge(user, ACTION, undefined, app) }
}

const ids = (user: string): string[] => emu.authenticators(user).map(a => a.userAuthenticatorId)
const deletesFor = (user: string, from: number): number => emu.requests.slice(from).filter(r => r.method === 'DELETE' && r.path.includes(user)).length
const audits = (lines: string[], event: string): Array<Record<string, unknown>> => lines.map(l => JSON.parse(l) as Record<string, unknown>).filter(l => l.audit === event)

t.test('requireChallenge is on by default: a Cognito token alone removes nothing', async t => {
  const { remove } = await instance(t)
  const { user, phone } = enrolled()
  const res = await remove(user, phone, undefined)
  t.equal(res.status, 403)
  t.equal(res.body.code, 'FST_AUTHSIGNAL_CHALLENGE_REQUIRED')
  t.equal(ids(user).length, 3)
})

t.test('a step-up allows one removal: the same token again is 403 FST_AUTHSIGNAL_CHALLENGE_REQUIRED and removes nothing', async t => {
  const { remove } = await instance(t)
  const { user, phone, mail, app, challenge } = enrolled()

  t.equal((await remove(user, phone, challenge)).status, 204)
  const from = emu.requests.length
  const replay = await remove(user, mail, challenge)

  t.equal(replay.status, 403)
  t.equal(replay.body.code, 'FST_AUTHSIGNAL_CHALLENGE_REQUIRED')
  t.match(replay.body.message, /already allowed a removal: complete a new one/)
  t.same(ids(user), [mail, app], 'the email stays')
  t.equal(deletesFor(user, from), 0, 'no DELETE upstream')
  t.equal((await remove(user, mail, emu.completeChallenge(user, ACTION, undefined, app))).status, 204, 'a new challenge allows the next removal')
})

t.test('a refusal before the delete (404, 409, the factor being removed) leaves the step-up usable', async t => {
  const { remove } = await instance(t)
  const user = randomUUID()
  const phone = emu.seedAuthenticator(user, sms).userAuthenticatorId
  const challenge = emu.completeChallenge(user, ACTION, undefined, phone)

  t.equal((await remove(user, 'not-hers', challenge)).status, 404)
  t.equal((await remove(user, phone, challenge)).status, 409, 'her last one')
  const mail = emu.seedAuthenticator(user, email).userAuthenticatorId
  t.equal((await remove(user, phone, challenge)).status, 403, 'completed with the phone itself')
  t.equal((await remove(user, mail, challenge)).status, 204, 'still good for a removal it may allow')
  t.same(ids(user), [phone])
})

t.test('a removal whose delete failed upstream burns its step-up: the delete may have landed', async t => {
  const { remove } = await instance(t)
  const { user, phone, mail, challenge } = enrolled()
  emu.setFault({ kind: 'status', status: 500 }, { path: /\/authenticators\/[^/]+$/, times: 1 })

  t.equal((await remove(user, phone, challenge)).status, 502)
  const again = await remove(user, mail, challenge)
  t.equal(again.status, 403)
  t.match(again.body.message, /already allowed a removal/)
  t.equal(ids(user).length, 3)
})

t.test('replays racing on one instance: one removal, the others 403', async t => {
  const { remove } = await instance(t)
  const { user, phone, mail, app, challenge } = enrolled()
  const extra = emu.seedAuthenticator(user, totp).userAuthenticatorId

  const statuses = (await Promise.all([phone, mail, extra].map(async id => (await remove(user, id, challenge)).status))).sort()

  t.same(statuses, [204, 403, 403])
  t.equal(ids(user).length, 3, 'one of four removed')
  t.ok(ids(user).includes(app))
})

const TRIALS = 20

async function racingReplays (t: Test, stores: () => LockStore): Promise<void> {
  const [a, b] = [await instance(t, { routes: { remove: { lock: stores() } } }), await instance(t, { routes: { remove: { lock: stores() } } })]
  const wrong: unknown[] = []
  for (let i = 0; i < TRIALS; i++) {
    const { user, phone, mail, challenge } = enrolled()
    const from = emu.requests.length
    const statuses = (await Promise.all([a.remove(user, phone, challenge), b.remove(user, mail, challenge)])).map(r => r.status).sort()
    const outcome = { statuses, deletes: deletesFor(user, from), left: ids(user).length }
    if (statuses.join() !== '204,403' || outcome.deletes !== 1 || outcome.left !== 2) wrong.push(outcome)
  }
  t.same(wrong, [], `all ${TRIALS} trials: one 204 and one 403, one DELETE upstream, two authenticators left`)
}

t.test('two instances sharing Redis, one step-up sent to both at once: one removal in every trial', async t => {
  const redis = await startRedis(t)
  await racingReplays(t, () => {
    const client = new Redis(redis.url)
    t.teardown(() => client.disconnect())
    return redisLock({ client })
  })
})

t.test('two instances sharing DynamoDB, one step-up sent to both at once: one removal in every trial', async t => {
  const dynamo = await startDynamo(t)
  await racingReplays(t, () => dynamoDbLock({ client: dynamo.client(), tableName: LOCK_TABLE }))
})

t.test('a lock store that cannot record the step-up: 503 FST_AUTHSIGNAL_LOCK_UNAVAILABLE, nothing removed', async t => {
  const memory = memoryLock()
  const failing: LockStore = {
    kind: 'flaky',
    acquire: async (key, token, leaseMs, signal) => {
      if (key.startsWith('stepup:')) throw new Error('connection reset')
      return await memory.acquire(key, token, leaseMs, signal)
    },
    release: async (key, token, signal) => { await memory.release(key, token, signal) }
  }
  const { remove, lines } = await instance(t, { routes: { remove: { lock: failing } } })
  const { user, phone, challenge } = enrolled()

  const res = await remove(user, phone, challenge)

  t.equal(res.status, 503)
  t.equal(res.body.code, 'FST_AUTHSIGNAL_LOCK_UNAVAILABLE')
  t.equal(ids(user).length, 3)
  t.ok(lines.some(l => l.includes('"operation":"consume step-up"') && l.includes('connection reset')), 'the store\'s failure is logged')
})

t.test('maxChallengeAgeSec: a challenge completed longer ago is 403; a larger bound accepts it', async t => {
  const { user, phone, app } = enrolled()
  const aged = emu.completeChallenge(user, ACTION, undefined, app, new Date(Date.now() - 301_000).toISOString())

  const strict = await (await instance(t)).remove(user, phone, aged)
  t.equal(strict.status, 403)
  t.match(strict.body.message, /completed more than 300 s ago: complete a new one/)
  t.equal(ids(user).length, 3)

  t.equal((await (await instance(t, { routes: { remove: { maxChallengeAgeSec: 600 } } })).remove(user, phone, aged)).status, 204)
})

t.test('maxChallengeAgeSec is validated at registration', async t => {
  for (const bad of [0, 3601, 1.5, '300']) {
    await t.rejects(instance(t, { routes: { remove: { maxChallengeAgeSec: bad as number } } }), /routes\.remove\.maxChallengeAgeSec: expected an integer from 1 to 3600/)
  }
})

t.test('a factor enrolled after the sign-in cannot vouch for removing an older one', async t => {
  const { remove } = await instance(t)
  const user = randomUUID()
  const old = new Date(Date.now() - 48 * HOUR_MS).toISOString()
  const phone = emu.seedAuthenticator(user, { ...sms, createdAt: old }).userAuthenticatorId
  const mail = emu.seedAuthenticator(user, { ...email, createdAt: old }).userAuthenticatorId
  // A session signed in two hours ago; an authenticator app bound just now (a stolen session could have).
  const signedIn = issuer.mint({ sub: user, authTime: Math.floor((Date.now() - 2 * HOUR_MS) / 1000) })
  const app = emu.seedAuthenticator(user, totp).userAuthenticatorId

  const res = await remove(user, phone, emu.completeChallenge(user, ACTION, undefined, app), signedIn)
  t.equal(res.status, 403)
  t.match(res.body.message, /enrolled after this sign-in, newer than the one being removed/)
  const byMethod = await remove(user, phone, emu.completeChallenge(user, ACTION, 'AUTHENTICATOR_APP'), signedIn)
  t.equal(byMethod.status, 403, 'the same when Authsignal names only the method')
  t.equal((await remove(user, phone, emu.completeChallenge(user, ACTION, undefined, app), issuer.mint({ sub: user, claims: { auth_time: undefined } }))).status, 403,
    'no auth_time: the sign-in cannot be placed, the new factor does not vouch')
  t.equal(ids(user).length, 3)

  t.equal((await remove(user, phone, emu.completeChallenge(user, ACTION, undefined, mail), signedIn)).status, 204, 'an older factor vouches')
  t.equal((await remove(user, mail, emu.completeChallenge(user, ACTION, undefined, app))).status, 204, 'the new factor vouches after a fresh sign-in')
  t.same(ids(user), [app])
})

t.test('a factor enrolled after the sign-in still vouches for one newer than itself', async t => {
  const { remove } = await instance(t)
  const user = emu.seedAuthenticator(randomUUID(), { ...sms, createdAt: new Date(Date.now() - 48 * HOUR_MS).toISOString() }).userId
  const signedIn = issuer.mint({ sub: user, authTime: Math.floor((Date.now() - 2 * HOUR_MS) / 1000) })
  const app = emu.seedAuthenticator(user, { ...totp, createdAt: new Date(Date.now() - 1000).toISOString() }).userAuthenticatorId
  const newest = emu.seedAuthenticator(user, email).userAuthenticatorId

  t.equal((await remove(user, newest, emu.completeChallenge(user, ACTION, undefined, app), signedIn)).status, 204)
})

t.test('audit lines: step-up refused and accepted, removal done, with user, route, authenticator, method and request id; no address, phone or token', async t => {
  const { remove, lines } = await instance(t)
  const { user, phone, app, challenge } = enrolled()
  const token = issuer.mint({ sub: user })

  t.equal((await remove(user, app, challenge, token)).status, 403)
  t.equal((await remove(user, phone, challenge, token)).status, 204)

  const route = '/authenticators/:userAuthenticatorId'
  const [refused] = audits(lines, 'stepup.refused')
  t.match(refused, { level: 40, userId: user, route, userAuthenticatorId: app, verificationMethod: 'AUTHENTICATOR_APP', reason: /completed with the authenticator being removed/ })
  t.type(refused?.reqId, 'string')
  const [accepted] = audits(lines, 'stepup.accepted')
  t.match(accepted, { level: 30, userId: user, route, userAuthenticatorId: phone, verificationMethod: 'SMS', stepUpMethod: 'AUTHENTICATOR_APP' })
  const [removed] = audits(lines, 'authenticator.removed')
  t.match(removed, { level: 30, userId: user, route, userAuthenticatorId: phone, verificationMethod: 'SMS', stepUpMethod: 'AUTHENTICATOR_APP', reqId: accepted?.reqId })
  const logged = lines.join('')
  for (const secret of [sms.phoneNumber, email.email, challenge, token]) t.notOk(logged.includes(secret), 'nothing secret in the log')
})

t.test('removed with requireChallenge: false, the audit line says no step-up', async t => {
  const { remove, lines } = await instance(t, { routes: { remove: { requireChallenge: false } } })
  const { user, phone } = enrolled()
  t.equal((await remove(user, phone, undefined)).status, 204)
  const [removed] = audits(lines, 'authenticator.removed')
  t.match(removed, { userId: user, userAuthenticatorId: phone, verificationMethod: 'SMS' })
  t.notOk(removed !== undefined && 'stepUpMethod' in removed)
  t.same(audits(lines, 'stepup.accepted'), [])
})

t.test('onAuthenticatorChange gets the request\'s IP and the step-up\'s method', async t => {
  const changes: AuthenticatorChangeEvent[] = []
  const { remove } = await instance(t, { onAuthenticatorChange: (change) => { changes.push(change) } })
  const { user, phone, challenge } = enrolled()
  t.equal((await remove(user, phone, challenge)).status, 204)
  t.match(changes, [{ type: 'removed', userId: user, userAuthenticatorId: phone, source: 'route', ipAddress: '127.0.0.1', stepUpMethod: 'AUTHENTICATOR_APP' }])
})
