// POST /authenticators/webhook over real HTTP: a verified event is acted on once (onAuthenticatorChange is
// told), every bad delivery is refused with its own code and no side effect and nothing of it in the log,
// a redelivery is acknowledged and not acted on again, and the route lives beside the others untouched.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { Authsignal } from '@authsignal/node'
import type { AuthenticatorChangeEvent, LockStore } from '../index.js'
import { memoryLock } from '../index.js'
import { webhookSignature } from '../lib/authsignal/webhook-signature.js'
import { signWebhook } from '../lib/testing/authsignal-emulator.js'
import { deliver, eventBody, listen } from './fixtures/webhooks.js'
import { bearer, buildApp, emulatorFor, emulatorOptions, issuerFor, type AppOptions } from './helpers.js'

const issuer = await issuerFor(t)
const emu = await emulatorFor(t, { webhook: { retryDelaysMs: [20, 20, 20] } })
const SECRET = emu.secret

interface Setup { app: FastifyInstance, url: string, changes: AuthenticatorChangeEvent[], lines: string[] }

async function setup (t: Test, options: AppOptions = {}): Promise<Setup> {
  const changes: AuthenticatorChangeEvent[] = []
  const lines: string[] = []
  const app = await buildApp(t, issuer, {
    authsignal: emulatorOptions(emu),
    routes: { webhook: true },
    onAuthenticatorChange: (change) => { changes.push(change) },
    logStream: { write: (line: string) => { lines.push(line) } },
    ...options
  })
  return { app, url: await listen(app), changes, lines }
}

const created = (id?: string): string => eventBody('authenticator.created', {
  userId: 'user-1', verificationMethod: 'EMAIL_OTP', createdAt: '2026-01-02T03:04:05.000Z', userAuthenticatorId: 'auth-1', email: 'a@example.com'
}, id)

t.test('a verified authenticator.created is acted on: onAuthenticatorChange gets the change, Authsignal gets 200', async t => {
  const s = await setup(t)
  const body = created('event-1')
  const res = await deliver(s.url, body)
  t.equal(res.status, 200)
  t.same(res.json, { received: true })
  t.match(s.changes, [{
    type: 'added',
    userId: 'user-1',
    verificationMethod: 'EMAIL_OTP',
    userAuthenticatorId: 'auth-1',
    at: '2026-01-02T03:04:05.000Z',
    source: 'webhook',
    requestId: /^req-/,
    eventId: 'event-1'
  }])
  t.equal(s.changes.length, 1)
})

t.test('the emulator\'s own webhooks (enrol, verify, delete) arrive signed and are each acted on once', async t => {
  const s = await setup(t, { routes: { webhook: true, remove: { protectLast: false, requireChallenge: false } } })
  emu.webhooks.url = s.url
  t.teardown(() => { emu.webhooks.url = undefined })
  const user = randomUUID()
  const a = emu.seedAuthenticator(user, { verificationMethod: 'SMS', phoneNumber: '+14155550123' })
  const token = emu.completeChallenge(user, 'signIn', undefined, a.userAuthenticatorId)
  t.type(token, 'string')
  const removed = await s.app.inject({ method: 'DELETE', url: `/authenticators/${a.userAuthenticatorId}`, headers: bearer(issuer.mint({ sub: user })) })
  t.equal(removed.statusCode, 204)
  await emu.webhooks.idle()
  t.same(s.changes.filter(c => c.source === 'webhook').map(c => [c.type, c.userId, c.verificationMethod, c.userAuthenticatorId]), [
    ['added', user, 'SMS', a.userAuthenticatorId],
    ['updated', user, 'SMS', a.userAuthenticatorId],
    ['removed', user, 'SMS', a.userAuthenticatorId]
  ])
  t.same(s.changes.filter(c => c.source === 'route').map(c => c.type), ['removed'], 'the route reports its own removal too')
  const ours = emu.webhooks.deliveries.filter(d => d.body.includes(user))
  t.same(ours.map(d => [d.type, d.attempt, d.status]), [
    ['authenticator.created', 1, 200], ['authenticator.updated', 1, 200], ['authenticator.deleted', 1, 200]
  ])
})

