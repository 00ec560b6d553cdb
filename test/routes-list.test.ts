// GET /authenticators through the real SDK against the emulator: the user's own authenticators,
// whitelisted fields only, contact details masked unless the host shows them.
import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
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
    authenticators: [{
      userAuthenticatorId: 'pk-1',
      verificationMethod: 'PASSKEY',
      createdAt: '2026-01-02T03:04:05.000Z',
      lastVerifiedAt: '2026-02-02T03:04:05.000Z',
      passkey: { credentialId: 'cred-1' }
    }]
  })
  t.notOk(['alice@example.com', 'credentialPublicKey', 'tenant-1', 'WHATSAPP'].some(text => res.body.includes(text)), 'no username, no key, no tenant')
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

// A passkey as Authsignal lists one (its docs' example and @authsignal/node's types), all of it upstream.
function upstreamPasskey (id: string, credential: Record<string, unknown>): Record<string, unknown> {
  return {
    userAuthenticatorId: id,
    verificationMethod: 'PASSKEY',
    createdAt: '2026-01-02T03:04:05.000Z',
    verifiedAt: '2026-01-02T03:04:05.000Z',
    lastVerifiedAt: '2026-03-02T03:04:05.000Z',
    userId: ALICE,
    username: 'alice@example.com',
    displayName: 'Alice',
    webauthnCredential: {
      credentialId: `cred-${id}`,
      deviceId: 'd5a3b0e2-0000-4000-8000-000000000000',
      name: 'Chrome on Mac OS',
      aaguid: 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd',
      aaguidMapping: { name: 'iCloud Keychain', svgIconLight: 'data:image/svg+xml;base64,PHN2Zz4=', svgIconDark: 'data:image/svg+xml;base64,PHN2Zz4=' },
      credentialBackedUp: true,
      credentialDeviceType: 'multiDevice',
      authenticatorAttachment: 'platform',
      parsedUserAgent: { ua: 'Mozilla/5.0 (Macintosh)', browser: { name: 'Chrome' }, device: {}, engine: {}, os: { name: 'Mac OS' }, cpu: {} },
      ...credential
    }
  }
}

/** Alice's list when Authsignal answers `upstream` (through the real SDK and HTTP). */
async function listedFrom (t: Test, upstream: unknown[]): Promise<LightMyRequestResponse> {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })
  emu.setFault({ kind: 'status', status: 200, body: upstream }, { times: 1 })
  return await app.inject({ url: '/authenticators', headers: bearer(issuer.mint({ sub: ALICE })) })
}

t.test('a passkey lists its provider\'s name, whether it is synced, and its credential id: nothing else of its credential', async t => {
  const res = await listedFrom(t, [
    upstreamPasskey('synced', {}),
    upstreamPasskey('unmapped', { aaguidMapping: undefined, credentialBackedUp: false }),
    upstreamPasskey('nameless', { aaguidMapping: { name: '' }, name: '' })
  ])

  t.equal(res.statusCode, 200)
  const common = { verificationMethod: 'PASSKEY', createdAt: '2026-01-02T03:04:05.000Z', verifiedAt: '2026-01-02T03:04:05.000Z', lastVerifiedAt: '2026-03-02T03:04:05.000Z', displayName: 'Alice' }
  t.same(res.json(), {
    authenticators: [
      { userAuthenticatorId: 'synced', ...common, passkey: { credentialId: 'cred-synced', name: 'iCloud Keychain', backedUp: true } },
      { userAuthenticatorId: 'unmapped', ...common, passkey: { credentialId: 'cred-unmapped', name: 'Chrome on Mac OS', backedUp: false } },
      { userAuthenticatorId: 'nameless', ...common, passkey: { credentialId: 'cred-nameless', backedUp: true } }
    ]
  }, 'the provider from the AAGUID, else the credential\'s name, else none')
  t.notOk(['aaguid', 'svgIcon', 'deviceId', 'multiDevice', 'Macintosh', 'platform', 'alice@example.com'].some(text => res.body.includes(text)), 'no AAGUID, icon, device, user agent or username')
})

t.test('a passkey\'s optional fields sent as null are left out; a null webauthnCredential gives no passkey', async t => {
  const res = await listedFrom(t, [
    upstreamPasskey('nulls', { name: null, credentialBackedUp: null, aaguidMapping: null }),
    upstreamPasskey('null-provider', { aaguidMapping: { name: null } }),
    { ...upstreamPasskey('none', {}), webauthnCredential: null }
  ])

  t.same(res.json().authenticators.map((a: { passkey?: unknown }) => a.passkey), [
    { credentialId: 'cred-nulls' },
    { credentialId: 'cred-null-provider', name: 'Chrome on Mac OS', backedUp: true },
    undefined
  ])
})

