// Strong binding (DESIGN.md "Binding") over HTTP: the real @authsignal/node SDK against the emulator, Cognito
// tokens with chosen `auth_time`. A stolen access token of an older sign-in cannot add a factor; a fresh
// sign-in and a first enrolment can; Authsignal's rule outcomes are obeyed on the three routes that track.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { AuthsignalEmulator } from '../lib/testing/authsignal-emulator.js'
import { ALICE, bearer, buildApp, clientApi, emulatorFor, emulatorOptions, issuerFor, payloadOf, upstreamCalls, type AppOptions } from './helpers.js'

const issuer = await issuerFor(t)
const TWO_HOURS = 7200
const TRACK = `POST /v1/users/${ALICE}/actions/addAuthenticator`

interface Setup { emu: AuthsignalEmulator, app: FastifyInstance, raw: string[] }

async function setup (t: Test, options: AppOptions = {}): Promise<Setup> {
  const emu = await emulatorFor(t)
  const raw: string[] = []
  const app = await buildApp(t, issuer, {
    authsignal: emulatorOptions(emu),
    routes: { remove: { requireChallenge: true }, prebuiltUi: { redirectUrl: 'https://app.example.com/done' } },
    logStream: { write: (line) => raw.push(line) },
    ...options
  })
  return { emu, app, raw }
}

/** The lines of one audit event, parsed from the captured log. */
function audit (raw: string[], event: string): Array<Record<string, unknown>> {
  return raw.map(l => JSON.parse(l) as Record<string, unknown>).filter(l => l.event === event)
}

/** An access token of Alice's sign-in `secondsAgo`. */
function signedIn (secondsAgo: number): { authorization: string } {
  return bearer(issuer.mint({ sub: ALICE, authTime: Math.floor(Date.now() / 1000) - secondsAgo }))
}

async function enrolmentToken (app: FastifyInstance, headers: Record<string, string>): Promise<{ status: number, body: Record<string, unknown>, cacheControl: unknown }> {
  const res = await app.inject({ method: 'POST', url: '/authenticators/token', headers })
  return { status: res.statusCode, body: res.json(), cacheControl: res.headers['cache-control'] }
}

/** Alice as the attacker finds her: a passkey and an email address already enrolled. */
function enrolledAlice (emu: AuthsignalEmulator): void {
  emu.seedAuthenticator(ALICE, { verificationMethod: 'PASSKEY' })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' })
}

t.test('the stolen-token attack fails at step 1: a two-hour-old sign-in gets no scope, challengeRequired, and the emulator refuses the enrolment', async t => {
  const { emu, app, raw } = await setup(t)
  enrolledAlice(emu)

  const step1 = await enrolmentToken(app, signedIn(TWO_HOURS))

  t.same([step1.status, step1.body.challengeRequired], [200, true])
  t.notOk('scope' in payloadOf(step1.body.authsignalToken as string), 'the token carries no enrolment scope')
  t.same(upstreamCalls(emu), [TRACK], 'one track call')
  t.notOk('scope' in (emu.requests[0]?.body as Record<string, unknown>), 'tracked without the scope')
  const app2 = await clientApi(emu, 'user-authenticators/totp', step1.body.authsignalToken as string)
  const email = await clientApi(emu, 'user-authenticators/email-otp', step1.body.authsignalToken as string, { email: 'attacker@example.net' })
  t.same([app2.status, app2.json.error, email.status], [403, 'forbidden', 403], 'the attacker\'s authenticator app and email cannot be enrolled')
  t.equal(emu.authenticators(ALICE).length, 2, 'nothing was added')
  t.match(audit(raw, 'authsignal.enrolment.token'), [{ level: 30, userId: ALICE, route: '/authenticators/token', scoped: false, challengeRequired: true, reason: 'enrolled, sign-in not fresh', reqId: String }])
})

t.test('challengeRequired: a challenge with an existing factor, then the token verify answered enrols (the client SDKs switch to it)', async t => {
  const { emu, app } = await setup(t)
  enrolledAlice(emu)
  const { body } = await enrolmentToken(app, signedIn(TWO_HOURS))
  const token = body.authsignalToken as string

  await clientApi(emu, 'challenge/email-otp', token)
  const verified = await clientApi(emu, 'verify/email-otp', token, { verificationCode: emu.sentOtps.at(-1)?.code })
  const enrol = await clientApi(emu, 'user-authenticators/totp', verified.json.accessToken as string)

  t.equal(verified.json.isVerified, true)
  t.equal(enrol.status, 200, 'the challenge with Alice\'s own email lets her enrol')
})

t.test('a fresh sign-in gets the scope and enrols directly, with one track call', async t => {
  const { emu, app, raw } = await setup(t)
  enrolledAlice(emu)

  const { status, body, cacheControl } = await enrolmentToken(app, signedIn(60))
  const calls = upstreamCalls(emu)
  const enrol = await clientApi(emu, 'user-authenticators/totp', body.authsignalToken as string)

  t.same([status, body.challengeRequired, cacheControl], [200, false, 'no-store'])
  t.same(Object.keys(body).sort(), ['authsignalToken', 'challengeRequired'], 'nothing else')
  t.match(payloadOf(body.authsignalToken as string), { sub: ALICE, action: 'addAuthenticator', scope: 'add:authenticators' })
  t.same(calls, [TRACK], 'one track call')
  t.equal(enrol.status, 200)
  t.match(audit(raw, 'authsignal.enrolment.token'), [{ scoped: true, challengeRequired: false, reason: 'fresh sign-in' }])
})