t.test('bad deliveries: each refused with its own code, nothing acted on, nothing of the body or signature logged', async t => {
  const s = await setup(t)
  const body = created()
  const now = Math.floor(Date.now() / 1000)
  const valid = signWebhook(SECRET, body)
  const signature = valid.split('v2=')[1] as string
  const notJson = 'id=1&type=authenticator.created'
  const badUtf8 = Buffer.concat([Buffer.from(body.slice(0, -2)), Buffer.from([0xff, 0xfe]), Buffer.from('}}')])
  const rows: Array<[string, string | Buffer, string | null, number, string]> = [
    ['no signature header', body, null, 400, 'FST_AUTHSIGNAL_WEBHOOK_NO_SIGNATURE'],
    ['an empty signature header', body, '', 400, 'FST_AUTHSIGNAL_WEBHOOK_NO_SIGNATURE'],
    ['a header without t=', body, `v2=${signature}`, 400, 'FST_AUTHSIGNAL_WEBHOOK_MALFORMED_SIGNATURE'],
    ['a header without v2=', body, `t=${now}`, 400, 'FST_AUTHSIGNAL_WEBHOOK_MALFORMED_SIGNATURE'],
    ['a timestamp that is not a number', body, `t=soon,v2=${signature}`, 400, 'FST_AUTHSIGNAL_WEBHOOK_MALFORMED_SIGNATURE'],
    ['a v1 signature only', body, `t=${now},v1=${signature}`, 400, 'FST_AUTHSIGNAL_WEBHOOK_MALFORMED_SIGNATURE'],
    ['a signature made with another secret', body, signWebhook('another-secret', body), 403, 'FST_AUTHSIGNAL_WEBHOOK_BAD_SIGNATURE'],
    ['a body changed after signing', body.replace('a@example.com', 'evil@example.com'), valid, 403, 'FST_AUTHSIGNAL_WEBHOOK_BAD_SIGNATURE'],
    ['a signature of another length', body, `t=${now},v2=${signature}AA`, 403, 'FST_AUTHSIGNAL_WEBHOOK_BAD_SIGNATURE'],
    ['a stale timestamp (6 minutes ago)', body, signWebhook(SECRET, body, now - 360), 403, 'FST_AUTHSIGNAL_WEBHOOK_TIMESTAMP'],
    ['a future timestamp (6 minutes ahead)', body, signWebhook(SECRET, body, now + 360), 403, 'FST_AUTHSIGNAL_WEBHOOK_TIMESTAMP'],
    ['a signed body that is not JSON', notJson, signWebhook(SECRET, notJson), 400, 'FST_AUTHSIGNAL_WEBHOOK_NOT_JSON'],
    ['signed bytes that are not UTF-8', badUtf8, `t=${now},v2=${webhookSignature(SECRET, now, badUtf8)}`, 403, 'FST_AUTHSIGNAL_WEBHOOK_BAD_SIGNATURE'],
    ['a signed JSON array', '[]', signWebhook(SECRET, '[]'), 400, 'FST_AUTHSIGNAL_WEBHOOK_BAD_EVENT'],
    ['a signed event without an id', '{"type":"authenticator.created"}', signWebhook(SECRET, '{"type":"authenticator.created"}'), 400, 'FST_AUTHSIGNAL_WEBHOOK_BAD_EVENT'],
    ['a signed event with a huge id', JSON.stringify({ id: 'x'.repeat(257), type: 'a' }), signWebhook(SECRET, JSON.stringify({ id: 'x'.repeat(257), type: 'a' })), 400, 'FST_AUTHSIGNAL_WEBHOOK_BAD_EVENT'],
    ['a signed event without a type', '{"id":"e"}', signWebhook(SECRET, '{"id":"e"}'), 400, 'FST_AUTHSIGNAL_WEBHOOK_BAD_EVENT'],
    ['an authenticator event without data.userId', eventBody('authenticator.deleted', { userAuthenticatorId: 'a', verificationMethod: 'SMS' }),
      null, 400, 'FST_AUTHSIGNAL_WEBHOOK_BAD_EVENT']
  ]
  for (const [name, sent, header, status, code] of rows) {
    const res = await deliver(s.url, sent, { signature: header ?? (code === 'FST_AUTHSIGNAL_WEBHOOK_BAD_EVENT' ? signWebhook(SECRET, sent.toString()) : null) })
    t.equal(res.status, status, name)
    t.equal(res.json.code, code, name)
  }
  t.same(s.changes, [], 'nothing acted on')
  const log = s.lines.join('\n')
  t.notOk(log.includes(signature), 'no signature in the log')
  t.notOk(log.includes('a@example.com') || log.includes('evil@example.com') || log.includes(notJson), 'nothing of a body in the log')
  t.match(log, /FST_AUTHSIGNAL_WEBHOOK_TIMESTAMP/, 'the refusals are logged by their code')
})

