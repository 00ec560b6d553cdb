// DELETE /authenticators/:userAuthenticatorId, the rules about factors, over real HTTP (the app listening,
// the real SDK against the emulator): recovery codes are no factor to leave the user with, and a step-up
// challenge must have been completed with another factor than the one removed. Each refusal leaves every
// authenticator in place and sends no DELETE upstream.
import type { FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import type { AuthsignalEmulator } from '../lib/testing/authsignal-emulator.js'
import { ALICE, bearer, buildApp, emulatorFor, emulatorOptions, issuerFor, upstreamCalls, type AppOptions } from './helpers.js'

const issuer = await issuerFor(t)

const ACTION = 'removeAuthenticator'
const sms = { verificationMethod: 'SMS', phoneNumber: '+6421555123' }
const email = { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' }
const app2 = { verificationMethod: 'AUTHENTICATOR_APP' }

interface Answer { status: number, body: { code?: string, message?: string } }

interface Setup {
  emu: AuthsignalEmulator
  app: FastifyInstance
  /** DELETE over HTTP as Alice, with a challenge token when given. */
  remove: (id: string, challenge?: string) => Promise<Answer>
}

async function setup (t: Test, options: AppOptions = {}): Promise<Setup> {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), ...options })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  return {
    emu,
    app,
    remove: async (id, challenge) => {
      // Signed in now, after the test enrolled her factors: none of them is newer than the sign-in.
      const res = await fetch(`${base}/authenticators/${id}`, {
        method: 'DELETE',
        headers: { ...bearer(issuer.mint({ sub: ALICE })), ...(challenge !== undefined && { 'x-authsignal-token': challenge }) }
      })
      const text = await res.text()
      return { status: res.status, body: text === '' ? {} : JSON.parse(text) }
    }
  }
}

const ids = (emu: AuthsignalEmulator): string[] => emu.authenticators(ALICE).map(a => a.userAuthenticatorId)
const deletes = (emu: AuthsignalEmulator): number => emu.requests.filter(r => r.method === 'DELETE').length
const stepUp = { routes: { remove: { requireChallenge: true } } }
// The protectLast tests remove with the Cognito token alone, as requireChallenge: false allows.
const tokenOnly = { routes: { remove: { requireChallenge: false } } }

/** The idempotency key of an emulator token (its payload says it), to shape a queryUserActions answer. */
function idempotencyKeyOf (token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')).idempotencyKey
}

t.test('protectLast: removing the last real factor while only recovery codes remain is 409, and both stay', async t => {
  const { emu, remove } = await setup(t, tokenOnly)
  const phone = emu.seedAuthenticator(ALICE, sms)
  emu.seedRecoveryCodes(ALICE)

  const res = await remove(phone.userAuthenticatorId)

  t.equal(res.status, 409)
  t.equal(res.body.code, 'FST_AUTHSIGNAL_LAST_AUTHENTICATOR')
  t.match(res.body.message, /recovery codes do not count/)
  t.equal(emu.authenticators(ALICE).length, 2)
  t.equal(deletes(emu), 0, 'no DELETE upstream')
})

t.test('protectLast: recovery codes may go while a real factor remains', async t => {
  const { emu, remove } = await setup(t, tokenOnly)
  const phone = emu.seedAuthenticator(ALICE, sms)
  const { authenticator: codes } = emu.seedRecoveryCodes(ALICE)

  const res = await remove(codes.userAuthenticatorId)

  t.equal(res.status, 204)
  t.same(ids(emu), [phone.userAuthenticatorId])
})

t.test('protectLast: recovery codes that are all the user has stay (409)', async t => {
  const { emu, remove } = await setup(t, tokenOnly)
  const { authenticator: codes } = emu.seedRecoveryCodes(ALICE)

  const res = await remove(codes.userAuthenticatorId)

  t.equal(res.status, 409)
  t.same(ids(emu), [codes.userAuthenticatorId])
  t.equal(deletes(emu), 0)
})

