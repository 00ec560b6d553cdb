// Passkeys against the emulator, end to end: the real @authsignal/browser SDK in headless Chromium with the
// DevTools virtual authenticator, on a page served from localhost (WebAuthn refuses IP addresses as RP ids),
// and the real @authsignal/node SDK on the server side. The emulator verifies with @simplewebauthn/server.
import t, { type Test } from 'tap'
import { createServer } from 'node:http'
import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { Authsignal } from '@authsignal/node'
import type { Page, Route } from 'playwright-core'
import { startAuthsignalEmulator, type AuthenticatorChange, type AuthsignalEmulator, type AuthsignalEmulatorOptions } from '../lib/testing/authsignal-emulator.js'
import { addVirtualAuthenticator, launchChromium, type VirtualAuthenticator } from './chromium.js'

const SDK = new URL('../node_modules/@authsignal/browser/dist/index.js', import.meta.url)
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>loading</title></head><body>
<script type="module">
import { Authsignal } from '/sdk.js'
window.Authsignal = Authsignal
document.title = 'ready'
</script></body></html>`

// What the SDK's passkey calls resolve to, or what they threw (a WebAuthn refusal in the browser).
interface SdkResult {
  data?: Record<string, unknown> & { token?: string, userAuthenticator?: Record<string, unknown>, registrationResponse?: { id: string } }
  error?: string
  errorCode?: string
  errorDescription?: string
  thrown?: string
  elapsedMs: number // the SDK call alone, measured in the page
}

interface Harness {
  emu: AuthsignalEmulator
  sdk: Authsignal
  page: Page
  origin: string
  authenticator: VirtualAuthenticator
  signUp: (params: Record<string, unknown>) => Promise<SdkResult>
  signIn: (params: Record<string, unknown>) => Promise<SdkResult>
}

// Serves the page and the SDK's ES module (self-contained) from 127.0.0.1, opened as http://localhost:PORT.
async function servePage (t: Test): Promise<string> {
  const sdk = await readFile(SDK)
  const server = createServer((req, res) => {
    const js = req.url === '/sdk.js'
    res.writeHead(js || req.url === '/' ? 200 : 404, { 'content-type': js ? 'text/javascript' : 'text/html; charset=utf-8' })
    res.end(js ? sdk : PAGE)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://localhost:${(server.address() as AddressInfo).port}`
}

async function harness (t: Test, opts?: AuthsignalEmulatorOptions | ((origin: string) => AuthsignalEmulatorOptions)): Promise<Harness | undefined> {
  const browser = await launchChromium(t)
  if (browser === undefined) return undefined
  const origin = await servePage(t)
  const emu = await startAuthsignalEmulator(typeof opts === 'function' ? opts(origin) : opts)
  t.teardown(() => emu.close())
  const context = await browser.newContext()
  context.setDefaultTimeout(15_000)
  const page = await context.newPage()
  const authenticator = await addVirtualAuthenticator(context, page)
  await page.goto(`${origin}/`)
  await page.waitForFunction(() => document.title === 'ready')
  const call = (method: 'signUp' | 'signIn') => async (params: Record<string, unknown>): Promise<SdkResult> =>
    await page.evaluate(async ({ method, params, cfg }) => {
      const { Authsignal: Sdk } = globalThis as unknown as { Authsignal: new (o: object) => { passkey: Record<string, (p: object) => Promise<SdkResult>> } }
      const started = performance.now()
      try {
        const result = await new Sdk(cfg).passkey[method]?.(params) as SdkResult
        return { ...result, elapsedMs: performance.now() - started }
      } catch (err) {
        return { thrown: String(err), elapsedMs: performance.now() - started }
      }
    }, { method, params, cfg: { tenantId: emu.tenantId, baseUrl: emu.apiUrl } })
  return {
    emu,
    sdk: new Authsignal({ apiSecretKey: emu.secret, apiUrl: emu.apiUrl, retries: 0 }),
    page,
    origin,
    authenticator,
    signUp: call('signUp'),
    signIn: call('signIn')
  }
}

async function enrol (h: Harness, userId: string, attributes?: { scope?: string }): Promise<SdkResult> {
  const { token } = await h.sdk.track({ userId, action: 'addAuthenticator', attributes })
  return await h.signUp({ token })
}

