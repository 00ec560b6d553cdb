// The local Authsignal emulator, driven by the real @authsignal/node SDK over HTTP, plain fetch
// for the client API (the exact requests @authsignal/browser makes), and the browser SDK itself.
import t, { type Test } from 'tap'
import { createServer } from 'node:net'
import { request } from 'node:http'
import { Authsignal, AuthsignalError } from '@authsignal/node'
import {
  startAuthsignalEmulator,
  type AuthsignalEmulator,
  type AuthsignalEmulatorOptions
} from '../lib/testing/authsignal-emulator.js'
import { signToken, verifyToken } from '../lib/testing/emulator/token.js'
import { doneHref, renderPrebuiltPage } from '../lib/testing/emulator/page.js'

// The part of @authsignal/browser used here (its .d.ts files do not resolve under NodeNext).
interface BrowserResult { data?: Record<string, unknown>, error?: string, errorCode?: string }
type BrowserSdk = new (opts: { tenantId: string, baseUrl: string, cookieDomain: string }) => {
  setToken: (token: string) => void
  email: {
    enroll: (p: { email: string }) => Promise<BrowserResult>
    challenge: () => Promise<BrowserResult>
    verify: (p: { code: string }) => Promise<BrowserResult>
  }
}

interface Started { emu: AuthsignalEmulator, sdk: Authsignal }

async function start (t: Test, opts?: AuthsignalEmulatorOptions): Promise<Started> {
  const emu = await startAuthsignalEmulator(opts)
  t.teardown(() => emu.close())
  return { emu, sdk: new Authsignal({ apiSecretKey: emu.secret, apiUrl: emu.apiUrl, retries: 0 }) }
}

function basic (secret: string): string {
  return `Basic ${Buffer.from(`${secret}:`).toString('base64')}`
}

// A raw server API call, for what the SDK cannot send (odd paths, bodies, headers).
async function raw (emu: AuthsignalEmulator, method: string, path: string, init: { auth?: string, body?: string, headers?: Record<string, string> } = {}): Promise<Response> {
  return await fetch(`${emu.url}${path}`, {
    method,
    headers: { authorization: init.auth ?? basic(emu.secret), 'content-type': 'application/json', ...init.headers },
    body: init.body
  })
}

// fetch normalises '..' segments (WHATWG URL); node:http sends the path untouched.
async function unnormalised (emu: AuthsignalEmulator, method: string, path: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const { hostname, port } = new URL(emu.url)
    const req = request({ hostname, port, path, method, headers: { authorization: basic(emu.secret) } }, (res) => {
      res.resume()
      resolve(res.statusCode as number)
    })
    req.on('error', reject)
    req.end()
  })
}

