// onAuthenticatorChange after a removal by the DELETE route, and revokeSessionsOnRemove: the hook gets the
// removal's data; a hook that throws, rejects or hangs never fails nor holds up the removal past its bound;
// a revocation that fails leaves the removal standing and says so in x-sessions-revoked.
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import type { AuthenticatorChangeEvent } from '../index.js'
import { bearer, buildApp, emulatorFor, emulatorOptions, issuerFor, tokenOnly, type AppOptions } from './helpers.js'

const issuer = await issuerFor(t)
const emu = await emulatorFor(t)

async function removal (t: Test, options: AppOptions) {
  const lines: string[] = []
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { remove: tokenOnly }, logStream: { write: (line: string) => { lines.push(line) } }, ...options })
  const user = randomUUID()
  const [gone] = [emu.seedAuthenticator(user, { verificationMethod: 'SMS', phoneNumber: '+14155550123' }), emu.seedAuthenticator(user, { verificationMethod: 'EMAIL_OTP' })]
  const id = gone?.userAuthenticatorId as string
  const started = performance.now()
  const res = await app.inject({ method: 'DELETE', url: `/authenticators/${id}`, headers: bearer(issuer.mint({ sub: user })) })
  return { res, ms: performance.now() - started, lines, user, id, left: emu.authenticators(user).map(a => a.userAuthenticatorId) }
}

t.test('a removal by the route tells onAuthenticatorChange what was removed, for whom, when and by which request', async t => {
  const changes: AuthenticatorChangeEvent[] = []
  const before = new Date().toISOString()
  const { res, user, id, lines } = await removal(t, { onAuthenticatorChange: (change) => { changes.push(change) } })
  t.equal(res.statusCode, 204)
  t.equal(res.headers['x-sessions-revoked'], undefined, 'no revocation asked for, no header')
  t.equal(changes.length, 1)
  const [change] = changes as [AuthenticatorChangeEvent]
  t.same({ ...change, at: 'checked', requestId: 'checked' }, {
    type: 'removed', userId: user, verificationMethod: 'SMS', userAuthenticatorId: id, at: 'checked', source: 'route', requestId: 'checked', ipAddress: '127.0.0.1'
  }, 'no stepUpMethod: removed without a step-up')
  t.ok(change.at >= before && change.at <= new Date().toISOString(), 'at: the removal\'s time')
  t.ok(lines.some(l => JSON.parse(l).reqId === change.requestId), 'requestId is the request\'s id in the log')
})

t.test('a hook that throws or rejects is logged; the removal answers 204', async t => {
  for (const hook of [() => { throw new Error('mailer down') }, async () => { throw new Error('mailer down') }, async () => { throw 'a string' }]) { // eslint-disable-line no-throw-literal
    const { res, lines, left, id } = await removal(t, { onAuthenticatorChange: hook })
    t.equal(res.statusCode, 204)
    t.notOk(left.includes(id), 'removed')
    t.ok(lines.some(l => l.includes('onAuthenticatorChange failed') && /mailer down|a string/.test(l)), 'logged with its reason')
  }
})

t.test('a hook that hangs holds the removal up for onAuthenticatorChangeTimeoutMs at most, and is said', async t => {
  const { res, ms, lines } = await removal(t, { onAuthenticatorChange: () => new Promise<void>(() => {}), onAuthenticatorChangeTimeoutMs: 300 })
  t.equal(res.statusCode, 204)
  t.ok(ms >= 300, `answered after ${ms.toFixed(0)} ms, not before the bound`)
  t.ok(lines.some(l => l.includes('onAuthenticatorChange is still running')))
})

t.test('revokeSessionsOnRemove.authsignal: the user\'s Authsignal sessions are revoked after the removal', async t => {
  const { res, user } = await removal(t, { revokeSessionsOnRemove: { authsignal: true } })
  t.equal(res.statusCode, 204)
  t.equal(res.headers['x-sessions-revoked'], 'authsignal=true')
  const revoke = emu.requests.filter(r => r.path === '/v1/sessions/user/revoke').at(-1)
  t.same(revoke?.body, { userId: user })
})

t.test('a revocation that fails: the removal stands, 204 with x-sessions-revoked: authsignal=false, and an error logged', async t => {
  emu.setFault({ kind: 'status', status: 500 }, { path: /^\/v1\/sessions\//, times: 1 })
  const { res, left, id, lines } = await removal(t, { revokeSessionsOnRemove: { authsignal: true } })
  t.equal(res.statusCode, 204)
  t.equal(res.headers['x-sessions-revoked'], 'authsignal=false')
  t.notOk(left.includes(id), 'the authenticator is gone')
  t.ok(lines.some(l => l.includes('the authenticator was removed but the sessions were not revoked') && l.includes('"revocation":"authsignal"')))
})

t.test('options: the hook must be a function, its bound a number, revokeSessionsOnRemove an object of known keys', async t => {
  const rows: Array<[string, AppOptions, RegExp]> = [
    ['a hook that is not a function', { onAuthenticatorChange: 'notify' as never }, /onAuthenticatorChange: expected a function/],
    ['a bound of 0', { onAuthenticatorChangeTimeoutMs: 0 }, /onAuthenticatorChangeTimeoutMs: expected an integer/],
    ['revoke as true', { revokeSessionsOnRemove: true as never }, /revokeSessionsOnRemove: expected an object/],
    ['revoke with a bad flag', { revokeSessionsOnRemove: { authsignal: 'yes' as never } }, /revokeSessionsOnRemove\.authsignal: expected a boolean/],
    ['revoke with no client', { revokeSessionsOnRemove: { cognito: {} as never } }, /revokeSessionsOnRemove\.cognito: expected a CognitoIdentityProviderClient/],
    ['revoke misspelt', { revokeSessionsOnRemove: { authsignl: true } as never }, /revokeSessionsOnRemove\.authsignl: unknown option \(did you mean authsignal\?\)/]
  ]
  for (const [name, options, message] of rows) {
    await t.rejects(buildApp(t, issuer, options), { code: 'FST_AUTHSIGNAL_COGNITO_INVALID_OPTION', message }, name)
  }
})