t.test('the SDK alone accepts a signature dated in the future; the route does not', async t => {
  const body = created()
  const future = signWebhook(SECRET, body, Math.floor(Date.now() / 1000) + 3600)
  const sdk = new Authsignal({ apiSecretKey: SECRET, retries: 0 })
  t.match(sdk.webhook.constructEvent(body, future), { type: 'authenticator.created' }, 'constructEvent checks the past only')
  const s = await setup(t)
  t.equal((await deliver(s.url, body, { signature: future })).json.code, 'FST_AUTHSIGNAL_WEBHOOK_TIMESTAMP')
})

t.test('the tolerance is an option, and a signature just inside it is accepted either way', async t => {
  const s = await setup(t, { routes: { webhook: { toleranceSec: 60 } } })
  const now = Math.floor(Date.now() / 1000)
  t.equal((await deliver(s.url, created(), { signature: signWebhook(SECRET, created(), now - 120) })).status, 403)
  for (const offset of [-50, 50]) {
    const body = created()
    t.equal((await deliver(s.url, body, { signature: signWebhook(SECRET, body, now + offset) })).status, 200, `${offset} s`)
  }
})

t.test('a header with several v2 signatures (a rotated secret) is accepted when one matches', async t => {
  const s = await setup(t)
  const body = created()
  const now = Math.floor(Date.now() / 1000)
  const header = `t=${now},v2=${webhookSignature('old-secret', now, Buffer.from(body))},v2=${webhookSignature(SECRET, now, Buffer.from(body))}`
  t.equal((await deliver(s.url, body, { signature: header })).status, 200)
})

t.test('a delivery with no body at all is verified as an empty body (not JSON)', async t => {
  const s = await setup(t)
  const res = await fetch(s.url, { method: 'POST', headers: { 'x-signature-v2': signWebhook(SECRET, '') } })
  t.equal(res.status, 400)
  t.equal((await res.json() as { code: string }).code, 'FST_AUTHSIGNAL_WEBHOOK_NOT_JSON')
})

t.test('a body over the bound is 413 before anything is verified', async t => {
  const s = await setup(t, { routes: { webhook: { bodyLimit: 2048 } } })
  const body = eventBody('authenticator.created', { userId: 'u', verificationMethod: 'SMS', userAuthenticatorId: 'a', padding: 'x'.repeat(4096) })
  const res = await deliver(s.url, body)
  t.equal(res.status, 413)
  t.equal(res.json.code, 'FST_ERR_CTP_BODY_TOO_LARGE')
  t.same(s.changes, [])
})

t.test('the same event delivered twice is acted on once; the second answer says it is a duplicate', async t => {
  const s = await setup(t)
  const body = created()
  t.same((await deliver(s.url, body)).json, { received: true })
  // A redelivery is signed anew (later timestamp): same event id, same body.
  t.same((await deliver(s.url, body, { signature: signWebhook(SECRET, body, Math.floor(Date.now() / 1000) + 1) })).json, { received: true, duplicate: true })
  t.equal(s.changes.length, 1)
})

t.test('a redelivery while the first is still being acted on is 409 (Authsignal delivers it again later), then a duplicate', async t => {
  let release: () => void = () => {}
  const held = new Promise<void>(resolve => { release = resolve })
  const changes: AuthenticatorChangeEvent[] = []
  const s = await setup(t, {
    onAuthenticatorChange: async (change) => {
      changes.push(change)
      await held
    },
    onAuthenticatorChangeTimeoutMs: 30_000
  })
  const body = created()
  const first = deliver(s.url, body)
  while (changes.length === 0) await new Promise(resolve => setTimeout(resolve, 10))
  const second = await deliver(s.url, body)
  t.equal(second.status, 409)
  t.equal(second.json.code, 'FST_AUTHSIGNAL_WEBHOOK_IN_PROGRESS')
  t.equal(second.headers.get('retry-after'), '30')
  release()
  t.same((await first).json, { received: true })
  t.same((await deliver(s.url, body)).json, { received: true, duplicate: true })
  t.equal(changes.length, 1)
})

