// Headless Chromium for browser tests: Debian's `chromium` (/usr/bin/chromium, installed by .ci/run) driven
// by playwright-core, which downloads no browser of its own; and the DevTools WebAuthn virtual authenticator.
import type { Test } from 'tap'
import { existsSync } from 'node:fs'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
// As root in a container: no sandbox; and nothing that reaches out of 127.0.0.1 (the network is closed).
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync']

// Launches Chromium, closed at the end of the test; undefined (and the test failed) when it is missing:
// not a skip, since CI installs it and the README promises what these tests check.
export async function launchChromium (t: Test): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing, so this browser test cannot run. Install Debian's chromium package ` +
      '(`apt-get install -y --no-install-recommends chromium`, as .ci/run does) and run the tests again.')
    return undefined
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 20_000 })
  t.teardown(() => browser.close())
  return browser
}

export interface VirtualAuthenticator {
  authenticatorId: string
  credentials: () => Promise<Array<{ credentialId: string, userHandle?: string, rpId?: string, isResidentCredential: boolean }>>
  clear: () => Promise<void> // Chromium's virtual CTAP2 device holds three resident credentials at most
}

// A platform authenticator with resident keys and user verification that approves every request, as a
// laptop's built-in one would after a fingerprint (CDP WebAuthn domain).
export async function addVirtualAuthenticator (context: BrowserContext, page: Page): Promise<VirtualAuthenticator> {
  const cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true }
  })
  return {
    authenticatorId,
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
    clear: async () => { await cdp.send('WebAuthn.clearCredentials', { authenticatorId }) }
  }
}