t.test('a passkey credential of an unexpected shape is 502 FST_AUTHSIGNAL_BAD_RESPONSE, as any listed field', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })
  const headers = bearer(issuer.mint({ sub: ALICE }))
  const shapes: Record<string, Record<string, unknown>> = {
    'no credentialId': { credentialId: undefined },
    'an empty credentialId': { credentialId: '' },
    'a numeric credentialId': { credentialId: 7 },
    'a numeric name': { name: 5 },
    'credentialBackedUp as a string': { credentialBackedUp: 'true' },
    'aaguidMapping as a string': { aaguidMapping: 'iCloud Keychain' },
    'a numeric provider name': { aaguidMapping: { name: 3 } }
  }
  for (const [name, credential] of Object.entries(shapes)) {
    emu.setFault({ kind: 'status', status: 200, body: [upstreamPasskey('pk', credential)] }, { times: 1 })
    const res = await app.inject({ url: '/authenticators', headers })
    t.equal(res.statusCode, 502, `${name}: status`)
    t.equal(res.json().code, 'FST_AUTHSIGNAL_BAD_RESPONSE', `${name}: code`)
  }
  emu.setFault({ kind: 'status', status: 200, body: [{ ...upstreamPasskey('pk', {}), webauthnCredential: 'cred-1' }] }, { times: 1 })
  t.equal((await app.inject({ url: '/authenticators', headers })).statusCode, 502, 'webauthnCredential as a string')
})

t.test('a display name that is an email address is masked like one, unless contact details are shown', async t => {
  const emu = await emulatorFor(t)
  const masked = await buildApp(t, issuer, { authsignal: emulatorOptions(emu) })
  const shown = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { list: { showContactDetails: true } } })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'PASSKEY', displayName: 'alice.smith@example.com' })
  const headers = bearer(issuer.mint({ sub: ALICE }))

  t.equal((await masked.inject({ url: '/authenticators', headers })).json().authenticators[0].displayName, `a${DOT.repeat(3)}@example.com`)
  t.equal((await shown.inject({ url: '/authenticators', headers })).json().authenticators[0].displayName, 'alice.smith@example.com')
})

t.test('with routes.list.passkeyRpId the list carries passkeySignal: every WebAuthn credential id of the user, under their user handle', async t => {
  const emu = await emulatorFor(t)
  const app = await buildApp(t, issuer, { authsignal: emulatorOptions(emu), routes: { list: { passkeyRpId: 'example.com' } } })
  const headers = bearer(issuer.mint({ sub: ALICE }))
  emu.setFault({
    kind: 'status',
    status: 200,
    body: [
      upstreamPasskey('pk-1', {}),
      { userAuthenticatorId: 'em-1', verificationMethod: 'EMAIL_OTP', createdAt: '2026-01-01T00:00:00Z', email: 'alice@example.com' },
      { ...upstreamPasskey('key-1', {}), verificationMethod: 'SECURITY_KEY' }
    ]
  }, { times: 1 })

  const res = await app.inject({ url: '/authenticators', headers })

  t.equal(res.statusCode, 200)
  t.same(res.json().passkeySignal, { rpId: 'example.com', userId: Buffer.from(ALICE).toString('base64url'), allAcceptedCredentialIds: ['cred-pk-1', 'cred-key-1'] },
    'security keys too: the browser may drop any credential of this user that is not listed')
  t.equal(res.json().passkeySignal.userId, emu.webauthn.userHandle(ALICE), 'the handle the emulator registers passkeys under')

  // After the last passkey is removed the list is empty: the signal tells the browser to drop the user's passkeys.
  const none = await app.inject({ url: '/authenticators', headers })
  t.same(none.json(), { authenticators: [], passkeySignal: { rpId: 'example.com', userId: emu.webauthn.userHandle(ALICE), allAcceptedCredentialIds: [] } })
})

t.test('without routes.list.passkeyRpId there is no passkeySignal', async t => {
  const res = await listedFrom(t, [upstreamPasskey('pk-1', {})])

  t.same(Object.keys(res.json()), ['authenticators'])
})