t.test('event types the plugin does not act on are acknowledged and ignored', async t => {
  const s = await setup(t)
  for (const type of ['email.created', 'action.log_created', 'user.deleted']) {
    const res = await deliver(s.url, eventBody(type, { userId: 'u' }))
    t.same(res.json, { received: true, ignored: true }, type)
  }
  t.same(s.changes, [])
})

t.test('any content type is read as raw bytes; the host\'s and the plugin\'s other routes keep their JSON parser', async t => {
  const s = await setup(t, {
    register: (app) => { app.post('/echo', async (request) => request.body) }
  })
  for (const type of ['text/plain', 'application/octet-stream']) {
    const res = await deliver(s.url, created(), { headers: { 'content-type': type } })
    t.equal(res.status, 200, type)
  }
  const echoed = await s.app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } })
  t.same(echoed.json(), { a: 1 }, 'the host route still parses JSON')
  const prebuilt = await s.app.inject({ method: 'POST', url: '/authenticators/prebuilt-ui', payload: { redirectUrl: 'https://evil.example' }, headers: bearer(issuer.mint()) })
  t.equal(prebuilt.json().code, 'FST_AUTHSIGNAL_REDIRECT_NOT_ALLOWED', 'the plugin\'s own JSON routes still parse JSON')
})

t.test('the route needs no Cognito token, and is off unless asked for', async t => {
  const off = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })
  t.equal((await off.inject({ method: 'POST', url: '/authenticators/webhook', payload: created() })).statusCode, 404)
  const s = await setup(t, { routes: { webhook: { path: '/events' } }, prefix: '/mfa' })
  await s.app.close()
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), prefix: '/mfa', routes: { webhook: { path: '/events' } } })
  const url = await listen(app, '/mfa/events')
  t.equal((await deliver(url, created())).status, 200)
})

t.test('an event store that fails: 503 with Retry-After, nothing acted on; an event store without extend is refused at registration', async t => {
  const broken: LockStore = {
    kind: 'broken',
    acquire: async () => { throw new Error('connection refused') },
    release: async () => { throw new Error('connection refused') },
    extend: async () => false
  }
  const s = await setup(t, { routes: { webhook: { store: broken } } })
  const res = await deliver(s.url, created())
  t.equal(res.status, 503)
  t.equal(res.json.code, 'FST_AUTHSIGNAL_WEBHOOK_STORE_UNAVAILABLE')
  t.equal(res.headers.get('retry-after'), '1')
  t.same(s.changes, [])
  t.match(s.lines.join('\n'), /the webhook event store failed/)

  const { extend, ...withoutExtend } = memoryLock()
  t.type(extend, 'function')
  await t.rejects(setup(t, { routes: { webhook: { store: { ...withoutExtend, kind: 'mine' } } } }),
    { code: 'FST_AUTHSIGNAL_COGNITO_INVALID_OPTION', message: /routes\.webhook\.store: the mine store has no extend/ })
})

t.test('an event acted on whose record cannot be kept is still acknowledged (a 5xx would only act again), and said', async t => {
  const inner = memoryLock()
  const forgetful: LockStore = { ...inner, kind: 'forgetful', extend: async () => { throw new Error('timeout') } }
  const s = await setup(t, { routes: { webhook: { store: forgetful } } })
  t.same((await deliver(s.url, created())).json, { received: true })
  t.equal(s.changes.length, 1)
  t.match(s.lines.join('\n'), /acted on a webhook event but could not remember it/)
  const lost: LockStore = { ...inner, kind: 'lost', extend: async () => false }
  const other = await setup(t, { routes: { webhook: { store: lost } } })
  t.same((await deliver(other.url, created())).json, { received: true })
})

