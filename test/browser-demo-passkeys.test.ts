// The demo page of `npm run dev` with passkeys and an authenticator app, in headless Chromium with the
// DevTools WebAuthn virtual authenticator (a laptop's built-in one): create a passkey, set up an
// authenticator app (its codes computed here with otpauth from the secret the page shows), see both listed
// (the passkey's provider name, synced or not), remove with step-ups of another factor (a passkey sign-in, an
// app code), see a passkey's own challenge refused for itself, and after its removal the page's
// signalAllAcceptedCredentials drop it from the authenticator. Ends with the README screenshot
// (docs/browser-demo.png, rewritten only with UPDATE_SCREENSHOT=1, so a test run leaves the work tree clean).
import t from 'tap'
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as OTPAuth from 'otpauth'
import { addVirtualAuthenticator, type VirtualAuthenticator } from './chromium.js'
import { openDemo } from './demo-page.js'

const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1'
  ? fileURLToPath(new URL('../docs/browser-demo.png', import.meta.url))
  : join(tmpdir(), `browser-demo-${process.pid}.png`)

// The code an authenticator app shows, `stepsAhead` 30-second steps from now (a code is good once per step).
function totp (secret: string, stepsAhead = 0): string {
  return OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp: Date.now() + stepsAhead * 30_000 })
}

const b64url = (base64: string): string => Buffer.from(base64, 'base64').toString('base64url')

