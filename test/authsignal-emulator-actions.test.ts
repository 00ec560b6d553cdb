// What the emulator tells about who completed a challenge and how authenticators change: queryUserActions
// and validateChallenge through the real @authsignal/node SDK, completeChallenge naming the authenticator,
// recovery codes, the authenticator change feed, and the client API's list of the token's authenticators.
import t, { type Test } from 'tap'
import { Authsignal, AuthsignalError } from '@authsignal/node'
import { startAuthsignalEmulator, type AuthenticatorChange, type AuthsignalEmulator } from '../lib/testing/authsignal-emulator.js'
import { clientApi as client } from './helpers.js'

interface Started { emu: AuthsignalEmulator, sdk: Authsignal, changes: AuthenticatorChange[] }

async function start (t: Test): Promise<Started> {
  const changes: AuthenticatorChange[] = []
  const emu = await startAuthsignalEmulator({ onAuthenticatorChange: (c) => changes.push(c) })
  t.teardown(() => emu.close())
  return { emu, sdk: new Authsignal({ apiSecretKey: emu.secret, apiUrl: emu.apiUrl, retries: 0 }), changes }
}

// An email OTP challenge of the user's enrolled address, completed with the code the emulator "sent".
async function emailChallenge (emu: AuthsignalEmulator, sdk: Authsignal, userId: string, action: string): Promise<{ token: string, idempotencyKey: string }> {
  const tracked = await sdk.track({ userId, action })
  await client(emu, 'challenge/email-otp', tracked.token)
  await client(emu, 'verify/email-otp', tracked.token, { verificationCode: emu.sentOtps.at(-1)?.code })
  return tracked
}

t.test('validateChallenge after a real email OTP challenge returns Authsignal\'s fields, nothing more', async (t) => {
  const { emu, sdk } = await start(t)
  emu.seedAuthenticator('u1', { verificationMethod: 'EMAIL_OTP', email: 'a@example.com' })
  const { token, idempotencyKey } = await emailChallenge(emu, sdk, 'u1', 'removeAuthenticator')
  const { stateUpdatedAt } = await sdk.getAction({ userId: 'u1', action: 'removeAuthenticator', idempotencyKey })
  t.same(await sdk.validateChallenge({ token, userId: 'u1', action: 'removeAuthenticator' }), {
    action: 'removeAuthenticator',
    isValid: true,
    state: 'CHALLENGE_SUCCEEDED',
    stateUpdatedAt,
    userId: 'u1',
    idempotencyKey,
    verificationMethod: 'EMAIL_OTP'
  })
})

t.test('queryUserActions lists the user\'s actions newest first, with the authenticator that verified each', async (t) => {
  const { emu, sdk } = await start(t)
  const email = emu.seedAuthenticator('u1', { verificationMethod: 'EMAIL_OTP', email: 'a@example.com' })
  const first = await sdk.track({ userId: 'u1', action: 'signIn' })
  const challenged = await emailChallenge(emu, sdk, 'u1', 'removeAuthenticator')
  await sdk.track({ userId: 'u2', action: 'signIn' })

  const all = await sdk.queryUserActions({ userId: 'u1' })
  t.same(all.map((a) => a.idempotencyKey), [challenged.idempotencyKey, first.idempotencyKey])
  const { createdAt, stateUpdatedAt } = await sdk.getAction({ userId: 'u1', action: 'removeAuthenticator', idempotencyKey: challenged.idempotencyKey })
  t.same(all[0], {
    actionCode: 'removeAuthenticator',
    idempotencyKey: challenged.idempotencyKey,
    createdAt,
    updatedAt: stateUpdatedAt,
    state: 'CHALLENGE_SUCCEEDED',
    stateUpdatedAt,
    verificationMethod: 'EMAIL_OTP',
    verifiedByAuthenticatorId: email.userAuthenticatorId
  })
  t.match(all[1], { actionCode: 'signIn', state: 'ALLOW' })
  t.notOk('verifiedByAuthenticatorId' in (all[1] as object))

  t.same((await sdk.queryUserActions({ userId: 'u1', actionCodes: ['signIn', 'other'] })).map((a) => a.actionCode), ['signIn'])
  t.same((await sdk.queryUserActions({ userId: 'u1', state: 'CHALLENGE_SUCCEEDED' as never })).map((a) => a.actionCode), ['removeAuthenticator'])
  t.equal((await sdk.queryUserActions({ userId: 'u1', fromDate: '2000-01-01T00:00:00Z' })).length, 2)
  t.same(await sdk.queryUserActions({ userId: 'u1', fromDate: new Date(Date.now() + 60_000).toISOString() }), [])
  t.same(await sdk.queryUserActions({ userId: 'nobody' }), [])
  const url = emu.requests.filter((r) => r.path === '/v1/users/u1/actions').map((r) => r.url)
  t.match(url.slice(0, 4), ['/v1/users/u1/actions', '/v1/users/u1/actions?codes=signIn%2Cother', '/v1/users/u1/actions?state=CHALLENGE_SUCCEEDED', /\?fromDate=2000/])

  const bad = await sdk.queryUserActions({ userId: 'u1', fromDate: 'yesterday' }).catch((err: unknown) => err)
  t.ok(bad instanceof AuthsignalError)
  t.match(bad, { statusCode: 400, errorCode: 'invalid_request' })
})

