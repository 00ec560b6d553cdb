// The emulator's passkey client API at the HTTP level, without a browser: the options it makes, and every
// request it refuses before or instead of a WebAuthn verification; and what it lists about a passkey
// (provider names by AAGUID, the parsed user agent). The full ceremonies are in authsignal-emulator-passkey.
import t, { type Test } from 'tap'
import { Authsignal } from '@authsignal/node'
import { startAuthsignalEmulator, type AuthsignalEmulator, type AuthsignalEmulatorOptions } from '../lib/testing/authsignal-emulator.js'
import { aaguidMapping, credentialName, parseUserAgent } from '../lib/testing/emulator/passkey-metadata.js'

interface Started { emu: AuthsignalEmulator, sdk: Authsignal }

async function start (t: Test, opts?: AuthsignalEmulatorOptions): Promise<Started> {
  const emu = await startAuthsignalEmulator(opts)
  t.teardown(() => emu.close())
  return { emu, sdk: new Authsignal({ apiSecretKey: emu.secret, apiUrl: emu.apiUrl, retries: 0 }) }
}

// A client API POST as @authsignal/browser sends it: with the token, or else Basic auth on the tenant id.
async function call (emu: AuthsignalEmulator, path: string, auth: { token: string } | { basic: string }, body?: unknown): Promise<{ status: number, json: Record<string, unknown> }> {
  const res = await fetch(`${emu.apiUrl}/client/${path}`, {
    method: 'POST',
    headers: { authorization: 'token' in auth ? `Bearer ${auth.token}` : `Basic ${auth.basic}`, 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {})
  })
  return { status: res.status, json: await res.json() as Record<string, unknown> }
}

// What the browser SDK sends for the tenant: window.btoa(encodeURIComponent(tenantId)).
function tenant (emu: AuthsignalEmulator): { basic: string } {
  return { basic: Buffer.from(encodeURIComponent(emu.tenantId)).toString('base64') }
}

t.test('registration options: RP, user handle, username and display name, attachment, challenge kept server-side', async (t) => {
  const { emu, sdk } = await start(t, { webauthn: { rpId: 'app.localhost', rpName: 'My app' } })
  t.same({ rpId: emu.webauthn.rpId, rpName: emu.webauthn.rpName }, { rpId: 'app.localhost', rpName: 'My app' })
  const { token } = await sdk.track({ userId: 'jürgen', action: 'addAuthenticator' })
  const { status, json } = await call(emu, 'user-authenticators/passkey/registration-options', { token }, { username: 'jane@example.com', displayName: 'Jane', authenticatorAttachment: 'cross-platform' })
  t.equal(status, 200)
  t.match(json, {
    challengeId: /^[0-9a-f-]{36}$/,
    options: {
      challenge: /^[\w-]{20,}$/,
      rp: { id: 'app.localhost', name: 'My app' },
      user: { id: emu.webauthn.userHandle('jürgen'), name: 'jane@example.com', displayName: 'Jane' },
      pubKeyCredParams: [{ alg: -7, type: 'public-key' }, { alg: -257, type: 'public-key' }],
      attestation: 'none',
      excludeCredentials: [],
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'preferred', authenticatorAttachment: 'cross-platform' }
    }
  })
  t.equal(emu.webauthn.userHandle('jürgen'), Buffer.from('jürgen').toString('base64url'), 'the UTF-8 bytes of the user id, base64url')

  const defaults = await start(t)
  t.same({ rpId: defaults.emu.webauthn.rpId, rpName: defaults.emu.webauthn.rpName }, { rpId: 'localhost', rpName: 'Authsignal emulator' })
  defaults.emu.seedAuthenticator('u1', { verificationMethod: 'EMAIL_OTP', email: 'a@example.com' })
  const scoped = await defaults.sdk.track({ userId: 'u1', action: 'addAuthenticator', attributes: { scope: 'add:authenticators' } })
  const plain = await call(defaults.emu, 'user-authenticators/passkey/registration-options', { token: scoped.token }, { authenticatorAttachment: 'sideways' })
  t.match(plain.json, { options: { rp: { id: 'localhost' }, user: { name: 'a@example.com', displayName: 'a@example.com' } } })
  t.notOk('authenticatorAttachment' in (plain.json.options as { authenticatorSelection: object }).authenticatorSelection)
})