t.test('protectLast: a real factor may go while another real factor remains, recovery codes or not', async t => {
  const { emu, remove } = await setup(t, tokenOnly)
  const phone = emu.seedAuthenticator(ALICE, sms)
  const mail = emu.seedAuthenticator(ALICE, email)
  const { authenticator: codes } = emu.seedRecoveryCodes(ALICE)

  t.equal((await remove(phone.userAuthenticatorId)).status, 204)
  t.same(ids(emu), [mail.userAuthenticatorId, codes.userAuthenticatorId])
})

t.test('protectLast: an enrolment never verified is no remaining factor: the one verified factor stays (409)', async t => {
  const { emu, app, remove } = await setup(t, tokenOnly)
  const phone = emu.seedAuthenticator(ALICE, sms)
  const abandoned = emu.seedAuthenticator(ALICE, { ...email, verifiedAt: null })
  const listed = await app.inject({ method: 'GET', url: '/authenticators', headers: bearer(issuer.mint({ sub: ALICE })) })
  t.notOk('verifiedAt' in listed.json().authenticators[1], 'Authsignal lists it without verifiedAt')

  const res = await remove(phone.userAuthenticatorId)

  t.equal(res.status, 409)
  t.equal(res.body.code, 'FST_AUTHSIGNAL_LAST_AUTHENTICATOR')
  t.match(res.body.message, /nor an enrolment never verified/)
  t.same(ids(emu), [phone.userAuthenticatorId, abandoned.userAuthenticatorId])
  t.equal(deletes(emu), 0, 'no DELETE upstream')
})

t.test('protectLast: an enrolment never verified may go while a verified factor remains', async t => {
  const { emu, remove } = await setup(t, tokenOnly)
  const phone = emu.seedAuthenticator(ALICE, sms)
  const abandoned = emu.seedAuthenticator(ALICE, { ...email, verifiedAt: null })

  t.equal((await remove(abandoned.userAuthenticatorId)).status, 204)
  t.same(ids(emu), [phone.userAuthenticatorId])
})

t.test('protectLast off: the last real factor may go, leaving recovery codes only', async t => {
  const { emu, remove } = await setup(t, { routes: { remove: { protectLast: false, requireChallenge: false } } })
  const phone = emu.seedAuthenticator(ALICE, sms)
  const { authenticator: codes } = emu.seedRecoveryCodes(ALICE)

  t.equal((await remove(phone.userAuthenticatorId)).status, 204)
  t.same(ids(emu), [codes.userAuthenticatorId])
})

t.test('requireChallenge: a challenge completed with the very authenticator being removed is 403, and it stays', async t => {
  const { emu, remove } = await setup(t, stepUp)
  const phone = emu.seedAuthenticator(ALICE, sms)
  emu.seedAuthenticator(ALICE, email)
  const challenge = emu.completeChallenge(ALICE, ACTION, undefined, phone.userAuthenticatorId)
  emu.clearRequests()

  const res = await remove(phone.userAuthenticatorId, challenge)

  t.equal(res.status, 403)
  t.equal(res.body.code, 'FST_AUTHSIGNAL_CHALLENGE_REQUIRED')
  t.match(res.body.message, /completed with the authenticator being removed: complete it with another factor/)
  t.equal(emu.authenticators(ALICE).length, 2)
  t.same(upstreamCalls(emu), ['POST /v1/validate', `GET /v1/users/${ALICE}/actions`, `GET /v1/users/${ALICE}/authenticators`], 'no DELETE upstream')
  t.equal(emu.requests[1]?.url, `/v1/users/${ALICE}/actions?codes=${ACTION}&state=CHALLENGE_SUCCEEDED`, 'the user\'s succeeded actions of the challenge action only')
})

