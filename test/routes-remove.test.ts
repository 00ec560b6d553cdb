// DELETE /authenticators/:userAuthenticatorId through the real SDK against the emulator: only the
// user's own authenticator, never a traversal into another user's, never the last one, and a
// completed step-up challenge when the host asks for one.
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { startAuthsignalEmulator, type AuthsignalEmulator, type UserAuthenticator } from '../lib/testing/authsignal-emulator.js'
import Fastify from 'fastify'
import { memoryLock } from '../lib/stores/memory-lock.js'
import { UserLock } from '../lib/stores/user-lock.js'
import { ALICE, bearer, BOB, buildApp, emulatorFor, emulatorOptions, issuerFor, tokenOnly, upstreamCalls } from './helpers.js'

// One key pair for the whole file: tests share the issuer, never its state.
const issuer = await issuerFor(t)

const sms = { verificationMethod: 'SMS', phoneNumber: '+6421555123' }
const email = { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' }

/** Sends the path exactly as given over real HTTP: no client-side normalisation of `..` or `%2e`. */
async function rawDelete (app: FastifyInstance, path: string, token: string): Promise<{ status: number, body: string }> {
  const { port } = app.server.address() as AddressInfo
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'DELETE', path, headers: bearer(token) }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode as number, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

// A listening app; Alice with two authenticators, Bob with one whose id is 'x' (what a traversal would reach).
async function aliceBesideBob (t: Test): Promise<{ emu: AuthsignalEmulator, app: FastifyInstance, token: string }> {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { remove: tokenOnly } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  emu.seedAuthenticator(ALICE, sms)
  emu.seedAuthenticator(ALICE, email)
  emu.seedAuthenticator(BOB, { ...sms, userAuthenticatorId: 'x' })
  return { emu, app, token: issuer.mint({ sub: ALICE }) }
}

t.test('DELETE of one of the user\'s authenticators answers 204 and removes it upstream', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { remove: tokenOnly } })
  const gone = emu.seedAuthenticator(ALICE, sms)
  const kept = emu.seedAuthenticator(ALICE, email)

  const res = await app.inject({ method: 'DELETE', url: `/authenticators/${gone.userAuthenticatorId}`, headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  t.same(emu.authenticators(ALICE).map(a => a.userAuthenticatorId), [kept.userAuthenticatorId], 'gone upstream, the other kept')
  t.same(upstreamCalls(emu), [`GET /v1/users/${ALICE}/authenticators`, `DELETE /v1/users/${ALICE}/authenticators/${gone.userAuthenticatorId}`])
})

t.test('DELETE of another user\'s authenticator id is 404 and no DELETE reaches Authsignal', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { remove: tokenOnly } })
  emu.seedAuthenticator(ALICE, sms)
  emu.seedAuthenticator(ALICE, email)
  const bobs = emu.seedAuthenticator(BOB, sms)

  const res = await app.inject({ method: 'DELETE', url: `/authenticators/${bobs.userAuthenticatorId}`, headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.statusCode, 404)
  t.equal(res.json().code, 'FST_AUTHSIGNAL_AUTHENTICATOR_NOT_FOUND')
  t.notOk(emu.requests.some(r => r.method === 'DELETE'), 'no DELETE upstream')
  t.equal(emu.authenticators(BOB).length, 1, 'Bob keeps his authenticator')
})

t.test('DELETE of an id that exists nowhere gets the same 404 as another user\'s', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { remove: tokenOnly } })
  emu.seedAuthenticator(ALICE, sms)
  emu.seedAuthenticator(ALICE, email)

  const res = await app.inject({ method: 'DELETE', url: `/authenticators/${'z'.repeat(100)}`, headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.statusCode, 404)
  t.equal(res.json().code, 'FST_AUTHSIGNAL_AUTHENTICATOR_NOT_FOUND')
  t.notOk(emu.requests.some(r => r.method === 'DELETE'))
})

t.test('traversal and encoded ids are 400 FST_AUTHSIGNAL_INVALID_AUTHENTICATOR_ID with no upstream call', async t => {
  const { emu, app, token } = await aliceBesideBob(t)

  const ids = [
    '..%2F..%2Fbob%2Fauthenticators%2Fx',
    `..%2F${BOB}%2Fauthenticators%2Fx`,
    '..%5C..%5Cbob',
    '%252e%252e',
    '%2e%2e',
    '..',
    '.',
    encodeURIComponent('\u0430bc'), // Cyrillic a
    encodeURIComponent('pk\u2010one'), // Unicode hyphen
    encodeURIComponent('x\uFF0F..\uFF0Fbob'), // fullwidth solidus
    'a%3Fx%3D1',
    'a%23b',
    'a%00b',
    '%20x',
    'a%2Eb'
  ]
  for (const id of ids) {
    const res = await rawDelete(app, `/authenticators/${id}`, token)
    t.equal(res.status, 400, `${id}: status`)
    t.equal(JSON.parse(res.body).code, 'FST_AUTHSIGNAL_INVALID_AUTHENTICATOR_ID', `${id}: code`)
  }
  t.same(emu.requests, [], 'Authsignal was not called for any of them')
  t.equal(emu.authenticators(BOB).length, 1, 'Bob keeps his authenticator')
})