t.test('the demo page: a passkey and an authenticator app, listed, removed with step-ups of another factor, the browser told', async (t) => {
  let authenticator: VirtualAuthenticator | undefined
  const demo = await openDemo(t, async (context, page) => { authenticator = await addVirtualAuthenticator(context, page) })
  if (demo === undefined || authenticator === undefined) return
  const { server, page, rows, text, remove } = demo
  const sub = JSON.parse(Buffer.from((server.token as string).split('.')[1] as string, 'base64url').toString('utf8')).sub as string
  t.equal(new URL(server.urls.demo).hostname, 'localhost', 'the page runs on a domain, as WebAuthn needs')
  await demo.signIn()
  const [seededEmail, sms] = (await rows()).map((r) => r.id) as [string, string]

  // 1. A passkey: a token from the plugin, then authsignal.passkey.signUp in the browser (the virtual authenticator).
  await page.click('#create-passkey')
  await page.locator('#passkey-status', { hasText: 'Created: new PASSKEY authenticator' }).waitFor()
  const passkeyId = (await text('#passkey-status')).split(' ').at(-1) as string
  await page.locator(`#authenticators tr.new[data-id="${passkeyId}"]`).waitFor()
  t.match(await rows(), [{ id: seededEmail }, { id: sms }, { id: passkeyId, method: 'PASSKEY', detail: 'Chrome on Linux · this device only', isNew: true }],
    'listed with its provider\'s name (here the browser\'s: Authsignal knows no provider for the virtual authenticator) and not synced')
  const [credential] = await authenticator.credentials()
  t.equal(credential?.rpId, 'localhost')
  t.equal(b64url(credential?.userHandle as string), Buffer.from(sub).toString('base64url'), 'the user handle passkeySignal names')

  // 2. An authenticator app: the secret and its otpauth URI, then a code computed from the secret.
  await page.click('#enrol-totp')
  await page.locator('#totp-status', { hasText: 'Add the secret to your authenticator app' }).waitFor()
  const secret = await text('#totp-secret')
  t.match(secret, /^[A-Z2-7]{32}$/, 'a base32 secret')
  t.match(await text('#totp-uri'), new RegExp(`^otpauth://totp/.*[?&]secret=${secret}`))
  await page.fill('#totp-form [name=code]', totp(secret))
  await page.click('#totp-verify')
  await page.locator('#totp-status', { hasText: 'Verified: new AUTHENTICATOR_APP authenticator' }).waitFor()
  const appId = (await text('#totp-status')).split(' ').at(-1) as string
  await page.locator(`#authenticators tr.new[data-id="${appId}"]`).waitFor()
  t.notOk(await page.locator('#totp-setup').isVisible(), 'the secret is no longer shown')

  // 3. The passkey was enrolled after this sign-in, the SMS before it: the passkey does not vouch for removing the
  // SMS (a stolen session could have bound it). Signed in again, the passkey predates the sign-in: the SMS goes on it.
  t.match(await remove(sms, 'passkey'), /^403 FST_AUTHSIGNAL_CHALLENGE_REQUIRED: .*enrolled after this sign-in/)
  await Promise.all([page.waitForResponse((res) => res.url().endsWith('/me')), page.click('#login')])
  t.equal(await remove(sms, 'passkey'), `204: removed SMS ${sms}`)
  await page.waitForFunction((id) => document.querySelector(`#authenticators tr[data-id="${id}"]`) === null, sms)
  t.match(await rows(), [{ id: seededEmail, method: 'EMAIL_OTP' }, { id: passkeyId, detail: 'Chrome on Linux · this device only' }, { id: appId, method: 'AUTHENTICATOR_APP' }])
  mkdirSync(dirname(SCREENSHOT), { recursive: true })
  await page.screenshot({ path: SCREENSHOT, fullPage: true })

  // 4. The passkey cannot go on its own sign-in: it proves only the factor being removed.
  t.match(await remove(passkeyId, 'passkey'), /^403 FST_AUTHSIGNAL_CHALLENGE_REQUIRED: .*completed with the authenticator being removed/)
  await page.locator(`#authenticators tr[data-id="${passkeyId}"]`).waitFor()
  t.equal((await authenticator.credentials()).length, 1, 'the browser keeps it too')

  // 5. It goes on a code of the authenticator app (the next step's: this step's code was used at enrolment),
  // and the page tells the browser, which drops it from the authenticator.
  t.equal(await remove(passkeyId, 'totp', () => totp(secret, 1)), `204: removed PASSKEY ${passkeyId}`)
  await page.locator('#log li', { hasText: 'PublicKeyCredential.signalAllAcceptedCredentials(passkeySignal) → 0 passkey(s) kept for localhost' }).waitFor()
  await page.waitForFunction((id) => document.querySelector(`#authenticators tr[data-id="${id}"]`) === null, passkeyId)
  t.same(await authenticator.credentials(), [], 'the virtual authenticator no longer holds the passkey')

  t.same(await demo.log(), [
    'POST /dev/login → 200',
    'GET /me → 200',
    'GET /authenticators → 200',
    'POST /authenticators/token → 200',
    'authsignal.passkey.signUp({ token }) → passkey created',
    'GET /authenticators → 200',
    'POST /authenticators/token → 200',
    'authsignal.totp.enroll() → secret issued',
    'authsignal.totp.verify({ code }) → verified',
    'GET /authenticators → 200',
    'POST /authenticators/challenge-token → 200',
    'authsignal.passkey.signIn({ token }) → verified',
    'DELETE /authenticators/:id → 403 FST_AUTHSIGNAL_CHALLENGE_REQUIRED',
    'GET /authenticators → 200',
    'POST /dev/login → 200',
    'GET /me → 200',
    'GET /authenticators → 200',
    'POST /authenticators/challenge-token → 200',
    'authsignal.passkey.signIn({ token }) → verified',
    'DELETE /authenticators/:id → 204',
    'GET /authenticators → 200',
    'POST /authenticators/challenge-token → 200',
    'authsignal.passkey.signIn({ token }) → verified',
    'DELETE /authenticators/:id → 403 FST_AUTHSIGNAL_CHALLENGE_REQUIRED',
    'GET /authenticators → 200',
    'POST /authenticators/challenge-token → 200',
    'authsignal.totp.verify({ code }) → verified',
    'DELETE /authenticators/:id → 204',
    'GET /authenticators → 200',
    'PublicKeyCredential.signalAllAcceptedCredentials(passkeySignal) → 0 passkey(s) kept for localhost'
  ], 'the page\'s requests, in order')
  t.same(demo.problems, [], 'no page errors, no console errors')
  t.same([...demo.origins].sort(), [demo.app, demo.emulator].sort(), 'the page talked to the app and the emulator only')
})
