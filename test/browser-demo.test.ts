// The demo page of `npm run dev` (dev/demo-page/, served by dev/demo.ts), driven in headless
// Chromium (Debian's `chromium` package, installed by .ci/run) with playwright-core: sign in through
// cognito-local, enrol an email OTP authenticator with the real @authsignal/browser SDK against the
// emulator, open the pre-built UI, list, remove one, see the last one refused. Ends with a screenshot
// (docs/browser-demo.png, shown in the README, is rewritten only with UPDATE_SCREENSHOT=1, so a test run
// leaves the work tree clean). Also opens Swagger UI at /documentation.
import t from 'tap'
import { existsSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Page } from 'playwright-core'
import { startDevServer } from '../dev/server.js'

const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1'
  ? fileURLToPath(new URL('../docs/browser-demo.png', import.meta.url))
  : join(tmpdir(), `browser-demo-${process.pid}.png`)
// As root in a container: no sandbox; and nothing that reaches out of 127.0.0.1 (the network is closed).
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync']
const STEP_MS = 10_000

async function rows (page: Page): Promise<Array<{ id: string, method: string, isNew: boolean }>> {
  return await page.$$eval('#authenticators tr', (trs) => trs.map((tr) => ({
    id: (tr as HTMLElement).dataset.id as string,
    method: (tr as HTMLElement).dataset.method as string,
    isNew: tr.classList.contains('new')
  })))
}

async function text (page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).textContent()) ?? ''
}

