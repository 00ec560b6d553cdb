// The plugin's decorator names (`decorators`): the defaults share `request.user` with @fastify/jwt in either
// registration order, a name already taken fails registration saying what to set, and renamed decorators
// carry the hook and the claims the plugin's own routes read.
import fastifyJwt from '@fastify/jwt'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import authenticatorsPlugin, { type AuthenticateHook, type AuthenticatorsPluginOptions, type CognitoClaims } from '../index.js'
import { ALICE, bearer, cognitoOptions, emulatorFor, emulatorOptions, issuerFor, upstreamCalls } from './helpers.js'

const issuer = await issuerFor(t)
const HOST_SECRET = 'the host application\'s own HS256 secret, 32+ bytes'

function pluginOptions (extra: Partial<AuthenticatorsPluginOptions> = {}): AuthenticatorsPluginOptions {
  return { cognito: cognitoOptions(issuer), authsignal: { apiSecretKey: 'test-secret', apiUrl: 'http://127.0.0.1:9/v1' }, ...extra }
}

function appFor (t: Test): FastifyInstance {
  const app = Fastify()
  t.teardown(() => app.close())
  return app
}

/** Registration fails with FST_AUTHSIGNAL_COGNITO_INVALID_OPTION and exactly this message. */
async function refused (t: Test, options: unknown, message: string, before?: (app: FastifyInstance) => void): Promise<void> {
  const app = appFor(t)
  before?.(app)
  app.register(authenticatorsPlugin, options as AuthenticatorsPluginOptions)
  await t.rejects(async () => { await app.ready() }, { code: 'FST_AUTHSIGNAL_COGNITO_INVALID_OPTION', message: new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) })
}

for (const order of ['before', 'after'] as const) {
  t.test(`registered ${order} @fastify/jwt with the default names, both start and both fill the shared request.user`, async t => {
    const app = appFor(t)
    if (order === 'after') await app.register(fastifyJwt, { secret: HOST_SECRET })
    await app.register(authenticatorsPlugin, pluginOptions())
    if (order === 'before') await app.register(fastifyJwt, { secret: HOST_SECRET })
    app.get('/host', { onRequest: async (request) => { await request.jwtVerify() } }, async (request) => request.user)
    app.get('/cognito', { onRequest: app.authenticate }, async (request) => ({ sub: request.user.sub }))

    const host = await app.inject({ url: '/host', headers: bearer(app.jwt.sign({ account: 'acme' })) })
    const cognito = await app.inject({ url: '/cognito', headers: bearer(issuer.mint({ sub: ALICE })) })

    t.equal(host.statusCode, 200)
    t.match(host.json(), { account: 'acme' }, '@fastify/jwt put its claims in request.user')
    t.same([cognito.statusCode, cognito.json()], [200, { sub: ALICE }], 'the plugin put the Cognito claims in request.user')
  })
}

t.test('a host that already decorated app.authenticate is told to rename the plugin\'s hook', async t => {
  await refused(t, pluginOptions(), 'Invalid option decorators.authenticate: app.authenticate is already decorated (@fastify/jwt\'s README pattern?): ' +
    'give this plugin\'s hook another name with decorators.authenticate, e.g. \'cognitoAuthenticate\'', (app) => app.decorate('authenticate', async () => {}))
})

t.test('a decorators.user that another plugin holds is refused, saying what to set', async t => {
  await refused(t, pluginOptions({ decorators: { user: 'account' } }),
    'Invalid option decorators.user: request.account is already decorated: give the verified claims another name with decorators.user, e.g. \'cognitoUser\'',
    (app) => app.decorateRequest('account', null))
})

t.test('a decorators.authenticate that Fastify itself uses is refused', async t => {
  await refused(t, pluginOptions({ decorators: { authenticate: 'register' } }), 'Invalid option decorators.authenticate: app.register is already decorated')
})

const BAD_NAMES: Array<[string, unknown, string]> = [
  ['decorators', 'cognito', 'Invalid option decorators: expected an object'],
  ['decorators', ['authenticate'], 'Invalid option decorators: expected an object'],
  ['decorators.authenticate', '', 'Invalid option decorators.authenticate: expected a JavaScript identifier'],
  ['decorators.authenticate', 'cognito-authenticate', 'Invalid option decorators.authenticate: expected a JavaScript identifier'],
  ['decorators.user', '1user', 'Invalid option decorators.user: expected a JavaScript identifier'],
  ['decorators.user', 42, 'Invalid option decorators.user: expected a JavaScript identifier'],
  ['decorators.user', 'u'.repeat(65), 'Invalid option decorators.user: expected a JavaScript identifier']
]

for (const [option, value, message] of BAD_NAMES) {
  t.test(`${option} = ${JSON.stringify(value)} fails registration with FST_AUTHSIGNAL_COGNITO_INVALID_OPTION`, async t => {
    const decorators = option === 'decorators' ? value : { [option.slice('decorators.'.length)]: value }
    await refused(t, { ...pluginOptions(), decorators }, message)
  })
}

t.test('renamed decorators: app.<authenticate> verifies, request.<user> holds the claims, and the plugin\'s routes read them there', async t => {
  const emu = await emulatorFor(t)
  const app = appFor(t)
  app.decorate('authenticate', async () => { throw new Error('the host\'s own hook is not the plugin\'s') })
  await app.register(authenticatorsPlugin, pluginOptions({
    authsignal: emulatorOptions(emu),
    routes: { token: { maxAuthAgeSec: 300 } },
    decorators: { authenticate: 'cognitoAuthenticate', user: 'cognitoUser' }
  }))
  const cognitoAuthenticate = app.getDecorator<AuthenticateHook>('cognitoAuthenticate')
  app.get('/me', { onRequest: cognitoAuthenticate }, async (request) => ({
    sub: request.getDecorator<CognitoClaims>('cognitoUser').sub,
    user: (request as unknown as Record<string, unknown>).user ?? 'unset'
  }))
  emu.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' })
  const token = issuer.mint({ sub: ALICE, authTime: Math.floor(Date.now() / 1000) - 600 })

  const me = await app.inject({ url: '/me', headers: bearer(token) })
  const list = await app.inject({ url: '/authenticators', headers: bearer(token) })
  const tooOld = await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(token) })

  t.same([me.statusCode, me.json()], [200, { sub: ALICE, user: 'unset' }], 'the claims are under cognitoUser, request.user is left alone')
  t.equal(list.statusCode, 200)
  t.equal(list.json().authenticators.length, 1, 'the list route read the user id from request.cognitoUser')
  t.same([tooOld.statusCode, tooOld.json().code], [401, 'FST_COGNITO_AUTH_TOO_OLD'], 'the token route read auth_time from request.cognitoUser')
  t.same(upstreamCalls(emu), [`GET /v1/users/${ALICE}/authenticators`])
})
