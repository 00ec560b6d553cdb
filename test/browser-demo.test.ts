// The demo page of `npm run dev` (dev/demo-page/, served by dev/demo.ts), driven in headless
// Chromium (Debian's `chromium` package, installed by .ci/run) with playwright-core: sign in through
// cognito-local, enrol an email OTP authenticator with the real @authsignal/browser SDK against the
// emulator, open the pre-built UI, list, remove with an email OTP step-up (refused when the challenge was
// completed with the very authenticator being removed), see the last one refused. Also opens Swagger UI at
// /documentation. Passkeys and authenticator apps, and the README screenshot: test/browser-demo-passkeys.test.ts.
import t from 'tap'
import { openDemo } from './demo-page.js'

t.test('the demo page: sign in, enrol an email OTP, pre-built UI, list, remove with a step-up, last one refused', async (t) => {
  const began = Date.now()
  const demo = await openDemo(t)
  if (demo === undefined) return
  const { server, page, context, printed, rows, text, remove } = demo
  t.match(server.banner, `demo page   ${server.urls.demo} `)
  t.match(server.banner, `openapi     ${server.urls.app}/documentation `)
  t.equal(await page.title(), 'fastify-authsignal-cognito: browser demo')

  // 1. Sign in as the demo user through POST /dev/login (cognito-local).
  t.equal(await page.inputValue('#login-form [name=username]'), 'demo', 'the demo user is prefilled')
  await demo.signIn()
  t.match(await rows(), [{ method: 'EMAIL_OTP' }, { method: 'SMS' }], 'the seeded authenticators are listed')
  await page.locator('#profile-panel[data-event-type=""]').waitFor()
  t.equal(await text('#profile-email'), 'demo@example.com', 'the Cognito profile panel shows the user\'s attributes in cognito-local')

  // 2. Enrol an email OTP authenticator: token from the plugin, then @authsignal/browser against the emulator.
  t.equal(await page.inputValue('#enrol-form [name=email]'), 'demo@example.com')
  // Another address than the user's Cognito email, so that the webhook's sync shows.
  await page.fill('#enrol-form [name=email]', 'demo+mfa@example.com')
  await page.click('#send-code')
  await page.locator('#dev-otp-code').waitFor()
  const code = await text('#dev-otp-code')
  t.match(code, /^\d{6}$/, 'the dev-only box shows the code')
  t.match(await text('#dev-otp'), /^Dev only/, 'labelled dev-only')
  t.equal(printed.at(-1), `[authsignal emulator] email OTP code for demo+mfa@example.com: ${code}`, 'the same code as in the dev console')
  await page.fill('#verify-form [name=code]', code)
  const verifiedAt = Date.now()
  await page.click('#verify')
  await page.locator('#enrol-status', { hasText: 'Verified: new EMAIL_OTP authenticator' }).waitFor()
  const newId = (await text('#enrol-status')).split(' ').at(-1) as string
  await page.locator(`#authenticators tr.new[data-id="${newId}"]`).waitFor()
  // The emulator signs and sends authenticator.created to the app's webhook route; its cognitoSync (fill-only)
  // keeps the verified address in cognito-local, which the page reads back (AdminGetUser through GET /dev/cognito-profile).
  await page.locator(`#profile-panel[data-event-id="${newId}"][data-event-type="added"]`).waitFor()
  t.comment(`verify → webhook → Cognito attribute shown in the page: ${Date.now() - verifiedAt} ms`)
  t.equal(await text('#profile-email'), 'demo@example.com', 'cognitoSync is fill-only: the verified Cognito email is not replaced by the enrolled address')
  t.equal(await text('#profile-email_verified'), 'true')
  const listed = await rows()
  t.match(listed, [{ method: 'EMAIL_OTP', isNew: false }, { method: 'SMS', isNew: false }, { id: newId, method: 'EMAIL_OTP', isNew: true }],
    'the new EMAIL_OTP is listed (and highlighted)')

  // 3. The pre-built UI: a URL from the plugin, opened in a new tab (the emulator's page).
  await page.click('#get-prebuilt')
  const link = page.locator('#prebuilt-link')
  await link.waitFor()
  t.match(await link.getAttribute('href'), `${demo.emulator}/prebuilt?token=`)
  const [tab] = await Promise.all([context.waitForEvent('page'), link.click()])
  await tab.waitForLoadState()
  t.equal(await tab.locator('h1').textContent(), 'Authsignal emulator: manage authenticators')
  t.same(await tab.$$eval('#authenticators li', (lis) => lis.map((li) => (li as HTMLElement).dataset.id)), listed.map((a) => a.id),
    'the pre-built UI lists the same authenticators')
  await tab.close()

  // 4. Remove, each with a step-up challenge completed with the email OTP. The emulator challenges the user's
  // first email address (the seeded one): fine for the SMS and the new one, refused for the seeded one itself.
  const seededEmail = listed[0]?.id as string
  const sms = listed[1]?.id as string
  const sameAsPrinted = (shown: string): string => {
    t.equal(printed.at(-1), `[authsignal emulator] email OTP code for demo@example.com: ${shown}`, 'the step-up code is the one "sent"')
    return shown
  }
  t.equal(await remove(sms, 'email', sameAsPrinted), `204: removed SMS ${sms}`)
  await page.waitForFunction(() => document.querySelectorAll('#authenticators tr').length === 2)
  t.match(await remove(seededEmail, 'email'), /^403 FST_AUTHSIGNAL_CHALLENGE_REQUIRED: .*completed with the authenticator being removed/,
    'a challenge of the very authenticator being removed is refused')
  t.match(await rows(), [{ id: seededEmail }, { id: newId }], 'and it stays')
  t.equal(await remove(newId, 'email'), `204: removed EMAIL_OTP ${newId}`, 'another email OTP authenticator may go on its strength')
  // authenticator.deleted: the seeded email authenticator is left, so Cognito's email is its address, verified.
  await page.locator(`#profile-panel[data-event-id="${newId}"][data-event-type="removed"]`).waitFor()
  t.equal(await text('#profile-email'), 'demo@example.com', 'the address of the email authenticator left')
  t.equal(await text('#profile-email_verified'), 'true', 'an email authenticator is left: the address stays verified')
  await page.waitForFunction(() => document.querySelectorAll('#authenticators tr').length === 1)
  t.match(await remove(seededEmail, 'email'), /^409 FST_AUTHSIGNAL_LAST_AUTHENTICATOR: /, 'the last one is refused')
  await page.locator('#log li', { hasText: `DELETE /authenticators/${seededEmail} → 409 FST_AUTHSIGNAL_LAST_AUTHENTICATOR` }).waitFor()
  t.match(await rows(), [{ id: seededEmail, method: 'EMAIL_OTP' }], 'and still listed')

  const stepUpByEmail = (answer: string): string[] => [
    'POST /authenticators/challenge-token → 200',
    'authsignal.email.challenge() → code sent',
    'GET /dev/last-otp → 200',
    'authsignal.email.verify({ code }) → verified',
    `DELETE /authenticators/:id → ${answer}`,
    'GET /authenticators → 200'
  ]
  t.same(await demo.log(), [
    'POST /dev/login → 200',
    'GET /me → 200',
    'GET /authenticators → 200',
    'POST /authenticators/token → 200',
    'authsignal.email.enroll({ email }) → code sent',
    'GET /dev/last-otp → 200',
    'authsignal.email.verify({ code }) → verified',
    'GET /authenticators → 200',
    'POST /authenticators/prebuilt-ui → 200',
    ...stepUpByEmail('204'),
    ...stepUpByEmail('403 FST_AUTHSIGNAL_CHALLENGE_REQUIRED'),
    ...stepUpByEmail('204'),
    ...stepUpByEmail('409 FST_AUTHSIGNAL_LAST_AUTHENTICATOR')
  ], 'the page\'s requests, in order')
  t.same(demo.problems, [], 'no page errors, no console errors')
  t.same([...demo.origins].sort(), [demo.app, demo.emulator].sort(), 'the page talked to the app and the emulator only')

  // Swagger UI from the same app lists the plugin's routes (and none of the demo's).
  await page.goto(`${demo.app}/documentation`)
  await page.locator('.opblock-summary-path', { hasText: '/authenticators/token' }).first().waitFor()
  const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((el) => el.getAttribute('data-path')))
  t.same([...new Set(paths)].sort(), ['/authenticators/', '/authenticators/challenge-token', '/authenticators/prebuilt-ui', '/authenticators/support/users/{userId}/authenticators', '/authenticators/support/users/{userId}/authenticators/{userAuthenticatorId}', '/authenticators/token', '/authenticators/{userAuthenticatorId}', '/me'])
  t.comment(`the whole flow took ${Date.now() - began} ms`)
})