t.test('requireChallenge: completed with another factor, the removal goes through; two upstream calls after the challenge\'s', async t => {
  const { emu, remove } = await setup(t, stepUp)
  const phone = emu.seedAuthenticator(ALICE, sms)
  const mail = emu.seedAuthenticator(ALICE, email)
  const challenge = emu.completeChallenge(ALICE, ACTION, undefined, mail.userAuthenticatorId)
  emu.clearRequests()

  const res = await remove(phone.userAuthenticatorId, challenge)

  t.equal(res.status, 204)
  t.same(ids(emu), [mail.userAuthenticatorId])
  t.same(upstreamCalls(emu), [
    'POST /v1/validate',
    `GET /v1/users/${ALICE}/actions`,
    `GET /v1/users/${ALICE}/authenticators`,
    `DELETE /v1/users/${ALICE}/authenticators/${phone.userAuthenticatorId}`
  ], 'the challenge is judged before the lock; under it, the list and the delete only')
})

t.test('requireChallenge: another authenticator of the same method is another factor when Authsignal names it', async t => {
  const { emu, remove } = await setup(t, stepUp)
  const work = emu.seedAuthenticator(ALICE, app2)
  const phone = emu.seedAuthenticator(ALICE, app2)

  const res = await remove(work.userAuthenticatorId, emu.completeChallenge(ALICE, ACTION, undefined, phone.userAuthenticatorId))

  t.equal(res.status, 204)
  t.same(ids(emu), [phone.userAuthenticatorId])
})

t.test('requireChallenge: a challenge completed with an authenticator removed since is 403 (a stolen session\'s passkey, enrolled, used, removed)', async t => {
  const { emu, remove } = await setup(t, stepUp)
  const mail = emu.seedAuthenticator(ALICE, email)
  emu.seedAuthenticator(ALICE, { verificationMethod: 'PASSKEY' })
  const totp = emu.seedAuthenticator(ALICE, app2)
  const gone = emu.seedAuthenticator(ALICE, { verificationMethod: 'PASSKEY' })
  const kept = emu.completeChallenge(ALICE, ACTION, undefined, gone.userAuthenticatorId)
  t.equal((await remove(gone.userAuthenticatorId, emu.completeChallenge(ALICE, ACTION, undefined, totp.userAuthenticatorId))).status, 204)
  const before = ids(emu)

  const res = await remove(mail.userAuthenticatorId, kept)

  t.equal(res.status, 403)
  t.match(res.body.message, /completed with an authenticator that has since been removed/)
  t.same(ids(emu), before, 'the email stays')
})

t.test('requireChallenge: without verifiedByAuthenticatorId the method decides: its authenticators are refused, others allowed', async t => {
  const { emu, remove } = await setup(t, stepUp)
  const phone = emu.seedAuthenticator(ALICE, sms)
  const mail = emu.seedAuthenticator(ALICE, email)
  const other = emu.seedAuthenticator(ALICE, app2)
  // Completed with SMS, and Authsignal does not say by which authenticator.
  const bySms = emu.completeChallenge(ALICE, ACTION, 'SMS')

  const refused = await remove(phone.userAuthenticatorId, bySms)
  t.equal(refused.status, 403)
  t.match(refused.body.message, /completed with SMS, the method of the authenticator being removed: complete it with another factor/)
  t.equal(deletes(emu), 0)

  t.equal((await remove(mail.userAuthenticatorId, bySms)).status, 204, 'an authenticator of another method may go')
  t.same(ids(emu), [phone.userAuthenticatorId, other.userAuthenticatorId])
})

t.test('requireChallenge: an action queryUserActions does not list falls back to validateChallenge\'s method', async t => {
  const { emu, remove } = await setup(t, stepUp)
  const phone = emu.seedAuthenticator(ALICE, sms)
  const mail = emu.seedAuthenticator(ALICE, email)
  const challenge = emu.completeChallenge(ALICE, ACTION, undefined, phone.userAuthenticatorId)

  emu.setFault({ kind: 'status', status: 200, body: [] }, { path: /\/actions$/, times: 1 })
  const refused = await remove(phone.userAuthenticatorId, challenge)
  t.equal(refused.status, 403)
  t.match(refused.body.message, /completed with SMS/)
  t.equal(deletes(emu), 0)

  emu.setFault({ kind: 'status', status: 200, body: [] }, { path: /\/actions$/, times: 1 })
  t.equal((await remove(mail.userAuthenticatorId, challenge)).status, 204)
})