// Fastify's router refuses a parameter longer than its `maxParamLength` (default 100) before the route
// runs, so an over-long id is a 414 rather than the route's 400; either way no upstream call.
t.test('an id longer than 100 characters is 414 FST_ERR_MAX_PARAM_LENGTH with no upstream call', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { remove: tokenOnly } })
  const headers = bearer(issuer.mint({ sub: ALICE }))

  for (const length of [101, 128, 129, 5000]) {
    const res = await app.inject({ method: 'DELETE', url: `/authenticators/${'a'.repeat(length)}`, headers })
    t.equal(res.statusCode, 414, `${length} characters: status`)
    t.equal(res.json().code, 'FST_ERR_MAX_PARAM_LENGTH', `${length} characters: code`)
  }
  t.same(emu.requests, [])
})

t.test('raw "/../" forms that Fastify cannot route are 404 and reach nothing outside the user\'s own path', async t => {
  const { emu, app, token } = await aliceBesideBob(t)

  for (const path of ['/authenticators/../bob', '/authenticators/../../v1/users/bob/authenticators/x', `/authenticators/x/../../${BOB}/authenticators/x`, '/authenticators/a/b']) {
    const res = await rawDelete(app, path, token)
    t.equal(res.status, 404, `${path}: status`)
  }
  t.ok(emu.requests.every(r => r.path.startsWith(`/v1/users/${ALICE}/`)), 'every upstream call was for Alice')
  t.notOk(emu.requests.some(r => r.method === 'DELETE'), 'no DELETE upstream')
  t.equal(emu.authenticators(BOB).length, 1, 'Bob keeps his authenticator')
})

t.test('DELETE of the user\'s last authenticator is 409 and it stays', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { remove: tokenOnly } })
  const only = emu.seedAuthenticator(ALICE, sms)

  const res = await app.inject({ method: 'DELETE', url: `/authenticators/${only.userAuthenticatorId}`, headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.statusCode, 409)
  t.equal(res.json().code, 'FST_AUTHSIGNAL_LAST_AUTHENTICATOR')
  t.equal(emu.authenticators(ALICE).length, 1)
  t.notOk(emu.requests.some(r => r.method === 'DELETE'))
})

t.test('with protectLast: false the last authenticator can be removed', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { remove: { ...tokenOnly, protectLast: false } } })
  const only = emu.seedAuthenticator(ALICE, sms)

  const res = await app.inject({ method: 'DELETE', url: `/authenticators/${only.userAuthenticatorId}`, headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.statusCode, 204)
  t.same(emu.authenticators(ALICE), [])
})

t.test('two parallel deletes of the user\'s last two authenticators: exactly one 204 and one 409', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { remove: tokenOnly } })
  const first = emu.seedAuthenticator(ALICE, sms)
  const second = emu.seedAuthenticator(ALICE, email)
  // A slow listing widens the window in which both requests could see "two left".
  emu.setFault({ kind: 'latency', ms: 50 }, { path: /\/authenticators$/ })
  const headers = bearer(issuer.mint({ sub: ALICE }))

  const answers = await Promise.all([first, second].map(a => app.inject({ method: 'DELETE', url: `/authenticators/${a.userAuthenticatorId}`, headers })))

  t.same(answers.map(r => r.statusCode).sort(), [204, 409])
  t.equal(emu.authenticators(ALICE).length, 1, 'one authenticator is left')
  t.equal(emu.requests.filter(r => r.method === 'DELETE').length, 1, 'one DELETE upstream')
})

