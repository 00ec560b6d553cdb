// Strong binding in the demo page (headless Chromium, the real @authsignal/browser SDK against the emulator):
// with FRESH_SIGN_IN_SEC=0 every sign-in counts as not recent, so for the seeded demo user POST /authenticators/token
// answers challengeRequired; the page completes a challenge with the user's existing email OTP, and only the token
// that verify answers enrols the new address.
import t from 'tap'
import { openDemo } from './demo-page.js'

t.test('the demo page with a sign-in older than freshSignInSec: a challenge with an existing factor, then the enrolment', async (t) => {
  const demo = await openDemo(t, undefined, { FRESH_SIGN_IN_SEC: '0' })
  if (demo === undefined) return
  const { server, page, printed, rows, text } = demo
  t.match(server.banner, 'routes.token.freshSignInSec, 0 s here (FRESH_SIGN_IN_SEC)', 'the printed lines say when the challenge comes first')
  await demo.signIn()

  await page.fill('#enrol-form [name=email]', 'demo+mfa@example.com')
  await page.click('#send-code')
  await page.locator('#enrol-status', { hasText: 'challengeRequired' }).waitFor()
  await page.locator('#stepup-status', { hasText: 'Pick the factor' }).waitFor()
  t.equal(await text('#stepup-title'), 'Add an email OTP authenticator: prove it is you with a factor you already have.')
  await page.click('#stepup-email')
  await page.locator('#stepup-dev-otp').waitFor({ state: 'visible' })
  const challengeCode = await text('#stepup-otp-code')
  t.equal(printed.at(-1), `[authsignal emulator] email OTP code for demo@example.com: ${challengeCode}`, 'the challenge goes to the address the user already has')
  await page.fill('#stepup-form [name=code]', challengeCode)
  await page.click('#stepup-verify')

  await page.locator('#dev-otp-code').waitFor()
  const code = await text('#dev-otp-code')
  t.equal(printed.at(-1), `[authsignal emulator] email OTP code for demo+mfa@example.com: ${code}`, 'then the enrolment of the new address')
  await page.fill('#verify-form [name=code]', code)
  await page.click('#verify')
  await page.locator('#enrol-status', { hasText: 'Verified: new EMAIL_OTP authenticator' }).waitFor()
  const newId = (await text('#enrol-status')).split(' ').at(-1) as string
  await page.locator(`#authenticators tr.new[data-id="${newId}"]`).waitFor()
  t.match(await rows(), [{ method: 'EMAIL_OTP' }, { method: 'SMS' }, { id: newId, method: 'EMAIL_OTP', isNew: true }])

  t.same(await demo.log(), [
    'POST /dev/login → 200',
    'GET /me → 200',
    'GET /authenticators → 200',
    'POST /authenticators/token → 200',
    'authsignal.email.challenge() → code sent',
    'GET /dev/last-otp → 200',
    'authsignal.email.verify({ code }) → verified',
    'authsignal.email.enroll({ email }) → code sent',
    'GET /dev/last-otp → 200',
    'authsignal.email.verify({ code }) → verified',
    'GET /authenticators → 200'
  ], 'the challenge comes before the enrolment')
  t.same(demo.problems, [], 'no page errors, no console errors')
})
