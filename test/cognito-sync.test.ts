// cognitoSync against cognito-local (started here: the AWS API with AdminUpdateUserAttributes, AdminGetUser,
// ListUsers): an email OTP enrolled through the Authsignal emulator's client API reaches the user's Cognito
// attributes by the signed webhook; each userIdClaim and several pools find the right user; a removal
// unverifies; a failing Cognito call answers 5xx and Authsignal's retry succeeds.
import { randomUUID } from 'node:crypto'
import { AdminGetUserCommand, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import authenticatorsPlugin, { type AuthenticatorChangeEvent, type AuthenticatorsPluginOptions, type CognitoOptions } from '../index.js'
import { cognitoClient, ensureDemoSetup, signIn, startCognitoLocal, type DemoSetup } from '../dev/cognito-local.js'
import { deliver, eventBody, listen } from './fixtures/webhooks.js'
import { emulatorFor } from './helpers.js'

const local = await startCognitoLocal({ dataDir: t.testdir() })
t.teardown(() => local.stop())
const endpoint = local.endpoint
const emu = await emulatorFor(t, { webhook: { retryDelaysMs: [20, 20, 20] } })
const admin = cognitoClient(endpoint)
t.teardown(() => admin.destroy())

const claims = (jwt: string): Record<string, string> => JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString('utf8'))

interface User { setup: DemoSetup, sub: string, accessToken: string }

/** A user of its own (in the named pool) with a verified email, as the dev harness makes them. */
async function userIn (poolName: string, username = `user-${randomUUID().slice(0, 8)}`): Promise<User> {
  const setup = await ensureDemoSetup({ endpoint, poolName, username, email: `${username}@example.com` })
  const { accessToken } = await signIn({ endpoint, ...setup })
  return { setup, sub: claims(accessToken).sub as string, accessToken }
}

async function attributes (user: User): Promise<Record<string, string>> {
  const answer = await admin.send(new AdminGetUserCommand({ UserPoolId: user.setup.userPoolId, Username: user.setup.username }))
  return Object.fromEntries((answer.UserAttributes ?? []).map(a => [a.Name, a.Value]))
}

const pool = (setup: DemoSetup, extra: Partial<CognitoOptions> = {}): CognitoOptions =>
  ({ userPoolId: setup.userPoolId, clientId: setup.clientId, issuer: setup.issuer, ...extra })

interface App { app: FastifyInstance, url: string, changes: AuthenticatorChangeEvent[], lines: string[] }

async function appWith (t: Test, cognito: CognitoOptions | CognitoOptions[], extra: Partial<AuthenticatorsPluginOptions> = {}, client: CognitoIdentityProviderClient = admin): Promise<App> {
  const changes: AuthenticatorChangeEvent[] = []
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => { lines.push(line) } } } })
  await app.register(authenticatorsPlugin, {
    cognito,
    authsignal: { apiSecretKey: emu.secret, apiUrl: emu.apiUrl, timeoutMs: 3000 },
    routes: { webhook: true },
    cognitoSync: { client },
    onAuthenticatorChange: (change) => { changes.push(change) },
    ...extra
  })
  t.teardown(() => app.close())
  const url = await listen(app)
  emu.webhooks.url = url
  t.teardown(() => { emu.webhooks.url = undefined })
  return { app, url, changes, lines }
}

/** What @authsignal/browser sends to enrol an email OTP authenticator, with a token of the plugin's token route. */
async function enrolEmail (app: FastifyInstance, user: User, email: string): Promise<string> {
  const track = await app.inject({ method: 'POST', url: '/authenticators/token', headers: { authorization: `Bearer ${user.accessToken}` } })
  const token = track.json().authsignalToken as string
  const client = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${emu.apiUrl}/client/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) })
    return await res.json() as Record<string, unknown>
  }
  const enrolled = await client('user-authenticators/email-otp', { email })
  const code = emu.sentOtps.at(-1)?.code
  const verified = await client('verify/email-otp', { verificationCode: code })
  if (verified.isVerified !== true) throw new Error('the code was not accepted')
  return enrolled.userAuthenticatorId as string
}

