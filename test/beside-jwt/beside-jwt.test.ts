// The README's set-up beside @fastify/jwt (app.ts), in both registration orders: the host's HS256 tokens on
// its own routes, Cognito tokens on the plugin's routes and on a host route, each refused where it does not
// belong. Imports no shared test helper: this is its own TypeScript program (tsconfig.json).
import t from 'tap'
import { createSigner } from 'fast-jwt'
import { startAuthsignalEmulator, startCognitoIssuer } from '../../lib/testing/index.js'
import { buildHost, HOST_SECRET, type HostClaims, type Order } from './app.js'

const ALICE = 'a11ce000-0000-4000-8000-000000000001'
const issuer = await startCognitoIssuer()
const emulator = await startAuthsignalEmulator()
t.teardown(async () => { await Promise.all([issuer.close(), emulator.close()]) })
emulator.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' })

const hostToken = createSigner({ key: HOST_SECRET })({ account: 'acme', role: 'admin' } satisfies HostClaims)
const cognitoToken = issuer.mint({ sub: ALICE })
const bearer = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` })

for (const order of ['jwt first', 'plugin first'] satisfies Order[]) {
  t.test(`@fastify/jwt and the plugin registered ${order}`, async t => {
    const app = await buildHost(order, {
      cognito: { userPoolId: issuer.userPoolId, clientId: issuer.clientId, issuer: issuer.issuer, jwksUri: issuer.jwksUri },
      authsignal: { apiSecretKey: emulator.secret, apiUrl: emulator.apiUrl }
    })
    t.teardown(() => app.close())

    const account = await app.inject({ url: '/account', headers: bearer(hostToken) })
    t.same([account.statusCode, account.json()], [200, { account: 'acme' }], 'the host\'s token on its own route (app.authenticate, request.user)')

    const me = await app.inject({ url: '/me', headers: bearer(cognitoToken) })
    t.same([me.statusCode, me.json()], [200, { sub: ALICE }], 'a Cognito token on a host route (app.cognitoAuthenticate, request.cognitoUser)')

    const list = await app.inject({ url: '/authenticators', headers: bearer(cognitoToken) })
    t.equal(list.statusCode, 200, 'a Cognito token on the plugin\'s route')
    t.match(list.json().authenticators, [{ verificationMethod: 'EMAIL_OTP' }])

    const hostOnPlugin = await app.inject({ url: '/authenticators', headers: bearer(hostToken) })
    t.same([hostOnPlugin.statusCode, hostOnPlugin.json().code], [401, 'FST_COGNITO_TOKEN_ALGORITHM'], 'the host\'s HS256 token is refused on the plugin\'s routes')

    // @fastify/jwt answers a token of another algorithm with its 500 (it maps only some fast-jwt errors to 401).
    const cognitoOnHost = await app.inject({ url: '/account', headers: bearer(cognitoToken) })
    t.same([cognitoOnHost.statusCode, cognitoOnHost.json().code], [500, 'FAST_JWT_INVALID_ALGORITHM'], 'a Cognito token is refused by @fastify/jwt on the host\'s route')
  })
}