t.test('an event\'s time: its data\'s own field, else the envelope\'s time, else when it arrived', async t => {
  const s = await setup(t)
  const data = { userId: 'u', verificationMethod: 'SMS', userAuthenticatorId: 'a' }
  await deliver(s.url, eventBody('authenticator.updated', { ...data, updatedAt: '2026-03-03T00:00:00.000Z' }))
  await deliver(s.url, JSON.stringify({ id: randomUUID(), type: 'authenticator.deleted', time: '2026-04-04T00:00:00.000Z', data }))
  const before = new Date().toISOString()
  await deliver(s.url, JSON.stringify({ id: randomUUID(), type: 'authenticator.created', data }))
  t.same(s.changes.map(c => c.type), ['updated', 'removed', 'added'])
  t.equal(s.changes[0]?.at, '2026-03-03T00:00:00.000Z')
  t.equal(s.changes[1]?.at, '2026-04-04T00:00:00.000Z')
  t.ok((s.changes[2]?.at as string) >= before)
})

t.test('webhook options: defaults, and each bad one named', async t => {
  const { resolveOptions, DEFAULTS } = await import('../lib/options/index.js')
  const base = { cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'c' }, authsignal: { apiSecretKey: 's' } }
  t.equal(resolveOptions(base).routes.webhook, false, 'off by default')
  const on = resolveOptions({ ...base, routes: { webhook: true } }).routes.webhook
  t.match(on, { path: DEFAULTS.webhook.path, toleranceSec: 300, bodyLimit: 65_536, dedupeWindowMs: 86_400_000, store: { kind: 'memory' } })
  t.equal(resolveOptions({ ...base, routes: { webhook: false } }).routes.webhook, false)
  const rows: Array<[string, unknown, RegExp]> = [
    ['not an object', 'yes', /routes\.webhook: expected an object or false/],
    ['a misspelt key', { tolerance: 5 }, /routes\.webhook\.tolerance: unknown option \(did you mean toleranceSec\?\)/],
    ['a relative path', { path: 'hook' }, /routes\.webhook\.path/],
    ['a tolerance of 0', { toleranceSec: 0 }, /routes\.webhook\.toleranceSec/],
    ['a tiny body limit', { bodyLimit: 10 }, /routes\.webhook\.bodyLimit/],
    ['a short dedupe window', { dedupeWindowSec: 5 }, /routes\.webhook\.dedupeWindowSec/],
    ['a store that is not one', { store: {} }, /routes\.webhook\.store: expected a lock store/]
  ]
  for (const [name, webhook, message] of rows) {
    t.throws(() => resolveOptions({ ...base, routes: { webhook } }), { code: 'FST_AUTHSIGNAL_COGNITO_INVALID_OPTION', message }, name)
  }
  const client = new Authsignal({ apiSecretKey: 's', retries: 0 })
  t.ok(resolveOptions({ ...base, authsignal: { client }, routes: { webhook: true } }).routes.webhook, 'an Authsignal instance carries the secret')
  t.throws(() => resolveOptions({ ...base, authsignal: { client: { getAuthenticators: () => [] } }, routes: { webhook: true } }),
    { message: /routes\.webhook: Authsignal signs webhooks with the API secret/ }, 'a client without the SDK\'s verifier')
  t.ok(resolveOptions({ ...base, authsignal: { client: { getAuthenticators: () => [] } } }), 'which is fine without the route')
})

t.test('the webhook route is not in the OpenAPI document, which stays valid', async t => {
  const swagger = (await import('@fastify/swagger')).default
  const { Validator } = await import('@seriousme/openapi-schema-validator')
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { webhook: true }, register: () => {} })
  await app.close()
  const Fastify = (await import('fastify')).default
  const documented = Fastify()
  t.teardown(() => documented.close())
  await documented.register(swagger, { openapi: {} })
  await documented.register((await import('../index.js')).default, {
    cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'c', jwksUri: 'http://127.0.0.1:9/jwks.json' },
    authsignal: { apiSecretKey: 's', apiUrl: 'http://127.0.0.1:9/v1' },
    routes: { webhook: true }
  })
  await documented.ready()
  const doc = documented.swagger() as { paths: Record<string, unknown> }
  t.same(Object.keys(doc.paths).sort(), ['/authenticators/', '/authenticators/challenge-token', '/authenticators/prebuilt-ui', '/authenticators/token', '/authenticators/{userAuthenticatorId}'])
  const result = await new Validator().validate(JSON.parse(JSON.stringify(doc)))
  t.ok(result.valid, 'valid OpenAPI')
})