t.test('registration: refused without scope for an enrolled user, for an unknown challenge, and for a bad attestation', async (t) => {
  const { emu, sdk } = await start(t)
  const { token } = await sdk.track({ userId: 'u1', action: 'addAuthenticator' })
  const { json } = await call(emu, 'user-authenticators/passkey/registration-options', { token })
  const challengeId = json.challengeId as string
  for (const [body, code] of [[{ challengeId: 'nope' }, 'invalid_request'], [{}, 'invalid_request'], [{ challengeId, registrationCredential: 'junk' }, 'invalid_credential']] as const) {
    const res = await call(emu, 'user-authenticators/passkey', { token }, body)
    t.match(res, { status: 400, json: { errorCode: code, errorDescription: String } }, JSON.stringify(body))
  }
  t.match(await call(emu, 'user-authenticators/passkey', { token }, { challengeId }), { status: 400, json: { errorCode: 'invalid_request' } }, 'the challenge was spent by the bad attestation')

  // Options issued while the user had no authenticator; one was added since: the scope rule holds at the end too.
  const fresh = await call(emu, 'user-authenticators/passkey/registration-options', { token })
  emu.seedAuthenticator('u1', { verificationMethod: 'SMS' })
  t.match(await call(emu, 'user-authenticators/passkey', { token }, { challengeId: fresh.json.challengeId }), { status: 403, json: { errorCode: 'forbidden' } })
  t.match(await call(emu, 'user-authenticators/passkey/registration-options', { token }), { status: 403, json: { errorCode: 'forbidden', errorDescription: /add:authenticators/ } })
  t.equal(emu.authenticators('u1').length, 1)
})

t.test('sign-in without a token: the tenant id as Basic auth, an action to start, challenges good once', async (t) => {
  const { emu, sdk } = await start(t, { tenantId: 'tenant/ü' })
  for (const action of [undefined, '', 'sign in', 'x'.repeat(65)]) {
    t.match(await call(emu, 'challenge', tenant(emu), { action }), { status: 400, json: { errorCode: 'invalid_request', errorDescription: /action/ } }, String(action))
  }
  const started = await call(emu, 'challenge', tenant(emu), { action: 'login' })
  t.match(started, { status: 200, json: { challengeId: /^[0-9a-f-]{36}$/ } })
  const { challengeId } = started.json
  t.match(await call(emu, 'verify/passkey', tenant(emu), { challengeId }), { status: 400, json: { errorCode: 'invalid_request' } }, 'no options asked yet')
  const options = await call(emu, 'user-authenticators/passkey/authentication-options', tenant(emu), { challengeId })
  t.match(options, { status: 200, json: { challengeId, options: { challenge: String, rpId: 'localhost', allowCredentials: [], userVerification: 'preferred' } } })
  t.match(await call(emu, 'user-authenticators/passkey/authentication-options', tenant(emu), { challengeId }), { status: 400 }, 'one set of options a challenge')
  t.match(await call(emu, 'user-authenticators/passkey/authentication-options', tenant(emu), { challengeId: 'nope' }), { status: 400 })
  t.match(await call(emu, 'verify/passkey', tenant(emu), { challengeId, authenticationCredential: { id: 'unknown' } }), { status: 400, json: { errorCode: 'unknown_credential' } })
  t.match(await call(emu, 'verify/passkey', tenant(emu), { challengeId, authenticationCredential: 'junk' }), { status: 400, json: { errorCode: 'invalid_request' } }, 'spent')

  // The docs' form of the same credentials (`tenant:`), and refusals of anything else.
  const docs = Buffer.from(`${encodeURIComponent(emu.tenantId)}:`).toString('base64')
  t.equal((await call(emu, 'challenge', { basic: docs }, { action: 'login' })).status, 200)
  for (const basic of [Buffer.from('other').toString('base64'), Buffer.from('%E0%A4%A').toString('base64')]) {
    t.match(await call(emu, 'challenge', { basic }, { action: 'login' }), { status: 401, json: { errorCode: 'unauthorized' } })
  }
  const noToken = await fetch(`${emu.apiUrl}/client/challenge`, { method: 'POST', body: '{"action":"login"}' })
  t.equal(noToken.status, 401)
  t.match(await call(emu, 'user-authenticators/passkey/registration-options', tenant(emu)), { status: 401 }, 'enrolment always needs a token')

  // Under a token, the options offer the user's passkeys only, and a token-less ceremony is not the token's.
  const { token } = await sdk.track({ userId: 'u1', action: 'signIn' })
  const mine = await call(emu, 'user-authenticators/passkey/authentication-options', { token }, {})
  t.match(mine.json, { challengeId: String, options: { allowCredentials: [] } })
  const other = await call(emu, 'user-authenticators/passkey/authentication-options', tenant(emu), {})
  const junk = await call(emu, 'user-authenticators/passkey/authentication-options', tenant(emu), {})
  t.match(await call(emu, 'verify/passkey', tenant(emu), { challengeId: junk.json.challengeId, authenticationCredential: 'junk' }), { status: 400, json: { errorCode: 'unknown_credential' } })
  t.match(await call(emu, 'verify/passkey', { token }, { challengeId: other.json.challengeId }), { status: 400, json: { errorCode: 'invalid_request' } })
  const registration = await call(emu, 'user-authenticators/passkey/registration-options', { token })
  t.match(await call(emu, 'verify/passkey', { token }, { challengeId: registration.json.challengeId }), { status: 400, json: { errorCode: 'invalid_request' } }, 'a registration challenge is not an authentication one')
  emu.reset()
  t.match(await call(emu, 'challenge', tenant(emu), { action: 'login' }), { status: 200 }, 'reset keeps the tenant')
})

