// app.authenticate beyond the attack corpus: ID-token mode, groups and scopes, clock tolerance,
// claim types, and the verified-token cache.
import { Agent, request } from 'node:http'
import { Socket, type AddressInfo } from 'node:net'
import t from 'tap'
import { VerifiedTokenCache } from '../lib/cognito/token-cache.js'
import { poolOf, SharedValues, toVerifiedUser } from '../lib/cognito/user.js'
import { resolveOptions, type ResolvedPool } from '../lib/options/index.js'
import type { CognitoClaims } from '../index.js'
import { bearer, buildApp, issuerFor } from './helpers.js'

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))
const now = () => Math.floor(Date.now() / 1000)

t.test('tokenUse id: ID tokens are accepted, access tokens refused, aud must be an allowed client', async t => {
  const issuer = await issuerFor(t)
  const app = await buildApp(t, issuer, { cognito: { tokenUse: 'id', clientId: ['other', issuer.clientId] } })
  const ok = await app.inject({ url: '/me', headers: bearer(issuer.mint({ tokenUse: 'id' })) })
  t.equal(ok.statusCode, 200)
  const access = await app.inject({ url: '/me', headers: bearer(issuer.mint()) })
  t.equal(access.json().message, 'Expected an id token, got an access token')
  const foreign = await app.inject({ url: '/me', headers: bearer(issuer.mint({ tokenUse: 'id', clientId: 'stranger' })) })
  t.equal(foreign.json().code, 'FST_COGNITO_TOKEN_CLIENT')
  t.match(foreign.json().message, /\(aud\)/)
})

t.test('request.user carries the verified claims', async t => {
  const issuer = await issuerFor(t)
  const app = await buildApp(t, issuer)
  const res = await app.inject({ url: '/claims', headers: bearer(issuer.mint({ sub: 'user-1', username: 'alice', groups: ['a'] })) })
  const claims = res.json() as CognitoClaims
  t.equal(claims.sub, 'user-1')
  t.equal(claims.username, 'alice')
  t.equal(claims.token_use, 'access')
  t.same(claims['cognito:groups'], ['a'])
})

t.test('requiredGroups and requiredScopes: 403 with the missing one named', async t => {
  const issuer = await issuerFor(t)
  const app = await buildApp(t, issuer, { cognito: { requiredGroups: ['mfa-users'], requiredScopes: ['openid', 'profile'] } })
  const noGroup = await app.inject({ url: '/me', headers: bearer(issuer.mint({ scope: 'openid profile' })) })
  t.equal(noGroup.statusCode, 403)
  t.equal(noGroup.json().code, 'FST_COGNITO_MISSING_GROUP')
  t.equal(noGroup.headers['www-authenticate'], undefined, 'no challenge for a group')
  const noScope = await app.inject({ url: '/me', headers: bearer(issuer.mint({ groups: ['mfa-users'], scope: 'openid' })) })
  t.equal(noScope.statusCode, 403)
  t.equal(noScope.json().code, 'FST_COGNITO_MISSING_SCOPE')
  t.match(noScope.json().message, /profile/)
  t.equal(noScope.headers['www-authenticate'], 'Bearer error="insufficient_scope"')
  const noScopeAtAll = await app.inject({ url: '/me', headers: bearer(issuer.mint({ groups: ['mfa-users'], claims: { scope: undefined } })) })
  t.equal(noScopeAtAll.json().code, 'FST_COGNITO_MISSING_SCOPE', noScopeAtAll.body)
  const ok = await app.inject({ url: '/me', headers: bearer(issuer.mint({ groups: ['x', 'mfa-users'], scope: 'profile openid' })) })
  t.equal(ok.statusCode, 200)
  const cachedNoGroup = await app.inject({ url: '/me', headers: bearer(issuer.mint({ scope: 'openid profile' })) })
  t.equal(cachedNoGroup.statusCode, 403, 'gates hold for every request, cached or not')
})

