// Authenticator apps (TOTP) against the emulator: enrolment and challenges through the real
// @authsignal/browser SDK (its totp.enroll / totp.verify), codes computed here with otpauth from the
// secret the enrolment returned, results read back through the real @authsignal/node SDK.
import t, { type Test } from 'tap'
import * as OTPAuth from 'otpauth'
import { Authsignal } from '@authsignal/node'
import { startAuthsignalEmulator, type AuthenticatorChange, type AuthsignalEmulator } from '../lib/testing/authsignal-emulator.js'

// The part of @authsignal/browser used here (its .d.ts files do not resolve under NodeNext).
interface BrowserResult { data?: Record<string, unknown> & { token?: string }, error?: string, errorCode?: string }
type BrowserSdk = new (opts: { tenantId: string, baseUrl: string, cookieDomain: string }) => {
  setToken: (token: string) => void
  totp: {
    enroll: () => Promise<BrowserResult>
    verify: (p: { code: string }) => Promise<BrowserResult>
  }
}

interface Started { emu: AuthsignalEmulator, sdk: Authsignal, browser: InstanceType<BrowserSdk> }

// The SDK touches `document` at import and in its constructor (cookies); Node has none.
const g = globalThis as { document?: unknown }
g.document = { cookie: '', location: { protocol: 'http:', hostname: 'localhost' }, readyState: 'loading', addEventListener: () => {} }
t.teardown(() => { delete g.document })
const { Authsignal: BrowserAuthsignal } = await import('@authsignal/browser') as unknown as { Authsignal: BrowserSdk }

async function start (t: Test, onAuthenticatorChange?: (c: AuthenticatorChange) => void): Promise<Started> {
  const emu = await startAuthsignalEmulator({ onAuthenticatorChange })
  t.teardown(() => emu.close())
  return {
    emu,
    sdk: new Authsignal({ apiSecretKey: emu.secret, apiUrl: emu.apiUrl, retries: 0 }),
    browser: new BrowserAuthsignal({ tenantId: emu.tenantId, baseUrl: emu.apiUrl, cookieDomain: 'localhost' })
  }
}

function code (secret: string, offsetSec = 0): string {
  return OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp: Date.now() + offsetSec * 1000 })
}

function otherThan (right: string): string {
  return right === '000000' ? '000001' : '000000'
}

// Enrols an authenticator app for the user with a fresh track token; returns the secret.
async function enrolApp ({ sdk, browser }: Started, userId: string): Promise<{ secret: string, userAuthenticatorId: string, used: string }> {
  const { token } = await sdk.track({ userId, action: 'addAuthenticator', attributes: { scope: 'add:authenticators' } })
  browser.setToken(token)
  const enrolled = await browser.totp.enroll()
  const secret = enrolled.data?.secret as string
  const used = code(secret)
  await browser.totp.verify({ code: used })
  return { secret, userAuthenticatorId: enrolled.data?.userAuthenticatorId as string, used }
}

t.test('totp.enroll returns a secret and an otpauth URI; the app is listed once a code from it verifies', async (t) => {
  const changes: AuthenticatorChange[] = []
  const started = await start(t, (c) => changes.push(c))
  const { emu, sdk, browser } = started
  emu.seedAuthenticator('u1', { verificationMethod: 'EMAIL_OTP', email: 'a@example.com' })
  changes.length = 0
  const { token, idempotencyKey } = await sdk.track({ userId: 'u1', action: 'addAuthenticator', attributes: { scope: 'add:authenticators' } })
  browser.setToken(token)
  const enrolled = await browser.totp.enroll()
  t.same(Object.keys(enrolled.data ?? {}).sort(), ['secret', 'uri', 'userAuthenticatorId', 'userId'])
  t.match(enrolled.data, { userId: 'u1', userAuthenticatorId: /^[0-9a-f-]{36}$/, secret: /^[A-Z2-7]{32}$/ })
  const secret = enrolled.data?.secret as string
  const parsed = OTPAuth.URI.parse(enrolled.data?.uri as string)
  t.ok(parsed instanceof OTPAuth.TOTP)
  t.match(parsed, { issuer: 'Authsignal emulator', label: 'a@example.com', algorithm: 'SHA1', digits: 6, period: 30 })
  t.equal(parsed.secret.base32, secret)
  t.same((await sdk.getAuthenticators({ userId: 'u1' })).map((a) => a.verificationMethod), ['EMAIL_OTP'], 'not listed before a code verifies')
  const request = emu.requests.find((r) => r.path === '/v1/client/user-authenticators/totp')
  t.match(request, { method: 'POST', body: undefined, authorized: true }, 'enroll sends no body')

  t.match(await browser.totp.verify({ code: otherThan(code(secret)) }), { data: { isVerified: false, failureReason: 'CODE_INVALID_OR_EXPIRED' } })
  const verified = await browser.totp.verify({ code: code(secret) })
  t.match(verified, {
    data: {
      isVerified: true,
      token: String,
      userAuthenticator: { userAuthenticatorId: enrolled.data?.userAuthenticatorId, verificationMethod: 'AUTHENTICATOR_APP', verifiedAt: String, lastVerifiedAt: String }
    }
  })
  t.same(emu.requests.filter((r) => r.path === '/v1/client/verify/totp').map((r) => Object.keys(r.body as object)), [['verificationCode'], ['verificationCode']])
  t.match(await sdk.getAuthenticators({ userId: 'u1' }), [{ verificationMethod: 'EMAIL_OTP' }, { userId: 'u1', verificationMethod: 'AUTHENTICATOR_APP', userAuthenticatorId: enrolled.data?.userAuthenticatorId }])
  t.match(await sdk.validateChallenge({ token: verified.data?.token as string }), { isValid: true, state: 'CHALLENGE_SUCCEEDED', verificationMethod: 'AUTHENTICATOR_APP', idempotencyKey })
  t.same(changes.map((c) => [c.type, c.authenticator.verificationMethod]), [['authenticator.created', 'AUTHENTICATOR_APP']])
})

