// Authsignal misbehaving, through the real @authsignal/node SDK over real HTTP (the emulator's faults):
// every fault becomes a 502/503/504 with a stable code within the time bound, never a 500, a 401 or a
// hang; the server is healthy again once the fault clears; no secret or token ever reaches a log line.
import { randomUUID } from 'node:crypto'
import { Authsignal } from '@authsignal/node'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import authenticatorsPlugin from '../index.js'
import type { EmulatorFault } from '../lib/testing/authsignal-emulator.js'
import { bearer, buildApp, closedPort, cognitoOptions, emulatorFor, emulatorOptions, issuerFor } from './helpers.js'

const ALICE = 'a11ce000-0000-4000-8000-000000000001'
const TIMEOUT_MS = 300
// Generous for a loaded CI machine, yet far below a hang or the SDK's (absent) own timeout.
const SLACK_MS = 700

const issuer = await issuerFor(t)
const emu = await emulatorFor(t)
const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu, { timeoutMs: TIMEOUT_MS }) })
const headers = bearer(issuer.mint({ sub: ALICE }))

t.beforeEach(() => {
  emu.reset()
  emu.seedAuthenticator(ALICE, { verificationMethod: 'SMS', phoneNumber: '+6421555123' })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' })
})

async function token (on: FastifyInstance = app): Promise<LightMyRequestResponse> {
  return on.inject({ method: 'POST', url: '/authenticators/token', headers })
}

async function timed<T> (fn: () => Promise<T>): Promise<{ value: T, ms: number }> {
  const started = performance.now()
  const value = await fn()
  return { value, ms: performance.now() - started }
}

function expectError (t: Test, res: LightMyRequestResponse, status: number, code: string): void {
  t.equal(res.statusCode, status, 'status')
  t.equal(res.json().code, code, 'code')
}

/** Clears the fault and checks the same app answers a good request: nothing was left broken. */
async function recovers (t: Test, on: FastifyInstance = app): Promise<void> {
  emu.setFault(null)
  const res = await token(on)
  t.equal(res.statusCode, 200, 'once the fault clears, the next request succeeds')
}

t.test('Authsignal hangs: 504 FST_AUTHSIGNAL_TIMEOUT within about timeoutMs', async t => {
  emu.setFault({ kind: 'hang' })
  const { value: res, ms } = await timed(() => token())

  expectError(t, res, 504, 'FST_AUTHSIGNAL_TIMEOUT')
  t.ok(ms >= TIMEOUT_MS - 20 && ms < TIMEOUT_MS + SLACK_MS, `answered after ${Math.round(ms)} ms`)
  await recovers(t)
})

t.test('Authsignal answers just under timeoutMs: 200', async t => {
  emu.setFault({ kind: 'latency', ms: TIMEOUT_MS - 200 })
  const res = await token()

  t.equal(res.statusCode, 200)
  t.type(res.json().authsignalToken, 'string')
})

t.test('Authsignal answers just over timeoutMs: 504 FST_AUTHSIGNAL_TIMEOUT, not the late answer', async t => {
  emu.setFault({ kind: 'latency', ms: TIMEOUT_MS + 150 })
  const res = await token()

  expectError(t, res, 504, 'FST_AUTHSIGNAL_TIMEOUT')
  await recovers(t)
})