t.test('an email OTP enrolled through the emulator sets the user\'s Cognito email and email_verified (userIdClaim sub: found by ListUsers)', async t => {
  const user = await userIn('sync-sub')
  const { app, changes } = await appWith(t, pool(user.setup))
  t.same(await attributes(user), { sub: user.sub, email: `${user.setup.username}@example.com`, email_verified: 'true' }, 'before')

  const started = performance.now()
  const id = await enrolEmail(app, user, 'new-address@example.com')
  await emu.webhooks.idle()
  const after = await attributes(user)
  t.comment(`enrol → attribute read back: ${(performance.now() - started).toFixed(1)} ms`)
  t.equal(after.email, 'new-address@example.com')
  t.equal(after.email_verified, 'true')
  t.match(changes, [{ type: 'added', userId: user.sub, verificationMethod: 'EMAIL_OTP', userAuthenticatorId: id, source: 'webhook' }])
  t.match(emu.webhooks.deliveries.at(-1), { type: 'authenticator.created', attempt: 1, status: 200 })
})

t.test('an SMS authenticator sets phone_number and phone_number_verified; a passkey changes nothing and calls no one', async t => {
  const user = await userIn('sync-sub')
  const { changes } = await appWith(t, pool(user.setup))
  emu.seedAuthenticator(user.sub, { verificationMethod: 'SMS', phoneNumber: '+14155550123' })
  await emu.webhooks.idle()
  t.match(await attributes(user), { phone_number: '+14155550123', phone_number_verified: 'true', email_verified: 'true' })

  const before = emu.requests.length
  emu.seedAuthenticator(user.sub, { verificationMethod: 'PASSKEY', displayName: 'laptop' })
  await emu.webhooks.idle()
  t.equal(changes.at(-1)?.verificationMethod, 'PASSKEY', 'the hook is still told')
  t.same(emu.requests.slice(before), [], 'no Authsignal call for a passkey event')
})

t.test('userIdClaim username, and several pools: the prefix picks the pool, the rest is the username', async t => {
  const a = await userIn('sync-pool-a', 'same-name')
  const b = await userIn('sync-pool-b', 'same-name')
  await appWith(t, [
    pool(a.setup, { userIdClaim: 'username', userIdPrefix: 'pool-a:' }),
    pool(b.setup, { userIdClaim: 'username', userIdPrefix: 'pool-b:' })
  ])
  emu.seedAuthenticator('pool-b:same-name', { verificationMethod: 'EMAIL_OTP', email: 'b-only@example.com' })
  await emu.webhooks.idle()
  t.equal((await attributes(b)).email, 'b-only@example.com', 'pool B\'s user')
  t.equal((await attributes(a)).email, 'same-name@example.com', 'pool A\'s user of the same name untouched')
})

t.test('a pool without a prefix (subs) beside a prefixed one: each id reaches its own pool', async t => {
  const a = await userIn('sync-mixed-a')
  const b = await userIn('sync-mixed-b')
  await appWith(t, [pool(a.setup), pool(b.setup, { userIdPrefix: 'b:' })])
  emu.seedAuthenticator(a.sub, { verificationMethod: 'SMS', phoneNumber: '+14155550101' })
  emu.seedAuthenticator(`b:${b.sub}`, { verificationMethod: 'SMS', phoneNumber: '+14155550102' })
  await emu.webhooks.idle()
  t.equal((await attributes(a)).phone_number, '+14155550101')
  t.equal((await attributes(b)).phone_number, '+14155550102')
})