t.test('requireChallenge: a listed action with a null verifiedByAuthenticatorId is judged by its method', async t => {
  const { emu, remove } = await setup(t, stepUp)
  const phone = emu.seedAuthenticator(ALICE, sms)
  emu.seedAuthenticator(ALICE, email)
  const challenge = emu.completeChallenge(ALICE, ACTION, undefined, phone.userAuthenticatorId)
  const idempotencyKey = idempotencyKeyOf(challenge)
  const listed = [
    { actionCode: ACTION, idempotencyKey: 'another', verificationMethod: 'EMAIL_OTP', verifiedByAuthenticatorId: 'x' },
    { actionCode: ACTION, idempotencyKey, state: 'CHALLENGE_SUCCEEDED', verificationMethod: 'SMS', verifiedByAuthenticatorId: null }
  ]

  emu.setFault({ kind: 'status', status: 200, body: listed }, { path: /\/actions$/, times: 1 })
  const res = await remove(phone.userAuthenticatorId, challenge)

  t.equal(res.status, 403)
  t.match(res.body.message, /completed with SMS, the method/)
  t.equal(deletes(emu), 0)
})

t.test('requireChallenge: a challenge Authsignal names no factor for is refused', async t => {
  const { emu, remove } = await setup(t, stepUp)
  const phone = emu.seedAuthenticator(ALICE, sms)
  emu.seedAuthenticator(ALICE, email)
  const challenge = emu.completeChallenge(ALICE, ACTION)
  // No method in the answer, and a key the user's actions do not list: nothing says what completed it.
  const unnamed = { isValid: true, state: 'CHALLENGE_SUCCEEDED', userId: ALICE, actionCode: ACTION, idempotencyKey: 'not-listed', stateUpdatedAt: new Date().toISOString() }
  emu.setFault({ kind: 'status', status: 200, body: unnamed }, { path: /^\/v1\/validate$/, times: 1 })

  const res = await remove(phone.userAuthenticatorId, challenge)

  t.equal(res.status, 403)
  t.match(res.body.message, /Authsignal did not say which factor completed it/)
  t.equal(deletes(emu), 0)
})

t.test('requireChallenge: a challenge Authsignal does not name, or does not say when it was completed, is refused before the user\'s actions are read', async t => {
  const { emu, remove } = await setup(t, stepUp)
  const phone = emu.seedAuthenticator(ALICE, sms)
  emu.seedAuthenticator(ALICE, email)
  const valid = { isValid: true, state: 'CHALLENGE_SUCCEEDED', userId: ALICE, actionCode: ACTION, verificationMethod: 'EMAIL_OTP' }
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...valid, stateUpdatedAt: new Date().toISOString() }, /Authsignal did not name the challenge/],
    [{ ...valid, idempotencyKey: 'k1' }, /Authsignal did not say when the challenge was completed/],
    [{ ...valid, idempotencyKey: 'k2', stateUpdatedAt: 'yesterday' }, /Authsignal did not say when the challenge was completed/]
  ]
  for (const [body, message] of cases) {
    emu.setFault({ kind: 'status', status: 200, body }, { path: /^\/v1\/validate$/, times: 1 })
    const res = await remove(phone.userAuthenticatorId, emu.completeChallenge(ALICE, ACTION))
    t.equal(res.status, 403)
    t.match(res.body.message, message)
  }
  t.notOk(emu.requests.some(r => r.path.endsWith('/actions')), 'no queryUserActions call')
  t.equal(deletes(emu), 0)
})

t.test('requireChallenge: a queryUserActions answer of an unexpected shape is 502 FST_AUTHSIGNAL_BAD_RESPONSE, nothing removed', async t => {
  const { emu, remove } = await setup(t, stepUp)
  const phone = emu.seedAuthenticator(ALICE, sms)
  const mail = emu.seedAuthenticator(ALICE, email)
  const challenge = emu.completeChallenge(ALICE, ACTION, undefined, mail.userAuthenticatorId)

  for (const body of [{ actions: [] }, [{ idempotencyKey: 5 }], [{ idempotencyKey: 'k', verifiedByAuthenticatorId: 7 }], [{ idempotencyKey: 'k', verificationMethod: false }]]) {
    emu.setFault({ kind: 'status', status: 200, body }, { path: /\/actions$/, times: 1 })
    const res = await remove(phone.userAuthenticatorId, challenge)
    t.equal(res.status, 502, JSON.stringify(body))
    t.equal(res.body.code, 'FST_AUTHSIGNAL_BAD_RESPONSE')
  }
  t.equal(emu.authenticators(ALICE).length, 2)
  t.equal(deletes(emu), 0)
})