t.test('signUp: options, then a verified attestation adds a passkey listed as Authsignal lists one', async (t) => {
  const changes: AuthenticatorChange[] = []
  const h = await harness(t, { onAuthenticatorChange: (c) => changes.push(c) })
  if (h === undefined) return
  const { emu, sdk } = h
  const signedUp = await enrol(h, 'u1')
  t.match(signedUp, { data: { token: String, userAuthenticator: { verificationMethod: 'PASSKEY' }, registrationResponse: { id: String } } })
  const credentialId = signedUp.data?.registrationResponse?.id as string

  const [listed] = await sdk.getAuthenticators({ userId: 'u1' })
  t.match(listed, {
    userId: 'u1',
    userAuthenticatorId: signedUp.data?.userAuthenticator?.userAuthenticatorId,
    verificationMethod: 'PASSKEY',
    createdAt: String,
    verifiedAt: String,
    lastVerifiedAt: String,
    username: 'u1',
    displayName: 'u1',
    webauthnCredential: {
      credentialId,
      deviceId: /^[0-9a-f-]{36}$/,
      name: 'Chrome on Linux',
      aaguid: '01020304-0506-0708-0102-030405060708', // what Chromium's virtual authenticator reports
      credentialBackedUp: false,
      credentialDeviceType: 'singleDevice',
      authenticatorAttachment: 'platform',
      parsedUserAgent: { ua: /HeadlessChrome/, browser: { name: 'Chrome Headless', major: /^\d+$/ }, os: { name: 'Linux' }, engine: { name: 'Blink' } }
    }
  })
  t.notOk('aaguidMapping' in (listed?.webauthnCredential ?? {}), 'no provider is known for the virtual authenticator\'s AAGUID')
  t.same(Object.keys(listed ?? {}).sort(), ['createdAt', 'displayName', 'lastVerifiedAt', 'userAuthenticatorId', 'userId', 'username', 'verificationMethod', 'verifiedAt', 'webauthnCredential'])

  // The browser's own record of the passkey: same credential id, and the user handle the emulator says.
  const [stored] = await h.authenticator.credentials()
  t.equal(Buffer.from(stored?.credentialId as string, 'base64').toString('base64url'), credentialId)
  t.equal(Buffer.from(stored?.userHandle as string, 'base64').toString('base64url'), emu.webauthn.userHandle('u1'))
  t.equal(stored?.rpId, 'localhost')
  t.equal(stored?.isResidentCredential, true)

  t.match(await sdk.validateChallenge({ token: signedUp.data?.token as string }), { isValid: true, state: 'CHALLENGE_SUCCEEDED', verificationMethod: 'PASSKEY', userId: 'u1' })
  t.same(changes.map((c) => [c.type, c.authenticator.userAuthenticatorId]), [['authenticator.created', listed?.userAuthenticatorId]])

  // Exactly the requests @authsignal/browser 1.16 makes for signUp({ token }).
  const client = emu.requests.filter((r) => r.path.startsWith('/v1/client/') && r.method === 'POST')
  t.same(client.map((r) => r.path), ['/v1/client/user-authenticators/passkey/registration-options', '/v1/client/user-authenticators/passkey'])
  t.same(client[0]?.body, { authenticatorAttachment: 'platform' })
  t.same(Object.keys(client[1]?.body as object), ['registrationCredential', 'conditionalCreate', 'challengeId'])
  t.equal((client[1]?.body as { conditionalCreate: boolean }).conditionalCreate, false)
})

t.test('signIn with an action\'s token: the challenge succeeds with PASSKEY, by that passkey, and its lastVerifiedAt moves', async (t) => {
  const h = await harness(t)
  if (h === undefined) return
  const { emu, sdk } = h
  await emu.seedAuthenticator('u1', { verificationMethod: 'EMAIL_OTP', email: 'a@example.com' })
  const signedUp = await enrol(h, 'u1', { scope: 'add:authenticators' })
  const passkeyId = signedUp.data?.userAuthenticator?.userAuthenticatorId as string
  const before = emu.authenticators('u1').find((a) => a.userAuthenticatorId === passkeyId)?.lastVerifiedAt as string
  const changes: AuthenticatorChange[] = []
  emu.events.on('authenticatorChange', (c) => changes.push(c))
  emu.clearRequests()

  const { token, state, idempotencyKey } = await sdk.track({ userId: 'u1', action: 'removeAuthenticator' })
  t.equal(state, 'ALLOW', 'no rules: Authsignal allows; the client may still complete a challenge')
  const signedIn = await h.signIn({ token })
  t.match(signedIn, { data: { isVerified: true, token: String, userId: 'u1', userAuthenticatorId: passkeyId, username: 'a@example.com', displayName: 'a@example.com' } })

  for (const tok of [token, signedIn.data?.token as string]) {
    t.same(await sdk.validateChallenge({ token: tok, userId: 'u1', action: 'removeAuthenticator' }), {
      action: 'removeAuthenticator',
      isValid: true,
      state: 'CHALLENGE_SUCCEEDED',
      stateUpdatedAt: (await sdk.getAction({ userId: 'u1', action: 'removeAuthenticator', idempotencyKey })).stateUpdatedAt,
      userId: 'u1',
      idempotencyKey,
      verificationMethod: 'PASSKEY'
    })
  }
  t.match(await sdk.queryUserActions({ userId: 'u1', actionCodes: ['removeAuthenticator'] }), [{ idempotencyKey, state: 'CHALLENGE_SUCCEEDED', verificationMethod: 'PASSKEY', verifiedByAuthenticatorId: passkeyId }])
  const after = emu.authenticators('u1').find((a) => a.userAuthenticatorId === passkeyId)?.lastVerifiedAt as string
  t.ok(after > before, 'lastVerifiedAt moved')
  t.same(changes.map((c) => [c.type, c.authenticator.userAuthenticatorId, c.authenticator.lastVerifiedAt]), [['authenticator.updated', passkeyId, after]])

  // Exactly the requests @authsignal/browser 1.16 makes for signIn({ token }).
  const client = emu.requests.filter((r) => r.path.startsWith('/v1/client/') && r.method === 'POST')
  t.same(client.map((r) => r.path), ['/v1/client/user-authenticators/passkey/authentication-options', '/v1/client/verify/passkey'])
  t.same(client[0]?.body, {})
  t.same(Object.keys(client[1]?.body as object), ['authenticationCredential', 'deviceId', 'challengeId'])
})

