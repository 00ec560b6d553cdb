// Whose authenticators: the Authsignal user id always comes from the verified token (sub, or the
// configured claim), is one URL path segment upstream, and a machine-to-machine token acts for nobody.
import t from 'tap'
import { bearer, buildApp, emulatorFor, emulatorOptions, issuerFor, upstreamCalls } from './helpers.js'

// One key pair for the whole file: tests share the issuer, never its state.
const issuer = await issuerFor(t)

const PLUGIN_ROUTES = [
  { method: 'POST', url: '/authenticators/token' },
  { method: 'POST', url: '/authenticators/prebuilt-ui' },
  { method: 'GET', url: '/authenticators' },
  { method: 'DELETE', url: '/authenticators/some-authenticator' }
] as const

t.test('a machine-to-machine token gets 403 FST_COGNITO_MACHINE_TOKEN on every plugin route, with no upstream call', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })
  // Client credentials: sub is the app client and there is no username.
  const machine = issuer.mint({ sub: issuer.clientId, scope: 'api/read', claims: { username: undefined } })

  for (const route of PLUGIN_ROUTES) {
    const res = await app.inject({ ...route, headers: bearer(machine) })
    t.equal(res.statusCode, 403, `${route.method} ${route.url}: status`)
    t.equal(res.json().code, 'FST_COGNITO_MACHINE_TOKEN', `${route.method} ${route.url}: code`)
  }
  t.same(emu.requests, [], 'Authsignal was never called')
})

t.test('a machine-to-machine token is accepted by a host route protected by app.authenticate', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })
  const machine = issuer.mint({ sub: issuer.clientId, scope: 'api/read', claims: { username: undefined } })

  const res = await app.inject({ url: '/me', headers: bearer(machine) })

  t.equal(res.statusCode, 200)
  t.same(res.json(), { sub: issuer.clientId })
})

t.test('userIdClaim "username" uses the username as the Authsignal user id', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), cognito: { userIdClaim: 'username' } })

  const res = await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(issuer.mint({ sub: 'sub-of-carol', username: 'carol' })) })

  t.equal(res.statusCode, 200)
  t.same(upstreamCalls(emu), ['POST /v1/users/carol/actions/addAuthenticator'])
})

t.test('a username with "/" and ".." is sent as one encoded path segment, so it names only that user', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), cognito: { userIdClaim: 'username' } })
  const tricky = '../bob'
  emu.seedAuthenticator('bob', { verificationMethod: 'SMS', phoneNumber: '+6421555999' })
  emu.seedAuthenticator(tricky, { verificationMethod: 'EMAIL_OTP', email: 'mallory@example.com' })

  const res = await app.inject({ url: '/authenticators', headers: bearer(issuer.mint({ username: tricky })) })

  t.equal(res.statusCode, 200)
  t.same(res.json().authenticators.map((a: { verificationMethod: string }) => a.verificationMethod), ['EMAIL_OTP'], 'only the tricky user\'s own authenticator')
  t.same(upstreamCalls(emu), ['GET /v1/users/..%2Fbob/authenticators'], 'one path segment upstream')
})

t.test('a username with a slash in the middle is one path segment on the token route', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), cognito: { userIdClaim: 'username' } })

  await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(issuer.mint({ username: 'a/../b' })) })

  t.same(upstreamCalls(emu), ['POST /v1/users/a%2F..%2Fb/actions/addAuthenticator'])
})

t.test('a username that is "." or ".." cannot be an Authsignal user id: 401 FST_COGNITO_TOKEN_CLAIMS, no upstream call', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), cognito: { userIdClaim: 'username' } })

  for (const username of ['..', '.']) {
    const res = await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(issuer.mint({ username })) })
    t.equal(res.statusCode, 401, `${username}: status`)
    t.equal(res.json().code, 'FST_COGNITO_TOKEN_CLAIMS', `${username}: code`)
  }
  t.same(emu.requests, [], 'nothing reached Authsignal (URL parsing would have turned ".." into a step up)')
})

t.test('userIdClaim "cognito:username" with an access token that lacks it is 401 FST_COGNITO_TOKEN_CLAIMS, no upstream call', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), cognito: { userIdClaim: 'cognito:username' } })

  const res = await app.inject({ url: '/authenticators', headers: bearer(issuer.mint({ username: 'dave' })) })

  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'FST_COGNITO_TOKEN_CLAIMS')
  t.same(emu.requests, [])
})

t.test('userIdClaim "cognito:username" with ID tokens uses that claim', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), cognito: { tokenUse: 'id', userIdClaim: 'cognito:username' } })

  const res = await app.inject({ url: '/authenticators', headers: bearer(issuer.mint({ tokenUse: 'id', username: 'erin' })) })

  t.equal(res.statusCode, 200)
  t.same(upstreamCalls(emu), ['GET /v1/users/erin/authenticators'])
})

t.test('a user id in the request body is ignored: the token\'s user is the one tracked', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })

  const res = await app.inject({
    method: 'POST',
    url: '/authenticators/prebuilt-ui',
    headers: bearer(issuer.mint({ sub: 'alice' })),
    payload: { userId: 'bob' }
  })

  t.equal(res.statusCode, 200)
  t.same(upstreamCalls(emu), ['POST /v1/users/alice/actions/manageAuthenticators'])
})
