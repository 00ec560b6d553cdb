// "Coming from the guide's Lambdas" (README): an app written against authsignal/cognito-lambdas keeps working with
// the documented options (userIdClaim 'username', routes.token.path '/', routes.verify, cognitoSync). The
// requests are shaped exactly as the guide's app sends them: `fetch(url, { method: 'POST', headers: {
// Authorization } })`, optionally with a JSON `{ email, phoneNumber }`; Cognito is cognito-local, started here.
import { randomUUID } from 'node:crypto'
import { AdminDeleteUserCommand, AdminGetUserCommand, AdminUpdateUserAttributesCommand } from '@aws-sdk/client-cognito-identity-provider'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import authenticatorsPlugin, { type AuthenticatorsPluginOptions } from '../index.js'
import { cognitoClient, ensureDemoSetup, signIn, startCognitoLocal, type DemoSetup } from '../dev/cognito-local.js'
import { listen } from './fixtures/webhooks.js'
import { emulatorFor } from './helpers.js'

const local = await startCognitoLocal({ dataDir: t.testdir() })
t.teardown(() => local.stop())
const endpoint = local.endpoint
const emu = await emulatorFor(t)
const admin = cognitoClient(endpoint)
t.teardown(() => admin.destroy())

interface User { setup: DemoSetup, accessToken: string }

async function newUser (): Promise<User> {
  const username = `guide-${randomUUID().slice(0, 8)}`
  const setup = await ensureDemoSetup({ endpoint, poolName: 'guide', username, email: `${username}@example.com` })
  return { setup, accessToken: (await signIn({ endpoint, ...setup })).accessToken }
}

async function attributes (user: User): Promise<Record<string, string | undefined>> {
  const answer = await admin.send(new AdminGetUserCommand({ UserPoolId: user.setup.userPoolId, Username: user.setup.username }))
  return Object.fromEntries((answer.UserAttributes ?? []).map(a => [a.Name, a.Value]))
}

/** The plugin with the README section's options, listening; the guide's `apiEndpointUrl` is `${url}/authenticators`. */
async function guideApp (t: Test, user: User, extra: Partial<AuthenticatorsPluginOptions> = {}): Promise<{ url: string, lines: string[] }> {
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => { lines.push(line) } } } })
  await app.register(authenticatorsPlugin, {
    cognito: { userPoolId: user.setup.userPoolId, clientId: user.setup.clientId, issuer: user.setup.issuer, userIdClaim: 'username' },
    authsignal: { apiSecretKey: emu.secret, apiUrl: emu.apiUrl },
    routes: { token: { path: '/' }, verify: true },
    cognitoSync: { client: admin },
    ...extra
  })
  t.teardown(() => app.close())
  return { url: await listen(app, '/authenticators'), lines }
}

const tracks = (user: User): Array<Record<string, unknown>> =>
  emu.requests.filter(r => r.method === 'POST' && r.path === `/v1/users/${user.setup.username}/actions/addAuthenticator`).map(r => r.body as Record<string, unknown>)

t.test('POST /authenticators as the guide\'s app sends it: { authsignalToken } for the username', async t => {
  const user = await newUser()
  const { url } = await guideApp(t, user)
  const cognitoAccessToken = user.accessToken

  const authsignalToken = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${cognitoAccessToken}` } })
    .then(async (res) => await res.json() as Record<string, unknown>)
    .then((json) => json.authsignalToken)

  t.type(authsignalToken, 'string')
  t.match(tracks(user), [{ scope: 'add:authenticators' }], 'tracked for the username claim, with the enrolment scope')
})

t.test('the optional { email, phoneNumber } goes to track\'s attributes; unknown fields are removed', async t => {
  const user = await newUser()
  const { url, lines } = await guideApp(t, user)
  const res = await fetch(url, {
    method: 'POST',
    headers: { Authorization: `Bearer ${user.accessToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'jo@example.com', phoneNumber: '+14155550123', userId: 'someone-else' })
  })
  t.equal(res.status, 200)
  t.match(tracks(user), [{ scope: 'add:authenticators', email: 'jo@example.com', phoneNumber: '+14155550123' }])
  t.notOk('userId' in (tracks(user)[0] ?? {}), 'the unknown field never reaches Authsignal')
  t.notOk(lines.join('').includes('jo@example.com') || lines.join('').includes('+14155550123'), 'neither is logged')
})

