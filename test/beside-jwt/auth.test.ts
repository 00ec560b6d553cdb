// @fastify/auth with the plugin's hook beside other strategies: the plugin's WWW-Authenticate challenge travels
// with its error (err.headers), so it is sent only when that error is the answer, never on a request another
// strategy accepted.
import t, { type Test } from 'tap'
import { createSigner } from 'fast-jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { startCognitoIssuer } from '../../lib/testing/index.js'
import { buildHost, HOST_SECRET } from './app.js'

const ALICE = 'a11ce000-0000-4000-8000-000000000001'
const issuer = await startCognitoIssuer()
t.teardown(() => issuer.close())

const CHALLENGE = /^Bearer error="invalid_token", error_description="/

// The host's own strategy: an API key.
async function apiKey (request: FastifyRequest): Promise<void> {
  if (request.headers['x-api-key'] !== 'host-key') throw Object.assign(new Error('Bad API key'), { statusCode: 401, code: 'HOST_BAD_API_KEY' })
}

async function hostApp (t: Test, gates: { requiredGroups?: string[], requiredScopes?: string[] } = {}): Promise<FastifyInstance> {
  const app = await buildHost('jwt first', {
    cognito: { userPoolId: issuer.userPoolId, clientId: issuer.clientId, issuer: issuer.issuer, jwksUri: issuer.jwksUri, ...gates },
    authsignal: { apiSecretKey: 'unused', apiUrl: 'http://127.0.0.1:9/v1' }
  })
  app.get('/ours-then-host', { onRequest: app.auth([app.cognitoAuthenticate, apiKey]) }, async () => ({ ok: true }))
  app.get('/host-then-ours', { onRequest: app.auth([apiKey, app.cognitoAuthenticate]) }, async () => ({ ok: true }))
  // What the host's handler finds of the plugin's claims after another strategy accepted the request.
  app.get('/ours-then-host-claims', { onRequest: app.auth([app.cognitoAuthenticate, apiKey]) }, async (request) => ({ sub: request.cognitoUser?.sub ?? null }))
  // app.ts's /either, with the plugin's hook first.
  app.get('/either-ours-first', { onRequest: app.auth([app.cognitoAuthenticate, app.authenticate]) }, async (request) => ({ account: request.user.account }))
  t.teardown(() => app.close())
  return app
}

const NOT_A_JWT = { authorization: 'Bearer not-a-jwt' }

t.test('the plugin refuses, the host\'s strategy accepts: 200 without the plugin\'s WWW-Authenticate', async t => {
  const app = await hostApp(t)

  const badToken = await app.inject({ url: '/ours-then-host', headers: { ...NOT_A_JWT, 'x-api-key': 'host-key' } })
  const noToken = await app.inject({ url: '/ours-then-host', headers: { 'x-api-key': 'host-key' } })

  t.same([badToken.statusCode, badToken.headers['www-authenticate']], [200, undefined], 'a malformed bearer token')
  t.same([noToken.statusCode, noToken.headers['www-authenticate']], [200, undefined], 'no bearer token')
})

t.test('both refuse and the plugin\'s refusal is the answer: 401 with its code and challenge', async t => {
  const app = await hostApp(t)

  const res = await app.inject({ url: '/host-then-ours', headers: NOT_A_JWT })

  t.same([res.statusCode, res.json().code], [401, 'FST_COGNITO_TOKEN_MALFORMED'])
  t.match(res.headers['www-authenticate'], CHALLENGE)
})

t.test('both refuse and the host\'s refusal is the answer: its own 401, without the plugin\'s challenge', async t => {
  const app = await hostApp(t)

  const res = await app.inject({ url: '/ours-then-host', headers: NOT_A_JWT })

  t.same([res.statusCode, res.json().code, res.headers['www-authenticate']], [401, 'HOST_BAD_API_KEY', undefined])
})

t.test('@fastify/jwt\'s own app.authenticate beside the plugin\'s app.cognitoAuthenticate: either token passes, neither is the plugin\'s 401', async t => {
  const app = await hostApp(t)
  const hostToken = createSigner({ key: HOST_SECRET })({ account: 'acme', role: 'member' })

  const host = await app.inject({ url: '/either', headers: { authorization: `Bearer ${hostToken}` } })
  const hostOursFirst = await app.inject({ url: '/either-ours-first', headers: { authorization: `Bearer ${hostToken}` } })
  const cognito = await app.inject({ url: '/either', headers: { authorization: `Bearer ${issuer.mint({ sub: ALICE })}` } })
  const neither = await app.inject({ url: '/either', headers: NOT_A_JWT })

  t.same([host.statusCode, host.json(), host.headers['www-authenticate']], [200, { account: 'acme', sub: null }, undefined], 'the host\'s token: @fastify/jwt accepts')
  t.same([hostOursFirst.statusCode, hostOursFirst.json(), hostOursFirst.headers['www-authenticate']], [200, { account: 'acme' }, undefined],
    'the host\'s token, the plugin asked first: it refuses, @fastify/jwt accepts, no challenge')
  t.same([cognito.statusCode, cognito.json(), cognito.headers['www-authenticate']], [200, { account: null, sub: ALICE }, undefined], 'a Cognito token: @fastify/jwt refuses, the plugin accepts')
  t.same([neither.statusCode, neither.json().code], [401, 'FST_COGNITO_TOKEN_MALFORMED'], 'neither: the last refusal, the plugin\'s')
  t.match(neither.headers['www-authenticate'], CHALLENGE)
})

t.test('a token refused by requiredGroups or requiredScopes leaves no claims on the request for the next strategy', async t => {
  const groups = await hostApp(t, { requiredGroups: ['admins'] })
  const scopes = await hostApp(t, { requiredScopes: ['aws.cognito.signin.user.admin'] })
  const outsider = { authorization: `Bearer ${issuer.mint({ sub: ALICE, groups: ['members'], scope: 'openid' })}` }

  const byGroup = await groups.inject({ url: '/ours-then-host-claims', headers: { ...outsider, 'x-api-key': 'host-key' } })
  const byScope = await scopes.inject({ url: '/ours-then-host-claims', headers: { ...outsider, 'x-api-key': 'host-key' } })
  const admin = await groups.inject({ url: '/ours-then-host-claims', headers: { authorization: `Bearer ${issuer.mint({ sub: ALICE, groups: ['admins'] })}` } })

  t.same([byGroup.statusCode, byGroup.json()], [200, { sub: null }], 'refused by a group: the API key let it in, without Alice\'s claims')
  t.same([byScope.statusCode, byScope.json()], [200, { sub: null }], 'refused by a scope: the same')
  t.same([admin.statusCode, admin.json()], [200, { sub: ALICE }], 'a token that passes the gates: its claims are there')
})
