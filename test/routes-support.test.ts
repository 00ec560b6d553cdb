// routes.support over HTTP, through the real SDK against the emulator (DESIGN.md, "Support"): staff in the
// required group list another user's factors (masked) and remove them, the last one included, with a challenge
// of their own; everyone else is refused before any upstream call; ids and reasons are checked before any call.
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import type { AuthenticatorChangeEvent } from '../index.js'
import type { AuthsignalEmulator } from '../lib/testing/authsignal-emulator.js'
import { cognitoClient } from '../dev/cognito-local.js'
import { ALICE, bearer, BOB, buildApp, closedPort, emulatorFor, emulatorOptions, issuerFor, upstreamCalls, type AppOptions } from './helpers.js'
import { Capture, send, type Target } from './hostile/helpers.js'

const issuer = await issuerFor(t)
const AGENT = 'a9e00000-0000-4000-8000-000000000003'
const SUPPORT = '/authenticators/support/users'
const sms = { verificationMethod: 'SMS', phoneNumber: '+6421555123' }
const email = { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' }
const totp = { verificationMethod: 'AUTHENTICATOR_APP' }
const reason = 'lost phone, identity checked on a video call'

interface Suite { emu: AuthsignalEmulator, app: FastifyInstance & Target, changes: AuthenticatorChangeEvent[], capture: Capture }

/** A listening app with support on (group `support`) and an agent's challenge required, logging into a capture. */
async function suite (t: Test, extra: AppOptions = {}): Promise<Suite> {
  const emu = await emulatorFor(t)
  const changes: AuthenticatorChangeEvent[] = []
  const capture = new Capture()
  const app = await buildApp(t, issuer, {
    authsignal: emulatorOptions(emu),
    routes: { remove: { requireChallenge: false }, support: { requiredGroups: ['support'] } },
    onAuthenticatorChange: (change) => { changes.push(change) },
    logStream: capture.stream,
    ...extra
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { emu, app: Object.assign(app, { port: (app.server.address() as { port: number }).port, capture }), changes, capture }
}

const agentToken = (groups = ['support']): string => issuer.mint({ sub: AGENT, groups })

/** The agent's own completed challenge for the removal's action. */
function challenged (emu: AuthsignalEmulator, token = agentToken()): Record<string, string> {
  return { ...bearer(token), 'x-authsignal-token': emu.completeChallenge(AGENT, 'removeAuthenticator') }
}

const json = (body: unknown): { headers: Record<string, string>, body: string } => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

async function remove (s: Suite, path: string, headers: Record<string, string>, body: unknown = { reason }): Promise<Awaited<ReturnType<typeof send>>> {
  const encoded = json(body)
  return await send(s.app, { method: 'DELETE', path, headers: { ...encoded.headers, ...headers }, body: encoded.body })
}

t.test('an agent lists another user\'s authenticators with the same answer and masking as the user\'s own list', async t => {
  const s = await suite(t)
  s.emu.seedAuthenticator(ALICE, sms)
  s.emu.seedAuthenticator(ALICE, email)

  const res = await send(s.app, { path: `${SUPPORT}/${ALICE}/authenticators`, headers: bearer(agentToken()) })
  const own = await send(s.app, { path: '/authenticators', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.status, 200)
  t.same(res.json(), own.json(), 'the same answer as Alice\'s own list')
  t.notOk(res.body.includes('+6421555123') || res.body.includes('alice@example.com'), 'contact details masked')
  t.same(res.json().authenticators.map((a: { phoneNumber?: string, email?: string }) => a.phoneNumber ?? a.email), ['•••• 5123', 'a•••@example.com'])
})

t.test('without the group every support route is 403 and Authsignal is not called, however malformed the request', async t => {
  const s = await suite(t)
  const lone = s.emu.seedAuthenticator(ALICE, sms)
  const token = agentToken(['staff'])
  const rows: Array<[string, string, unknown]> = [
    ['GET', `${SUPPORT}/${ALICE}/authenticators`, undefined],
    ['DELETE', `${SUPPORT}/${ALICE}/authenticators/${lone.userAuthenticatorId}`, { reason }],
    ['DELETE', `${SUPPORT}/${ALICE}/authenticators`, { reason }],
    ['DELETE', `${SUPPORT}/${'u'.repeat(120)}/authenticators`, { reason }],
    ['GET', `${SUPPORT}/..%2F..%2Fx/authenticators`, undefined],
    ['DELETE', `${SUPPORT}/${ALICE}/authenticators`, { reason: '' }]
  ]
  for (const [method, path, body] of rows) {
    const res = body === undefined ? await send(s.app, { method, path, headers: bearer(token) }) : await remove(s, path, bearer(token), body)
    t.equal(res.status, 403, `${method} ${path.slice(0, 60)}`)
    t.equal(res.json().code, 'FST_COGNITO_MISSING_GROUP')
  }
  const noToken = await send(s.app, { path: `${SUPPORT}/${ALICE}/authenticators` })
  t.equal(noToken.status, 401, 'no token: 401')
  t.same(s.emu.requests, [], 'no upstream call')
  t.equal(s.emu.authenticators(ALICE).length, 1)
})

t.test('an agent removes a user\'s last authenticator with their own challenge: 204, and the hook is told source support with the actor', async t => {
  const s = await suite(t)
  const lone = s.emu.seedAuthenticator(ALICE, sms)

  const res = await remove(s, `${SUPPORT}/${ALICE}/authenticators/${lone.userAuthenticatorId}`, challenged(s.emu))

  t.equal(res.status, 204)
  t.same(s.emu.authenticators(ALICE), [], 'the last one is gone')
  t.match(s.changes, [{ type: 'removed', source: 'support', userId: ALICE, userAuthenticatorId: lone.userAuthenticatorId, verificationMethod: 'SMS', actor: { userId: AGENT, reason } }])
  t.equal(s.changes.length, 1)
  // The agent's challenge validated (which of the agent's factors completed it does not matter here), then the target's list and delete.
  t.same(upstreamCalls(s.emu), ['POST /v1/validate', `GET /v1/users/${ALICE}/authenticators`, `DELETE /v1/users/${ALICE}/authenticators/${lone.userAuthenticatorId}`])
  const audit = s.capture.lines.map(l => JSON.parse(l)).filter(l => l.support !== undefined)
  t.match(audit, [{ level: 30, support: { agent: AGENT, user: ALICE, userAuthenticatorId: lone.userAuthenticatorId, verificationMethod: 'SMS', reason } }], 'one info audit line')
  t.notOk(s.capture.lines.some(l => l.includes('+6421555123')), 'no phone number in any log line')
})

t.test('the agent\'s step-up: none, another user\'s, another action\'s or a made-up token is 403 and nothing is deleted; their own is 204', async t => {
  const s = await suite(t)
  const lone = s.emu.seedAuthenticator(ALICE, sms)
  const path = `${SUPPORT}/${ALICE}/authenticators/${lone.userAuthenticatorId}`
  const refused: Record<string, Record<string, string>> = {
    none: bearer(agentToken()),
    'the target user\'s own': { ...bearer(agentToken()), 'x-authsignal-token': s.emu.completeChallenge(ALICE, 'removeAuthenticator') },
    'another user\'s': { ...bearer(agentToken()), 'x-authsignal-token': s.emu.completeChallenge(BOB, 'removeAuthenticator') },
    'another action\'s': { ...bearer(agentToken()), 'x-authsignal-token': s.emu.completeChallenge(AGENT, 'signIn') },
    'made up': { ...bearer(agentToken()), 'x-authsignal-token': 'not-a-token' }
  }
  for (const [name, headers] of Object.entries(refused)) {
    const res = await remove(s, path, headers)
    t.equal(res.status, 403, name)
    t.equal(res.json().code, 'FST_AUTHSIGNAL_CHALLENGE_REQUIRED', name)
  }
  const all = await remove(s, `${SUPPORT}/${ALICE}/authenticators`, bearer(agentToken()))
  t.equal(all.status, 403, 'the reset needs it too')
  t.notOk(s.emu.requests.some(r => r.method === 'DELETE' || r.path.endsWith('/authenticators')), 'no list, no delete')
  t.equal((await remove(s, path, challenged(s.emu))).status, 204, 'their own: 204')
})

t.test('the agent\'s step-up is judged as a user\'s is: used once (a replay is 403, nothing removed) and at most maxChallengeAgeSec old', async t => {
  const s = await suite(t)
  const [first, second] = [s.emu.seedAuthenticator(ALICE, sms), s.emu.seedAuthenticator(ALICE, email)]
  const headers = challenged(s.emu)
  t.equal((await remove(s, `${SUPPORT}/${ALICE}/authenticators/${first.userAuthenticatorId}`, headers)).status, 204, 'the first removal')
  const replay = await remove(s, `${SUPPORT}/${ALICE}/authenticators/${second.userAuthenticatorId}`, headers)
  t.equal(replay.status, 403, 'the same challenge again')
  t.match(replay.json().message, /already allowed a removal/)
  t.equal((await remove(s, `${SUPPORT}/${ALICE}/authenticators`, headers)).status, 403, 'nor a reset')
  const stale = { ...bearer(agentToken()), 'x-authsignal-token': s.emu.completeChallenge(AGENT, 'removeAuthenticator', undefined, undefined, new Date(Date.now() - 301_000).toISOString()) }
  const old = await remove(s, `${SUPPORT}/${ALICE}/authenticators/${second.userAuthenticatorId}`, stale)
  t.equal(old.status, 403, 'a challenge completed over 300 s ago')
  t.match(old.json().message, /more than 300 s ago/)
  t.same(s.emu.authenticators(ALICE).map(a => a.userAuthenticatorId), [second.userAuthenticatorId], 'only the first removal happened')
})

t.test('the lost-phone reset removes every authenticator: 200 { removed }, each told and logged once', async t => {
  const s = await suite(t, { revokeSessionsOnRemove: { authsignal: true } })
  const seeded = [sms, email, totp].map(a => s.emu.seedAuthenticator(ALICE, a))
  s.emu.seedRecoveryCodes(ALICE)
  s.emu.seedAuthenticator(BOB, sms)

  const res = await remove(s, `${SUPPORT}/${ALICE}/authenticators`, challenged(s.emu), { reason: 'lost phone, called from +64 21 555 0199, alice@example.com' })

  t.equal(res.status, 200)
  t.same(res.json(), { removed: 4 }, 'three factors and the recovery codes')
  t.equal(res.headers['x-sessions-revoked'], 'authsignal=true', 'the user\'s sessions ended, once')
  t.same(s.emu.authenticators(ALICE), [])
  t.equal(s.emu.authenticators(BOB).length, 1, 'Bob untouched')
  t.same(s.changes.map(c => c.userAuthenticatorId).slice(0, 3).sort(), seeded.map(a => a.userAuthenticatorId).sort())
  t.ok(s.changes.every(c => c.source === 'support' && c.actor?.userId === AGENT && c.actor.reason.includes('+64 21 555 0199')), 'the hook gets the reason as given')
  const audit = s.capture.lines.filter(l => l.includes('a support agent removed'))
  t.equal(audit.length, 4, 'one audit line per removal')
  t.notOk(s.capture.lines.some(l => l.includes('555 0199') || l.includes('alice@example.com')), 'the reason\'s number and address are not logged')
  t.equal(upstreamCalls(s.emu).filter(c => c.startsWith('POST') && c.includes('sessions')).length, 1, 'one revocation for the reset')

  const again = await remove(s, `${SUPPORT}/${ALICE}/authenticators`, challenged(s.emu))
  t.same(again.json(), { removed: 0 }, 'nothing left to remove')
  t.equal(again.headers['x-sessions-revoked'], undefined, 'nothing removed, no revocation')
})

t.test('a support removal whose delete got no answer (504) keeps the target\'s lock: the user\'s own removal cannot judge the list it may shrink', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, {
    authsignal: emulatorOptions(emu, { timeoutMs: 300 }),
    routes: { remove: { requireChallenge: false, lockWaitMs: 200 }, support: { requiredGroups: ['support'] } }
  })
  const [first, second] = [emu.seedAuthenticator(ALICE, sms), emu.seedAuthenticator(ALICE, email)]
  // Authsignal carries the DELETE out but answers after the deadline.
  emu.setFault({ kind: 'latency', ms: 600 }, { path: /\/authenticators\/[^/]+$/, times: 1 })
  const timedOut = await app.inject({
    method: 'DELETE', url: `${SUPPORT}/${ALICE}/authenticators/${first.userAuthenticatorId}`, headers: challenged(emu), payload: { reason }
  })
  t.equal(timedOut.statusCode, 504)
  const own = await app.inject({ method: 'DELETE', url: `/authenticators/${second.userAuthenticatorId}`, headers: bearer(issuer.mint({ sub: ALICE })) })
  t.equal(own.statusCode, 503, 'the lock is still taken')
  t.equal(own.json().code, 'FST_AUTHSIGNAL_LOCK_BUSY')
  t.equal(emu.requests.filter(r => r.method === 'DELETE').length, 1, 'one DELETE upstream')
})

t.test('a reset that fails part way answers the failure, and what it removed is still told and logged', async t => {
  const s = await suite(t)
  s.emu.seedAuthenticator(ALICE, sms)
  s.emu.seedAuthenticator(ALICE, email)
  const headers = challenged(s.emu)
  // The first delete succeeds, the second is refused by Authsignal.
  let deletes = 0
  s.emu.events.on('authenticatorChange', () => { if (++deletes === 1) s.emu.setFault({ kind: 'status', status: 500 }, { path: /\/authenticators\/[^/]+$/ }) })

  const res = await remove(s, `${SUPPORT}/${ALICE}/authenticators`, headers)

  t.equal(res.status, 502)
  t.equal(s.emu.authenticators(ALICE).length, 1, 'one removed, one left')
  t.equal(s.changes.length, 1, 'the removed one is told')
  t.equal(s.capture.lines.filter(l => l.includes('a support agent removed')).length, 1, 'and logged')
})

t.test('malformed user ids, authenticator ids and reasons are 400 with their code and no upstream call', async t => {
  const s = await suite(t)
  const headers = challenged(s.emu)
  s.emu.clearRequests()
  const ids = ['.', '..', '%2e%2e', '..%2F..%2Fx', 'a%2Fb', 'a%20b', 'a%3Fb', encodeURIComponent('\u0430lice'), 'u'.repeat(129), `${'u'.repeat(120)}%2Fauthenticators`]
  for (const id of ids) {
    for (const [method, path] of [['GET', `${SUPPORT}/${id}/authenticators`], ['DELETE', `${SUPPORT}/${id}/authenticators`], ['DELETE', `${SUPPORT}/${id}/authenticators/x`]] as const) {
      const res = method === 'GET' ? await send(s.app, { path, headers }) : await remove(s, path, headers)
      t.equal(res.status, 400, `${method} ${path.slice(0, 50)}`)
      t.equal(res.json().code, 'FST_AUTHSIGNAL_INVALID_USER_ID')
    }
  }
  for (const id of ['..', 'a.b', 'x'.repeat(101)]) {
    for (const user of [ALICE, 'u'.repeat(128)]) {
      const res = await remove(s, `${SUPPORT}/${user}/authenticators/${id}`, headers)
      t.equal(res.status, 400, `authenticator ${id.slice(0, 20)} of a ${user.length}-character user`)
      t.equal(res.json().code, 'FST_AUTHSIGNAL_INVALID_AUTHENTICATOR_ID')
    }
  }
  // Fastify's defaults coerce a number to a string and drop unknown properties; what is left must be a reason.
  const reasons: unknown[] = [{}, { reason: '' }, { reason: 'r'.repeat(501) }, { reason: { text: reason } }, null, 'just text']
  for (const body of reasons) {
    for (const path of [`${SUPPORT}/${ALICE}/authenticators`, `${SUPPORT}/${ALICE}/authenticators/x`, `${SUPPORT}/${'u'.repeat(120)}/authenticators`]) {
      const res = await remove(s, path, headers, body)
      t.equal(res.status, 400, `${JSON.stringify(body).slice(0, 30)} on ${path.slice(-30)}`)
      t.equal(res.json().code, 'FST_AUTHSIGNAL_INVALID_REASON')
    }
  }
  const noBody = await send(s.app, { method: 'DELETE', path: `${SUPPORT}/${ALICE}/authenticators`, headers })
  t.equal(noBody.json().code, 'FST_AUTHSIGNAL_INVALID_REASON', 'no body at all')
  const hugeChallenge = await remove(s, `${SUPPORT}/${ALICE}/authenticators`, { ...headers, 'x-authsignal-token': 'x'.repeat(8193) })
  t.same([hugeChallenge.status, hugeChallenge.json().code], [400, 'FST_ERR_VALIDATION'], 'an over-long challenge token')
  t.same(s.emu.requests, [], 'no upstream call')
})

t.test('user ids of 101 to 128 characters work on every route (past the router\'s default maxParamLength)', async t => {
  const s = await suite(t)
  const long = `pool-b:${'x'.repeat(121)}`
  t.equal(long.length, 128)
  const [a, b] = [s.emu.seedAuthenticator(long, sms), s.emu.seedAuthenticator(long, email)]
  const odd = `${'y'.repeat(100)}.z@w+1`

  const listed = await send(s.app, { path: `${SUPPORT}/${long}/authenticators`, headers: bearer(agentToken()) })
  t.equal(listed.status, 200)
  t.same(listed.json().authenticators.map((x: { userAuthenticatorId: string }) => x.userAuthenticatorId), [a.userAuthenticatorId, b.userAuthenticatorId])
  t.equal((await remove(s, `${SUPPORT}/${long}/authenticators/${a.userAuthenticatorId}`, challenged(s.emu))).status, 204)
  t.same((await remove(s, `${SUPPORT}/${long}/authenticators`, challenged(s.emu))).json(), { removed: 1 })
  t.same(s.emu.authenticators(long), [])
  t.same((await send(s.app, { path: `${SUPPORT}/${encodeURIComponent(odd)}/authenticators`, headers: bearer(agentToken()) })).json(), { authenticators: [] }, 'every allowed character')
  const missing = await remove(s, `${SUPPORT}/${long}/authenticators/nope`, challenged(s.emu))
  t.equal(missing.status, 404, 'an id the user does not have: 404')
  t.equal(missing.json().code, 'FST_AUTHSIGNAL_AUTHENTICATOR_NOT_FOUND')
  for (const [method, path] of [['GET', `${SUPPORT}/${long}/other`], ['GET', `${SUPPORT}/${long}/authenticators/x`], ['DELETE', `${SUPPORT}/${long}/authenticators/x/y`], ['GET', `${SUPPORT}/${long}/AUTHENTICATORS`]]) {
    t.equal((await send(s.app, { method: method as string, path: path as string, headers: bearer(agentToken()) })).status, 404, `${method} ${(path as string).slice(-30)}: 404`)
  }
})

t.test('an agent acting on their own user id is 403 (their own routes apply), before any upstream call', async t => {
  const s = await suite(t)
  s.emu.seedAuthenticator(AGENT, sms)
  const headers = challenged(s.emu)
  s.emu.clearRequests()
  for (const [method, path] of [['GET', `${SUPPORT}/${AGENT}/authenticators`], ['DELETE', `${SUPPORT}/${AGENT}/authenticators`], ['DELETE', `${SUPPORT}/${AGENT}/authenticators/x`]] as const) {
    const res = method === 'GET' ? await send(s.app, { path, headers }) : await remove(s, path, headers)
    t.equal(res.status, 403, `${method} ${path}`)
    t.equal(res.json().code, 'FST_AUTHSIGNAL_SUPPORT_OWN_USER')
  }
  t.same(s.emu.requests, [])
})

t.test('requireChallenge false: the group alone removes; contact details shown when the list route shows them', async t => {
  const s = await suite(t, { routes: { remove: { requireChallenge: false }, list: { showContactDetails: true }, support: { requiredGroups: ['support', 'tier2'], requireChallenge: false, path: '/help/' } } })
  const lone = s.emu.seedAuthenticator(ALICE, sms)
  const path = `/authenticators/help/${ALICE}/authenticators`
  t.equal((await send(s.app, { path, headers: bearer(agentToken()) })).status, 403, 'every required group is needed')
  const token = agentToken(['tier2', 'support'])
  t.same((await send(s.app, { path, headers: bearer(token) })).json().authenticators[0].phoneNumber, '+6421555123')
  t.equal((await remove(s, `${path}/${lone.userAuthenticatorId}`, bearer(token))).status, 204)
  const minted = await send(s.app, { method: 'POST', path: '/authenticators/challenge-token', headers: bearer(token) })
  t.equal(minted.status, 200, 'the challenge-token route is mounted with support on')
})

t.test('with Cognito unreachable the removals stand: a failed sign-out or sync is logged, and the answer says cognito=false', async t => {
  const client = cognitoClient(`http://127.0.0.1:${await closedPort()}`)
  t.teardown(() => client.destroy())
  const s = await suite(t, { routes: { remove: { requireChallenge: false }, webhook: true, support: { requiredGroups: ['support'], requireChallenge: false } }, cognitoSync: { client }, revokeSessionsOnRemove: { cognito: client } })
  s.emu.seedAuthenticator(ALICE, email)
  const notASub = 'imported:alice'
  s.emu.seedAuthenticator(notASub, sms)

  const found = await remove(s, `${SUPPORT}/${ALICE}/authenticators`, bearer(agentToken()))
  t.same(found.json(), { removed: 1 })
  t.equal(found.headers['x-sessions-revoked'], 'cognito=false', 'the user lookup failed')
  t.ok(s.capture.lines.some(l => l.includes('Cognito\'s attributes were not synced') && l.includes('Cognito refused ListUsers')), 'the sync failure is logged')

  const unknown = await remove(s, `${SUPPORT}/${notASub}/authenticators`, bearer(agentToken()))
  t.same(unknown.json(), { removed: 1 })
  t.equal(unknown.headers['x-sessions-revoked'], 'cognito=false')
  t.ok(s.capture.lines.some(l => l.includes('no Cognito user has this Authsignal user id')), 'no Cognito user for an id that is no sub')
  t.same([s.emu.authenticators(ALICE), s.emu.authenticators(notASub)], [[], []], 'both removed')
})