t.test('removing the authenticator that carried the address unverifies it (the address stays); another one carrying an address takes over', async t => {
  const user = await userIn('sync-sub')
  const { app } = await appWith(t, pool(user.setup), { routes: { webhook: true, remove: { protectLast: false } } })
  const first = emu.seedAuthenticator(user.sub, { verificationMethod: 'EMAIL_OTP', email: 'first@example.com' })
  await emu.webhooks.idle()
  const second = emu.seedAuthenticator(user.sub, { verificationMethod: 'EMAIL_OTP', email: 'second@example.com' })
  await emu.webhooks.idle()
  t.match(await attributes(user), { email: 'second@example.com', email_verified: 'true' })

  const remove = async (id: string): Promise<number> => (await app.inject({ method: 'DELETE', url: `/authenticators/${id}`, headers: { authorization: `Bearer ${user.accessToken}` } })).statusCode
  t.equal(await remove(second.userAuthenticatorId), 204)
  await emu.webhooks.idle()
  t.match(await attributes(user), { email: 'first@example.com', email_verified: 'true' }, 'the remaining authenticator\'s address')

  t.equal(await remove(first.userAuthenticatorId), 204)
  await emu.webhooks.idle()
  t.match(await attributes(user), { email: 'first@example.com', email_verified: 'false' }, 'no authenticator proves it any more')
})

t.test('with several authenticators carrying addresses, whatever the order the events are acted on: the most recently verified one\'s', async t => {
  const user = await userIn('sync-sub')
  const { app } = await appWith(t, pool(user.setup))
  // Three events delivered side by side, acted on in any order.
  const [e1, , e3] = ['one', 'two', 'three'].map((n, i) => emu.seedAuthenticator(user.sub, { verificationMethod: 'EMAIL_OTP', email: `${n}@example.com`, createdAt: `2026-01-0${i + 1}T00:00:00.000Z` }))
  await emu.webhooks.idle()
  t.equal((await attributes(user)).email, 'three@example.com', 'the newest')
  emu.completeChallenge(user.sub, 'signIn', undefined, e1?.userAuthenticatorId)
  await emu.webhooks.idle()
  t.equal((await attributes(user)).email, 'one@example.com', 'authenticator.updated: the one just used')
  const res = await app.inject({ method: 'DELETE', url: `/authenticators/${e1?.userAuthenticatorId}`, headers: { authorization: `Bearer ${user.accessToken}` } })
  t.equal(res.statusCode, 204)
  await emu.webhooks.idle()
  t.equal((await attributes(user)).email, 'three@example.com', 'of the two left, the most recently verified')
  t.ok(e3)
})

t.test('two addresses verified at the same moment: the same one wins every time (by authenticator id)', async t => {
  const user = await userIn('sync-sub')
  await appWith(t, pool(user.setup))
  for (const id of ['tie-b', 'tie-a']) emu.seedAuthenticator(user.sub, { verificationMethod: 'SMS', phoneNumber: `+1415555${id === 'tie-a' ? '0001' : '0002'}`, userAuthenticatorId: id, createdAt: '2026-01-05T00:00:00.000Z' })
  await emu.webhooks.idle()
  t.equal((await attributes(user)).phone_number, '+14155550001')
})

t.test('a host\'s client whose answers lack optional fields, or that rejects with anything: handled', async t => {
  const { AdminUpdateUserAttributesCommand, ListUsersCommand } = await import('@aws-sdk/client-cognito-identity-provider')
  const user = await userIn('sync-sub')
  const written: unknown[] = []
  const answers: unknown[] = [{ Users: [{ Username: 'bare' }] }, { Users: [{}] }, {}]
  const stub = {
    send: async (command: object) => {
      if (command instanceof ListUsersCommand) return answers.shift()
      if (command instanceof AdminUpdateUserAttributesCommand) return written.push(command.input)
      throw new Error('unexpected')
    }
  }
  const { url, lines } = await appWith(t, pool(user.setup), {}, stub as never)
  const removed = (): string => eventBody('authenticator.deleted', { userId: user.sub, verificationMethod: 'SMS', userAuthenticatorId: 'a', phoneNumber: '+14155550100' })
  t.same((await deliver(url, removed())).json, { received: true }, 'a user without attributes: nothing to unverify')
  t.same((await deliver(url, removed())).json, { received: true }, 'a user without a username')
  t.same((await deliver(url, removed())).json, { received: true }, 'no users at all')
  t.same(written, [])
  t.equal(lines.filter(l => l.includes('no Cognito user has this Authsignal user id')).length, 2)

  const rejecting = { send: async () => { throw 'not an Error' } } // eslint-disable-line no-throw-literal
  const other = await appWith(t, pool(user.setup), {}, rejecting as never)
  const res = await deliver(other.url, removed())
  t.equal(res.status, 502)
  t.equal(res.json.code, 'FST_COGNITO_ADMIN_ERROR')
})

