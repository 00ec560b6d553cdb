// The demo page of `npm run dev` (dev/demo-page/) in headless Chromium, for the browser tests: the dev server
// on free ports, the page opened on localhost (passkeys need a domain), what the page shows read back, and
// every page error, console error and origin it talked to collected. Each wait is on a condition the page
// shows, never a fixed sleep: the tests run on a busy 2-core machine.
import type { Test } from 'tap'
import type { BrowserContext, Page } from 'playwright-core'
import { startDevServer, type DevServer } from '../dev/server.js'
import { launchChromium } from './chromium.js'

const STEP_MS = 15_000

export interface Row { id: string, method: string, detail: string, isNew: boolean }
export type StepUpFactor = 'email' | 'totp' | 'passkey'

export interface Demo {
  server: DevServer
  context: BrowserContext
  page: Page
  /** The page's origin (localhost) and the emulator's. */
  app: string
  emulator: string
  /** Lines the dev server printed (the emulator's email OTP codes). */
  printed: string[]
  problems: string[]
  origins: Set<string>
  rows: () => Promise<Row[]>
  text: (selector: string) => Promise<string>
  /** The Requests panel, ids (UUIDs) replaced by `:id`. */
  log: () => Promise<string[]>
  signIn: () => Promise<void>
  /**
   * Removes the row `id`: Remove, then the step-up with `factor` (`code` types the code of an email OTP or an
   * authenticator app; for email it gets the code the page shows), then waits for this removal's answer.
   */
  remove: (id: string, factor: StepUpFactor, code?: (shown: string) => string) => Promise<string>
}

/** `env`: more of the dev server's variables (e.g. FRESH_SIGN_IN_SEC). */
export async function openDemo (t: Test, prepare?: (context: BrowserContext, page: Page) => Promise<void>, env: Record<string, string> = {}): Promise<Demo | undefined> {
  const browser = await launchChromium(t)
  if (browser === undefined) return undefined
  const printed: string[] = []
  const server = await startDevServer({
    env: { COGNITO_LOCAL_DATA_DIR: t.testdir(), ...env },
    ports: { app: 0, cognito: 0, authsignal: 0 },
    log: (line) => printed.push(line)
  })
  t.teardown(() => server.stop())
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } })
  context.setDefaultTimeout(STEP_MS)
  const page = await context.newPage()
  const problems: string[] = []
  const origins = new Set<string>()
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  // Chromium logs every 4xx as "Failed to load resource"; refused removals (403, 409) are part of the flows.
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/status of (403 \(Forbidden\)|409 \(Conflict\))$/.test(msg.text())) problems.push(`console error: ${msg.text()}`)
  })
  context.on('request', (request) => { origins.add(new URL(request.url()).origin) })
  await prepare?.(context, page)
  await page.goto(server.urls.demo)

  const text = async (selector: string): Promise<string> => (await page.locator(selector).textContent()) ?? ''
  const deletes = async (): Promise<number> => await page.locator('#log li', { hasText: /^DELETE / }).count()
  return {
    server,
    context,
    page,
    app: new URL(server.urls.demo).origin,
    emulator: new URL(server.urls.authsignal).origin,
    printed,
    problems,
    origins,
    text,
    rows: async () => await page.$$eval('#authenticators tr', (trs) => trs.map((tr) => ({
      id: (tr as HTMLElement).dataset.id as string,
      method: (tr as HTMLElement).dataset.method as string,
      detail: tr.children[1]?.textContent ?? '',
      isNew: tr.classList.contains('new')
    }))),
    log: async () => (await page.$$eval('#log li', (lis) => lis.map((li) => li.textContent as string))).map((line) => line.replace(/[0-9a-f-]{36}/g, ':id')),
    signIn: async () => {
      await page.click('#login')
      await page.locator('#signin-status', { hasText: 'Signed in as demo' }).waitFor()
      await page.locator('#authenticators tr').nth(1).waitFor()
    },
    remove: async (id, factor, code) => {
      const before = await deletes()
      await page.click(`#authenticators tr[data-id="${id}"] button`)
      await page.locator('#stepup-status', { hasText: 'Pick the factor' }).waitFor()
      await page.click(`#stepup-${factor}`)
      if (factor === 'email') {
        // Hidden when the step-up opened, shown again with the code of this challenge.
        await page.locator('#stepup-dev-otp').waitFor({ state: 'visible' })
        const shown = await text('#stepup-otp-code')
        await page.fill('#stepup-form [name=code]', code?.(shown) ?? shown)
        await page.click('#stepup-verify')
      } else if (factor === 'totp') {
        await page.locator('#stepup-form').waitFor({ state: 'visible' })
        await page.fill('#stepup-form [name=code]', (code as (shown: string) => string)(''))
        await page.click('#stepup-verify')
      }
      // This removal's answer: the Requests panel lists one more DELETE, and its status line is set with it.
      await page.waitForFunction((n) => [...document.querySelectorAll('#log li')].filter((li) => li.textContent?.startsWith('DELETE ') === true).length === n, before + 1)
      return await text('#remove-status')
    }
  }
}