t.test('clock tolerance: exp, nbf and iat are honoured at the tolerance edges', async t => {
  const issuer = await issuerFor(t)
  const app = await buildApp(t, issuer, { cognito: { clockToleranceSec: 30 } })
  const cases: Array<[string, string, number, string?]> = [
    ['expired 10 s ago, inside a 30 s tolerance', issuer.mint({ iat: now() - 3610, expiresInSec: 3600 }), 200],
    ['expired 60 s ago, outside the tolerance', issuer.mint({ iat: now() - 3660, expiresInSec: 3600 }), 401, 'FST_COGNITO_TOKEN_EXPIRED'],
    ['nbf 10 s ahead, inside the tolerance', issuer.mint({ claims: { nbf: now() + 10 } }), 200],
    ['nbf 60 s ahead', issuer.mint({ claims: { nbf: now() + 60 } }), 401, 'FST_COGNITO_TOKEN_NOT_YET_VALID'],
    ['iat 10 s ahead, inside the tolerance', issuer.mint({ iat: now() + 10 }), 200],
    ['iat 60 s ahead', issuer.mint({ iat: now() + 60 }), 401, 'FST_COGNITO_TOKEN_NOT_YET_VALID']
  ]
  for (const [name, token, status, code] of cases) {
    const res = await app.inject({ url: '/me', headers: bearer(token) })
    t.equal(res.statusCode, status, name)
    if (code !== undefined) t.equal(res.json().code, code, `${name}: code`)
  }
})

t.test('claims of the wrong type are refused', async t => {
  const issuer = await issuerFor(t)
  const app = await buildApp(t, issuer)
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>?]> = [
    ['exp as a string', { exp: String(now() + 60) }],
    ['nbf as a string', { nbf: String(now() - 60) }],
    ['iat as a string', { iat: 'yesterday' }],
    ['empty sub', { sub: '' }],
    ['groups as a string', { 'cognito:groups': 'admins' }],
    ['groups with a number', { 'cognito:groups': ['a', 1] }],
    ['scope as a list', { scope: ['openid'] }],
    ['auth_time as a string', { auth_time: 'now' }]
  ]
  for (const [name, claims] of cases) {
    const res = await app.inject({ url: '/me', headers: bearer(issuer.mint({ claims })) })
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().code, 'FST_COGNITO_TOKEN_CLAIMS', `${name}: code`)
  }
  const crit = await app.inject({ url: '/me', headers: bearer(issuer.mint({ header: { crit: ['exp'] } })) })
  t.equal(crit.statusCode, 401, 'a crit header (no extension is understood) is a 401, not a 500')
  t.equal(crit.json().code, 'FST_COGNITO_TOKEN_MALFORMED')
  // A date claim given as a list is a malformed token (as fast-jwt judged it), whatever its value.
  for (const claim of ['exp', 'nbf']) {
    const listed = await app.inject({ url: '/me', headers: bearer(issuer.mint({ claims: { [claim]: [now() + 60] } })) })
    t.equal(listed.json().code, 'FST_COGNITO_TOKEN_MALFORMED', `${claim} as a list`)
  }
})

t.test('a payload outside the base64url alphabet is malformed, before its signature is checked', async t => {
  const issuer = await issuerFor(t)
  const app = await buildApp(t, issuer)
  const [h, p, s] = issuer.mint().split('.') as [string, string, string]
  // Buffer's decoder would skip these characters: the token must be refused, not read leniently.
  for (const payload of [`${p}=`, `+${p.slice(1)}`, `${p.slice(0, 8)} ${p.slice(8)}`]) {
    const res = await app.inject({ url: '/me', headers: bearer(`${h}.${payload}.${s}`) })
    t.equal(res.json().code, 'FST_COGNITO_TOKEN_MALFORMED', JSON.stringify(payload.slice(0, 10)))
  }
})

t.test('a repeated token is served from the cache, and only until its exp', async t => {
  const issuer = await issuerFor(t)
  const app = await buildApp(t, issuer, { cognito: { clockToleranceSec: 0, jwksPenaltyMs: 0 } })
  // The slow part (a new RSA key pair) before the token's short life starts, so a busy machine cannot spend it.
  issuer.rotate()
  const token = issuer.mint({ expiresInSec: 3 })
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  // Withdraw the token's key: only the cache can still accept the token now.
  issuer.unpublish(issuer.kid)
  t.equal((await app.inject({ url: '/me', headers: bearer(issuer.mint({ header: { kid: 'refetch-now' } })) })).statusCode, 401)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'cached: no verification needed')
  const exp = (JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { exp: number }).exp
  while (Date.now() <= exp * 1000) await sleep(50)
  const expired = await app.inject({ url: '/me', headers: bearer(token) })
  t.equal(expired.statusCode, 401, 'dropped at exp')
})