t.test('every route is bounded: a hang on list, on the ownership check, on delete and on validate is 504', async t => {
  const guarded = await buildApp(t, issuer, { authsignal: emulatorOptions(emu, { timeoutMs: TIMEOUT_MS }), routes: { remove: { requireChallenge: true } } })
  const [target] = emu.authenticators(ALICE)
  const remove = { method: 'DELETE' as const, url: `/authenticators/${target?.userAuthenticatorId}`, headers: { ...headers, 'x-authsignal-token': emu.completeChallenge(ALICE, 'removeAuthenticator') } }
  const cases: Array<[string, RegExp, () => Promise<LightMyRequestResponse>]> = [
    ['prebuilt-ui', /\/actions\//, async () => guarded.inject({ method: 'POST', url: '/authenticators/prebuilt-ui', headers })],
    ['list', /\/authenticators$/, async () => guarded.inject({ url: '/authenticators', headers })],
    ['delete: ownership check', /\/authenticators$/, async () => guarded.inject(remove)],
    ['delete: validate', /^\/v1\/validate$/, async () => guarded.inject(remove)],
    ['delete: the delete itself', /\/authenticators\/[^/]+$/, async () => guarded.inject(remove)]
  ]

  for (const [name, path, send] of cases) {
    emu.setFault({ kind: 'hang' }, { path })
    const { value: res, ms } = await timed(send)
    t.equal(res.statusCode, 504, `${name}: status`)
    t.equal(res.json().code, 'FST_AUTHSIGNAL_TIMEOUT', `${name}: code`)
    t.ok(ms < TIMEOUT_MS + SLACK_MS, `${name}: ${Math.round(ms)} ms`)
  }
  await recovers(t, guarded)
})

t.test('Authsignal answers 500: 502 FST_AUTHSIGNAL_UPSTREAM_ERROR', async t => {
  emu.setFault({ kind: 'status', status: 500 })
  const res = await token()

  expectError(t, res, 502, 'FST_AUTHSIGNAL_UPSTREAM_ERROR')
  t.equal(emu.requests.length, 1, 'the SDK did not retry')
  await recovers(t)
})

t.test('Authsignal answers 400 or 404: 502 FST_AUTHSIGNAL_UPSTREAM_ERROR, not passed through', async t => {
  for (const status of [400, 404]) {
    emu.setFault({ kind: 'status', status }, { times: 1 })
    const res = await token()
    t.equal(res.statusCode, 502, `${status}: status`)
    t.equal(res.json().code, 'FST_AUTHSIGNAL_UPSTREAM_ERROR', `${status}: code`)
  }
  await recovers(t)
})

t.test('Authsignal refuses our secret (401): 502 FST_AUTHSIGNAL_UPSTREAM_ERROR, never a 401 to the user', async t => {
  const misconfigured = await buildApp(t, issuer, { authsignal: emulatorOptions(emu, { apiSecretKey: 'wrong-secret', timeoutMs: TIMEOUT_MS }) })
  const res = await token(misconfigured)

  expectError(t, res, 502, 'FST_AUTHSIGNAL_UPSTREAM_ERROR')
  t.equal(res.headers['www-authenticate'], undefined, 'the user is not asked to sign in again')
  t.equal(emu.requests[0]?.authorized, false, 'the emulator did refuse the credentials')
})

t.test('Authsignal rate-limits (429 with its error body): 503 FST_AUTHSIGNAL_RATE_LIMITED', async t => {
  emu.setFault({ kind: 'status', status: 429 })
  const res = await token()

  expectError(t, res, 503, 'FST_AUTHSIGNAL_RATE_LIMITED')
  await recovers(t)
})

t.test('Authsignal rate-limits with an empty body: 503 FST_AUTHSIGNAL_RATE_LIMITED', async t => {
  emu.setFault({ kind: 'status', status: 429, body: '' })
  const res = await token()

  expectError(t, res, 503, 'FST_AUTHSIGNAL_RATE_LIMITED')
  await recovers(t)
})

t.test('Authsignal answers an HTML page with 200: 502 FST_AUTHSIGNAL_BAD_RESPONSE', async t => {
  emu.setFault({ kind: 'garbage' })
  const res = await token()

  expectError(t, res, 502, 'FST_AUTHSIGNAL_BAD_RESPONSE')
  await recovers(t)
})

t.test('Authsignal answers JSON labelled text/plain: 502 FST_AUTHSIGNAL_BAD_RESPONSE', async t => {
  emu.setFault({ kind: 'wrongContentType' })
  const res = await token()

  expectError(t, res, 502, 'FST_AUTHSIGNAL_BAD_RESPONSE')
  await recovers(t)
})

t.test('Authsignal resets the connection mid-answer: 502 FST_AUTHSIGNAL_UNREACHABLE and the POST is not re-sent', async t => {
  emu.setFault({ kind: 'reset' })
  const res = await token()

  expectError(t, res, 502, 'FST_AUTHSIGNAL_UNREACHABLE')
  t.equal(emu.requests.length, 1, 'track was sent once')
  await recovers(t)
})

t.test('Authsignal answers more than 1 MiB: 502 FST_AUTHSIGNAL_BAD_RESPONSE', async t => {
  emu.setFault({ kind: 'huge', bytes: 1024 * 1024 + 1024 })
  const res = await token()

  expectError(t, res, 502, 'FST_AUTHSIGNAL_BAD_RESPONSE')
  await recovers(t)
})

t.test('Authsignal refuses the connection: 502 FST_AUTHSIGNAL_UNREACHABLE', async t => {
  const port = await closedPort()
  const unreachable = await buildApp(t, issuer, { authsignal: { apiSecretKey: emu.secret, apiUrl: `http://127.0.0.1:${port}/v1`, timeoutMs: TIMEOUT_MS } })
  const res = await token(unreachable)

  expectError(t, res, 502, 'FST_AUTHSIGNAL_UNREACHABLE')
})

t.test('a 200 with the wrong shape is 502 FST_AUTHSIGNAL_BAD_RESPONSE on every route', async t => {
  const guarded = await buildApp(t, issuer, { authsignal: emulatorOptions(emu, { timeoutMs: TIMEOUT_MS }), routes: { remove: { requireChallenge: true } } })
  const [target] = emu.authenticators(ALICE)
  const remove = async () => guarded.inject({
    method: 'DELETE',
    url: `/authenticators/${target?.userAuthenticatorId}`,
    headers: { ...headers, 'x-authsignal-token': emu.completeChallenge(ALICE, 'removeAuthenticator') }
  })
  const list = async () => guarded.inject({ url: '/authenticators', headers })
  const cases: Array<[string, unknown, RegExp | undefined, () => Promise<LightMyRequestResponse>]> = [
    ['token: {}', {}, undefined, async () => token(guarded)],
    ['token: an empty token', { token: '' }, undefined, async () => token(guarded)],
    ['prebuilt-ui: no url', { token: 'x' }, undefined, async () => guarded.inject({ method: 'POST', url: '/authenticators/prebuilt-ui', headers })],
    ['prebuilt-ui: an empty url', { url: '' }, undefined, async () => guarded.inject({ method: 'POST', url: '/authenticators/prebuilt-ui', headers })],
    ['list: {}', {}, undefined, list],
    ['list: null', null, undefined, list],
    ['list: items without ids', [{ verificationMethod: 'SMS', createdAt: '2026-01-01T00:00:00Z' }], undefined, list],
    ['list: items that are not objects', ['pk-1'], undefined, list],
    ['list: an email that is not a string', [{ userAuthenticatorId: 'a', verificationMethod: 'EMAIL_OTP', createdAt: '2026-01-01T00:00:00Z', email: 42 }], undefined, list],
    ['delete: ownership list {}', {}, /\/authenticators$/, remove],
    ['delete: validate {}', {}, /^\/v1\/validate$/, remove]
  ]

  for (const [name, body, path, send] of cases) {
    emu.setFault({ kind: 'status', status: 200, body }, { path, times: 1 })
    const res = await send()
    t.equal(res.statusCode, 502, `${name}: status`)
    t.equal(res.json().code, 'FST_AUTHSIGNAL_BAD_RESPONSE', `${name}: code`)
  }
  t.equal(emu.authenticators(ALICE).length, 2, 'nothing was deleted on a bad answer')
  await recovers(t, guarded)
})

t.test('an upstream error on the delete itself is 502 and the authenticator stays', async t => {
  const [target] = emu.authenticators(ALICE)
  emu.setFault({ kind: 'status', status: 500 }, { path: /\/authenticators\/[^/]+$/ })

  const res = await app.inject({ method: 'DELETE', url: `/authenticators/${target?.userAuthenticatorId}`, headers })

  expectError(t, res, 502, 'FST_AUTHSIGNAL_UPSTREAM_ERROR')
  t.equal(emu.authenticators(ALICE).length, 2)
  await recovers(t)
})

t.test('authsignal.client: a host-supplied SDK instance is still bounded by timeoutMs', async t => {
  const client = new Authsignal({ apiSecretKey: emu.secret, apiUrl: emu.apiUrl, retries: 0 })
  const hosted = await buildApp(t, issuer, { authsignal: { client, timeoutMs: TIMEOUT_MS } })
  emu.setFault({ kind: 'hang' })

  const { value: res, ms } = await timed(() => token(hosted))

  expectError(t, res, 504, 'FST_AUTHSIGNAL_TIMEOUT')
  t.ok(ms < TIMEOUT_MS + SLACK_MS, `answered after ${Math.round(ms)} ms`)
  await recovers(t, hosted)
})

t.test('no log line and no error answer ever contains the API secret, a bearer token or an Authsignal token', async t => {
  const secret = `sk_test_${randomUUID()}`
  const wrongSecret = `sk_wrong_${randomUUID()}`
  const secretEmu = await emulatorFor(t, { secret })
  const lines: string[] = []
  const stream = { write: (line: string) => { lines.push(line) } }
  const port = await closedPort()
  const build = async (authsignal: Record<string, unknown>, routes = {}): Promise<FastifyInstance> => {
    const logged = Fastify({ logger: { level: 'trace', stream } })
    t.teardown(() => logged.close())
    await logged.register(authenticatorsPlugin, { cognito: cognitoOptions(issuer), authsignal: { apiUrl: secretEmu.apiUrl, apiSecretKey: secret, timeoutMs: TIMEOUT_MS, ...authsignal }, routes })
    await logged.ready()
    return logged
  }
  const main = await build({}, { remove: { requireChallenge: true } })
  const wrong = await build({ apiSecretKey: wrongSecret })
  const refused = await build({ apiUrl: `http://127.0.0.1:${port}/v1` })
  const bearerToken = issuer.mint({ sub: ALICE })
  const auth = bearer(bearerToken)
  const secrets = [secret, wrongSecret, Buffer.from(`${secret}:`).toString('base64'), Buffer.from(`${wrongSecret}:`).toString('base64'), bearerToken]
  const failures: LightMyRequestResponse[] = []
  const send = async (on: FastifyInstance, opts: Record<string, unknown>): Promise<LightMyRequestResponse> => {
    const res = await on.inject({ headers: auth, ...opts })
    if (res.statusCode >= 400) failures.push(res)
    return res
  }
  const post = (url: string) => ({ method: 'POST', url })
  const first = secretEmu.seedAuthenticator(ALICE, { verificationMethod: 'SMS', phoneNumber: '+6421555123' })
  secretEmu.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' })

  // Successes: these answers carry Authsignal tokens by design; none may reach a log line.
  const issued = [
    (await send(main, post('/authenticators/token'))).json().authsignalToken as string,
    new URL((await send(main, post('/authenticators/prebuilt-ui'))).json().prebuiltUiUrl as string).searchParams.get('token') as string
  ]
  await send(main, { url: '/authenticators' })
  const challenge = secretEmu.completeChallenge(ALICE, 'removeAuthenticator')
  issued.push(challenge)
  t.equal((await send(main, { method: 'DELETE', url: `/authenticators/${first.userAuthenticatorId}`, headers: { ...auth, 'x-authsignal-token': challenge } })).statusCode, 204)
  // A refused challenge token: validated upstream, refused here.
  const otherUsers = secretEmu.completeChallenge('someone-else', 'removeAuthenticator')
  issued.push(otherUsers)
  secretEmu.seedAuthenticator(ALICE, { verificationMethod: 'PASSKEY' })
  await send(main, { method: 'DELETE', url: '/authenticators/not-mine', headers: { ...auth, 'x-authsignal-token': otherUsers } })

  // Every fault, on the track call.
  const faults: EmulatorFault[] = [
    { kind: 'hang' }, { kind: 'latency', ms: TIMEOUT_MS + 100 }, { kind: 'status', status: 500 }, { kind: 'status', status: 429 },
    { kind: 'status', status: 429, body: '' }, { kind: 'status', status: 200, body: {} }, { kind: 'garbage' },
    { kind: 'wrongContentType' }, { kind: 'reset' }, { kind: 'huge', bytes: 1024 * 1024 + 16 }
  ]
  for (const fault of faults) {
    secretEmu.setFault(fault, { times: 1 })
    await send(main, post('/authenticators/token'))
  }
  await send(wrong, post('/authenticators/token'))
  await send(refused, post('/authenticators/token'))
  // And a bad bearer token, which is logged as a 401.
  await send(main, { url: '/authenticators', headers: bearer(`${bearerToken}x`) })

  t.equal(failures.length, faults.length + 4, 'every fault was answered with an error')
  t.ok(lines.some(line => line.includes('FST_AUTHSIGNAL_TIMEOUT')) && lines.some(line => line.includes('FST_AUTHSIGNAL_UNREACHABLE')), 'the errors were logged')
  const forbidden = [...secrets, ...issued]
  t.ok(issued.every(token => token.length > 20), 'the Authsignal tokens to look for were captured')
  t.notOk(lines.some(line => forbidden.some(value => line.includes(value))), `none of ${forbidden.length} secrets or tokens is in any of ${lines.length} log lines`)
  t.notOk(failures.some(res => forbidden.some(value => res.body.includes(value))), 'nor in any error answer')
})
