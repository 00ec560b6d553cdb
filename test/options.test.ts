// Options are validated at registration: a wrong option fails `register` with a message naming it.
import Fastify from 'fastify'
import t from 'tap'
import { Authsignal } from '@authsignal/node'
import authenticatorsPlugin from '../index.js'
import { DEFAULTS, resolveOptions } from '../lib/options/index.js'
import { memoryLock } from '../index.js'

const cognito = { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'client-1' }
const authsignal = { apiSecretKey: 'secret' }

t.test('defaults: both Cognito issuer forms, the pool JWKS, access tokens, all four routes', async t => {
  const resolved = resolveOptions({ cognito, authsignal })
  const [pool] = resolved.pools
  if (pool === undefined) throw new Error('one pool')
  t.same(pool.issuers, [
    'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123',
    'https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123'
  ])
  t.equal(pool.jwksUri, 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json')
  t.same(pool.clientIds, ['client-1'])
  t.equal(pool.tokenUse, 'access')
  t.equal(pool.userIdClaim, 'sub')
  t.equal(pool.clockToleranceMs, DEFAULTS.clockToleranceSec * 1000)
  t.equal(resolved.authsignal.apiUrl, DEFAULTS.apiUrl)
  t.equal(resolved.authsignal.timeoutMs, DEFAULTS.timeoutMs)
  t.equal(resolved.prefix, '/authenticators')
  t.same(resolved.routes.token, { ...DEFAULTS.token, maxAuthAgeSec: undefined })
  t.same(resolved.routes.prebuiltUi, { ...DEFAULTS.prebuiltUi, redirectUrl: undefined, allowedRedirectUrls: [] })
  t.same(resolved.routes.list, DEFAULTS.list)
  const { lock, leaseMs, ...remove } = resolved.routes.remove as Exclude<typeof resolved.routes.remove, false>
  t.same(remove, DEFAULTS.remove)
  t.equal(lock.kind, 'memory', 'removals are serialised in this process by default')
  t.equal(leaseMs, 2 * DEFAULTS.timeoutMs + 2000, 'the lease covers two upstream calls and a margin')
})

t.test('explicit values are kept', async t => {
  const client = new Authsignal({ apiSecretKey: 'x', retries: 0 })
  const resolved = resolveOptions({
    cognito: {
      userPoolId: 'local_abc123',
      clientId: ['a', 'b'],
      issuer: 'http://127.0.0.1:9229/local_abc123/',
      tokenUse: 'id',
      userIdClaim: 'cognito:username',
      clockToleranceSec: 0,
      requiredGroups: ['admins'],
      requiredScopes: ['openid']
    },
    authsignal: { client, apiUrl: 'http://127.0.0.1:4010/v1/' },
    prefix: '/mfa/',
    routes: {
      token: { path: '/t', action: 'enrol', scope: 'add:authenticators', maxAuthAgeSec: 300, freshSignInSec: 0 },
      prebuiltUi: { redirectUrl: 'https://app.example.com/done', allowedRedirectUrls: ['https://app.example.com/a'] },
      list: { showContactDetails: true },
      remove: false
    }
  })
  const [pool] = resolved.pools
  if (pool === undefined) throw new Error('one pool')
  t.same(pool.issuers, ['http://127.0.0.1:9229/local_abc123/'])
  t.equal(pool.jwksUri, 'http://127.0.0.1:9229/local_abc123/.well-known/jwks.json', 'trailing slash folded')
  t.same(pool.clientIds, ['a', 'b'])
  t.equal(pool.clockToleranceMs, 0)
  t.equal(resolved.authsignal.client, client)
  t.equal(resolved.authsignal.apiUrl, 'http://127.0.0.1:4010/v1')
  t.equal(resolved.prefix, '/mfa')
  t.equal(resolved.routes.remove, false)
  t.match(resolved.routes.token, { maxAuthAgeSec: 300, freshSignInSec: 0 }, 'freshSignInSec 0 is allowed')
  t.same(resolved.routes.list, { path: '/', showContactDetails: true })
  t.equal(resolveOptions({ cognito, authsignal, routes: { list: true } }).routes.list && true, true, 'true keeps defaults')
})

t.test('each bad option is named in the error', async t => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['no options', undefined, /Invalid option options/],
    ['no cognito', { authsignal }, /Invalid option cognito:/],
    ['bad userPoolId', { cognito: { ...cognito, userPoolId: 'nope' }, authsignal }, /cognito\.userPoolId: expected "<region>_<id>"/],
    ['empty userPoolId', { cognito: { ...cognito, userPoolId: ' ' }, authsignal }, /cognito\.userPoolId: expected a non-empty string/],
    ['no clientId', { cognito: { userPoolId: cognito.userPoolId }, authsignal }, /cognito\.clientId/],
    ['empty clientId list', { cognito: { ...cognito, clientId: [] }, authsignal }, /cognito\.clientId/],
    ['bad clientId item', { cognito: { ...cognito, clientId: ['a', 3] }, authsignal }, /cognito\.clientId\[1\]/],
    ['bad tokenUse', { cognito: { ...cognito, tokenUse: 'refresh' }, authsignal }, /cognito\.tokenUse: expected one of 'access', 'id'/],
    ['bad issuer', { cognito: { ...cognito, issuer: 'not a url' }, authsignal }, /cognito\.issuer\[0\]/],
    ['ftp issuer', { cognito: { ...cognito, issuer: ['ftp://x/y'] }, authsignal }, /cognito\.issuer\[0\]: expected an absolute http/],
    ['bad jwksUri', { cognito: { ...cognito, jwksUri: 'jwks' }, authsignal }, /cognito\.jwksUri/],
    ['bad userIdClaim', { cognito: { ...cognito, userIdClaim: 'email' }, authsignal }, /cognito\.userIdClaim/],
    ['bad clockToleranceSec', { cognito: { ...cognito, clockToleranceSec: -1 }, authsignal }, /cognito\.clockToleranceSec: expected an integer from 0 to 300/],
    ['fractional jwksTimeoutMs', { cognito: { ...cognito, jwksTimeoutMs: 1.5 }, authsignal }, /cognito\.jwksTimeoutMs/],
    ['string jwksPenaltyMs', { cognito: { ...cognito, jwksPenaltyMs: '10' }, authsignal }, /cognito\.jwksPenaltyMs/],
    ['huge tokenCacheSize', { cognito: { ...cognito, tokenCacheSize: 1e9 }, authsignal }, /cognito\.tokenCacheSize/],
    ['requiredGroups not a list', { cognito: { ...cognito, requiredGroups: 'admins' }, authsignal }, /cognito\.requiredGroups: expected an array of strings/],
    ['requiredScopes item', { cognito: { ...cognito, requiredScopes: [''] }, authsignal }, /cognito\.requiredScopes\[0\]/],
    ['no authsignal', { cognito }, /Invalid option authsignal:/],
    ['no secret', { cognito, authsignal: {} }, /authsignal\.apiSecretKey: required unless authsignal\.client/],
    ['bad client', { cognito, authsignal: { client: {} } }, /authsignal\.client: expected an Authsignal instance/],
    ['bad apiUrl', { cognito, authsignal: { ...authsignal, apiUrl: 'api.authsignal.com' } }, /authsignal\.apiUrl/],
    ['bad timeoutMs', { cognito, authsignal: { ...authsignal, timeoutMs: 0 } }, /authsignal\.timeoutMs/],
    ['bad prefix', { cognito, authsignal, prefix: 'authenticators' }, /prefix: expected a path starting with "\/"/],
    ['routes not an object', { cognito, authsignal, routes: [] }, /Invalid option routes:/],
    ['route not an object', { cognito, authsignal, routes: { token: 'yes' } }, /routes\.token: expected an object or false/],
    ['bad action', { cognito, authsignal, routes: { token: { action: 'add authenticator' } } }, /routes\.token\.action/],
    ['bad scope', { cognito, authsignal, routes: { token: { scope: '' } } }, /routes\.token\.scope/],
    ['bad maxAuthAgeSec', { cognito, authsignal, routes: { token: { maxAuthAgeSec: 0 } } }, /routes\.token\.maxAuthAgeSec/],
    ['negative freshSignInSec', { cognito, authsignal, routes: { token: { freshSignInSec: -1 } } }, /routes\.token\.freshSignInSec: expected an integer from 0 to 86400/],
    ['fractional freshSignInSec', { cognito, authsignal, routes: { token: { freshSignInSec: 1.5 } } }, /routes\.token\.freshSignInSec/],
    ['freshSignInSec over a day', { cognito, authsignal, routes: { token: { freshSignInSec: 86_401 } } }, /routes\.token\.freshSignInSec/],
    ['bad redirectUrl', { cognito, authsignal, routes: { prebuiltUi: { redirectUrl: '/relative' } } }, /routes\.prebuiltUi\.redirectUrl/],
    ['bad allowed redirect', { cognito, authsignal, routes: { prebuiltUi: { allowedRedirectUrls: ['javascript:alert(1)'] } } }, /routes\.prebuiltUi\.allowedRedirectUrls\[0\]/],
    ['bad showContactDetails', { cognito, authsignal, routes: { list: { showContactDetails: 'yes' } } }, /routes\.list\.showContactDetails: expected a boolean/],
    ['bad path', { cognito, authsignal, routes: { list: { path: 'list' } } }, /routes\.list\.path/],
    ['remove path without the id', { cognito, authsignal, routes: { remove: { path: '/:id' } } }, /routes\.remove\.path: expected a path with :userAuthenticatorId/],
    ['bad protectLast', { cognito, authsignal, routes: { remove: { protectLast: 1 } } }, /routes\.remove\.protectLast/],
    ['bad challengeAction', { cognito, authsignal, routes: { remove: { challengeAction: 'x/y' } } }, /routes\.remove\.challengeAction/]
  ]
  for (const [name, options, message] of cases) {
    t.throws(() => resolveOptions(options), { code: 'FST_AUTHSIGNAL_COGNITO_INVALID_OPTION', message }, name)
  }
})