t.test('signIn with an action and no token: the passkey names the user, and the action is created for them', async (t) => {
  const h = await harness(t)
  if (h === undefined) return
  const { emu, sdk } = h
  const signedUp = await enrol(h, 'u1')
  emu.clearRequests()
  const signedIn = await h.signIn({ action: 'login' })
  t.match(signedIn, { data: { isVerified: true, token: String, userId: 'u1', userAuthenticatorId: signedUp.data?.userAuthenticator?.userAuthenticatorId } })
  t.match(await sdk.validateChallenge({ token: signedIn.data?.token as string }), { isValid: true, action: 'login', userId: 'u1', verificationMethod: 'PASSKEY' })
  const client = emu.requests.filter((r) => r.path.startsWith('/v1/client/') && r.method === 'POST')
  t.same(client.map((r) => r.path), ['/v1/client/challenge', '/v1/client/user-authenticators/passkey/authentication-options', '/v1/client/verify/passkey'])
  t.same(client[0]?.body, { action: 'login' })
  const { challengeId } = client[2]?.body as { challengeId: string }
  t.same(client[1]?.body, { challengeId }, 'the options and the verification name the challenge the first step made')
  t.equal(client.every((r) => r.authorized), true, 'the tenant id as Basic auth')

  // No action and no token either: the emulator names the action signInWithPasskey.
  const plain = await h.signIn({})
  t.match(await sdk.validateChallenge({ token: plain.data?.token as string }), { isValid: true, action: 'signInWithPasskey', userId: 'u1' })
})

t.test('a passkey is refused when the page\'s origin is not allowed, or the credential was made for another RP id', async (t) => {
  const refusedOrigin = await harness(t, { webauthn: { origins: ['http://localhost:1'] } })
  if (refusedOrigin === undefined) return
  const byOrigin = await enrol(refusedOrigin, 'u1')
  t.match(byOrigin, { errorCode: 'invalid_credential', errorDescription: /origin/i })
  t.same(refusedOrigin.emu.authenticators('u1'), [])

  // The emulator expects RP id app.localhost; the browser is told rp.id localhost (the options rewritten
  // on the way) and signs for that: the attestation's RP id hash is not the one expected.
  const otherRp = await harness(t, (origin) => ({ webauthn: { rpId: 'app.localhost', origins: [origin] } }))
  if (otherRp === undefined) return
  await otherRp.page.route(`${otherRp.emu.apiUrl}/client/user-authenticators/passkey/registration-options`, async (route: Route) => {
    const answer = await route.fetch()
    const json = await answer.json() as { options: { rp: { id: string } } }
    json.options.rp.id = 'localhost'
    await route.fulfill({ response: answer, json })
  })
  t.match(await enrol(otherRp, 'u1'), { errorCode: 'invalid_credential', errorDescription: /RP ID/i })
  t.same(otherRp.emu.authenticators('u1'), [])
})

t.test('a second passkey needs the add:authenticators scope, and the passkeys already there are excluded', async (t) => {
  const h = await harness(t)
  if (h === undefined) return
  const first = await enrol(h, 'u1')
  t.match(await enrol(h, 'u1'), { errorCode: 'forbidden', errorDescription: /add:authenticators/ })
  // The browser refuses to make a second passkey on an authenticator that holds an excluded one.
  const again = await enrol(h, 'u1', { scope: 'add:authenticators' })
  t.match(again, { thrown: /InvalidStateError|already registered|excluded/i })
  const options = h.emu.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/registration-options')).length
  t.equal(options, 3)
  t.same(h.emu.authenticators('u1').map((a) => a.webauthnCredential?.credentialId), [first.data?.registrationResponse?.id])
})

