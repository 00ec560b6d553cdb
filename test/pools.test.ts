// Several user pools in one registration: a token's pool is chosen by its exact `iss` before any key lookup,
// each pool has its own keys (penalty window and flood bound per pool) and its own Authsignal user ids.
import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import authenticatorsPlugin, { type CognitoOptions } from '../index.js'
import { resolveOptions } from '../lib/options/index.js'
import { ALICE, bearer, cognitoOptions, emulatorFor, emulatorOptions, issuerFor, payloadOf } from './helpers.js'

const poolA = await issuerFor(t, { userPoolId: 'eu-west-1_PoolA' })
const poolB = await issuerFor(t, { userPoolId: 'eu-west-1_PoolB' })
const emu = await emulatorFor(t)

function pools (a: Partial<CognitoOptions> = {}, b: Partial<CognitoOptions> = {}): CognitoOptions[] {
  return [cognitoOptions(poolA, { userIdPrefix: 'a:', ...a }), cognitoOptions(poolB, { userIdPrefix: 'b:', ...b })]
}

/** A host with the plugin serving `cognito`'s pools, and routes that show what `request.user` is. */
async function app (cognito: CognitoOptions[]): Promise<FastifyInstance> {
  const host = Fastify()
  await host.register(authenticatorsPlugin, { cognito, authsignal: emulatorOptions(emu) })
  host.get('/pool', { onRequest: host.authenticate }, async (request) => ({ userPoolId: request.user.userPoolId, keys: Object.keys(request.user) }))
  host.get('/claims', { onRequest: host.authenticate }, async (request) => {
    let mutable = true
    try {
      (request.user as Record<string, unknown>).sub = 'someone-else'
    } catch {
      mutable = false
    }
    const nested = request.user.identities as object[] | undefined
    return { user: request.user, mutable, nestedFrozen: nested === undefined ? null : Object.isFrozen(nested[0]) }
  })
  t.teardown(() => host.close())
  await host.ready()
  return host
}

t.beforeEach(() => emu.reset())

t.test('each pool\'s tokens are accepted, tell which pool verified them, and act for the prefixed user', async t => {
  const host = await app(pools())
  for (const [issuer, prefix] of [[poolA, 'a:'], [poolB, 'b:']] as const) {
    const token = issuer.mint({ sub: ALICE })
    const res = await host.inject({ url: '/pool', headers: bearer(token) })
    t.equal(res.json().userPoolId, issuer.userPoolId, `${issuer.userPoolId}: request.user.userPoolId`)
    t.notOk(res.json().keys.includes('userPoolId'), 'which is not one of the claims (hidden from JSON)')
    emu.clearRequests()
    t.equal((await host.inject({ url: '/authenticators', headers: bearer(token) })).statusCode, 200)
    t.same(emu.requests.map(r => r.path), [`/v1/users/${encodeURIComponent(prefix + ALICE)}/authenticators`], `${issuer.userPoolId}: Authsignal user ${prefix}${ALICE}`)
  }
})