// Exactly what @authsignal/browser sends: POST, JSON content type, Bearer token from track.
async function client (emu: AuthsignalEmulator, path: string, token: string | undefined, body?: unknown): Promise<{ status: number, json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' }
  if (token !== undefined) headers.Authorization = `Bearer ${token}`
  const res = await fetch(`${emu.apiUrl}/client/${path}`, {
    method: 'POST',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return { status: res.status, json: await res.json() as Record<string, unknown> }
}

async function rejection (p: Promise<unknown>): Promise<AuthsignalError> {
  try {
    await p
  } catch (err) {
    if (err instanceof AuthsignalError) return err
    throw err
  }
  throw new Error('expected the call to fail')
}

function lastCode (emu: AuthsignalEmulator): string {
  return (emu.sentOtps.at(-1) as { code: string }).code
}

async function enrolEmail (emu: AuthsignalEmulator, token: string, email: string): Promise<Record<string, unknown>> {
  await client(emu, 'user-authenticators/email-otp', token, { email })
  return (await client(emu, 'verify/email-otp', token, { verificationCode: lastCode(emu) })).json
}

t.test('binds to 127.0.0.1 and exposes apiUrl, secret and tenant defaults', async (t) => {
  const { emu } = await start(t)
  t.match(emu.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.equal(emu.apiUrl, `${emu.url}/v1`)
  t.equal(emu.secret, 'emulator-secret')
  t.equal(emu.tenantId, 'emulator-tenant')
})

t.test('takes secret, tenant and port options, and fails to start on a busy port', async (t) => {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  const { emu, sdk } = await start(t, { secret: 'shh', tenantId: 'tenant-1', port })
  t.equal(emu.url, `http://127.0.0.1:${port}`)
  t.equal(emu.tenantId, 'tenant-1')
  t.equal((await sdk.getUser({ userId: 'u1' })).isEnrolled, false)
  await t.rejects(startAuthsignalEmulator({ port }), { code: 'EADDRINUSE' })
})

t.test('server API: a wrong, malformed or missing secret is 401 with Authsignal\'s error body', async (t) => {
  const { emu } = await start(t)
  const wrong = await rejection(new Authsignal({ apiSecretKey: 'nope', apiUrl: emu.apiUrl, retries: 0 }).getUser({ userId: 'u1' }))
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.errorCode, 'unauthorized')
  t.match(wrong.errorDescription, /unauthorized/)
  const sameLength = await rejection(new Authsignal({ apiSecretKey: 'x'.repeat(emu.secret.length), apiUrl: emu.apiUrl, retries: 0 }).getUser({ userId: 'u1' }))
  t.equal(sameLength.statusCode, 401)
  const bearer = await raw(emu, 'GET', '/v1/users/u1', { auth: `Bearer ${emu.secret}` })
  t.equal(bearer.status, 401)
  t.same(await bearer.json(), { error: 'unauthorized', errorCode: 'unauthorized', errorDescription: 'The request is unauthorized. Check that your API key and region base URL are correctly configured.' })
  const none = await fetch(`${emu.apiUrl}/users/u1`)
  t.equal(none.status, 401)
  t.equal(emu.requests.every((r) => !r.authorized), true)
})

t.test('server API: unknown routes, methods and paths are 404 with the error body', async (t) => {
  const { emu } = await start(t)
  for (const [method, path] of [['GET', '/v1/nothing'], ['PUT', '/v1/users/u1'], ['GET', '/v1'], ['GET', '/v1/users//authenticators'], ['GET', '/v1/sers/u1/authenticators'], ['GET', '/elsewhere'], ['POST', '/prebuilt']] as const) {
    const res = await raw(emu, method, path)
    t.equal(res.status, 404, `${method} ${path}`)
    t.match(await res.json(), { error: 'not_found', errorCode: 'not_found', errorDescription: String })
  }
})

t.test('server API: a path parameter that is not valid percent-encoding is 400', async (t) => {
  const { emu } = await start(t)
  const res = await raw(emu, 'GET', '/v1/users/%E0%A4%A/authenticators')
  t.equal(res.status, 400)
  t.match(await res.json(), { error: 'invalid_request' })
})

t.test('a body that is not JSON is 400 and recorded as raw text', async (t) => {
  const { emu } = await start(t)
  const res = await raw(emu, 'POST', '/v1/users/u1/actions/signIn', { body: '{nope' })
  t.equal(res.status, 400)
  t.match(await res.json(), { error: 'invalid_request' })
  t.equal(emu.requests[0]?.body, '{nope')
})

t.test('path parameters are decoded per segment; ".." is a literal segment, never a step up', async (t) => {
  const { emu, sdk } = await start(t)
  emu.seedAuthenticator('a/b@x', { verificationMethod: 'SMS', phoneNumber: '+15550001' })
  const res = await raw(emu, 'GET', '/v1/users/a%2Fb%40x/authenticators')
  t.equal((await res.json() as unknown[]).length, 1)
  emu.seedAuthenticator('victim', { verificationMethod: 'SMS', userAuthenticatorId: 'v1' })
  t.equal(await unnormalised(emu, 'DELETE', '/v1/users/attacker/authenticators/../../victim/authenticators/v1'), 404)
  t.equal((await sdk.getAuthenticators({ userId: 'victim' })).length, 1)
  t.equal(emu.requests[1]?.path, '/v1/users/attacker/authenticators/../../victim/authenticators/v1')
})

t.test('requests records method, raw url, raw path, body and authorization, never the header', async (t) => {
  const { emu, sdk } = await start(t)
  await sdk.track({ userId: 'u1', action: 'signIn', attributes: { scope: 'add:authenticators' } })
  await raw(emu, 'GET', '/v1/users/u%201/authenticators?x=%2F..')
  t.same(emu.requests, [
    { method: 'POST', url: '/v1/users/u1/actions/signIn', path: '/v1/users/u1/actions/signIn', body: { scope: 'add:authenticators' }, authorized: true },
    { method: 'GET', url: '/v1/users/u%201/authenticators?x=%2F..', path: '/v1/users/u%201/authenticators', body: undefined, authorized: true }
  ])
  t.notMatch(JSON.stringify(emu.requests), emu.secret)
  emu.clearRequests()
  t.same(emu.requests, [])
})

t.test('seedAuthenticator fills ids and dates, lists it via the SDK, and returns copies', async (t) => {
  const { emu, sdk } = await start(t)
  const seeded = emu.seedAuthenticator('u1', { verificationMethod: 'PASSKEY', displayName: 'Laptop' })
  t.match(seeded, { userId: 'u1', userAuthenticatorId: /^[0-9a-f-]{36}$/, verificationMethod: 'PASSKEY', createdAt: String, displayName: 'Laptop' })
  t.equal(seeded.verifiedAt, seeded.createdAt)
  t.notOk('email' in seeded)
  const full = emu.seedAuthenticator('u1', {
    verificationMethod: 'EMAIL_OTP',
    email: 'a@example.com',
    phoneNumber: '+15550001',
    userAuthenticatorId: 'fixed-id',
    createdAt: '2024-01-01T00:00:00.000Z',
    verifiedAt: '2024-01-02T00:00:00.000Z'
  })
  t.same(full, {
    userId: 'u1',
    userAuthenticatorId: 'fixed-id',
    verificationMethod: 'EMAIL_OTP',
    createdAt: '2024-01-01T00:00:00.000Z',
    verifiedAt: '2024-01-02T00:00:00.000Z',
    email: 'a@example.com',
    phoneNumber: '+15550001'
  })
  t.same(await sdk.getAuthenticators({ userId: 'u1' }), [seeded, full])
  t.same(await sdk.getAuthenticators({ userId: 'nobody' }), [])
  const copy = emu.authenticators('u1')
  ;(copy[0] as { displayName?: string }).displayName = 'changed'
  t.equal(emu.authenticators('u1')[0]?.displayName, 'Laptop')
})

t.test('getUser reports enrolment, verified email and phone from the authenticators', async (t) => {
  const { emu, sdk } = await start(t)
  t.same(await sdk.getUser({ userId: 'u1' }), {
    userId: 'u1',
    isEnrolled: false,
    emailVerified: false,
    phoneNumberVerified: false,
    enrolledVerificationMethods: [],
    allowedVerificationMethods: ['EMAIL_OTP']
  })
  emu.seedAuthenticator('u1', { verificationMethod: 'SMS', phoneNumber: '+15550001' })
  emu.seedAuthenticator('u1', { verificationMethod: 'EMAIL_OTP', email: 'a@example.com' })
  t.same(await sdk.getUser({ userId: 'u1' }), {
    userId: 'u1',
    isEnrolled: true,
    email: 'a@example.com',
    emailVerified: true,
    phoneNumber: '+15550001',
    phoneNumberVerified: true,
    enrolledVerificationMethods: ['SMS', 'EMAIL_OTP'],
    allowedVerificationMethods: ['EMAIL_OTP', 'SMS']
  })
})

t.test('enrollVerifiedAuthenticator adds a verified authenticator; without a method it is 400', async (t) => {
  const { emu, sdk } = await start(t)
  const res = await sdk.enrollVerifiedAuthenticator({ userId: 'u1', attributes: { verificationMethod: 'SMS' as never, phoneNumber: '+15550001' } })
  t.match(res.authenticator, { userId: 'u1', verificationMethod: 'SMS', phoneNumber: '+15550001', verifiedAt: String })
  await sdk.enrollVerifiedAuthenticator({ userId: 'u1', attributes: { verificationMethod: 'EMAIL_OTP' as never, email: 'a@example.com' } })
  t.same(emu.authenticators('u1').map((a) => a.verificationMethod), ['SMS', 'EMAIL_OTP'])
  const missing = await raw(emu, 'POST', '/v1/users/u1/authenticators')
  t.equal(missing.status, 400)
  t.match(await missing.json(), { error: 'invalid_request' })
})

t.test('deleteAuthenticator removes only that authenticator; an unknown id is 404', async (t) => {
  const { emu, sdk } = await start(t)
  const a = emu.seedAuthenticator('u1', { verificationMethod: 'SMS' })
  const b = emu.seedAuthenticator('u1', { verificationMethod: 'PASSKEY' })
  const res = await raw(emu, 'DELETE', `/v1/users/u1/authenticators/${a.userAuthenticatorId}`)
  t.equal(res.status, 200)
  t.same(await res.json(), { success: true })
  t.same(emu.authenticators('u1'), [b])
  await sdk.deleteAuthenticator({ userId: 'u1', userAuthenticatorId: b.userAuthenticatorId })
  t.same(emu.authenticators('u1'), [])
  const gone = await rejection(sdk.deleteAuthenticator({ userId: 'u1', userAuthenticatorId: b.userAuthenticatorId }))
  t.equal(gone.statusCode, 404)
  t.equal(gone.errorCode, 'not_found')
})

t.test('track: ALLOW without rules, enrolled or not (as Authsignal), and a token validate accepts', async (t) => {
  const { emu, sdk } = await start(t)
  const first = await sdk.track({ userId: 'u1', action: 'addAuthenticator' })
  t.match(first, {
    idempotencyKey: /^[0-9a-f-]{36}$/,
    state: 'ALLOW',
    isEnrolled: false,
    enrolledVerificationMethods: [],
    allowedVerificationMethods: ['EMAIL_OTP']
  })
  t.equal(first.url, `${emu.url}/prebuilt?token=${first.token}`)
  emu.seedAuthenticator('u1', { verificationMethod: 'PASSKEY' })
  const second = await sdk.track({ userId: 'u1', action: 'signIn', attributes: { idempotencyKey: 'my-key' } })
  t.match(second, { idempotencyKey: 'my-key', state: 'ALLOW', isEnrolled: true, enrolledVerificationMethods: ['PASSKEY'] })
  const validated = await sdk.validateChallenge({ token: second.token })
  t.same(Object.keys(validated).sort(), ['action', 'idempotencyKey', 'isValid', 'state', 'stateUpdatedAt', 'userId'])
  t.match(validated, { action: 'signIn', isValid: false, state: 'ALLOW', stateUpdatedAt: String, userId: 'u1', idempotencyKey: 'my-key' })
  await sdk.track({ userId: 'u1', action: 'signIn', attributes: { idempotencyKey: 'my-key' } })
  const listed = await sdk.queryUserActions({ userId: 'u1', actionCodes: ['signIn'] })
  t.equal(listed.filter(a => a.idempotencyKey === 'my-key').length, 1, 'a key tracked again lists one action, the new one')
  t.same(await sdk.queryUserActions({ userId: 'u2', actionCodes: ['signIn'] }), [], 'another user\'s actions are not listed')
  const untyped = await raw(emu, 'POST', '/v1/users/u2/actions/signIn')
  t.match(await untyped.json(), { state: 'ALLOW' })
})

t.test('setRule decides track\'s outcome by action and user, the last rule set wins, and its remover or reset() ends it', async (t) => {
  const { emu, sdk } = await start(t)
  const state = async (userId: string, action: string): Promise<string> => (await sdk.track({ userId, action })).state

  const removeBlock = emu.setRule({ action: 'addAuthenticator', state: 'BLOCK' })
  emu.setRule({ userId: 'u2', state: 'REVIEW_REQUIRED' })
  emu.setRule({ userId: 'u3', action: 'signIn', state: 'CHALLENGE_REQUIRED' })

  t.same(await Promise.all([state('u1', 'addAuthenticator'), state('u1', 'signIn'), state('u2', 'addAuthenticator'), state('u2', 'signIn'), state('u3', 'signIn'), state('u3', 'other')]),
    ['BLOCK', 'ALLOW', 'REVIEW_REQUIRED', 'REVIEW_REQUIRED', 'CHALLENGE_REQUIRED', 'ALLOW'], 'each rule matches its action and/or user; u2\'s rule, set last, wins over the action\'s')
  const blocked = await sdk.track({ userId: 'u1', action: 'addAuthenticator' })
  t.match(await sdk.getAction({ userId: 'u1', action: 'addAuthenticator', idempotencyKey: blocked.idempotencyKey }), { state: 'BLOCK' }, 'the action keeps the outcome')
  removeBlock()
  removeBlock()
  t.equal(await state('u1', 'addAuthenticator'), 'ALLOW', 'removed (twice is harmless)')
  emu.reset()
  t.same([await state('u2', 'x'), await state('u3', 'signIn')], ['ALLOW', 'ALLOW'], 'reset() removes every rule')
})

t.test('the track token is an HS256 JWT carrying sub, action, idempotencyKey, scope and exp', async (t) => {
  const { emu, sdk } = await start(t, { tokenTtlSec: 120 })
  const { token, idempotencyKey } = await sdk.track({ userId: 'u1', action: 'addAuthenticator', attributes: { scope: 'add:authenticators' } })
  const [header, payload] = token.split('.') as [string, string]
  t.same(JSON.parse(Buffer.from(header, 'base64url').toString()), { alg: 'HS256', typ: 'JWT' })
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
  t.match(claims, { iss: emu.url, sub: 'u1', tenantId: emu.tenantId, action: 'addAuthenticator', idempotencyKey, scope: 'add:authenticators' })
  t.equal(claims.exp - claims.iat, 120)
  const noScope = await sdk.track({ userId: 'u1', action: 'signIn' })
  t.notOk('scope' in JSON.parse(Buffer.from(noScope.token.split('.')[1] as string, 'base64url').toString()))
})

t.test('getAction returns the state of the user\'s own action only', async (t) => {
  const { sdk } = await start(t)
  const { idempotencyKey } = await sdk.track({ userId: 'u1', action: 'signIn' })
  t.match(await sdk.getAction({ userId: 'u1', action: 'signIn', idempotencyKey }), { state: 'ALLOW', createdAt: String, stateUpdatedAt: String })
  for (const [userId, action, key] of [['u2', 'signIn', idempotencyKey], ['u1', 'other', idempotencyKey], ['u1', 'signIn', 'missing']] as const) {
    const err = await rejection(sdk.getAction({ userId, action, idempotencyKey: key }))
    t.equal(err.statusCode, 404, `${userId} ${action} ${key}`)
  }
})

t.test('validate: completeChallenge gives a valid token; userId and action must match when given', async (t) => {
  const { emu, sdk } = await start(t)
  const token = emu.completeChallenge('u1', 'removeAuthenticator')
  t.match(await sdk.validateChallenge({ token, userId: 'u1', action: 'removeAuthenticator' }), {
    isValid: true,
    state: 'CHALLENGE_SUCCEEDED',
    userId: 'u1',
    action: 'removeAuthenticator',
    verificationMethod: 'EMAIL_OTP',
    idempotencyKey: String
  })
  t.match(await sdk.validateChallenge({ token: emu.completeChallenge('u1', 'x', 'PASSKEY') }), { isValid: true, verificationMethod: 'PASSKEY' })
  t.same(await sdk.validateChallenge({ token, userId: 'u2' }), { action: undefined, isValid: false, error: 'Token does not match the given userId or action' })
  t.match(await sdk.validateChallenge({ token, action: 'addAuthenticator' }), { isValid: false, error: String })
})

t.test('validate: forged, malformed, missing, expired and revoked tokens are not valid', async (t) => {
  const { emu, sdk } = await start(t)
  const token = emu.completeChallenge('u1', 'removeAuthenticator')
  const [header, payload, signature] = token.split('.') as [string, string, string]
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
  const otherUser = Buffer.from(JSON.stringify({ ...claims, sub: 'u2' })).toString('base64url')
  const other = await startAuthsignalEmulator()
  t.teardown(() => other.close())
  const foreign = other.completeChallenge('u1', 'removeAuthenticator')
  for (const bad of [`${header}.${otherUser}.${signature}`, `${header}.${payload}.${signature.slice(0, 10)}`, foreign, 'abc', `${header}.${payload}`]) {
    t.same(await sdk.validateChallenge({ token: bad }), { action: undefined, isValid: false, error: 'Invalid token' })
  }
  const missing = await raw(emu, 'POST', '/v1/validate')
  t.same(await missing.json(), { isValid: false, error: 'Invalid token' })

  const expiring = await start(t, { tokenTtlSec: 0 })
  const expired = expiring.emu.completeChallenge('u1', 'removeAuthenticator')
  t.same(await expiring.sdk.validateChallenge({ token: expired }), { action: undefined, isValid: false, error: 'Token has expired' })

  emu.reset()
  t.same(await sdk.validateChallenge({ token }), { action: undefined, isValid: false, error: 'Invalid token' })
})

t.test('token helpers: verifyToken tells malformed, bad signature, expired and valid apart', async (t) => {
  const key = Buffer.alloc(32, 1)
  const claims = { iss: 'x', sub: 'u1', tenantId: 't', action: 'a', idempotencyKey: 'k', jti: 'j', iat: 100, exp: 200 }
  const token = signToken(key, claims)
  t.same(verifyToken(key, token, 150), { ok: true, claims })
  t.same(verifyToken(key, token, 200), { ok: false, reason: 'expired' })
  t.same(verifyToken(Buffer.alloc(32, 2), token, 150), { ok: false, reason: 'signature' })
  t.same(verifyToken(key, 42, 150), { ok: false, reason: 'malformed' })
  t.same(verifyToken(key, 'a.b.c.d', 150), { ok: false, reason: 'malformed' })
})

t.test('client API: enrol and verify email OTP adds a verified authenticator and succeeds the action', async (t) => {
  const sent: Array<{ userId: string, email: string, code: string }> = []
  const { emu, sdk } = await start(t, { onOtp: (info) => sent.push(info) })
  const { token, idempotencyKey } = await sdk.track({ userId: 'u1', action: 'addAuthenticator', attributes: { scope: 'add:authenticators' } })
  const enrol = await client(emu, 'user-authenticators/email-otp', token, { email: 'a@example.com' })
  t.equal(enrol.status, 200)
  t.same(enrol.json, { userAuthenticatorId: enrol.json.userAuthenticatorId, userId: 'u1' })
  t.equal(sent.length, 1)
  t.match(sent[0], { userId: 'u1', email: 'a@example.com', code: /^\d{6}$/ })
  t.same(emu.sentOtps, sent)
  t.same(await sdk.getAuthenticators({ userId: 'u1' }), [], 'not listed before the code is verified')

  const verified = await client(emu, 'verify/email-otp', token, { verificationCode: sent[0]?.code })
  t.match(verified.json, {
    isVerified: true,
    accessToken: String,
    userAuthenticator: { userAuthenticatorId: enrol.json.userAuthenticatorId, verificationMethod: 'EMAIL_OTP', email: 'a@example.com', verifiedAt: String, lastVerifiedAt: String }
  })
  t.match(await sdk.getAuthenticators({ userId: 'u1' }), [{ userId: 'u1', verificationMethod: 'EMAIL_OTP', email: 'a@example.com' }])
  for (const tok of [token, verified.json.accessToken as string]) {
    t.match(await sdk.validateChallenge({ token: tok }), { isValid: true, state: 'CHALLENGE_SUCCEEDED', verificationMethod: 'EMAIL_OTP', idempotencyKey })
  }
  t.equal(emu.requests.filter((r) => r.path.startsWith('/v1/client/')).every((r) => r.authorized), true)
})

t.test('client API: wrong codes fail with CODE_INVALID_OR_EXPIRED, the fifth with MAX_ATTEMPTS_EXCEEDED', async (t) => {
  const { emu, sdk } = await start(t)
  const { token } = await sdk.track({ userId: 'u1', action: 'addAuthenticator' })
  t.same((await client(emu, 'verify/email-otp', token, { verificationCode: '123456' })).json, { isVerified: false, failureReason: 'CODE_INVALID_OR_EXPIRED' }, 'no code sent yet')
  await client(emu, 'user-authenticators/email-otp', token, { email: 'a@example.com' })
  const wrong = lastCode(emu) === '000000' ? '000001' : '000000'
  for (let i = 1; i < 5; i++) {
    t.same((await client(emu, 'verify/email-otp', token, { verificationCode: wrong })).json, { isVerified: false, failureReason: 'CODE_INVALID_OR_EXPIRED' })
  }
  t.same((await client(emu, 'verify/email-otp', token, { verificationCode: wrong })).json, { isVerified: false, failureReason: 'MAX_ATTEMPTS_EXCEEDED' })
  t.same((await client(emu, 'verify/email-otp', token, { verificationCode: lastCode(emu) })).json, { isVerified: false, failureReason: 'CODE_INVALID_OR_EXPIRED' }, 'the code is burnt')
  t.same(emu.authenticators('u1'), [])
  t.match(await sdk.validateChallenge({ token }), { isValid: false, state: 'ALLOW' })
})

t.test('client API: an invalid email is 400', async (t) => {
  const { emu, sdk } = await start(t)
  const { token } = await sdk.track({ userId: 'u1', action: 'addAuthenticator' })
  for (const email of [undefined, 'not-an-email', 42]) {
    const res = await client(emu, 'user-authenticators/email-otp', token, { email })
    t.equal(res.status, 400)
    t.match(res.json, { error: 'invalid_request', errorDescription: String })
  }
  t.same(emu.sentOtps, [])
})

t.test('client API: adding to an enrolled user needs the add:authenticators scope or a completed challenge', async (t) => {
  const { emu, sdk } = await start(t)
  emu.seedAuthenticator('u1', { verificationMethod: 'PASSKEY' })
  const plain = await sdk.track({ userId: 'u1', action: 'addAuthenticator' })
  const refused = await client(emu, 'user-authenticators/email-otp', plain.token, { email: 'a@example.com' })
  t.equal(refused.status, 403)
  t.match(refused.json, { error: 'forbidden', errorDescription: /add:authenticators/ })
  const otherScope = await sdk.track({ userId: 'u1', action: 'addAuthenticator', attributes: { scope: 'read:authenticators' } })
  t.equal((await client(emu, 'user-authenticators/email-otp', otherScope.token, { email: 'a@example.com' })).status, 403)
  const scoped = await sdk.track({ userId: 'u1', action: 'addAuthenticator', attributes: { scope: 'read:authenticators add:authenticators' } })
  t.equal((await client(emu, 'user-authenticators/email-otp', scoped.token, { email: 'a@example.com' })).status, 200)
  const challenged = emu.completeChallenge('u1', 'addAuthenticator')
  t.equal((await enrolEmail(emu, challenged, 'b@example.com')).isVerified, true)
  t.same(emu.authenticators('u1').map((a) => a.verificationMethod), ['PASSKEY', 'EMAIL_OTP'])
})

t.test('client API: challenge/email-otp sends a code to the enrolled email and verify succeeds the action', async (t) => {
  const { emu, sdk } = await start(t)
  const noEmail = await sdk.track({ userId: 'u1', action: 'signIn' })
  t.match((await client(emu, 'challenge/email-otp', noEmail.token)), { status: 400, json: { error: 'invalid_request' } })
  emu.seedAuthenticator('u1', { verificationMethod: 'EMAIL_OTP' }) // no address: cannot be challenged
  t.equal((await client(emu, 'challenge/email-otp', noEmail.token)).status, 400)
  const seeded = emu.seedAuthenticator('u1', { verificationMethod: 'EMAIL_OTP', email: 'a@example.com' })
  const { token } = await sdk.track({ userId: 'u1', action: 'signIn' })
  const challenge = await client(emu, 'challenge/email-otp', token)
  t.match(challenge.json, { challengeId: /^[0-9a-f-]{36}$/ })
  t.match(emu.sentOtps.at(-1), { userId: 'u1', email: 'a@example.com' })
  const verified = await client(emu, 'verify/email-otp', token, { verificationCode: lastCode(emu) })
  t.match(verified.json, { isVerified: true, accessToken: String })
  t.notOk('userAuthenticator' in verified.json, 'no authenticator in a challenge')
  t.match(await sdk.validateChallenge({ token, action: 'signIn', userId: 'u1' }), { isValid: true, state: 'CHALLENGE_SUCCEEDED' })
  const after = emu.authenticators('u1').find((a) => a.userAuthenticatorId === seeded.userAuthenticatorId)
  t.type(after?.lastVerifiedAt, 'string')
  t.equal(emu.authenticators('u1').length, 2, 'no authenticator added')
})

t.test('client API: a missing, forged or revoked token is 401 unauthorized; an expired one is expired_token', async (t) => {
  const { emu, sdk } = await start(t)
  const { token } = await sdk.track({ userId: 'u1', action: 'addAuthenticator' })
  t.match(await client(emu, 'user-authenticators/email-otp', undefined, { email: 'a@example.com' }), { status: 401, json: { error: 'unauthorized', errorCode: 'unauthorized' } })
  const basicAuth = await fetch(`${emu.apiUrl}/client/challenge/email-otp`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(emu.tenantId).toString('base64')}` } })
  t.equal(basicAuth.status, 401)
  t.equal((await client(emu, 'user-authenticators/email-otp', `${token}x`, { email: 'a@example.com' })).status, 401)
  const expiring = await start(t, { tokenTtlSec: 0 })
  const old = await expiring.sdk.track({ userId: 'u1', action: 'addAuthenticator' })
  t.match(await client(expiring.emu, 'user-authenticators/email-otp', old.token, { email: 'a@example.com' }), { status: 401, json: { error: 'expired_token', errorCode: 'expired_token' } })
  emu.reset()
  t.equal((await client(emu, 'user-authenticators/email-otp', token, { email: 'a@example.com' })).status, 401)
  t.equal(emu.requests.some((r) => r.authorized), false)
})

t.test('client API: unknown routes and non-POST methods are 404', async (t) => {
  const { emu, sdk } = await start(t)
  const { token } = await sdk.track({ userId: 'u1', action: 'addAuthenticator' })
  t.equal((await client(emu, 'verify/push', token, {})).status, 404)
  const get = await fetch(`${emu.apiUrl}/client/user-authenticators/email-otp`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(get.status, 404)
})

t.test('CORS: client API and pre-built page answer preflight and echo the Origin; the server API does not', async (t) => {
  const { emu, sdk } = await start(t)
  const origin = 'http://localhost:5173'
  const preflight = await fetch(`${emu.apiUrl}/client/user-authenticators/email-otp`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' }
  })
  t.equal(preflight.status, 204)
  t.equal(preflight.headers.get('access-control-allow-origin'), origin)
  t.match(preflight.headers.get('access-control-allow-headers'), /authorization.*content-type/)
  t.match(preflight.headers.get('access-control-allow-methods'), /POST/)
  t.equal(preflight.headers.get('vary'), 'Origin')
  const { token, url } = await sdk.track({ userId: 'u1', action: 'addAuthenticator' })
  const call = await fetch(`${emu.apiUrl}/client/user-authenticators/email-otp`, { method: 'POST', headers: { origin, authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"email":"a@example.com"}' })
  t.equal(call.headers.get('access-control-allow-origin'), origin)
  const page = await fetch(url, { headers: { origin } })
  t.equal(page.headers.get('access-control-allow-origin'), origin)
  const noOrigin = await fetch(`${emu.url}/prebuilt`, { method: 'OPTIONS' })
  t.equal(noOrigin.status, 204)
  t.equal(noOrigin.headers.get('access-control-allow-origin'), null)
  const server = await raw(emu, 'OPTIONS', '/v1/users/u1', { headers: { origin } })
  t.equal(server.status, 404)
  t.equal(server.headers.get('access-control-allow-origin'), null)
})

t.test('pre-built page: verify mode for a track token, with a Done link to redirectUrl carrying the token', async (t) => {
  const { emu, sdk } = await start(t)
  emu.seedAuthenticator('u1', { verificationMethod: 'EMAIL_OTP', email: 'a@example.com' })
  const { url, token } = await sdk.track({ userId: 'u1', action: 'signIn', attributes: { redirectUrl: 'http://localhost:3000/done?x=1' } })
  const res = await fetch(url)
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/html/)
  t.match(res.headers.get('content-security-policy'), /script-src 'nonce-/)
  const html = await res.text()
  t.match(html, 'Authsignal emulator: verify')
  t.match(html, 'data-flow="challenge"')
  t.notMatch(html, 'data-flow="enroll"')
  t.notMatch(html, 'id="authenticators"')
  const href = new URL((/id="done" href="([^"]+)"/.exec(html) as RegExpExecArray)[1]?.replace(/&#38;/g, '&') as string)
  t.equal(href.origin + href.pathname, 'http://localhost:3000/done')
  t.equal(href.searchParams.get('x'), '1')
  t.equal(href.searchParams.get('token'), token)
  t.equal(emu.requests.at(-1)?.authorized, true)
})

t.test('pre-built page: settings mode lists the user\'s authenticators and offers to add one', async (t) => {
  const { emu, sdk } = await start(t)
  emu.seedAuthenticator('u1', { verificationMethod: 'SMS', phoneNumber: '+15550001', userAuthenticatorId: 'sms-1' })
  emu.seedAuthenticator('u1', { verificationMethod: 'PASSKEY', displayName: '<b>Laptop</b>', userAuthenticatorId: 'pk-1' })
  for (const attributes of [{ redirectToSettings: true }, undefined]) {
    const action = attributes === undefined ? 'manageAuthenticators' : 'addAuthenticator'
    const { url } = await sdk.track({ userId: 'u1', action, attributes })
    const html = await (await fetch(url)).text()
    t.match(html, 'Authsignal emulator: manage authenticators', action)
    t.match(html, '<li data-id="sms-1">SMS +15550001')
    t.match(html, '<li data-id="pk-1">PASSKEY &#60;b&#62;Laptop&#60;/b&#62;')
    t.match(html, 'data-flow="enroll"')
    t.notMatch(html, 'data-flow="challenge"')
    t.match(html, 'You can close this window.')
  }
})

t.test('pre-built page: an unenrolled user gets the enrol form; bad tokens get a 401 page', async (t) => {
  const { emu, sdk } = await start(t)
  const { url } = await sdk.track({ userId: 'u1', action: 'addAuthenticator' })
  const html = await (await fetch(url)).text()
  t.match(html, 'data-flow="enroll"')
  t.notMatch(html, 'data-flow="challenge"')
  for (const bad of [`${emu.url}/prebuilt`, `${emu.url}/prebuilt?token=nope`]) {
    const res = await fetch(bad)
    t.equal(res.status, 401)
    t.match(await res.text(), 'Invalid or expired token')
  }
})

t.test('page helpers: doneHref only links http(s) URLs; renderPrebuiltPage escapes the script config', async (t) => {
  t.equal(doneHref(undefined, 'tok'), undefined)
  t.equal(doneHref('not a url', 'tok'), undefined)
  t.equal(doneHref('javascript:alert(1)', 'tok'), undefined)
  t.equal(doneHref('http://localhost/x', 'tok'), 'http://localhost/x?token=tok')
  t.equal(doneHref('https://app.example/x?a=b', 'tok'), 'https://app.example/x?a=b&token=tok')
  const html = renderPrebuiltPage({ token: '</script><script>alert(1)</script>', userId: 'u', action: 'a', state: 'ALLOW', settings: false, authenticators: [], doneHref: undefined, nonce: 'n' })
  t.notMatch(html, '</script><script>alert(1)')
  t.match(html, '\\u003c/script>')
})

t.test('the real @authsignal/browser SDK enrols an email OTP authenticator against the emulator', async (t) => {
  // The SDK touches `document` at import and in its constructor (cookies); Node has none.
  const g = globalThis as { document?: unknown }
  g.document = { cookie: '', location: { protocol: 'http:', hostname: 'localhost' }, readyState: 'loading', addEventListener: () => {} }
  t.teardown(() => { delete g.document })
  const { Authsignal: BrowserAuthsignal } = await import('@authsignal/browser') as unknown as { Authsignal: BrowserSdk }
  const { emu, sdk } = await start(t)
  const { token } = await sdk.track({ userId: 'u1', action: 'addAuthenticator', attributes: { scope: 'add:authenticators' } })
  const browser = new BrowserAuthsignal({ tenantId: emu.tenantId, baseUrl: emu.apiUrl, cookieDomain: 'localhost' })
  browser.setToken(token)
  const enrolled = await browser.email.enroll({ email: 'a@example.com' })
  t.match(enrolled, { data: { userAuthenticatorId: String, userId: 'u1' } })
  t.match(await browser.email.verify({ code: 'wrong!' }), { data: { isVerified: false, failureReason: 'CODE_INVALID_OR_EXPIRED' } })
  const verified = await browser.email.verify({ code: lastCode(emu) })
  t.match(verified, { data: { isVerified: true, token: String, userAuthenticator: { verificationMethod: 'EMAIL_OTP', email: 'a@example.com' } } })
  t.match(await sdk.validateChallenge({ token: verified.data?.token as string }), { isValid: true, userId: 'u1' })
  // The SDK now holds the token from verify: a challenge with it sends a new code.
  t.match(await browser.email.challenge(), { data: { challengeId: String } })
  browser.setToken(`${token}x`)
  t.match(await browser.email.enroll({ email: 'a@example.com' }), { errorCode: 'unauthorized', error: String })
})

t.test('faults: status answers that status, with an Authsignal error body unless one is given', async (t) => {
  const { emu, sdk } = await start(t)
  emu.setFault({ kind: 'status', status: 503 })
  const err = await rejection(sdk.getAuthenticators({ userId: 'u1' }))
  t.equal(err.statusCode, 503)
  t.equal(err.errorCode, 'emulated_fault')
  emu.setFault({ kind: 'status', status: 429, body: { error: 'too_many_requests', errorDescription: 'slow down' } })
  const limited = await rejection(sdk.track({ userId: 'u1', action: 'signIn' }))
  t.equal(limited.statusCode, 429)
  t.equal(limited.errorDescription, 'slow down')
  t.equal(emu.requests.length, 2, 'faulted requests are recorded')
  emu.setFault(null)
  t.same(await sdk.getAuthenticators({ userId: 'u1' }), [])
})

t.test('faults: path and times select which server API requests fail; the client API is never faulted', async (t) => {
  const { emu, sdk } = await start(t)
  emu.setFault({ kind: 'status', status: 500 }, { path: /\/authenticators$/, times: 2 })
  const { token } = await sdk.track({ userId: 'u1', action: 'addAuthenticator' })
  t.equal((await client(emu, 'user-authenticators/email-otp', token, { email: 'a@example.com' })).status, 200)
  t.equal((await rejection(sdk.getAuthenticators({ userId: 'u1' }))).statusCode, 500)
  t.equal((await rejection(sdk.getAuthenticators({ userId: 'u1' }))).statusCode, 500)
  t.same(await sdk.getAuthenticators({ userId: 'u1' }), [], 'cleared after two')
  emu.setFault({ kind: 'status', status: 500 }, { times: 1 })
  t.equal((await rejection(sdk.getUser({ userId: 'u1' }))).statusCode, 500)
  t.equal((await sdk.getUser({ userId: 'u1' })).isEnrolled, false)
})

t.test('faults: latency delays the normal answer', async (t) => {
  const { emu, sdk } = await start(t)
  emu.setFault({ kind: 'latency', ms: 150 })
  const started = Date.now()
  t.same(await sdk.getAuthenticators({ userId: 'u1' }), [])
  t.ok(Date.now() - started >= 140)
})

t.test('faults: hang never answers, and close() ends the hung request and a pending latency', async (t) => {
  const emu = await startAuthsignalEmulator()
  emu.setFault({ kind: 'hang' })
  await t.rejects(fetch(`${emu.apiUrl}/users/u1`, { headers: { authorization: basic(emu.secret) }, signal: AbortSignal.timeout(200) }), { name: 'TimeoutError' })
  const hung = fetch(`${emu.apiUrl}/users/u1`, { headers: { authorization: basic(emu.secret) } })
  while (emu.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 10))
  emu.setFault({ kind: 'latency', ms: 60_000 }, { path: /authenticators/ })
  const slow = fetch(`${emu.apiUrl}/users/u1/authenticators`, { headers: { authorization: basic(emu.secret) } })
  while (emu.requests.length < 3) await new Promise((resolve) => setTimeout(resolve, 10))
  const outcomes = Promise.allSettled([hung, slow])
  await emu.close()
  t.same((await outcomes).map((o) => o.status), ['rejected', 'rejected'])
})

t.test('faults: garbage is a 200 text/html body that is not JSON', async (t) => {
  const { emu } = await start(t)
  emu.setFault({ kind: 'garbage' })
  const res = await raw(emu, 'GET', '/v1/users/u1/authenticators')
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'text/html')
  const text = await res.text()
  t.throws(() => JSON.parse(text))
})

t.test('faults: wrongContentType answers normally but as text/plain', async (t) => {
  const { emu } = await start(t)
  emu.seedAuthenticator('u1', { verificationMethod: 'SMS', userAuthenticatorId: 's1' })
  emu.setFault({ kind: 'wrongContentType' })
  const ok = await raw(emu, 'GET', '/v1/users/u1/authenticators')
  t.equal(ok.headers.get('content-type'), 'text/plain')
  t.match(JSON.parse(await ok.text()), [{ userAuthenticatorId: 's1' }])
  for (const [path, auth, status] of [['/v1/users/u1/authenticators', 'Basic eDo=', 401], ['/v1/nope', undefined, 404], ['/v1/users/%E0/authenticators', undefined, 400]] as const) {
    const res = await raw(emu, 'GET', path, auth === undefined ? {} : { auth })
    t.equal(res.status, status)
    t.equal(res.headers.get('content-type'), 'text/plain')
  }
})

t.test('faults: reset destroys the socket after the headers and part of the body', async (t) => {
  const { emu, sdk } = await start(t)
  emu.setFault({ kind: 'reset' })
  const res = await raw(emu, 'GET', '/v1/users/u1/authenticators')
  t.equal(res.status, 200)
  await t.rejects(res.text())
  const err = await rejection(sdk.getAuthenticators({ userId: 'u1' }))
  t.equal(err.statusCode, 500)
  t.equal(err.errorCode, 'unexpected_error')
})

t.test('faults: huge answers a 200 JSON body of exactly that many bytes', async (t) => {
  const { emu } = await start(t)
  emu.setFault({ kind: 'huge', bytes: 1_000_000 })
  const res = await raw(emu, 'GET', '/v1/users/u1/authenticators')
  const text = await res.text()
  t.equal(res.headers.get('content-type'), 'application/json')
  t.equal(Buffer.byteLength(text), 1_000_000)
  t.match(JSON.parse(text), { data: String })
})

t.test('reset() clears authenticators, actions, codes, faults and requests', async (t) => {
  const { emu, sdk } = await start(t)
  emu.seedAuthenticator('u1', { verificationMethod: 'SMS' })
  const { token } = await sdk.track({ userId: 'u2', action: 'addAuthenticator' })
  await client(emu, 'user-authenticators/email-otp', token, { email: 'a@example.com' })
  emu.setFault({ kind: 'status', status: 500 })
  emu.reset()
  t.same(emu.authenticators('u1'), [])
  t.same(emu.requests, [])
  t.same(emu.sentOtps, [])
  t.same(await sdk.getAuthenticators({ userId: 'u1' }), [], 'fault cleared')
})

t.test('an onOtp callback that throws makes that request a 500, and the emulator keeps serving', async (t) => {
  const { emu, sdk } = await start(t, { onOtp: () => { throw new Error('mailer down') } })
  const { token } = await sdk.track({ userId: 'u1', action: 'addAuthenticator' })
  const res = await client(emu, 'user-authenticators/email-otp', token, { email: 'a@example.com' })
  t.equal(res.status, 500)
  t.match(res.json, { error: 'internal_error', errorDescription: /mailer down/ })
  t.same(await sdk.getAuthenticators({ userId: 'u1' }), [])
})