t.test('routes.list.passkeyRpId: a lower-case domain, as WebAuthn takes an RP id', async t => {
  const resolve = (passkeyRpId: unknown) => resolveOptions({ cognito, authsignal, routes: { list: { passkeyRpId } } }).routes.list
  const list = resolveOptions({ cognito, authsignal }).routes.list
  t.equal(list !== false && list.passkeyRpId, undefined, 'none by default')
  for (const good of ['localhost', 'example.com', 'login.example.co.uk', 'xn--bcher-kva.example', 'app-1.example.com']) {
    t.match(resolve(good), { passkeyRpId: good }, good)
  }
  for (const bad of ['https://example.com', 'example.com:443', 'example.com/login', '127.0.0.1', 'Example.com', '', ' ', '-example.com', 'a..b', `${'a'.repeat(64)}.com`, 5, ['example.com']]) {
    t.throws(() => resolve(bad), {
      code: 'FST_AUTHSIGNAL_COGNITO_INVALID_OPTION',
      message: /routes\.list\.passkeyRpId: expected a lower-case domain such as example\.com \(the WebAuthn RP id: no scheme, port, path or IP address\)/
    }, JSON.stringify(bad))
  }
})

t.test('routes.challengeToken: on exactly when the removal requires a challenge, unless set; its action is the removal\'s', async t => {
  const routes = (value: unknown) => resolveOptions({ cognito, authsignal, routes: value }).routes.challengeToken
  t.equal(routes(undefined), false, 'off by default (no challenge required)')
  t.same(routes({ remove: { requireChallenge: true } }), { path: '/challenge-token', action: 'removeAuthenticator' }, 'on with requireChallenge')
  t.same(routes({ remove: { requireChallenge: true, challengeAction: 'stepUp' }, challengeToken: { path: '/step-up' } }), { path: '/step-up', action: 'stepUp' })
  t.equal(routes({ remove: { requireChallenge: true }, challengeToken: false }), false, 'false turns it off')
  t.same(routes({ challengeToken: true }), { path: '/challenge-token', action: 'removeAuthenticator' }, 'true turns it on without requireChallenge')
  t.equal(routes({ remove: false }), false)
  t.throws(() => routes({ remove: false, challengeToken: true }), {
    code: 'FST_AUTHSIGNAL_COGNITO_INVALID_OPTION',
    message: /routes\.challengeToken: needs routes\.remove: it tracks routes\.remove\.challengeAction/
  })
  t.throws(() => routes({ challengeToken: { path: 'step-up' } }), { message: /routes\.challengeToken\.path: expected a path starting with "\/"/ })
})

