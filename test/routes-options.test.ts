// Where the routes mount and what they track: renamed paths and actions, routes turned off, the
// prefix, two registrations side by side, and the SDK instance the plugin exposes.
import { Authsignal } from '@authsignal/node'
import Fastify, { type LightMyRequestResponse } from 'fastify'
import t from 'tap'
import authenticatorsPlugin from '../index.js'
import { ALICE, bearer, buildApp, cognitoOptions, emulatorFor, emulatorOptions, issuerFor, tokenOnly, upstreamCalls } from './helpers.js'

// One key pair for the whole file: tests share the issuer, never its state.
const issuer = await issuerFor(t)

/** Fastify's own 404 for a URL no route matches (not a route's 404 answer). */
function routeNotFound (res: LightMyRequestResponse): boolean {
  return res.statusCode === 404 && /^Route \S+ not found$/.test(res.json().message)
}

t.test('renamed paths and actions: each route answers on its own path and tracks its own action', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, {
    authsignal: emulatorOptions(emu),
    routes: {
      token: { path: '/enrolment-token', action: 'enrolFactor', scope: 'add:authenticators' },
      prebuiltUi: { path: '/manage', action: 'manageFactors' },
      list: { path: '/all' },
      remove: { ...tokenOnly, path: '/remove/:userAuthenticatorId' }
    }
  })
  const target = emu.seedAuthenticator(ALICE, { verificationMethod: 'SMS', phoneNumber: '+6421555123' })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'PASSKEY' })
  const headers = bearer(issuer.mint({ sub: ALICE }))

  const statuses = [
    (await app.inject({ method: 'POST', url: '/authenticators/enrolment-token', headers })).statusCode,
    (await app.inject({ method: 'POST', url: '/authenticators/manage', headers })).statusCode,
    (await app.inject({ url: '/authenticators/all', headers })).statusCode,
    (await app.inject({ method: 'DELETE', url: `/authenticators/remove/${target.userAuthenticatorId}`, headers })).statusCode
  ]

  t.same(statuses, [200, 200, 200, 204])
  t.same(upstreamCalls(emu).filter(call => call.startsWith('POST')), [
    `POST /v1/users/${ALICE}/actions/enrolFactor`,
    `POST /v1/users/${ALICE}/actions/manageFactors`
  ])
})

t.test('renamed routes no longer answer on their default paths', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, {
    authsignal: emulatorOptions(emu),
    routes: { token: { path: '/enrolment-token' }, prebuiltUi: { path: '/manage' } }
  })
  const headers = bearer(issuer.mint({ sub: ALICE }))

  t.ok(routeNotFound(await app.inject({ method: 'POST', url: '/authenticators/token', headers })))
  t.ok(routeNotFound(await app.inject({ method: 'POST', url: '/authenticators/prebuilt-ui', headers })))
  t.same(emu.requests, [])
})

t.test('the token route\'s scope option is what Authsignal is asked for', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { token: { scope: 'read:authenticators' } } })

  await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.match(emu.requests[0]?.body, { scope: 'read:authenticators' })
})

t.test('a route turned off with false is not mounted while the others still work', async t => {
  const emu = await emulatorFor(t)
  const headers = bearer(issuer.mint({ sub: ALICE }))
  const requests = {
    token: { method: 'POST', url: '/authenticators/token' },
    prebuiltUi: { method: 'POST', url: '/authenticators/prebuilt-ui' },
    list: { method: 'GET', url: '/authenticators' },
    remove: { method: 'DELETE', url: '/authenticators/some-id' }
  } as const

  for (const off of Object.keys(requests) as Array<keyof typeof requests>) {
    const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { [off]: false } })
    for (const [name, request] of Object.entries(requests)) {
      const res = await app.inject({ ...request, headers })
      if (name === off) {
        t.ok(routeNotFound(res), `${off} off: ${request.method} ${request.url} has no route`)
      } else {
        t.notOk(routeNotFound(res), `${off} off: ${name} is still mounted`)
      }
    }
  }
})