t.test('VerifiedTokenCache is bounded, can be turned off, and ignores expired claims', async t => {
  const [pool] = resolveOptions({ cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'c' }, authsignal: { apiSecretKey: 's' } }).pools
  const claims = (exp: number) => toVerifiedUser({ sub: 's', iss: 'i', token_use: 'access', exp }, pool as ResolvedPool, new SharedValues())
  const cache = new VerifiedTokenCache(2)
  const key = (token: string): string | undefined => cache.keyOf(token)
  t.equal(key('a')?.length, 32, 'a token is kept under its 32-byte SHA-256 digest')
  t.not(key('a.b.c'), key('a.b.d'), 'a token that differs in one byte is another key')
  cache.set(key('a'), claims(now() + 60))
  cache.set(key('b'), claims(now() + 60))
  cache.set(key('c'), claims(now() + 60))
  t.equal(cache.size, 2, 'bounded')
  t.equal(cache.get(key('a')), undefined, 'least recently used evicted')
  t.ok(cache.get(key('c')))
  cache.set(key('old'), claims(now() - 1))
  t.equal(cache.get(key('old')), undefined, 'already expired: not kept')
  const off = new VerifiedTokenCache(0)
  t.equal(off.keyOf('a'), undefined, 'off: no digest is computed')
  off.set(off.keyOf('a'), claims(now() + 60))
  t.equal(off.get(off.keyOf('a')), undefined)
  t.equal(off.size, 0)
})

t.test('a __proto__ claim is not kept: the user keeps its pool', async t => {
  const [pool] = resolveOptions({ cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'c' }, authsignal: { apiSecretKey: 's' } }).pools as [ResolvedPool]
  const user = toVerifiedUser(JSON.parse('{"sub":"s","iss":"i","token_use":"access","exp":1,"__proto__":{"admin":true}}'), pool, new SharedValues())
  t.equal(user.userPoolId, 'eu-west-1_AbCdEf123')
  t.equal(poolOf(user), pool)
  t.notOk('admin' in user)
  t.same(Object.keys(user), ['sub', 'iss', 'token_use', 'exp'])
})

t.test('each connection remembers its last token: only that very string, until its exp, and only with the cache on', async t => {
  const [pool] = resolveOptions({ cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'c' }, authsignal: { apiSecretKey: 's' } }).pools
  const user = (exp: number) => toVerifiedUser({ sub: 's', iss: 'i', token_use: 'access', exp }, pool as ResolvedPool, new SharedValues())
  const cache = new VerifiedTokenCache(2)
  const connection = new Socket()
  const alice = user(now() + 60)
  cache.remember(connection, 'a.b.c', alice)
  t.equal(cache.onConnection(connection, 'a.b.c'), alice, 'the same token on the same connection')
  t.equal(cache.onConnection(connection, 'a.b.d'), undefined, 'another token: not this one')
  t.equal(cache.onConnection(new Socket(), 'a.b.c'), undefined, 'another connection: nothing remembered')
  t.equal(cache.onConnection({}, 'a.b.c'), undefined, 'not a socket (light-my-request): nothing')
  cache.remember({}, 'a.b.c', alice)
  cache.remember(connection, 'x.y.z', user(now() - 1))
  t.equal(cache.onConnection(connection, 'x.y.z'), undefined, 'expired: refused')
  t.equal(cache.onConnection(connection, 'a.b.c'), undefined, 'one token per connection: the last one')
  const off = new VerifiedTokenCache(0)
  off.remember(connection, 'a.b.c', alice)
  t.equal(off.onConnection(connection, 'a.b.c'), undefined, 'cache off: nothing remembered')
})