t.test('a bad option fails register', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(authenticatorsPlugin, { cognito: { ...cognito, tokenUse: 'refresh' as 'access' }, authsignal })
  await t.rejects(async () => { await app.ready() }, /Invalid option cognito\.tokenUse/)
})

t.test('unknown keys are refused at every level, with the option probably meant', async t => {
  const rows: Array<[string, unknown, RegExp]> = [
    ['a misspelt gate', { cognito: { ...cognito, requiredGroup: ['admins'] }, authsignal }, /Invalid option cognito\.requiredGroup: unknown option \(did you mean requiredGroups\?\)/],
    ['a misspelt route', { cognito, authsignal, routes: { tokn: false } }, /Invalid option routes\.tokn: unknown option \(did you mean token\?\)/],
    ['a misspelt top-level option', { cognito, authsignal, prefx: '/mfa' }, /Invalid option prefx: unknown option \(did you mean prefix\?\)/],
    ['a misspelt authsignal option', { cognito, authsignal: { ...authsignal, timeout: 100 } }, /Invalid option authsignal\.timeout: unknown option \(did you mean timeoutMs\?\)/],
    ['a misspelt route option', { cognito, authsignal, routes: { remove: { protectlast: false } } }, /routes\.remove\.protectlast: unknown option \(did you mean protectLast\?\)/],
    ['nothing close', { cognito, authsignal, routes: { list: { zzzzzzzzzzzz: 1 } } }, /routes\.list\.zzzzzzzzzzzz: unknown option \(expected one of path, showContactDetails, passkeyRpId\)/],
    ['a misspelt challenge token option', { cognito, authsignal, routes: { challengeToken: { pth: '/x' } } }, /routes\.challengeToken\.pth: unknown option \(did you mean path\?\)/],
    ['openapi not an object', { cognito, authsignal, openapi: 'bearerAuth' }, /Invalid option openapi: expected an object/],
    ['an empty security scheme', { cognito, authsignal, openapi: { securityScheme: '' } }, /openapi\.securityScheme: expected a non-empty string/],
    ['a misspelt openapi option', { cognito, authsignal, openapi: { securitySchema: 'x' } }, /openapi\.securitySchema: unknown option \(did you mean securityScheme\?\)/],
    ['a misspelt decorator', { cognito, authsignal, decorators: { authenticat: 'x' } }, /decorators\.authenticat: unknown option \(did you mean authenticate\?\)/]
  ]
  for (const [name, options, message] of rows) t.throws(() => resolveOptions(options), { code: 'FST_AUTHSIGNAL_COGNITO_INVALID_OPTION', message }, name)
})