t.test('completeChallenge naming an authenticator: it verified the action, and its lastVerifiedAt moves', async (t) => {
  const { emu, sdk, changes } = await start(t)
  const phone = emu.seedAuthenticator('u1', { verificationMethod: 'SMS', phoneNumber: '+15550001', createdAt: '2024-01-01T00:00:00.000Z' })
  changes.length = 0
  const token = emu.completeChallenge('u1', 'removeAuthenticator', undefined, phone.userAuthenticatorId)
  t.match(await sdk.validateChallenge({ token }), { isValid: true, verificationMethod: 'SMS' }, 'the method defaults to the authenticator\'s')
  t.match(await sdk.queryUserActions({ userId: 'u1' }), [{ verifiedByAuthenticatorId: phone.userAuthenticatorId, verificationMethod: 'SMS' }])
  const moved = emu.authenticators('u1')[0]?.lastVerifiedAt as string
  t.ok(moved > '2024-01-01T00:00:00.000Z')
  t.same(changes.map((c) => [c.type, c.authenticator.lastVerifiedAt]), [['authenticator.updated', moved]])

  const named = emu.completeChallenge('u1', 'x', 'WHATSAPP', phone.userAuthenticatorId)
  t.match(await sdk.validateChallenge({ token: named }), { verificationMethod: 'WHATSAPP' })
  const plain = emu.completeChallenge('u1', 'y')
  t.match(await sdk.validateChallenge({ token: plain }), { verificationMethod: 'EMAIL_OTP' })
  t.notOk('verifiedByAuthenticatorId' in ((await sdk.queryUserActions({ userId: 'u1', actionCodes: ['y'] }))[0] as object))
  t.throws(() => emu.completeChallenge('u2', 'x', undefined, phone.userAuthenticatorId), /u2 has no authenticator/)
})

t.test('seedRecoveryCodes lists a RECOVERY_CODE authenticator, which can complete a challenge', async (t) => {
  const { emu, sdk } = await start(t)
  const seeded = emu.seedRecoveryCodes('u1')
  t.equal(seeded.codes.length, 10)
  t.equal(new Set(seeded.codes).size, 10)
  t.match(seeded.codes, Array(10).fill(/^[0-9a-f]{10}$/))
  t.match(await sdk.getAuthenticators({ userId: 'u1' }), [{ userAuthenticatorId: seeded.authenticator.userAuthenticatorId, verificationMethod: 'RECOVERY_CODE' }])
  t.same(emu.seedRecoveryCodes('u2', ['one', 'two']).codes, ['one', 'two'])
  const token = emu.completeChallenge('u1', 'signIn', undefined, seeded.authenticator.userAuthenticatorId)
  t.match(await sdk.validateChallenge({ token }), { isValid: true, verificationMethod: 'RECOVERY_CODE' })
})

t.test('the change feed: created, updated and deleted, on the events emitter and the option alike, as copies', async (t) => {
  const { emu, sdk, changes } = await start(t)
  const emitted: AuthenticatorChange[] = []
  emu.events.on('authenticatorChange', (c) => emitted.push(c))
  const seeded = emu.seedAuthenticator('u1', { verificationMethod: 'EMAIL_OTP', email: 'a@example.com' })
  const { authenticator: sms } = await sdk.enrollVerifiedAuthenticator({ userId: 'u1', attributes: { verificationMethod: 'SMS' as never, phoneNumber: '+15550001' } })
  await emailChallenge(emu, sdk, 'u1', 'signIn')
  const { token } = await sdk.track({ userId: 'u1', action: 'addAuthenticator', attributes: { scope: 'add:authenticators' } })
  await client(emu, 'user-authenticators/email-otp', token, { email: 'b@example.com' })
  const enrolled = await client(emu, 'verify/email-otp', token, { verificationCode: emu.sentOtps.at(-1)?.code })
  await sdk.deleteAuthenticator({ userId: 'u1', userAuthenticatorId: sms.userAuthenticatorId })

  const added = (enrolled.json.userAuthenticator as { userAuthenticatorId: string }).userAuthenticatorId
  t.same(changes.map((c) => [c.type, c.authenticator.userAuthenticatorId]), [
    ['authenticator.created', seeded.userAuthenticatorId],
    ['authenticator.created', sms.userAuthenticatorId],
    ['authenticator.updated', seeded.userAuthenticatorId],
    ['authenticator.created', added],
    ['authenticator.deleted', sms.userAuthenticatorId]
  ])
  t.same(emitted, changes)
  t.match(changes[3], { time: String, authenticator: { userId: 'u1', verificationMethod: 'EMAIL_OTP', email: 'b@example.com', verifiedAt: String } })
  ;(changes[0] as AuthenticatorChange).authenticator.email = 'changed'
  t.equal(emu.authenticators('u1')[0]?.email, 'a@example.com', 'listeners get copies')
})

t.test('client API: GET user-authenticators lists the token\'s user\'s authenticators, without the user id', async (t) => {
  const { emu, sdk } = await start(t)
  const seeded = emu.seedAuthenticator('u1', { verificationMethod: 'EMAIL_OTP', email: 'a@example.com' })
  emu.seedAuthenticator('u2', { verificationMethod: 'SMS' })
  const { token } = await sdk.track({ userId: 'u1', action: 'manageAuthenticators' })
  const res = await fetch(`${emu.apiUrl}/client/user-authenticators`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(res.status, 200)
  const { userId, ...expected } = seeded
  t.equal(userId, 'u1')
  t.same(await res.json(), [expected])
  t.equal((await fetch(`${emu.apiUrl}/client/user-authenticators`)).status, 401)
  t.equal((await fetch(`${emu.apiUrl}/client/user-authenticators`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status, 404)
})
