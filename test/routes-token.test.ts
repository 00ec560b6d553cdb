// POST /authenticators/token through the real @authsignal/node SDK against the local emulator:
// the token it answers, what Authsignal was asked, and the RFC 9470 max-age gate.
import t, { type Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import type { AuthsignalEmulator } from '../lib/testing/authsignal-emulator.js'
import { ALICE, bearer, buildApp, emulatorFor, emulatorOptions, issuerFor, payloadOf, upstreamCalls } from './helpers.js'

// One key pair for the whole file: tests share the issuer, never its state.
const issuer = await issuerFor(t)

t.test('POST /authenticators/token answers an Authsignal token for the signed-in user', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })

  const res = await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.statusCode, 200)
  const { authsignalToken } = res.json()
  t.type(authsignalToken, 'string')
  t.same(Object.keys(res.json()), ['authsignalToken', 'challengeRequired'], 'the token and whether a challenge comes first, nothing more')
  t.equal(res.json().challengeRequired, false, 'a fresh sign-in of a user without authenticators')
  t.match(payloadOf(authsignalToken), { sub: ALICE, action: 'addAuthenticator', scope: 'add:authenticators' }, 'the token is for this user, action and scope')
})

t.test('the token route tracks addAuthenticator with scope add:authenticators for the token\'s sub', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })

  await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.same(upstreamCalls(emu), [`POST /v1/users/${ALICE}/actions/addAuthenticator`], 'exactly one track call, for this user')
  t.match(emu.requests[0], { authorized: true, body: { scope: 'add:authenticators' } }, 'with the secret and the scope')
})

t.test('the token lets an already enrolled user add another authenticator through the client API', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'SMS', phoneNumber: '+6421555123' })

  const { authsignalToken } = (await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(issuer.mint({ sub: ALICE })) })).json()
  const enrol = await fetch(`${emu.apiUrl}/client/user-authenticators/email-otp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${authsignalToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'alice@example.com' })
  })

  t.equal(enrol.status, 200, 'the add:authenticators scope allows enrolment for an enrolled user')
})

/** POST /authenticators/token with maxAuthAgeSec 300, for a user who signed in `secondsAgo`. */
async function tokenAfterSignIn (t: Test, secondsAgo: number): Promise<{ emu: AuthsignalEmulator, res: LightMyRequestResponse }> {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { token: { maxAuthAgeSec: 300 } } })
  const authTime = Math.floor(Date.now() / 1000) - secondsAgo
  const res = await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(issuer.mint({ sub: ALICE, authTime })) })
  return { emu, res }
}

t.test('maxAuthAgeSec refuses a sign-in older than the limit with 401 FST_COGNITO_AUTH_TOO_OLD and no upstream call', async t => {
  const { emu, res } = await tokenAfterSignIn(t, 600)

  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'FST_COGNITO_AUTH_TOO_OLD')
  t.match(res.headers['www-authenticate'], /^Bearer error="insufficient_user_authentication", error_description="/, 'RFC 9470 challenge')
  t.same(emu.requests, [], 'Authsignal was not called')
})

t.test('maxAuthAgeSec treats a token without auth_time as too old', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { token: { maxAuthAgeSec: 300 } } })

  const res = await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(issuer.mint({ sub: ALICE, claims: { auth_time: undefined } })) })

  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'FST_COGNITO_AUTH_TOO_OLD')
  t.same(emu.requests, [], 'Authsignal was not called')
})

t.test('maxAuthAgeSec lets a fresh sign-in through', async t => {
  const { res } = await tokenAfterSignIn(t, 60)

  t.equal(res.statusCode, 200)
  t.type(res.json().authsignalToken, 'string')
})

t.test('the token route without a bearer token is a 401 with no upstream call', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })

  const res = await app.inject({ method: 'POST', url: '/authenticators/token' })

  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'FST_COGNITO_NO_TOKEN')
  t.equal(res.headers['www-authenticate'], 'Bearer')
  t.same(emu.requests, [])
})
