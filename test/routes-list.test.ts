// GET /authenticators through the real SDK against the emulator: the user's own authenticators,
// whitelisted fields only, contact details masked unless the host shows them.
import t from 'tap'
import { ALICE, bearer, BOB, buildApp, emulatorFor, emulatorOptions, issuerFor, upstreamCalls } from './helpers.js'

// One key pair for the whole file: tests share the issuer, never its state.
const issuer = await issuerFor(t)

const DOT = '\u2022'

t.test('GET /authenticators lists the user\'s own authenticators with the whitelisted fields', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })
  const passkey = emu.seedAuthenticator(ALICE, { verificationMethod: 'PASSKEY', displayName: 'MacBook', createdAt: '2026-01-02T03:04:05.000Z' })
  emu.seedAuthenticator(BOB, { verificationMethod: 'SMS', phoneNumber: '+6421555999' })

  const res = await app.inject({ url: '/authenticators', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    authenticators: [{
      userAuthenticatorId: passkey.userAuthenticatorId,
      verificationMethod: 'PASSKEY',
      createdAt: '2026-01-02T03:04:05.000Z',
      verifiedAt: '2026-01-02T03:04:05.000Z',
      displayName: 'MacBook'
    }]
  }, 'Alice\'s passkey only, without the upstream userId field')
  t.same(upstreamCalls(emu), [`GET /v1/users/${ALICE}/authenticators`])
})

t.test('a user without authenticators gets an empty list', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })

  const res = await app.inject({ url: '/authenticators', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.statusCode, 200)
  t.same(res.json(), { authenticators: [] })
})

t.test('upstream fields outside the whitelist (webauthnCredential, username, userId, ...) never appear', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })
  // Authsignal's real answer carries more than the emulator seeds: send one through the real HTTP path.
  const upstreamItem = {
    userAuthenticatorId: 'pk-1',
    verificationMethod: 'PASSKEY',
    createdAt: '2026-01-02T03:04:05.000Z',
    lastVerifiedAt: '2026-02-02T03:04:05.000Z',
    userId: ALICE,
    username: 'alice@example.com',
    tenantId: 'tenant-1',
    webauthnCredential: { credentialId: 'cred-1', aaguid: 'x', credentialPublicKey: 'pk' },
    previousSmsChannel: 'WHATSAPP'
  }
  emu.setFault({ kind: 'status', status: 200, body: [upstreamItem] }, { times: 1 })

  const res = await app.inject({ url: '/authenticators', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    authenticators: [{ userAuthenticatorId: 'pk-1', verificationMethod: 'PASSKEY', createdAt: '2026-01-02T03:04:05.000Z', lastVerifiedAt: '2026-02-02T03:04:05.000Z' }]
  })
  t.notOk(res.body.includes('cred-1') || res.body.includes('alice@example.com'), 'no credential, no username')
})

t.test('optional fields Authsignal sends as null are left out', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })
  emu.setFault({ kind: 'status', status: 200, body: [{ userAuthenticatorId: 'a-1', verificationMethod: 'AUTHENTICATOR_APP', createdAt: '2026-01-01T00:00:00Z', verifiedAt: null, email: null, displayName: null }] }, { times: 1 })

  const res = await app.inject({ url: '/authenticators', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.same(res.json(), { authenticators: [{ userAuthenticatorId: 'a-1', verificationMethod: 'AUTHENTICATOR_APP', createdAt: '2026-01-01T00:00:00Z' }] })
})

t.test('email addresses and phone numbers are masked by default', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'alice.smith@example.com' })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'SMS', phoneNumber: '+64 21 555 1234' })

  const res = await app.inject({ url: '/authenticators', headers: bearer(issuer.mint({ sub: ALICE })) })

  const [email, sms] = res.json().authenticators
  t.equal(email.email, `a${DOT.repeat(3)}@example.com`)
  t.equal(sms.phoneNumber, `${DOT.repeat(4)} 1234`)
  t.notOk(res.body.includes('alice.smith') || res.body.includes('555'), 'the full details are not in the answer')
})

t.test('contact details too short to mask partly are masked entirely', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'not-an-address' })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: '@example.com' })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'SMS', phoneNumber: '+1 234' })

  const res = await app.inject({ url: '/authenticators', headers: bearer(issuer.mint({ sub: ALICE })) })

  const shown = res.json().authenticators.map((a: { email?: string, phoneNumber?: string }) => a.email ?? a.phoneNumber)
  t.same(shown, [DOT.repeat(3), DOT.repeat(3), DOT.repeat(4)])
})

t.test('routes.list.showContactDetails shows email addresses and phone numbers in full', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { list: { showContactDetails: true } } })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'alice.smith@example.com' })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'SMS', phoneNumber: '+64 21 555 1234' })

  const res = await app.inject({ url: '/authenticators', headers: bearer(issuer.mint({ sub: ALICE })) })

  const [email, sms] = res.json().authenticators
  t.equal(email.email, 'alice.smith@example.com')
  t.equal(sms.phoneNumber, '+64 21 555 1234')
})