t.test('an id that is exactly a pool\'s prefix, or of no pool, has no Cognito user', async t => {
  const a = await userIn('sync-prefix-a')
  const b = await userIn('sync-prefix-b')
  const { url, lines } = await appWith(t, [pool(a.setup, { userIdPrefix: 'a:' }), pool(b.setup, { userIdPrefix: 'b:' })])
  for (const userId of ['a:', 'c:someone']) {
    t.equal((await deliver(url, eventBody('authenticator.created', { userId, verificationMethod: 'SMS', userAuthenticatorId: 'x', phoneNumber: '+14155550100' }))).status, 200)
  }
  t.equal(lines.filter(l => l.includes('no Cognito user has this Authsignal user id')).length, 2)
})

t.test('a removal does not unverify an address the user has since changed, nor with onRemove: keep', async t => {
  const user = await userIn('sync-sub')
  await appWith(t, pool(user.setup))
  const id = `event-${randomUUID()}`
  const removed = (email: string): string => eventBody('authenticator.deleted', { userId: user.sub, verificationMethod: 'EMAIL_OTP', userAuthenticatorId: 'gone', email, deletedAt: new Date().toISOString() }, `${id}-${email}`)
  t.equal((await deliver(emu.webhooks.url as string, removed('someone-else@example.com'))).status, 200)
  t.match(await attributes(user), { email_verified: 'true' }, 'another address: untouched')

  const kept = await userIn('sync-keep')
  await appWith(t, pool(kept.setup), { cognitoSync: { client: admin, onRemove: 'keep' } })
  t.equal((await deliver(emu.webhooks.url as string, eventBody('authenticator.deleted', { userId: kept.sub, verificationMethod: 'EMAIL_OTP', userAuthenticatorId: 'gone', email: `${kept.setup.username}@example.com` }))).status, 200)
  t.match(await attributes(kept), { email_verified: 'true' }, 'onRemove keep')
})

t.test('with userIdClaim username a removal reads the attributes with AdminGetUser first', async t => {
  const user = await userIn('sync-by-username')
  await appWith(t, pool(user.setup, { userIdClaim: 'username' }))
  const res = await deliver(emu.webhooks.url as string, eventBody('authenticator.deleted', {
    userId: user.setup.username, verificationMethod: 'EMAIL_OTP', userAuthenticatorId: 'gone', email: `${user.setup.username}@example.com`
  }))
  t.equal(res.status, 200)
  t.match(await attributes(user), { email_verified: 'false' })
})

t.test('an Authsignal user with no Cognito user: acknowledged, said in the log, nothing written', async t => {
  const user = await userIn('sync-sub')
  const { lines } = await appWith(t, [pool(user.setup), pool(user.setup, { issuer: `${user.setup.issuer}/other`, userIdPrefix: 'u:', userIdClaim: 'username' })])
  for (const userId of [randomUUID(), 'not-a-sub!', 'u:nobody']) {
    const res = await deliver(emu.webhooks.url as string, eventBody('authenticator.deleted', { userId, verificationMethod: 'SMS', userAuthenticatorId: 'a', phoneNumber: '+14155550100' }))
    t.same(res.json, { received: true }, userId)
  }
  t.equal(lines.filter(l => l.includes('no Cognito user has this Authsignal user id')).length, 3)
})