t.test('routes.remove.lock: a store object, with a lease no shorter than the work it guards', async t => {
  const withLock = (lock: unknown, extra: Record<string, unknown> = {}) => ({ cognito, authsignal: { ...authsignal, timeoutMs: 1000 }, routes: { remove: { lock, ...extra } } })
  t.throws(() => resolveOptions(withLock({ acquire: async () => true })), { message: /routes\.remove\.lock: expected a lock store/ }, 'a store without the expected methods')
  t.throws(() => resolveOptions(withLock({ ...memoryLock(), leaseMs: 3999 })),
    { message: /routes\.remove\.lock: its leaseMs 3999 is shorter than the work it guards: 4000 ms \(two Authsignal calls of authsignal\.timeoutMs 1000 ms each, plus a margin\)/ },
    'a lease shorter than two calls and the margin')
  const fits = resolveOptions(withLock({ ...memoryLock(), leaseMs: 4000 })).routes.remove
  t.equal(fits && fits.leaseMs, 4000, 'a lease that covers them is kept')
  const derived = resolveOptions(withLock(memoryLock())).routes.remove
  t.equal(derived && derived.leaseMs, 4000, 'without a leaseMs the lease is derived from authsignal.timeoutMs')
  t.throws(() => resolveOptions(withLock(memoryLock(), { lockWaitMs: -1 })), { message: /routes\.remove\.lockWaitMs: expected an integer from 0 to 60000/ })
})
