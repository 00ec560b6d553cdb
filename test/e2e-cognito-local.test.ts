// End to end with real Cognito tokens: cognito-local (the AWS API, real RS256 tokens and JWKS) issues
// them through the AWS SDK, the plugin verifies them, and the Authsignal emulator answers the routes.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import authenticatorsPlugin, { type CognitoOptions } from '../index.js'
import { startAuthsignalEmulator } from '../lib/testing/authsignal-emulator.js'
import { ensureDemoSetup, signIn, startCognitoLocal, type DemoSetup } from '../dev/cognito-local.js'
import { payloadOf } from './helpers.js'

const claims = payloadOf

const cognitoLocal = await startCognitoLocal({ dataDir: t.testdir() })
t.teardown(() => cognitoLocal.stop())
const emulator = await startAuthsignalEmulator()
t.teardown(() => emulator.close())

const endpoint = cognitoLocal.endpoint
const pool = await ensureDemoSetup({ endpoint })
const tokens = await signIn({ endpoint, ...pool })
const sub = claims(tokens.accessToken).sub as string

function cognitoOf (setup: DemoSetup, extra: Partial<CognitoOptions> = {}): CognitoOptions {
  return { userPoolId: setup.userPoolId, clientId: setup.clientId, issuer: setup.issuer, ...extra }
}

/** The plugin as the README registers it, against cognito-local and the emulator. */
async function appFor (t: Test, cognito: CognitoOptions | CognitoOptions[]): Promise<FastifyInstance> {
  const app = Fastify()
  // Removals with the Cognito token alone: this suite is about cognito-local's tokens, the step-up has its own.
  await app.register(authenticatorsPlugin, { cognito, authsignal: { apiSecretKey: emulator.secret, apiUrl: emulator.apiUrl }, routes: { remove: { requireChallenge: false } } })
  app.get('/me', { onRequest: app.authenticate }, async (request) => ({ sub: request.user.sub, username: request.user.username }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return app
}

async function call (app: FastifyInstance, method: string, path: string, token: string, body?: unknown) {
  const { port } = app.server.address() as { port: number }
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.text()
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text), headers: res.headers }
}

t.beforeEach(() => emulator.reset())

t.test('all four routes and a host route answer a real cognito-local access token', async (t) => {
  const app = await appFor(t, cognitoOf(pool))
  const email = emulator.seedAuthenticator(sub, { verificationMethod: 'EMAIL_OTP', email: 'demo@example.com' })
  const sms = emulator.seedAuthenticator(sub, { verificationMethod: 'SMS', phoneNumber: '+14155550123' })

  t.same((await call(app, 'GET', '/me', tokens.accessToken)).json, { sub, username: 'demo' })

  const token = await call(app, 'POST', '/authenticators/token', tokens.accessToken)
  t.equal(token.status, 200)
  t.match(token.json, { authsignalToken: /^[\w-]+\.[\w-]+\.[\w-]+$/ })

  const ui = await call(app, 'POST', '/authenticators/prebuilt-ui', tokens.accessToken)
  t.equal(ui.status, 200)
  t.match(ui.json, { prebuiltUiUrl: new RegExp(`^${emulator.url}/prebuilt\\?token=`) })

  const list = await call(app, 'GET', '/authenticators', tokens.accessToken)
  t.equal(list.status, 200)
  t.match(list.json, {
    authenticators: [
      { userAuthenticatorId: email.userAuthenticatorId, verificationMethod: 'EMAIL_OTP', email: /•/ },
      { userAuthenticatorId: sms.userAuthenticatorId, verificationMethod: 'SMS', phoneNumber: /•/ }
    ]
  })

  const removed = await call(app, 'DELETE', `/authenticators/${sms.userAuthenticatorId}`, tokens.accessToken)
  t.equal(removed.status, 204)
  t.same(emulator.authenticators(sub).map((a) => a.userAuthenticatorId), [email.userAuthenticatorId])
  t.equal((await call(app, 'DELETE', `/authenticators/${email.userAuthenticatorId}`, tokens.accessToken)).status, 409, 'the last one stays')

  // Every upstream call was made for the token's sub, with the secret.
  const server = emulator.requests.filter((r) => !r.path.startsWith('/v1/client/'))
  t.ok(server.length >= 5)
  t.ok(server.every((r) => r.authorized && r.path.startsWith(`/v1/users/${sub}/`)))
})