t.test('totp.verify with an action\'s token is the challenge of the enrolled app: the action succeeds by it', async (t) => {
  const started = await start(t)
  const { emu, sdk, browser } = started
  const { secret, userAuthenticatorId } = await enrolApp(started, 'u1')
  const before = emu.authenticators('u1')[0]?.lastVerifiedAt as string
  const { token, state, idempotencyKey } = await sdk.track({ userId: 'u1', action: 'removeAuthenticator' })
  t.equal(state, 'ALLOW', 'no rules: Authsignal allows; the client may still complete a challenge')
  browser.setToken(token)
  const verified = await browser.totp.verify({ code: code(secret, 30) }) // next time step: the enrolment's code is spent
  t.match(verified, { data: { isVerified: true, token: String } })
  t.notOk('userAuthenticator' in (verified.data ?? {}), 'no authenticator in a challenge')
  t.match(await sdk.validateChallenge({ token, action: 'removeAuthenticator', userId: 'u1' }), { isValid: true, verificationMethod: 'AUTHENTICATOR_APP' })
  t.match(await sdk.queryUserActions({ userId: 'u1', actionCodes: ['removeAuthenticator'] }), [{ idempotencyKey, verifiedByAuthenticatorId: userAuthenticatorId }])
  t.ok((emu.authenticators('u1')[0]?.lastVerifiedAt as string) > before, 'lastVerifiedAt moved')
  t.equal(emu.authenticators('u1').length, 1)
})

t.test('a code is good once: replayed for another action it is refused (RFC 6238 section 5.2)', async (t) => {
  const started = await start(t)
  const { sdk, browser } = started
  const { secret, used } = await enrolApp(started, 'u1')
  const { token } = await sdk.track({ userId: 'u1', action: 'signIn' })
  browser.setToken(token)
  t.match(await browser.totp.verify({ code: used }), { data: { isVerified: false, failureReason: 'CODE_INVALID_OR_EXPIRED' } })
  const ahead = code(secret, 30)
  t.match(await browser.totp.verify({ code: ahead }), { data: { isVerified: true } })
  const next = await sdk.track({ userId: 'u1', action: 'signIn' })
  browser.setToken(next.token)
  t.match(await browser.totp.verify({ code: ahead }), { data: { isVerified: false } }, 'nor twice in its own time step')
  t.match(await browser.totp.verify({ code: code(secret, 120) }), { data: { isVerified: false } }, 'nor a code from too far ahead')
})

t.test('the fifth wrong code is MAX_ATTEMPTS_EXCEEDED, and then even the right one is refused', async (t) => {
  const started = await start(t)
  const { sdk, browser } = started
  const { secret } = await enrolApp(started, 'u1')
  const { token } = await sdk.track({ userId: 'u1', action: 'signIn' })
  browser.setToken(token)
  const wrong = otherThan(code(secret, 30))
  for (let i = 1; i < 5; i++) t.match(await browser.totp.verify({ code: wrong }), { data: { failureReason: 'CODE_INVALID_OR_EXPIRED' } })
  t.match(await browser.totp.verify({ code: wrong }), { data: { isVerified: false, failureReason: 'MAX_ATTEMPTS_EXCEEDED' } })
  t.match(await browser.totp.verify({ code: code(secret, 30) }), { data: { isVerified: false, failureReason: 'MAX_ATTEMPTS_EXCEEDED' } })
  t.match(await sdk.validateChallenge({ token }), { isValid: false, state: 'ALLOW' })
})

t.test('verify/totp for a user without an app is 400; a second app needs the add:authenticators scope', async (t) => {
  const started = await start(t)
  const { emu, sdk, browser } = started
  const { token } = await sdk.track({ userId: 'u1', action: 'signIn' })
  browser.setToken(token)
  t.match(await browser.totp.verify({ code: '123456' }), { errorCode: 'invalid_request' })
  await enrolApp(started, 'u1')
  const plain = await sdk.track({ userId: 'u1', action: 'addAuthenticator' })
  browser.setToken(plain.token)
  t.match(await browser.totp.enroll(), { errorCode: 'forbidden' })
  t.equal(emu.authenticators('u1').length, 1)
})

t.test('with an enrolment under way, a code of the app already enrolled is a challenge, not the enrolment', async (t) => {
  const started = await start(t)
  const { emu, sdk, browser } = started
  const first = await enrolApp(started, 'u1')
  const { token } = await sdk.track({ userId: 'u1', action: 'addAuthenticator', attributes: { scope: 'add:authenticators' } })
  browser.setToken(token)
  const second = await browser.totp.enroll()
  t.match(await browser.totp.verify({ code: code(first.secret, 30) }), { data: { isVerified: true } })
  t.same(emu.authenticators('u1').map((a) => a.userAuthenticatorId), [first.userAuthenticatorId])
  const verified = await browser.totp.verify({ code: code(second.data?.secret as string) })
  t.match(verified, { data: { isVerified: true, userAuthenticator: { userAuthenticatorId: second.data?.userAuthenticatorId } } })
  t.equal(emu.authenticators('u1').length, 2)
  emu.reset()
  t.same(emu.authenticators('u1'), [])
})