t.test('a delete that timed out (504) keeps the user\'s lock: the next removal cannot pass the last-one rule on the list the late delete shrinks', async t => {
  const emu = await emulatorFor(t)
  // The lock is kept for its lease (2 × 300 + 1000 + 2000 ms): lockWaitMs lets the next removal wait it out.
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu, { timeoutMs: 300 }), routes: { remove: { ...tokenOnly, lockWaitMs: 5000 } } })
  const first = emu.seedAuthenticator(ALICE, sms)
  const second = emu.seedAuthenticator(ALICE, email)
  // Authsignal gets the DELETE and carries it out, but answers only after our deadline.
  emu.setFault({ kind: 'latency', ms: 600 }, { path: /\/authenticators\/[^/]+$/, times: 1 })
  const headers = bearer(issuer.mint({ sub: ALICE }))

  const timedOut = await app.inject({ method: 'DELETE', url: `/authenticators/${first.userAuthenticatorId}`, headers })
  const next = await app.inject({ method: 'DELETE', url: `/authenticators/${second.userAuthenticatorId}`, headers })
  while (emu.authenticators(ALICE).some(a => a.userAuthenticatorId === first.userAuthenticatorId)) await new Promise(resolve => setTimeout(resolve, 10))

  t.equal(timedOut.statusCode, 504)
  t.equal(timedOut.json().code, 'FST_AUTHSIGNAL_TIMEOUT')
  t.equal(next.statusCode, 409, 'judged on the list without the late-deleted one')
  t.same(emu.authenticators(ALICE).map(a => a.userAuthenticatorId), [second.userAuthenticatorId], 'the user keeps a factor')
  t.equal(emu.requests.filter(r => r.method === 'DELETE').length, 1, 'one DELETE upstream')
})

t.test('parallel deletes for different users do not wait on each other\'s outcome', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { remove: tokenOnly } })
  const alices = [emu.seedAuthenticator(ALICE, sms), emu.seedAuthenticator(ALICE, email)]
  const bobs = [emu.seedAuthenticator(BOB, sms), emu.seedAuthenticator(BOB, email)]

  const answers = await Promise.all([
    app.inject({ method: 'DELETE', url: `/authenticators/${alices[0]?.userAuthenticatorId}`, headers: bearer(issuer.mint({ sub: ALICE })) }),
    app.inject({ method: 'DELETE', url: `/authenticators/${bobs[0]?.userAuthenticatorId}`, headers: bearer(issuer.mint({ sub: BOB })) })
  ])

  t.same(answers.map(r => r.statusCode), [204, 204])
})

t.test('the per-user lock runs one task at a time per user, and a failed task frees the lock', async t => {
  const lock = new UserLock({ store: memoryLock(), leaseMs: 10_000, waitMs: 5000, callMs: 1000 })
  const log = Fastify().log
  const order: string[] = []
  let release = (): void => {}
  const held = new Promise<void>(resolve => { release = resolve })

  const first = lock.run('alice', log, async () => { order.push('first:start'); await held; order.push('first:end'); throw new Error('first failed') })
  const second = lock.run('alice', log, async () => { order.push('second'); return 2 })
  const other = lock.run('bob', log, async () => { order.push('bob'); return 3 })
  t.equal(await other, 3, 'bob did not wait for alice')
  release()

  await t.rejects(first, /first failed/)
  t.equal(await second, 2)
  t.same(order, ['first:start', 'bob', 'first:end', 'second'])
})

t.test('requireChallenge: without the x-authsignal-token header the delete is 403 FST_AUTHSIGNAL_CHALLENGE_REQUIRED', async t => {
  const { emu, app, target } = await stepUpSetup(t)
  const url = `/authenticators/${target.userAuthenticatorId}`
  const token = issuer.mint({ sub: ALICE })

  for (const extra of [{}, { 'x-authsignal-token': '' }]) {
    const res = await app.inject({ method: 'DELETE', url, headers: { ...bearer(token), ...extra } })
    t.equal(res.statusCode, 403)
    t.equal(res.json().code, 'FST_AUTHSIGNAL_CHALLENGE_REQUIRED')
  }
  t.notOk(emu.requests.some(r => r.method === 'DELETE'), 'no DELETE upstream')
  t.equal(emu.authenticators(ALICE).length, 2)
})

/** An app that requires a step-up to remove, and Alice with two authenticators: `target` is the one to remove. */
async function stepUpSetup (t: Test): Promise<{ emu: AuthsignalEmulator, app: FastifyInstance, target: UserAuthenticator }> {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { remove: { requireChallenge: true } } })
  const target = emu.seedAuthenticator(ALICE, sms)
  emu.seedAuthenticator(ALICE, email)
  return { emu, app, target }
}

t.test('requireChallenge: the token of a completed removeAuthenticator challenge of this user allows the delete', async t => {
  const { emu, app, target } = await stepUpSetup(t)

  const res = await app.inject({
    method: 'DELETE',
    url: `/authenticators/${target.userAuthenticatorId}`,
    headers: { ...bearer(issuer.mint({ sub: ALICE })), 'x-authsignal-token': emu.completeChallenge(ALICE, 'removeAuthenticator') }
  })

  t.equal(res.statusCode, 204)
  t.equal(emu.authenticators(ALICE).length, 1)
  t.match(emu.requests.find(r => r.path === '/v1/validate')?.body, { userId: ALICE, action: 'removeAuthenticator' }, 'validated for this user and action')
})