t.test('a user with no authenticator enrols a first one whatever the sign-in\'s age', async t => {
  const { emu, app, raw } = await setup(t)

  const { body } = await enrolmentToken(app, signedIn(TWO_HOURS))
  const enrol = await clientApi(emu, 'user-authenticators/totp', body.authsignalToken as string)

  t.equal(body.challengeRequired, false)
  t.notOk('scope' in payloadOf(body.authsignalToken as string), 'no scope is needed for a first factor')
  t.equal(enrol.status, 200)
  t.match(audit(raw, 'authsignal.enrolment.token'), [{ scoped: false, challengeRequired: false, reason: 'first enrolment' }])
})

t.test('a token without auth_time is not a fresh sign-in', async t => {
  const { emu, app } = await setup(t)
  enrolledAlice(emu)

  const { body } = await enrolmentToken(app, bearer(issuer.mint({ sub: ALICE, claims: { auth_time: undefined } })))

  t.equal(body.challengeRequired, true)
})

t.test('freshSignInSec 0: an enrolled user always challenges first, a new one does not', async t => {
  const { emu, app } = await setup(t, { routes: { token: { freshSignInSec: 0 } } })

  const first = await enrolmentToken(app, signedIn(0))
  enrolledAlice(emu)
  const enrolled = await enrolmentToken(app, signedIn(0))

  t.same([first.body.challengeRequired, enrolled.body.challengeRequired], [false, true])
  t.notOk('scope' in payloadOf(enrolled.body.authsignalToken as string))
})

t.test('CHALLENGE_REQUIRED from Authsignal\'s rules: challengeRequired, and the token handed out has no scope', async t => {
  const { emu, app, raw } = await setup(t)
  emu.setRule({ action: 'addAuthenticator', state: 'CHALLENGE_REQUIRED' })

  const fresh = await enrolmentToken(app, signedIn(10))
  const freshCalls = upstreamCalls(emu)
  emu.clearRequests()
  const old = await enrolmentToken(app, signedIn(TWO_HOURS))

  t.same([fresh.body.challengeRequired, old.body.challengeRequired], [true, true])
  t.notOk('scope' in payloadOf(fresh.body.authsignalToken as string), 'the scoped token stays with the plugin')
  t.same(freshCalls, [TRACK, TRACK], 'a fresh sign-in: the scoped track, then one without the scope (the rare second call)')
  t.same(upstreamCalls(emu), [TRACK], 'an older one: one call')
  t.same(audit(raw, 'authsignal.enrolment.token').map(l => [l.scoped, l.reason]), [[false, 'rule CHALLENGE_REQUIRED'], [false, 'rule CHALLENGE_REQUIRED']])
})

const ROUTES = [
  { name: '/token', url: '/authenticators/token', action: 'addAuthenticator' },
  { name: '/challenge-token', url: '/authenticators/challenge-token', action: 'removeAuthenticator' },
  { name: '/prebuilt-ui', url: '/authenticators/prebuilt-ui', action: 'manageAuthenticators' }
]

for (const state of ['BLOCK', 'REVIEW_REQUIRED'] as const) {
  t.test(`${state} from Authsignal's rules: 403 FST_AUTHSIGNAL_ACTION_BLOCKED on the three routes, no token or URL, a warn line`, async t => {
    const { emu, app, raw } = await setup(t)
    enrolledAlice(emu)

    for (const route of ROUTES) {
      const remove = emu.setRule({ userId: ALICE, action: route.action, state })
      const res = await app.inject({ method: 'POST', url: route.url, headers: signedIn(10) })
      remove()
      t.same([res.statusCode, res.json().code, res.headers['cache-control']], [403, 'FST_AUTHSIGNAL_ACTION_BLOCKED', 'no-store'], route.name)
      t.notMatch(res.body, /eyJ|prebuilt|token=/, `${route.name}: nothing leaked`)
      t.match(res.json().message, state, `${route.name}: the message names the outcome`)
    }
    const warned = audit(raw, 'authsignal.action.refused')
    t.same(warned.map(l => [l.level, l.userId, l.route]), ROUTES.map(r => [40, ALICE, r.url]))
    t.notMatch(raw.join('\n'), /eyJ|alice@example\.com/, 'no token or address in the log')
  })
}

t.test('the three routes answer no-store on success', async t => {
  const { app } = await setup(t)

  for (const route of ROUTES) {
    const res = await app.inject({ method: 'POST', url: route.url, headers: signedIn(10) })
    t.same([res.statusCode, res.headers['cache-control']], [200, 'no-store'], route.name)
  }
})

t.test('a track answer without a known state is a 502 FST_AUTHSIGNAL_BAD_RESPONSE, on each route', async t => {
  const { emu, app } = await setup(t)

  for (const route of ROUTES) {
    emu.setFault({ kind: 'status', status: 200, body: { token: 'x', url: 'http://x/', isEnrolled: true, idempotencyKey: 'k', state: 'CHALLENGE_SUCCEEDED' } }, { times: 1 })
    const res = await app.inject({ method: 'POST', url: route.url, headers: signedIn(10) })
    t.same([res.statusCode, res.json().code], [502, 'FST_AUTHSIGNAL_BAD_RESPONSE'], route.name)
  }
})

t.test('audit lines never carry an email address, a phone number or a token', async t => {
  const { emu, app, raw } = await setup(t)
  emu.seedAuthenticator(ALICE, { verificationMethod: 'SMS', phoneNumber: '+6421555123' })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' })

  const fresh = await enrolmentToken(app, signedIn(1))
  const old = await enrolmentToken(app, signedIn(TWO_HOURS))

  const lines = audit(raw, 'authsignal.enrolment.token')
  t.equal(lines.length, 2)
  const text = JSON.stringify(lines)
  for (const secret of ['alice@example.com', '+6421555123', fresh.body.authsignalToken, old.body.authsignalToken] as string[]) {
    t.notOk(text.includes(secret), 'not in the audit lines')
  }
})