t.test('all routes off: the plugin still decorates app.authenticate for host routes', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { token: false, prebuiltUi: false, list: false, remove: false } })

  t.ok(routeNotFound(await app.inject({ url: '/authenticators', headers: bearer(issuer.mint()) })))
  t.equal((await app.inject({ url: '/me', headers: bearer(issuer.mint()) })).statusCode, 200)
})

t.test('the prefix option mounts every route under it and nothing under /authenticators', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), prefix: '/api/v2/mfa/', routes: { remove: tokenOnly } })
  const target = emu.seedAuthenticator(ALICE, { verificationMethod: 'SMS', phoneNumber: '+6421555123' })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'PASSKEY' })
  const headers = bearer(issuer.mint({ sub: ALICE }))

  const statuses = [
    (await app.inject({ method: 'POST', url: '/api/v2/mfa/token', headers })).statusCode,
    (await app.inject({ method: 'POST', url: '/api/v2/mfa/prebuilt-ui', headers })).statusCode,
    (await app.inject({ url: '/api/v2/mfa', headers })).statusCode,
    (await app.inject({ method: 'DELETE', url: `/api/v2/mfa/${target.userAuthenticatorId}`, headers })).statusCode,
    (await app.inject({ url: '/authenticators', headers })).statusCode
  ]

  t.same(statuses, [200, 200, 200, 204, 404])
})

t.test('two registrations in encapsulated scopes (two prefixes, two user pools) each accept only their own pool', async t => {
  const poolA = await issuerFor(t, { userPoolId: 'eu-west-1_PoolA' })
  const poolB = await issuerFor(t, { userPoolId: 'eu-west-1_PoolB' })
  const emu = await emulatorFor(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(async scope => { await scope.register(authenticatorsPlugin, { cognito: cognitoOptions(poolA), authsignal: emulatorOptions(emu), prefix: '/a' }) })
  await app.register(async scope => { await scope.register(authenticatorsPlugin, { cognito: cognitoOptions(poolB), authsignal: emulatorOptions(emu), prefix: '/b' }) })
  await app.ready()
  const a = bearer(poolA.mint({ sub: 'user-a' }))
  const b = bearer(poolB.mint({ sub: 'user-b' }))

  const own = [
    await app.inject({ method: 'POST', url: '/a/token', headers: a }),
    await app.inject({ method: 'POST', url: '/b/token', headers: b })
  ]
  const crossed = [
    await app.inject({ method: 'POST', url: '/a/token', headers: b }),
    await app.inject({ method: 'POST', url: '/b/token', headers: a })
  ]

  t.same(own.map(r => r.statusCode), [200, 200], 'each pool\'s token works on its own prefix')
  t.same(crossed.map(r => r.statusCode), [401, 401], 'and not on the other')
  t.same(crossed.map(r => r.json().code), ['FST_COGNITO_TOKEN_ISSUER', 'FST_COGNITO_TOKEN_ISSUER'], 'the other pool\'s issuer is refused before its unknown key is looked for')
  t.same(upstreamCalls(emu), ['POST /v1/users/user-a/actions/addAuthenticator', 'POST /v1/users/user-b/actions/addAuthenticator'])
})

t.test('app.authsignal is the @authsignal/node SDK instance and a host can call any SDK method on it', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' })

  t.ok(app.authsignal instanceof Authsignal)
  const user = await app.authsignal.getUser({ userId: ALICE })
  t.match(user, { isEnrolled: true, email: 'alice@example.com', enrolledVerificationMethods: ['EMAIL_OTP'] })
})

t.test('authsignal.client: the host\'s own SDK instance is decorated and used by the routes', async t => {
  const emu = await emulatorFor(t)
  const client = new Authsignal({ apiSecretKey: emu.secret, apiUrl: emu.apiUrl, retries: 0 })
  const app = await buildApp(t, issuer, { authsignal: { client } })

  const res = await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(app.authsignal, client)
  t.equal(res.statusCode, 200)
  t.same(upstreamCalls(emu), [`POST /v1/users/${ALICE}/actions/addAuthenticator`])
})