t.test('the ID token is refused at an access route and accepted when tokenUse is "id"', async (t) => {
  const accessApp = await appFor(t, cognitoOf(pool))
  const refused = await call(accessApp, 'GET', '/authenticators', tokens.idToken)
  t.equal(refused.status, 401)
  t.equal(refused.json.code, 'FST_COGNITO_TOKEN_USE')
  t.match(refused.headers.get('www-authenticate'), /^Bearer /)

  const idApp = await appFor(t, cognitoOf(pool, { tokenUse: 'id' }))
  t.same((await call(idApp, 'GET', '/me', tokens.idToken)).json, { sub }, 'ID tokens carry cognito:username, not username')
  t.same((await call(idApp, 'GET', '/authenticators', tokens.idToken)).json, { authenticators: [] })
  t.equal((await call(idApp, 'GET', '/authenticators', tokens.accessToken)).json.code, 'FST_COGNITO_TOKEN_USE')
})

t.test('a token of a second pool is refused by its issuer', async (t) => {
  const second = await ensureDemoSetup({ endpoint, poolName: 'second-pool' })
  t.not(second.userPoolId, pool.userPoolId)
  const secondTokens = await signIn({ endpoint, ...second })
  const header = (jwt: string): unknown => JSON.parse(Buffer.from(jwt.split('.')[0] as string, 'base64url').toString('utf8'))
  t.same(header(secondTokens.accessToken), header(tokens.accessToken), 'cognito-local signs every pool with the same key')

  // Both app clients allowed: only `iss` tells the pools apart.
  const app = await appFor(t, cognitoOf(pool, { clientId: [pool.clientId, second.clientId] }))
  const refused = await call(app, 'GET', '/authenticators', secondTokens.accessToken)
  t.equal(refused.status, 401)
  t.equal(refused.json.code, 'FST_COGNITO_TOKEN_ISSUER')
  t.equal((await call(app, 'GET', '/authenticators', tokens.accessToken)).status, 200)
})

t.test('two cognito-local pools (one shared signing key): a pool-A token is refused where only pool B is configured; with both, each pool\'s users reach only their own authenticators', async (t) => {
  // The same username in both pools: two different people.
  const poolB = await ensureDemoSetup({ endpoint, poolName: 'pool-b' })
  const tokensB = await signIn({ endpoint, ...poolB })
  t.equal(claims(tokensB.accessToken).username, claims(tokens.accessToken).username, 'one username, two pools')

  const onlyB = await appFor(t, cognitoOf(poolB))
  const refused = await call(onlyB, 'GET', '/authenticators', tokens.accessToken)
  t.equal(refused.status, 401)
  t.equal(refused.json.code, 'FST_COGNITO_TOKEN_ISSUER')
  t.equal(emulator.requests.length, 0, 'no upstream call')

  const both = await appFor(t, [
    cognitoOf(pool, { userIdClaim: 'username', userIdPrefix: 'pool-a:' }),
    cognitoOf(poolB, { userIdClaim: 'username', userIdPrefix: 'pool-b:' })
  ])
  const ofA = emulator.seedAuthenticator('pool-a:demo', { verificationMethod: 'EMAIL_OTP', email: 'a@example.com' })
  const ofB = emulator.seedAuthenticator('pool-b:demo', { verificationMethod: 'SMS', phoneNumber: '+14155550123' })
  const listed = async (token: string): Promise<string[]> =>
    (await call(both, 'GET', '/authenticators', token)).json.authenticators.map((a: { userAuthenticatorId: string }) => a.userAuthenticatorId)
  t.same(await listed(tokens.accessToken), [ofA.userAuthenticatorId], 'pool A\'s demo sees only its own')
  t.same(await listed(tokensB.accessToken), [ofB.userAuthenticatorId], 'pool B\'s demo sees only its own')
  t.equal((await call(both, 'DELETE', `/authenticators/${ofB.userAuthenticatorId}`, tokens.accessToken)).status, 404, 'nor can remove the other\'s')
  t.same(emulator.requests.map(r => r.path), [
    '/v1/users/pool-a%3Ademo/authenticators', '/v1/users/pool-b%3Ademo/authenticators', '/v1/users/pool-a%3Ademo/authenticators'
  ], 'every call under the prefixed id of the token\'s own pool')
})