t.test('requireChallenge: challenge tokens of another user, another action, not completed, or another Authsignal are 403', async t => {
  const emu = await emulatorFor(t)
  const other = await startAuthsignalEmulator()
  t.teardown(() => other.close())
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { remove: { requireChallenge: true } } })
  const target = emu.seedAuthenticator(ALICE, sms)
  emu.seedAuthenticator(ALICE, email)
  // An enrolment token: its action was tracked (ALLOW, no rules) but no challenge was completed with it.
  const enrolment = (await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(issuer.mint({ sub: ALICE })) })).json().authsignalToken as string

  const tokens: Record<string, string> = {
    'another user': emu.completeChallenge(BOB, 'removeAuthenticator'),
    'another action': emu.completeChallenge(ALICE, 'signIn'),
    'not completed': enrolment,
    'another Authsignal tenant': other.completeChallenge(ALICE, 'removeAuthenticator'),
    garbage: 'not-a-token'
  }
  for (const [name, challenge] of Object.entries(tokens)) {
    const res = await app.inject({
      method: 'DELETE',
      url: `/authenticators/${target.userAuthenticatorId}`,
      headers: { ...bearer(issuer.mint({ sub: ALICE })), 'x-authsignal-token': challenge }
    })
    t.equal(res.statusCode, 403, `${name}: status`)
    t.equal(res.json().code, 'FST_AUTHSIGNAL_CHALLENGE_REQUIRED', `${name}: code`)
  }
  t.notOk(emu.requests.some(r => r.method === 'DELETE'), 'no DELETE upstream')
  t.equal(emu.authenticators(ALICE).length, 2)
})

t.test('requireChallenge: a "valid" answer for another user, action or state is still refused', async t => {
  const { emu, app, target } = await stepUpSetup(t)
  const answers = {
    'another user': { isValid: true, state: 'CHALLENGE_SUCCEEDED', userId: BOB, actionCode: 'removeAuthenticator' },
    'another action': { isValid: true, state: 'CHALLENGE_SUCCEEDED', userId: ALICE, actionCode: 'signIn' },
    'another state': { isValid: true, state: 'ALLOW', userId: ALICE, actionCode: 'removeAuthenticator' }
  }

  for (const [name, body] of Object.entries(answers)) {
    emu.setFault({ kind: 'status', status: 200, body }, { path: /^\/v1\/validate$/, times: 1 })
    const res = await app.inject({
      method: 'DELETE',
      url: `/authenticators/${target.userAuthenticatorId}`,
      headers: { ...bearer(issuer.mint({ sub: ALICE })), 'x-authsignal-token': emu.completeChallenge(ALICE, 'removeAuthenticator') }
    })
    t.equal(res.statusCode, 403, `${name}: status`)
  }
  t.notOk(emu.requests.some(r => r.method === 'DELETE'), 'no DELETE upstream')
})

t.test('requireChallenge with challengeAction demands a challenge of that action', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { remove: { requireChallenge: true, challengeAction: 'manageSecurity' } } })
  const target = emu.seedAuthenticator(ALICE, sms)
  emu.seedAuthenticator(ALICE, email)
  const url = `/authenticators/${target.userAuthenticatorId}`
  const headers = bearer(issuer.mint({ sub: ALICE }))

  const refused = await app.inject({ method: 'DELETE', url, headers: { ...headers, 'x-authsignal-token': emu.completeChallenge(ALICE, 'removeAuthenticator') } })
  const allowed = await app.inject({ method: 'DELETE', url, headers: { ...headers, 'x-authsignal-token': emu.completeChallenge(ALICE, 'manageSecurity') } })

  t.equal(refused.statusCode, 403, 'the default action is not enough')
  t.equal(allowed.statusCode, 204)
})

t.test('requireChallenge: the challenge is judged only after ownership and the last-one rule', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { remove: { requireChallenge: true } } })
  const only = emu.seedAuthenticator(ALICE, sms)
  const headers = bearer(issuer.mint({ sub: ALICE }))

  const foreign = await app.inject({ method: 'DELETE', url: '/authenticators/not-mine', headers })
  const last = await app.inject({ method: 'DELETE', url: `/authenticators/${only.userAuthenticatorId}`, headers })

  t.equal(foreign.statusCode, 404)
  t.equal(last.statusCode, 409)
  t.notOk(emu.requests.some(r => r.path === '/v1/validate'), 'no validate call')
})

t.test('an over-long x-authsignal-token header is a 400 with no upstream call', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { remove: { requireChallenge: true } } })

  const res = await app.inject({
    method: 'DELETE',
    url: '/authenticators/some-id',
    headers: { ...bearer(issuer.mint({ sub: ALICE })), 'x-authsignal-token': 'x'.repeat(8193) }
  })

  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'FST_ERR_VALIDATION')
  t.same(emu.requests, [])
})