t.test('the demo page: sign in, enrol an email OTP, pre-built UI, list, remove, last one refused', async (t) => {
  if (!existsSync(CHROMIUM)) {
    // Not a skip: the README promises this flow works, and CI installs the browser.
    t.fail(`${CHROMIUM} is missing, so the browser demo cannot be tested. Install Debian's chromium package ` +
      '(`apt-get install -y --no-install-recommends chromium`, as .ci/run does) and run the tests again.')
    return
  }
  const began = Date.now()
  const printed: string[] = []
  const server = await startDevServer({
    env: { COGNITO_LOCAL_DATA_DIR: t.testdir() },
    ports: { app: 0, cognito: 0, authsignal: 0 },
    log: (line) => printed.push(line)
  })
  t.teardown(() => server.stop())
  t.match(server.banner, `demo page   ${server.urls.app}/ `)
  t.match(server.banner, `openapi     ${server.urls.app}/documentation `)
  const app = new URL(server.urls.app).origin
  const emulator = new URL(server.urls.authsignal).origin

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 20_000 })
  t.teardown(() => browser.close())
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } })
  context.setDefaultTimeout(STEP_MS)
  const page = await context.newPage()
  const problems: string[] = []
  const origins = new Set<string>()
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  // Chromium logs every 4xx as "Failed to load resource"; the 409 is the one the flow expects.
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().endsWith('status of 409 (Conflict)')) problems.push(`console error: ${msg.text()}`)
  })
  context.on('request', (request) => { origins.add(new URL(request.url()).origin) })

  await page.goto(`${app}/`)
  t.equal(await page.title(), 'fastify-authsignal-cognito: browser demo')

  // 1. Sign in as the demo user through POST /dev/login (cognito-local).
  t.equal(await page.inputValue('#login-form [name=username]'), 'demo', 'the demo user is prefilled')
  await page.click('#login')
  await page.locator('#signin-status', { hasText: 'Signed in as demo' }).waitFor()
  await page.locator('#authenticators tr').nth(1).waitFor()
  t.match(await rows(page), [{ method: 'EMAIL_OTP' }, { method: 'SMS' }], 'the seeded authenticators are listed')
  await page.locator('#profile-panel[data-event-type=""]').waitFor()
  t.equal(await text(page, '#profile-email'), 'demo@example.com', 'the Cognito profile panel shows the user\'s attributes in cognito-local')

  // 2. Enrol an email OTP authenticator: token from the plugin, then @authsignal/browser against the emulator.
  t.equal(await page.inputValue('#enrol-form [name=email]'), 'demo@example.com')
  // Another address than the user's Cognito email, so that the webhook's sync shows.
  await page.fill('#enrol-form [name=email]', 'demo+mfa@example.com')
  await page.click('#send-code')
  await page.locator('#dev-otp-code').waitFor()
  const code = await text(page, '#dev-otp-code')
  t.match(code, /^\d{6}$/, 'the dev-only box shows the code')
  t.match(await text(page, '#dev-otp'), /^Dev only/, 'labelled dev-only')
  t.equal(printed.at(-1), `[authsignal emulator] email OTP code for demo+mfa@example.com: ${code}`, 'the same code as in the dev console')
  await page.fill('#verify-form [name=code]', code)
  const verifiedAt = Date.now()
  await page.click('#verify')
  await page.locator('#enrol-status', { hasText: 'Verified: new EMAIL_OTP authenticator' }).waitFor()
  const newId = (await text(page, '#enrol-status')).split(' ').at(-1) as string
  await page.locator(`#authenticators tr.new[data-id="${newId}"]`).waitFor()
  // The emulator signs and sends authenticator.created to the app's webhook route; its cognitoSync sets the
  // address in cognito-local, which the page reads back (AdminGetUser through GET /dev/cognito-profile).
  await page.locator(`#profile-panel[data-event-id="${newId}"][data-event-type="added"]`).waitFor()
  t.comment(`verify → webhook → Cognito attribute shown in the page: ${Date.now() - verifiedAt} ms`)
  t.equal(await text(page, '#profile-email'), 'demo+mfa@example.com', 'the webhook set the enrolled address in Cognito')
  t.equal(await text(page, '#profile-email_verified'), 'true')
  const listed = await rows(page)
  t.match(listed, [{ method: 'EMAIL_OTP', isNew: false }, { method: 'SMS', isNew: false }, { id: newId, method: 'EMAIL_OTP', isNew: true }],
    'the new EMAIL_OTP is listed (and highlighted)')

  // 3. The pre-built UI: a URL from the plugin, opened in a new tab (the emulator's page).
  await page.click('#get-prebuilt')
  const link = page.locator('#prebuilt-link')
  await link.waitFor()
  t.match(await link.getAttribute('href'), `${emulator}/prebuilt?token=`)
  const [tab] = await Promise.all([context.waitForEvent('page'), link.click()])
  await tab.waitForLoadState()
  t.equal(await tab.locator('h1').textContent(), 'Authsignal emulator: manage authenticators')
  t.same(await tab.$$eval('#authenticators li', (lis) => lis.map((li) => (li as HTMLElement).dataset.id)), listed.map((a) => a.id),
    'the pre-built UI lists the same authenticators')
  await tab.close()

  // 4. Remove the SMS and the seeded EMAIL_OTP (204 each); the last one is refused (409).
  // Waits for the status line of *this* removal: the line of the previous one may still be showing.
  const removeRow = async (id: string, status: RegExp): Promise<string> => {
    await page.click(`#authenticators tr[data-id="${id}"] button`)
    await page.locator('#remove-status', { hasText: status }).waitFor()
    return await text(page, '#remove-status')
  }
  const seededEmail = listed[0]?.id as string
  const sms = listed[1]?.id as string
  t.equal(await removeRow(sms, new RegExp(`^204: removed SMS ${sms}$`)), `204: removed SMS ${sms}`)
  await page.waitForFunction(() => document.querySelectorAll('#authenticators tr').length === 2)
  t.equal(await removeRow(seededEmail, new RegExp(`^204: removed EMAIL_OTP ${seededEmail}$`)), `204: removed EMAIL_OTP ${seededEmail}`)
  await page.locator(`#profile-panel[data-event-id="${seededEmail}"][data-event-type="removed"]`).waitFor()
  t.equal(await text(page, '#profile-email_verified'), 'true', 'an email authenticator is left: the address stays verified')
  await page.waitForFunction(() => document.querySelectorAll('#authenticators tr').length === 1)
  t.match(await removeRow(newId, /^409/), /^409 FST_AUTHSIGNAL_LAST_AUTHENTICATOR: /, 'the last one is refused')
  await page.locator('#log li', { hasText: `DELETE /authenticators/${newId} → 409 FST_AUTHSIGNAL_LAST_AUTHENTICATOR` }).waitFor()
  t.match(await rows(page), [{ id: newId, method: 'EMAIL_OTP' }], 'and still listed')

  const log = await page.$$eval('#log li', (lis) => lis.map((li) => li.textContent))
  t.same(log.map((line) => (line as string).replace(/[0-9a-f-]{36}/g, ':id')), [
    'POST /dev/login → 200',
    'GET /me → 200',
    'GET /authenticators → 200',
    'POST /authenticators/token → 200',
    'authsignal.email.enroll({ email }) → code sent',
    'GET /dev/last-otp → 200',
    'authsignal.email.verify({ code }) → verified',
    'GET /authenticators → 200',
    'POST /authenticators/prebuilt-ui → 200',
    'DELETE /authenticators/:id → 204',
    'GET /authenticators → 200',
    'DELETE /authenticators/:id → 204',
    'GET /authenticators → 200',
    'DELETE /authenticators/:id → 409 FST_AUTHSIGNAL_LAST_AUTHENTICATOR',
    'GET /authenticators → 200'
  ], 'the page\'s requests, in order')
  t.same(problems, [], 'no page errors, no console errors')
  t.same([...origins].sort(), [app, emulator].sort(), 'the page talked to the app and the emulator only')

  mkdirSync(dirname(SCREENSHOT), { recursive: true })
  await page.screenshot({ path: SCREENSHOT, fullPage: true })

  // Swagger UI from the same app lists the plugin's routes (and none of the demo's).
  await page.goto(`${app}/documentation`)
  await page.locator('.opblock-summary-path', { hasText: '/authenticators/token' }).first().waitFor()
  const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((el) => el.getAttribute('data-path')))
  t.same([...new Set(paths)].sort(), ['/authenticators/', '/authenticators/prebuilt-ui', '/authenticators/token', '/authenticators/{userAuthenticatorId}', '/me'])
  t.comment(`the whole flow took ${Date.now() - began} ms`)
})