t.test('a token whose iss is not configured is a 401 before any key lookup: no JWKS fetch at any pool', async t => {
  const host = await app(pools())
  const stranger = await issuerFor(t, { userPoolId: 'eu-west-1_Stranger' })
  const before = [poolA.jwksRequests, poolB.jwksRequests, stranger.jwksRequests]
  // Its own key (unknown to both pools) and its own issuer, and also pool A's key with a foreign issuer.
  for (const token of [stranger.mint(), poolA.mint({ claims: { iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other' } }), poolA.mint({ claims: { iss: 42 } })]) {
    const res = await host.inject({ url: '/authenticators', headers: bearer(token) })
    t.equal(res.statusCode, 401)
    t.equal(res.json().code, 'FST_COGNITO_TOKEN_ISSUER')
  }
  t.same([poolA.jwksRequests, poolB.jwksRequests, stranger.jwksRequests], before, 'no JWKS was fetched')
  t.same(emu.requests, [], 'nor Authsignal called')
})

t.test('the penalty window and the flood bound hold per pool: a flood at pool A leaves pool B free to fetch a new key', async t => {
  const host = await app(pools())
  const [a, b] = [poolA.jwksRequests, poolB.jwksRequests]
  const flood = Array.from({ length: 500 }, (_, i) => poolA.mint({ header: { kid: `random-${i}` } }))
  const answers = await Promise.all(flood.map(token => host.inject({ url: '/pool', headers: bearer(token) })))
  t.same([...new Set(answers.map(res => res.json().code))], ['FST_COGNITO_TOKEN_UNKNOWN_KEY'])
  t.ok(poolA.jwksRequests - a <= 1, `pool A fetched ${poolA.jwksRequests - a} time(s) for 500 random kids`)
  t.equal(poolB.jwksRequests, b, 'pool B was not fetched')
  poolB.rotate()
  t.equal((await host.inject({ url: '/pool', headers: bearer(poolB.mint()) })).statusCode, 200, 'a key pool B has just published is accepted at once')
  t.equal(poolB.jwksRequests, b + 1)
})

t.test('gates are per pool', async t => {
  const host = await app(pools({ requiredGroups: ['admins'] }))
  t.equal((await host.inject({ url: '/pool', headers: bearer(poolA.mint()) })).json().code, 'FST_COGNITO_MISSING_GROUP')
  t.equal((await host.inject({ url: '/pool', headers: bearer(poolA.mint({ groups: ['admins'] })) })).statusCode, 200)
  t.equal((await host.inject({ url: '/pool', headers: bearer(poolB.mint()) })).statusCode, 200, 'pool B has no gate')
})

t.test('an unprefixed pool keeps its Authsignal ids beside a prefixed one, when its subs are UUIDs', async t => {
  const host = await app(pools({ userIdPrefix: '' }))
  t.equal((await host.inject({ url: '/authenticators', headers: bearer(poolA.mint({ sub: ALICE })) })).statusCode, 200)
  t.same(emu.requests.map(r => r.path), [`/v1/users/${ALICE}/authenticators`], 'pool A\'s users keep their ids')
  const res = await host.inject({ url: '/authenticators', headers: bearer(poolA.mint({ sub: 'b:someone' })) })
  t.equal(res.statusCode, 401, 'a sub that is not a UUID could pose as a pool B user: refused')
  t.equal(res.json().code, 'FST_COGNITO_TOKEN_CLAIMS')
  t.equal(emu.requests.length, 1, 'without a call')
})

t.test('request.user is the token\'s claims, frozen, without Cognito\'s per-token identifiers', async t => {
  const host = await app(pools())
  // A federated user's ID token carries nested claims (`identities`): frozen too.
  const token = poolA.mint({ sub: ALICE, groups: ['admins'], claims: { identities: [{ providerName: 'Google', userId: '123' }], aud: ['x', 'y'] } })
  const payload = payloadOf(token)
  for (const round of ['verified', 'from the cache']) {
    const res = (await host.inject({ url: '/claims', headers: bearer(token) })).json()
    const { jti, origin_jti: originJti, event_id: eventId, ...kept } = payload
    t.ok(jti !== undefined && originJti !== undefined && eventId !== undefined, 'the token carries them')
    t.same(res.user, kept, `${round}: every other claim, as the token has it`)
    t.equal(res.mutable, false, `${round}: frozen (it is shared by the requests that present the token)`)
  }
  t.equal((await host.inject({ url: '/claims', headers: bearer(token) })).json().nestedFrozen, true, 'nested claims are frozen too')
})

t.test('several pools: bad configurations are refused at registration, naming the option', async t => {
  const authsignal = { apiSecretKey: 's' }
  const rows: Array<[string, unknown, RegExp]> = [
    ['an empty list', [], /Invalid option cognito: expected a user pool or a non-empty array/],
    ['the same issuer twice', [cognitoOptions(poolA, { userIdPrefix: 'a:' }), cognitoOptions(poolA, { userIdPrefix: 'b:', userPoolId: 'eu-west-1_Copy' })], /cognito\[1\]\.issuer: .* is already the issuer of cognito\[0\]/],
    ['no prefixes', [cognitoOptions(poolA), cognitoOptions(poolB)], /cognito\[1\]\.userIdPrefix: with several pools, no userIdPrefix may begin another/],
    ['one prefix begins the other (usernames)', pools({ userIdPrefix: 'x', userIdClaim: 'username' }, { userIdPrefix: 'xy:' }), /cognito\[1\]\.userIdPrefix/],
    ['the same prefix', pools({ userIdPrefix: 'p:' }, { userIdPrefix: 'p:' }), /userIdPrefix/],
    ['an unprefixed username pool', pools({ userIdPrefix: '', userIdClaim: 'username' }), /cognito\[1\]\.userIdPrefix/],
    ['an unprefixed sub pool beside a hex prefix', pools({ userIdPrefix: '' }, { userIdPrefix: 'b-' }), /cognito\[1\]\.userIdPrefix/],
    ['a prefix that is not a string', pools({ userIdPrefix: 3 as unknown as string }), /cognito\[0\]\.userIdPrefix: expected a string of at most 64/],
    ['a bad pool in the list', [cognitoOptions(poolA, { userIdPrefix: 'a:' }), 'pool-b'], /cognito\[1\]: expected an object/],
    ['a misspelt key in a pool', [cognitoOptions(poolA, { userIdPrefix: 'a:' }), { ...cognitoOptions(poolB, { userIdPrefix: 'b:' }), requiredGroup: ['admins'] }], /cognito\[1\]\.requiredGroup: unknown option \(did you mean requiredGroups\?\)/]
  ]
  for (const [name, cognito, message] of rows) t.throws(() => resolveOptions({ cognito, authsignal }), { code: 'FST_AUTHSIGNAL_COGNITO_INVALID_OPTION', message }, name)
  t.equal(resolveOptions({ cognito: pools({ userIdPrefix: '' }), authsignal }).pools[0]?.uuidUserIds, true, 'an unprefixed sub pool beside \'b:\' is allowed (its subs must be UUIDs)')
  t.equal(resolveOptions({ cognito: pools({ userIdPrefix: 'x' }, { userIdPrefix: 'xy:' }), authsignal }).pools[0]?.uuidUserIds, true, 'so is \'x\' (subs) beside \'xy:\'')
})
