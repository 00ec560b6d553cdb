// POST /authenticators/challenge-token over real HTTP: a token for the removal's step-up challenge, for the
// configured action only and with no enrolment scope; completed with the client API (as @authsignal/browser
// does), it lets the removal through.
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { ALICE, bearer, buildApp, emulatorFor, emulatorOptions, issuerFor, tokenOnly, type AppOptions } from './helpers.js'

const issuer = await issuerFor(t)

async function listening (t: Test, options: AppOptions): Promise<string> {
  const app = await buildApp(t, issuer, options)
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

t.test('with requireChallenge, POST /authenticators/challenge-token tracks the challenge action, with no scope', async t => {
  const emu = await emulatorFor(t)
  const base = await listening(t, { authsignal: emulatorOptions(emu), routes: { remove: { requireChallenge: true, challengeAction: 'stepUpRemove' } } })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'SMS', phoneNumber: '+6421555123' })

  // A body cannot choose the action: it is ignored.
  const res = await fetch(`${base}/authenticators/challenge-token`, {
    method: 'POST',
    headers: { ...bearer(issuer.mint({ sub: ALICE })), 'content-type': 'application/json', 'user-agent': 'test-agent' },
    body: JSON.stringify({ action: 'addAuthenticator', scope: 'add:authenticators' })
  })

  t.equal(res.status, 200)
  const { authsignalToken } = await res.json() as { authsignalToken: string }
  t.match(authsignalToken, /^[\w-]+\.[\w-]+\.[\w-]+$/)
  const track = emu.requests.find(r => r.method === 'POST' && r.path.startsWith('/v1/users/'))
  t.equal(track?.path, `/v1/users/${ALICE}/actions/stepUpRemove`)
  t.same(track?.body, { ipAddress: '127.0.0.1', userAgent: 'test-agent' }, 'no scope: the token cannot enrol')
})

t.test('the step-up flow: challenge token, email OTP through the client API, then the DELETE with that token', async t => {
  const emu = await emulatorFor(t)
  const base = await listening(t, { authsignal: emulatorOptions(emu), routes: { remove: { requireChallenge: true } } })
  const phone = emu.seedAuthenticator(ALICE, { verificationMethod: 'SMS', phoneNumber: '+6421555123' })
  const mail = emu.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' })
  const headers = bearer(issuer.mint({ sub: ALICE }))
  const client = async (path: string, token: string, body: unknown = {}): Promise<{ status: number, json: Record<string, unknown> }> => {
    const res = await fetch(`${emu.apiUrl}/client/${path}`, { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: res.status, json: await res.json() as Record<string, unknown> }
  }

  const { authsignalToken } = await (await fetch(`${base}/authenticators/challenge-token`, { method: 'POST', headers })).json() as { authsignalToken: string }
  t.match(await client('user-authenticators/email-otp', authsignalToken, { email: 'mallory@example.com' }), { status: 403 }, 'the token cannot enrol')
  const before = await fetch(`${base}/authenticators/${phone.userAuthenticatorId}`, { method: 'DELETE', headers: { ...headers, 'x-authsignal-token': authsignalToken } })
  t.equal(before.status, 403, 'not yet completed')

  t.equal((await client('challenge/email-otp', authsignalToken)).status, 200)
  const verified = await client('verify/email-otp', authsignalToken, { verificationCode: emu.sentOtps.at(-1)?.code })
  t.match(verified.json, { isVerified: true, accessToken: String })

  const removed = await fetch(`${base}/authenticators/${phone.userAuthenticatorId}`, { method: 'DELETE', headers: { ...headers, 'x-authsignal-token': verified.json.accessToken as string } })
  t.equal(removed.status, 204)
  t.same(emu.authenticators(ALICE).map(a => a.userAuthenticatorId), [mail.userAuthenticatorId])
})

t.test('the route is not mounted without requireChallenge, nor when turned off; it needs a Cognito token', async t => {
  const emu = await emulatorFor(t)
  const plain = await listening(t, { authsignal: emulatorOptions(emu), routes: { remove: tokenOnly } })
  const off = await listening(t, { authsignal: emulatorOptions(emu), routes: { remove: { requireChallenge: true }, challengeToken: false } })
  const on = await listening(t, { authsignal: emulatorOptions(emu), routes: { challengeToken: { path: '/step-up' } } })
  const headers = bearer(issuer.mint({ sub: ALICE }))

  t.equal((await fetch(`${plain}/authenticators/challenge-token`, { method: 'POST', headers })).status, 404)
  t.equal((await fetch(`${off}/authenticators/challenge-token`, { method: 'POST', headers })).status, 404)
  const anonymous = await fetch(`${on}/authenticators/step-up`, { method: 'POST' })
  t.equal(anonymous.status, 401)
  t.equal((await anonymous.json() as { code: string }).code, 'FST_COGNITO_NO_TOKEN')
  t.equal((await fetch(`${on}/authenticators/step-up`, { method: 'POST', headers })).status, 200)
})