t.test('a body that is not the guide\'s shape is 400 FST_ERR_VALIDATION, and nothing is tracked', async t => {
  const user = await newUser()
  const { url } = await guideApp(t, user)
  const bodies = [
    { email: 'not an address' },
    { email: `${'a'.repeat(250)}@example.com` },
    { email: 42 },
    { phoneNumber: '0415555012' },
    { phoneNumber: '+1 415 555 0123' },
    { phoneNumber: `+1${'5'.repeat(15)}` }
  ]
  for (const body of bodies) {
    const res = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${user.accessToken}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
    t.equal(res.status, 400, JSON.stringify(body).slice(0, 60))
    t.equal((await res.json() as { code: string }).code, 'FST_ERR_VALIDATION')
  }
  t.same(tracks(user), [])
})

t.test('POST /authenticators/verify as the guide\'s app sends it: the caller\'s verified email and phone fill Cognito, 204', async t => {
  const user = await newUser()
  const { url } = await guideApp(t, user)
  const { username, userPoolId } = user.setup
  await admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: userPoolId, Username: username, UserAttributes: [{ Name: 'email', Value: `${username}@example.com` }, { Name: 'email_verified', Value: 'false' }] }))
  emu.seedAuthenticator(username, { verificationMethod: 'EMAIL_OTP', email: 'proven@example.com' })
  emu.seedAuthenticator(username, { verificationMethod: 'SMS', phoneNumber: '+14155550199' })

  const res = await fetch(`${url}/verify`, { method: 'POST', headers: { Authorization: `Bearer ${user.accessToken}` } })

  t.equal(res.status, 204)
  t.match(await attributes(user), { email: 'proven@example.com', email_verified: 'true', phone_number: '+14155550199', phone_number_verified: 'true' })
})

t.test('verify is fill-only: a verified Cognito email is not replaced by another authenticator\'s address', async t => {
  const user = await newUser()
  const { url } = await guideApp(t, user)
  emu.seedAuthenticator(user.setup.username, { verificationMethod: 'EMAIL_OTP', email: 'attacker@example.com' })

  t.equal((await fetch(`${url}/verify`, { method: 'POST', headers: { Authorization: `Bearer ${user.accessToken}` } })).status, 204)
  t.match(await attributes(user), { email: `${user.setup.username}@example.com`, email_verified: 'true' })
})

t.test('verify for a token whose Cognito user is gone: 204, said in the log, nothing written', async t => {
  const user = await newUser()
  const { url, lines } = await guideApp(t, user)
  emu.seedAuthenticator(user.setup.username, { verificationMethod: 'SMS', phoneNumber: '+14155550111' })
  await admin.send(new AdminDeleteUserCommand({ UserPoolId: user.setup.userPoolId, Username: user.setup.username }))

  t.equal((await fetch(`${url}/verify`, { method: 'POST', headers: { Authorization: `Bearer ${user.accessToken}` } })).status, 204)
  t.ok(lines.some(l => l.includes('no Cognito user has this Authsignal user id')))
})

t.test('verify needs a token, and is off unless routes.verify is set', async t => {
  const user = await newUser()
  const { url } = await guideApp(t, user)
  t.equal((await fetch(`${url}/verify`, { method: 'POST' })).status, 401)
  const off = await guideApp(t, user, { routes: { token: { path: '/' } }, cognitoSync: undefined })
  t.equal((await fetch(`${off.url}/verify`, { method: 'POST', headers: { Authorization: `Bearer ${user.accessToken}` } })).status, 404)
})

t.test('routes.verify is checked at registration: it needs cognitoSync\'s client; cognitoSync needs it or the webhook route', async t => {
  const user = await newUser()
  await t.rejects(guideApp(t, user, { cognitoSync: undefined }), { code: 'FST_AUTHSIGNAL_COGNITO_INVALID_OPTION', message: /routes\.verify: writes to Cognito with cognitoSync's client/ })
  await t.rejects(guideApp(t, user, { routes: { verify: { path: 'verify' } } }), { message: /routes\.verify\.path/ })
  await t.rejects(guideApp(t, user, { routes: { verify: false } }), { message: /cognitoSync: acts on Authsignal's webhook events: turn on routes\.webhook too \(or routes\.verify\)/ })
  await t.resolves(guideApp(t, user, { routes: { verify: { path: '/sync' } } }))
})