t.test('over a kept-alive connection, a repeated token is accepted and any other string is verified on its own', async t => {
  const issuer = await issuerFor(t)
  const app = await buildApp(t, issuer)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  const { port } = app.server.address() as AddressInfo
  const get = (token: string) => new Promise<{ status: number, body: string, reused: boolean }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/me', agent, headers: bearer(token) }, res => {
      let body = ''
      res.on('data', chunk => { body += String(chunk) })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, reused: req.reusedSocket }))
    })
    req.on('error', reject)
    req.end()
  })
  const token = issuer.mint({ sub: 'alice' })
  const [h, p, s] = token.split('.') as [string, string, string]
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'mallory' })).toString('base64url')}.${s}`
  t.same(await get(token), { status: 200, body: '{"sub":"alice"}', reused: false })
  t.same(await get(token), { status: 200, body: '{"sub":"alice"}', reused: true }, 'repeated on the same connection')
  const refused = await get(forged)
  t.same([refused.status, JSON.parse(refused.body).code, refused.reused], [401, 'FST_COGNITO_TOKEN_SIGNATURE', true], 'the signature with another payload: verified, refused')
  const changed = `${token.slice(0, -10)}${token.at(-10) === 'A' ? 'B' : 'A'}${token.slice(-9)}`
  t.same(await get(changed).then(r => [r.status, r.reused]), [401, true], 'one character of the signature changed: verified, refused')
  t.same(await get(token), { status: 200, body: '{"sub":"alice"}', reused: true }, 'the very token again')
  const bob = issuer.mint({ sub: 'bob' })
  t.same(await get(bob), { status: 200, body: '{"sub":"bob"}', reused: true }, 'another user on the same connection (a proxy\'s)')
  t.same(await get(token), { status: 200, body: '{"sub":"alice"}', reused: true }, 'and back: the digest-keyed cache')
})

t.test('SharedValues keeps one copy of each value a pool\'s tokens repeat, up to a bound', async t => {
  const shared = new SharedValues()
  const a = shared.share(['https://issuer', 'x'].join('/'))
  t.equal(shared.share(['https://issuer', 'x'].join('/')), a, 'an equal string comes back as the first copy')
  const groups = shared.shareList(['admins', 'users'])
  t.ok(Object.isFrozen(groups))
  t.equal(shared.shareList(['admins', 'users']), groups, 'an equal list comes back as the first, frozen')
  for (let i = 0; i < 1100; i++) shared.share(`value-${i}`)
  const late = `value-${1050}`
  t.equal(shared.share(late), late, 'past the bound, a value is still returned')
  t.equal(shared.shareList(['late']).length, 1)
})

t.test('app.authenticate can also be awaited by hand inside a handler', async t => {
  const issuer = await issuerFor(t)
  const app = await buildApp(t, issuer, {
    cognito: { jwksPenaltyMs: 0 },
    routes: { token: false },
    // A host route that calls the hook itself rather than naming it as a hook.
    register: (scope) => {
      scope.get('/manual', async (request, reply) => {
        await scope.authenticate(request, reply)
        return { sub: request.user.sub }
      })
    }
  })
  const token = issuer.mint({ sub: 'by-hand' })
  const first = await app.inject({ url: '/manual', headers: bearer(token) })
  t.same(first.json(), { sub: 'by-hand' }, 'verified (not cached yet)')
  const second = await app.inject({ url: '/manual', headers: bearer(token) })
  t.same(second.json(), { sub: 'by-hand' }, 'from the cache')
  const missing = await app.inject({ url: '/manual' })
  t.equal(missing.statusCode, 401)
  t.equal(missing.headers['www-authenticate'], 'Bearer')
  const bad = await app.inject({ url: '/manual', headers: bearer(issuer.mint({ tokenUse: 'id' })) })
  t.equal(bad.json().code, 'FST_COGNITO_TOKEN_USE')
  issuer.rotate()
  const rotated = await app.inject({ url: '/manual', headers: bearer(issuer.mint({ sub: 'after-rotation' })) })
  t.same(rotated.json(), { sub: 'after-rotation' }, 'a key not held yet is fetched, then verified')
})