t.test('signIn refuses another user\'s passkey, a tampered signature, a tampered user handle, and a removed passkey', async (t) => {
  const h = await harness(t)
  if (h === undefined) return
  const { emu, sdk, page } = h
  const signedUp = await enrol(h, 'u1')
  const passkeyId = signedUp.data?.userAuthenticator?.userAuthenticatorId as string
  await emu.seedAuthenticator('u2', { verificationMethod: 'EMAIL_OTP', email: 'b@example.com' })
  const other = await sdk.track({ userId: 'u2', action: 'signIn' })
  t.match(await h.signIn({ token: other.token }), { errorCode: 'unknown_credential' })
  t.match(await sdk.validateChallenge({ token: other.token }), { isValid: false, state: 'ALLOW' })

  // Signs in with a fresh token, the assertion changed on its way to the emulator; says if the action succeeded.
  const tampered = async (change: (credential: { response: { signature: string, userHandle?: string } }) => void): Promise<{ result: SdkResult, succeeded: boolean }> => {
    await page.route(`${emu.apiUrl}/client/verify/passkey`, async (route: Route) => {
      const body = route.request().postDataJSON() as { authenticationCredential: { response: { signature: string, userHandle?: string } } }
      change(body.authenticationCredential)
      await route.continue({ postData: JSON.stringify(body) })
    })
    const { token } = await sdk.track({ userId: 'u1', action: 'signIn' })
    const result = await h.signIn({ token })
    await page.unroute(`${emu.apiUrl}/client/verify/passkey`)
    return { result, succeeded: (await sdk.validateChallenge({ token })).isValid }
  }
  t.match(await tampered((c) => {
    const signature = Buffer.from(c.response.signature, 'base64url')
    signature.writeUInt8(signature.readUInt8(signature.length - 1) ^ 1, signature.length - 1)
    c.response.signature = signature.toString('base64url')
  }), { result: { errorCode: 'invalid_credential', errorDescription: /signature/ }, succeeded: false })
  t.match(await tampered((c) => { c.response.userHandle = emu.webauthn.userHandle('u2') }), { result: { errorCode: 'invalid_credential', errorDescription: /user handle/ }, succeeded: false })
  // The user handle is not signed and WebAuthn makes it optional: without it the passkey still verifies.
  t.match(await tampered((c) => { delete c.response.userHandle }), { result: { data: { isVerified: true } }, succeeded: true })

  await sdk.deleteAuthenticator({ userId: 'u1', userAuthenticatorId: passkeyId })
  const { token } = await sdk.track({ userId: 'u1', action: 'signIn' })
  t.match(await h.signIn({ token }), { errorCode: 'unknown_credential' })
})

t.test('a spent registration challenge cannot add the same passkey again', async (t) => {
  const h = await harness(t)
  if (h === undefined) return
  const { emu, sdk } = h
  const { token } = await sdk.track({ userId: 'u1', action: 'addAuthenticator', attributes: { scope: 'add:authenticators' } })
  t.match(await h.signUp({ token }), { data: { token: String } })
  const add = emu.requests.find((r) => r.path === '/v1/client/user-authenticators/passkey')
  const replay = await fetch(`${emu.apiUrl}/client/user-authenticators/passkey`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(add?.body)
  })
  t.equal(replay.status, 400)
  t.match(await replay.json(), { errorCode: 'invalid_request', errorDescription: /challengeId/ })
  t.equal(emu.authenticators('u1').length, 1)
})

t.test('timings: passkey enrolment and sign-in through the emulator (median of five, not asserted)', async (t) => {
  const h = await harness(t)
  if (h === undefined) return
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
  const signUps: number[] = []
  const signIns: number[] = []
  for (let i = 0; i < 5; i++) {
    const signedUp = await enrol(h, `timing-${i}`)
    t.ok(signedUp.data?.token, `enrolment ${i} verified`)
    signUps.push(signedUp.elapsedMs)
    const { token } = await h.sdk.track({ userId: `timing-${i}`, action: 'signIn' })
    const signedIn = await h.signIn({ token })
    t.equal(signedIn.data?.isVerified, true, `sign-in ${i} verified`)
    signIns.push(signedIn.elapsedMs)
    await h.authenticator.clear()
  }
  t.comment(`passkey signUp (registration options + create + add authenticator): median ${median(signUps).toFixed(1)} ms of ${signUps.map((ms) => ms.toFixed(1)).join(', ')}`)
  t.comment(`passkey signIn with a token (authentication options + get + verify): median ${median(signIns).toFixed(1)} ms of ${signIns.map((ms) => ms.toFixed(1)).join(', ')}`)
})