t.test('a failing Cognito call: 5xx and nothing remembered, so Authsignal\'s retry acts again and succeeds', async t => {
  const user = await userIn('sync-sub')
  const flaky = cognitoClient(endpoint)
  t.teardown(() => flaky.destroy())
  let failures = 1
  flaky.middlewareStack.add((next, context) => async (args) => {
    if (context.commandName === 'AdminUpdateUserAttributesCommand' && failures-- > 0) {
      throw Object.assign(new Error('Rate exceeded for the user pool'), { name: 'TooManyRequestsException' })
    }
    return await next(args)
  }, { step: 'initialize', name: 'injectOneFault' })
  const { changes } = await appWith(t, pool(user.setup), {}, flaky)
  emu.seedAuthenticator(user.sub, { verificationMethod: 'SMS', phoneNumber: '+14155550199' })
  await emu.webhooks.idle()
  const attempts = emu.webhooks.deliveries.slice(-2)
  t.match(attempts, [{ attempt: 1, status: 502 }, { attempt: 2, status: 200 }], 'the first delivery failed, the retry succeeded')
  t.equal(attempts[0]?.eventId, attempts[1]?.eventId, 'one event')
  t.equal((await attributes(user)).phone_number, '+14155550199')
  t.equal(changes.length, 1, 'the hook is told once, after the sync succeeded')
})

t.test('a Cognito call that does not answer within the deadline is a 504, and nothing is remembered', async t => {
  const user = await userIn('sync-sub')
  const stuck = cognitoClient(endpoint)
  let open: () => void = () => {}
  const gate = new Promise<void>(resolve => { open = resolve })
  t.teardown(() => { open(); stuck.destroy() })
  stuck.middlewareStack.add((next) => async (args) => { await gate; return await next(args) }, { step: 'initialize', name: 'hang' })
  const { url } = await appWith(t, pool(user.setup), { authsignal: { apiSecretKey: emu.secret, apiUrl: emu.apiUrl, timeoutMs: 300 } }, stuck)
  const body = eventBody('authenticator.created', { userId: user.sub, verificationMethod: 'SMS', userAuthenticatorId: 'a', phoneNumber: '+14155550100' })
  const res = await deliver(url, body)
  t.equal(res.status, 504)
  t.equal(res.json.code, 'FST_COGNITO_ADMIN_TIMEOUT')
  t.equal((await deliver(url, body)).status, 504, 'tried again, not taken for a duplicate')
})