t.test('requireChallenge: the user id is encoded in the queryUserActions path like in every other call', async t => {
  const { emu, remove } = await setup(t, { ...stepUp, cognito: { userIdPrefix: 'tenant/a:' } })
  const userId = `tenant/a:${ALICE}`
  const phone = emu.seedAuthenticator(userId, sms)
  const mail = emu.seedAuthenticator(userId, email)
  emu.clearRequests()

  t.equal((await remove(phone.userAuthenticatorId, emu.completeChallenge(userId, ACTION, undefined, mail.userAuthenticatorId))).status, 204)
  const encoded = encodeURIComponent(userId)
  t.same(upstreamCalls(emu).slice(1), [
    `GET /v1/users/${encoded}/actions`,
    `GET /v1/users/${encoded}/authenticators`,
    `DELETE /v1/users/${encoded}/authenticators/${phone.userAuthenticatorId}`
  ])
})

t.test('requireChallenge and recovery codes: the codes may go on a challenge of a real factor, the same rules apply', async t => {
  const { emu, remove } = await setup(t, stepUp)
  const phone = emu.seedAuthenticator(ALICE, sms)
  const { authenticator: codes } = emu.seedRecoveryCodes(ALICE)

  const last = await remove(phone.userAuthenticatorId, emu.completeChallenge(ALICE, ACTION, undefined, phone.userAuthenticatorId))
  t.equal(last.status, 409, 'the last real factor stays, whatever the challenge')
  t.equal((await remove(codes.userAuthenticatorId, emu.completeChallenge(ALICE, ACTION, undefined, phone.userAuthenticatorId))).status, 204)
  t.same(ids(emu), [phone.userAuthenticatorId])
})

t.test('requireChallenge: Authsignal refusing the client\'s token (400, 404, 422 on validate) is a 400; refusing our credentials (401, 403) or failing stays a 502', async t => {
  const { emu, remove } = await setup(t, stepUp)
  const phone = emu.seedAuthenticator(ALICE, sms)
  emu.seedAuthenticator(ALICE, email)
  const rejected = { status: 400, code: 'FST_AUTHSIGNAL_CHALLENGE_TOKEN_REJECTED' }
  const ours = { status: 502, code: 'FST_AUTHSIGNAL_UPSTREAM_ERROR' }

  for (const [upstream, expected] of [[400, rejected], [404, rejected], [422, rejected], [401, ours], [403, ours], [500, ours]] as const) {
    emu.setFault({ kind: 'status', status: upstream }, { path: /^\/v1\/validate$/, times: 1 })
    const res = await remove(phone.userAuthenticatorId, 'not-a-token')
    t.same({ status: res.status, code: res.body.code }, expected, `Authsignal's ${upstream}`)
  }
  t.equal(emu.authenticators(ALICE).length, 2)
  t.equal(deletes(emu), 0, 'no DELETE upstream')
})

t.test('a delete Authsignal answers 404 (removed elsewhere since the list) is the client\'s 404, not a 502', async t => {
  const { emu, remove } = await setup(t, tokenOnly)
  const phone = emu.seedAuthenticator(ALICE, sms)
  emu.seedAuthenticator(ALICE, email)
  emu.setFault({ kind: 'status', status: 404 }, { path: /\/authenticators\/[^/]+$/, times: 1 })

  const res = await remove(phone.userAuthenticatorId)

  t.equal(res.status, 404)
  t.equal(res.body.code, 'FST_AUTHSIGNAL_AUTHENTICATOR_NOT_FOUND')
})