t.test('passkey metadata: provider names by AAGUID, a name from the user agent otherwise', async (t) => {
  t.match(aaguidMapping('EA9B8D66-4D01-1D21-3CE4-B6B48CB575D4'), { name: 'Google Password Manager', svgIconLight: /^data:image\/svg\+xml;base64,/, svgIconDark: /^data:image\/svg\+xml;base64,/ })
  t.equal(aaguidMapping('fbfc3007-154e-4ecc-8c0b-6e020557d7bd')?.name, 'iCloud Keychain')
  t.equal(aaguidMapping('01020304-0506-0708-0102-030405060708'), undefined)
  const chrome = parseUserAgent('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36')
  t.equal(credentialName('bada5566-a7aa-401f-bd96-45619a55120d', chrome), '1Password')
  t.equal(credentialName('00000000-0000-0000-0000-000000000000', chrome), 'Chrome on Linux')
  t.equal(credentialName('00000000-0000-0000-0000-000000000000', parseUserAgent('curl/8.0')), 'Passkey')
  t.equal(credentialName('00000000-0000-0000-0000-000000000000', undefined), 'Passkey')
})

t.test('passkey metadata: the user agent parsed as Authsignal lists it', async (t) => {
  t.equal(parseUserAgent(undefined), undefined)
  const cases: Array<[string, object]> = [
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
      { browser: { name: 'Chrome', version: '140.0.0.0', major: '140' }, engine: { name: 'Blink' }, os: { name: 'Linux' }, cpu: { architecture: 'amd64' } }],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/140.0.0.0 Safari/537.36',
      { browser: { name: 'Chrome Headless', major: '140' } }],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86',
      { browser: { name: 'Edge', version: '131.0.2903.86', major: '131' }, os: { name: 'Windows', version: '10.0' } }],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7; rv:133.0) Gecko/20100101 Firefox/133.0',
      { browser: { name: 'Firefox', major: '133' }, engine: { name: 'Gecko' }, os: { name: 'Mac OS', version: '10.15.7' }, cpu: {} }],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      { browser: { name: 'Safari', version: '17.5' }, engine: { name: 'WebKit' }, os: { name: 'iOS', version: '17.5' } }],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
      { os: { name: 'Android', version: '14' } }],
    ['curl/8.0', { ua: 'curl/8.0', browser: {}, device: {}, engine: {}, os: {}, cpu: {} }]
  ]
  for (const [ua, expected] of cases) t.match(parseUserAgent(ua), { ua, device: {}, ...expected }, ua)
})