t.test('cognitoSync options: checked at registration', async t => {
  const user = await userIn('sync-sub')
  const rows: Array<[string, Partial<AuthenticatorsPluginOptions>, RegExp]> = [
    ['without the webhook route', { routes: {} }, /cognitoSync: acts on Authsignal's webhook events/],
    ['without a client', { cognitoSync: {} as never }, /cognitoSync\.client: expected a CognitoIdentityProviderClient/],
    ['not an object', { cognitoSync: 'yes' as never }, /cognitoSync: expected an object/],
    ['an unknown attribute', { cognitoSync: { client: admin, attributes: ['name' as never] } }, /cognitoSync\.attributes/],
    ['no attributes', { cognitoSync: { client: admin, attributes: [] } }, /cognitoSync\.attributes/],
    ['a misspelt key', { cognitoSync: { client: admin, onRemoved: 'keep' } as never }, /cognitoSync\.onRemoved: unknown option \(did you mean onRemove\?\)/],
    ['a bad onRemove', { cognitoSync: { client: admin, onRemove: 'delete' as never } }, /cognitoSync\.onRemove/]
  ]
  for (const [name, extra, message] of rows) {
    await t.rejects(appWith(t, pool(user.setup), extra), { code: 'FST_AUTHSIGNAL_COGNITO_INVALID_OPTION', message }, name)
  }
})

t.test('cognitoSync.attributes: only the attributes asked for are kept in step', async t => {
  const user = await userIn('sync-sub')
  await appWith(t, pool(user.setup), { cognitoSync: { client: admin, attributes: ['phone_number', 'phone_number'] } })
  emu.seedAuthenticator(user.sub, { verificationMethod: 'EMAIL_OTP', email: 'not-synced@example.com' })
  emu.seedAuthenticator(user.sub, { verificationMethod: 'SMS', phoneNumber: '+14155550111' })
  await emu.webhooks.idle()
  t.match(await attributes(user), { email: `${user.setup.username}@example.com`, phone_number: '+14155550111' })
})

t.test('revokeSessionsOnRemove.cognito: cognito-local has no AdminUserGlobalSignOut, so the sign-out fails; the removal stands and says cognito=false', async t => {
  const user = await userIn('sync-sub')
  const { app, lines } = await appWith(t, pool(user.setup), {
    routes: { webhook: true, remove: { protectLast: false } },
    revokeSessionsOnRemove: { authsignal: true, cognito: admin }
  })
  const a = emu.seedAuthenticator(user.sub, { verificationMethod: 'SMS', phoneNumber: '+14155550177' })
  const res = await app.inject({ method: 'DELETE', url: `/authenticators/${a.userAuthenticatorId}`, headers: { authorization: `Bearer ${user.accessToken}` } })
  t.equal(res.statusCode, 204)
  t.equal(res.headers['x-sessions-revoked'], 'authsignal=true, cognito=false')
  t.same(emu.authenticators(user.sub), [], 'removed')
  t.ok(lines.some(l => l.includes('"revocation":"cognito"') && l.includes('Cognito refused AdminUserGlobalSignOut')), 'the failure is logged')

  // With ID tokens the username is in cognito:username.
  const { idToken } = await signIn({ endpoint, ...user.setup })
  const byId = await appWith(t, pool(user.setup, { tokenUse: 'id' }), { routes: { remove: { protectLast: false } }, cognitoSync: undefined, revokeSessionsOnRemove: { cognito: admin } })
  const b = emu.seedAuthenticator(user.sub, { verificationMethod: 'SMS' })
  const viaId = await byId.app.inject({ method: 'DELETE', url: `/authenticators/${b.userAuthenticatorId}`, headers: { authorization: `Bearer ${idToken}` } })
  t.equal(viaId.statusCode, 204)
  t.equal(viaId.headers['x-sessions-revoked'], 'cognito=false')
})

t.test('a support agent\'s reset: the target\'s Cognito email is unverified in the answer\'s wake, as the webhook would, and their sign-out is sent for their username', async t => {
  const user = await userIn('sync-sub')
  const agentName = `agent-${randomUUID().slice(0, 8)}`
  const agentSetup = await ensureDemoSetup({ endpoint, poolName: 'sync-sub', username: agentName, email: `${agentName}@example.com`, groups: ['support'] })
  const agent = await signIn({ endpoint, ...agentSetup })
  const { app, changes, lines } = await appWith(t, pool(user.setup), {
    routes: { webhook: true, support: { requiredGroups: ['support'], requireChallenge: false } },
    revokeSessionsOnRemove: { cognito: admin }
  })
  // No webhook deliveries here: what changes in Cognito is the route's own doing.
  emu.webhooks.url = undefined
  const address = `${user.setup.username}@example.com`
  emu.seedAuthenticator(user.sub, { verificationMethod: 'EMAIL_OTP', email: address })
  emu.seedAuthenticator(user.sub, { verificationMethod: 'SMS', phoneNumber: '+14155550188' })

  const res = await app.inject({ method: 'DELETE', url: `/authenticators/support/users/${user.sub}/authenticators`, headers: { authorization: `Bearer ${agent.accessToken}` }, payload: { reason: 'lost phone' } })

  t.equal(res.statusCode, 200)
  t.same(res.json(), { removed: 2 })
  t.same(await attributes(user), { sub: user.sub, email: address, email_verified: 'false' }, 'the address stays, unverified')
  t.match(changes, [{ source: 'support', actor: { userId: claims(agent.accessToken).sub, reason: 'lost phone' } }, { source: 'support' }])
  // cognito-local has no AdminUserGlobalSignOut: Cognito's refusal (not a failed lookup) shows the target was found.
  t.equal(res.headers['x-sessions-revoked'], 'cognito=false')
  t.ok(lines.some(l => l.includes('"revocation":"cognito"') && l.includes('Cognito refused AdminUserGlobalSignOut')), 'the sign-out reached Cognito for the target')
  t.notOk(lines.some(l => l.includes(address) || l.includes('+14155550188')), 'no address or number in the log')
})