t.test('an expired token is refused', async (t) => {
  // Its own pool, so the one-second validity does not touch the other tests' client.
  const shortLived = await ensureDemoSetup({ endpoint, poolName: 'short-lived', accessTokenValiditySec: 1 })
  const short = await signIn({ endpoint, ...shortLived })
  const exp = claims(short.accessToken).exp as number
  t.equal(exp - (claims(short.accessToken).iat as number), 1)
  const app = await appFor(t, cognitoOf(shortLived, { clockToleranceSec: 0 }))
  await sleep(Math.max(0, exp * 1000 - Date.now()) + 100)
  const refused = await call(app, 'GET', '/authenticators', short.accessToken)
  t.equal(refused.status, 401)
  t.equal(refused.json.code, 'FST_COGNITO_TOKEN_EXPIRED')
  t.equal(emulator.requests.length, 0, 'no upstream call')
})

t.test('email OTP enrolment through the emulator\'s client API, then list and delete', async (t) => {
  const app = await appFor(t, cognitoOf(pool))
  const sms = emulator.seedAuthenticator(sub, { verificationMethod: 'SMS', phoneNumber: '+14155550123' })
  const { authsignalToken } = (await call(app, 'POST', '/authenticators/token', tokens.accessToken)).json

  // Exactly what @authsignal/browser's email.enroll() and email.verify() send.
  const browser = async (path: string, body: unknown) => {
    const res = await fetch(`${emulator.apiUrl}/client/${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${authsignalToken}` },
      body: JSON.stringify(body)
    })
    return { status: res.status, json: await res.json() as Record<string, unknown> }
  }
  const enrol = await browser('user-authenticators/email-otp', { email: 'new@example.com' })
  t.equal(enrol.status, 200)
  t.match(enrol.json, { userId: sub, userAuthenticatorId: String })
  const code = emulator.sentOtps.at(-1)
  t.match(code, { userId: sub, email: 'new@example.com', code: /^\d{6}$/ })
  const verified = await browser('verify/email-otp', { verificationCode: code?.code })
  t.match(verified.json, { isVerified: true, userAuthenticator: { userAuthenticatorId: enrol.json.userAuthenticatorId, verificationMethod: 'EMAIL_OTP' } })

  const list = await call(app, 'GET', '/authenticators', tokens.accessToken)
  t.same(list.json.authenticators.map((a: { verificationMethod: string }) => a.verificationMethod), ['SMS', 'EMAIL_OTP'])
  t.match(list.json.authenticators[1], { userAuthenticatorId: enrol.json.userAuthenticatorId, email: 'n•••@example.com', verifiedAt: String })

  t.equal((await call(app, 'DELETE', `/authenticators/${enrol.json.userAuthenticatorId}`, tokens.accessToken)).status, 204)
  t.same((await call(app, 'GET', '/authenticators', tokens.accessToken)).json.authenticators.map((a: { userAuthenticatorId: string }) => a.userAuthenticatorId),
    [sms.userAuthenticatorId])
})
