// POST /authenticators/prebuilt-ui through the real SDK against the emulator: the URL it answers,
// the settings mode, and redirect URLs (configured, allowed from the body, refused).
import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import type { PrebuiltUiRouteOptions } from '../index.js'
import type { AuthsignalEmulator } from '../lib/testing/authsignal-emulator.js'
import type { CognitoIssuer } from '../lib/testing/cognito-issuer.js'
import { ALICE, bearer, buildApp, emulatorFor, emulatorOptions, issuerFor, upstreamCalls } from './helpers.js'

const CONFIGURED = 'https://app.example.com/settings/security'
const ALLOWED = 'https://app.example.com/onboarding/done'

interface Setup { issuer: CognitoIssuer, emu: AuthsignalEmulator, post: (payload?: object) => Promise<LightMyRequestResponse> }

// One key pair for the whole file: tests share the issuer, never its state.
const issuer = await issuerFor(t)

async function setup (t: Test, prebuiltUi: PrebuiltUiRouteOptions = {}): Promise<Setup> {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { prebuiltUi } })
  const headers = bearer(issuer.mint({ sub: ALICE }))
  const post = async (payload?: object) => app.inject({ method: 'POST', url: '/authenticators/prebuilt-ui', headers, ...(payload !== undefined && { payload }) })
  return { issuer, emu, post }
}

t.test('POST /authenticators/prebuilt-ui without a body answers the pre-built UI URL', async t => {
  const { emu, post } = await setup(t)

  const res = await post()

  t.equal(res.statusCode, 200)
  t.same(Object.keys(res.json()), ['prebuiltUiUrl'])
  t.match(res.json().prebuiltUiUrl, new RegExp(`^${emu.url}/prebuilt\\?token=`), 'the emulator\'s pre-built page with a token')
})

t.test('the pre-built UI is opened in settings mode for the manageAuthenticators action of the token\'s user', async t => {
  const { emu, post } = await setup(t)

  await post()

  t.same(upstreamCalls(emu), [`POST /v1/users/${ALICE}/actions/manageAuthenticators`])
  const body = emu.requests[0]?.body as Record<string, unknown>
  t.equal(body.redirectToSettings, true)
  t.notOk('redirectUrl' in body, 'no redirect URL when none is configured or asked for')
})

t.test('the configured redirectUrl is sent when the body names none', async t => {
  const { emu, post } = await setup(t, { redirectUrl: CONFIGURED })

  const res = await post({})

  t.equal(res.statusCode, 200)
  t.match(emu.requests[0]?.body, { redirectToSettings: true, redirectUrl: CONFIGURED })
})

t.test('an allowed redirectUrl from the body is sent instead of the configured one', async t => {
  const { emu, post } = await setup(t, { redirectUrl: CONFIGURED, allowedRedirectUrls: [ALLOWED] })

  const res = await post({ redirectUrl: ALLOWED })

  t.equal(res.statusCode, 200)
  t.match(emu.requests[0]?.body, { redirectToSettings: true, redirectUrl: ALLOWED })
})

t.test('a redirectUrl that is not allowed is 400 FST_AUTHSIGNAL_REDIRECT_NOT_ALLOWED with no upstream call', async t => {
  const { emu, post } = await setup(t, { redirectUrl: CONFIGURED, allowedRedirectUrls: [ALLOWED] })

  for (const redirectUrl of ['https://evil.example.com/', `${ALLOWED}?next=https://evil.example.com`, CONFIGURED, `${ALLOWED}/`]) {
    const res = await post({ redirectUrl })
    t.equal(res.statusCode, 400, `${redirectUrl}: status`)
    t.equal(res.json().code, 'FST_AUTHSIGNAL_REDIRECT_NOT_ALLOWED', `${redirectUrl}: code`)
  }
  t.same(emu.requests, [], 'Authsignal was not called')
})

t.test('a body redirectUrl is refused when no redirect URLs are allowed at all', async t => {
  const { emu, post } = await setup(t)

  const res = await post({ redirectUrl: 'https://app.example.com/' })

  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'FST_AUTHSIGNAL_REDIRECT_NOT_ALLOWED')
  t.same(emu.requests, [])
})

t.test('a redirectUrl that is not a string is a 400 FST_ERR_VALIDATION with no upstream call', async t => {
  const { emu, post } = await setup(t, { allowedRedirectUrls: [ALLOWED] })

  const res = await post({ redirectUrl: { href: ALLOWED } })

  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'FST_ERR_VALIDATION')
  t.same(emu.requests, [])
})
