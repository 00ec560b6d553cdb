// The Authsignal emulator's webhooks: Authsignal's envelope and data per event type, its X-Signature-V2
// (checked with the real SDK's verifier), and its retries of a non-2xx (up to 3, after the configured delays).
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Authsignal } from '@authsignal/node'
import t, { type Test } from 'tap'
import { AUTHSIGNAL_RETRY_DELAYS_MS, startAuthsignalEmulator, type AuthsignalEmulatorOptions } from '../lib/testing/authsignal-emulator.js'
import { eventData } from '../lib/testing/emulator/webhooks.js'
import { closedPort } from './helpers.js'

interface Received { headers: IncomingMessage['headers'], body: string, at: number }

/** A receiver that answers each POST with the next status of `statuses` (the last one repeats); 'hang' never answers. */
async function receiver (t: Test, statuses: Array<number | 'hang'>): Promise<{ url: string, received: Received[] }> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => { body += chunk })
    req.on('end', () => {
      received.push({ headers: req.headers, body, at: Date.now() })
      const status = statuses[Math.min(received.length, statuses.length) - 1] as number | 'hang'
      if (status === 'hang') return
      res.writeHead(status).end()
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received }
}

async function emulator (t: Test, options: AuthsignalEmulatorOptions['webhook']) {
  const emu = await startAuthsignalEmulator({ secret: 'webhook-test-secret', tenantId: 'tenant-1', webhook: options })
  t.teardown(() => emu.close())
  return emu
}

t.test('each change is POSTed as Authsignal\'s envelope, signed in X-Signature-V2 so that the SDK\'s verifier accepts it', async t => {
  const { url, received } = await receiver(t, [200])
  const emu = await emulator(t, { url })
  const a = emu.seedAuthenticator('user-1', { verificationMethod: 'EMAIL_OTP', email: 'a@example.com', createdAt: '2026-01-01T00:00:00.000Z' })
  emu.completeChallenge('user-1', 'signIn', undefined, a.userAuthenticatorId)
  await emu.webhooks.idle()
  const sdk = new Authsignal({ apiSecretKey: 'webhook-test-secret', retries: 0 })
  const events = received.map(r => {
    t.equal(r.headers['content-type'], 'application/json')
    t.match(r.headers['x-signature-v2'], /^t=\d+,v2=[A-Za-z0-9+/]{43}$/, 'seconds, then a base64 SHA-256 without padding')
    t.equal(r.headers.connection, 'close', 'each delivery on its own connection')
    return sdk.webhook.constructEvent(r.body, r.headers['x-signature-v2'] as string)
  })
  t.equal(events.length, 2)
  t.same(events[0], {
    version: 1,
    id: events[0]?.id,
    source: 'https://authsignal.com',
    time: events[0]?.time,
    tenantId: 'tenant-1',
    type: 'authenticator.created',
    data: { userId: 'user-1', verificationMethod: 'EMAIL_OTP', createdAt: '2026-01-01T00:00:00.000Z', userAuthenticatorId: a.userAuthenticatorId, email: 'a@example.com' }
  })
  t.match(events[1], { type: 'authenticator.updated', data: { userId: 'user-1', userAuthenticatorId: a.userAuthenticatorId, updatedAt: String } })
  t.not(events[0]?.id, events[1]?.id, 'an id per event')
  t.same(emu.webhooks.deliveries.map(d => [d.type, d.attempt, d.status]), [['authenticator.created', 1, 200], ['authenticator.updated', 1, 200]])
  t.equal(emu.webhooks.deliveries[0]?.body, received[0]?.body, 'the body recorded is the body sent')
  const header = emu.webhooks.sign('{"x":1}', 1700000000)
  t.same(sdk.webhook.parseSignature(header).timestamp, 1700000000, 'sign() makes the same header for any body')
})

t.test('the data of each type: createdAt, updatedAt, createdAt + deletedAt; passkey fields for passkeys', async t => {
  const authenticator = {
    userId: 'u',
    userAuthenticatorId: 'p',
    verificationMethod: 'PASSKEY',
    createdAt: '2026-01-01T00:00:00.000Z',
    webauthnCredential: { credentialId: 'cred', deviceId: 'd', name: 'iCloud Keychain', aaguid: 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd', credentialBackedUp: true, credentialDeviceType: 'multiDevice' }
  }
  const at = '2026-02-02T00:00:00.000Z'
  const passkey = { credentialId: 'cred', aaguid: 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd', credentialName: 'iCloud Keychain' }
  const base = { userId: 'u', verificationMethod: 'PASSKEY', userAuthenticatorId: 'p' }
  t.same(eventData({ type: 'authenticator.created', time: at, authenticator }), { ...base, createdAt: authenticator.createdAt, ...passkey })
  t.same(eventData({ type: 'authenticator.updated', time: at, authenticator }), { ...base, updatedAt: at, ...passkey })
  t.same(eventData({ type: 'authenticator.deleted', time: at, authenticator }), { ...base, createdAt: authenticator.createdAt, deletedAt: at, ...passkey })
})

t.test('a non-2xx is retried with the same event id after each configured delay, up to 3 times', async t => {
  const { url, received } = await receiver(t, [500, 503, 200])
  const emu = await emulator(t, { url, retryDelaysMs: [100, 200, 300] })
  emu.seedAuthenticator('user-1', { verificationMethod: 'SMS', phoneNumber: '+14155550123' })
  await emu.webhooks.idle()
  t.same(emu.webhooks.deliveries.map(d => [d.attempt, d.status]), [[1, 500], [2, 503], [3, 200]])
  t.equal(new Set(received.map(r => JSON.parse(r.body).id)).size, 1, 'one event id')
  const gaps = received.slice(1).map((r, i) => r.at - (received[i] as Received).at)
  t.ok((gaps[0] as number) >= 100 && (gaps[1] as number) >= 200, `waited ${gaps.join(', ')} ms`)
  t.not(received[0]?.headers['x-signature-v2'], undefined)
})

t.test('a receiver that never succeeds gets 4 attempts in all; one that does not answer counts as failed', async t => {
  const { url } = await receiver(t, [500])
  const emu = await emulator(t, { url, retryDelaysMs: [10, 10, 10] })
  emu.seedAuthenticator('user-1', { verificationMethod: 'SMS' })
  await emu.webhooks.idle()
  t.same(emu.webhooks.deliveries.map(d => d.attempt), [1, 2, 3, 4])

  const silent = await receiver(t, ['hang'])
  const quiet = await emulator(t, { url: silent.url, retryDelaysMs: [], timeoutMs: 200 })
  quiet.seedAuthenticator('user-1', { verificationMethod: 'SMS' })
  await quiet.webhooks.idle()
  t.match(quiet.webhooks.deliveries, [{ attempt: 1, error: /Abort|Timeout/ }])

  const unreachable = await emulator(t, { url: `http://127.0.0.1:${await closedPort()}/hook`, retryDelaysMs: [] })
  unreachable.seedAuthenticator('user-1', { verificationMethod: 'SMS' })
  await unreachable.webhooks.idle()
  t.match(unreachable.webhooks.deliveries, [{ attempt: 1, error: 'Error' }])
})

t.test('Authsignal\'s delays by default; close() drops what is still to come; no url, nothing sent', async t => {
  t.same(AUTHSIGNAL_RETRY_DELAYS_MS, [30_000, 30_000, 30_000])
  const { url, received } = await receiver(t, [500])
  const emu = await emulator(t, { url })
  emu.seedAuthenticator('user-1', { verificationMethod: 'SMS' })
  while (emu.webhooks.deliveries.length === 0) await new Promise(resolve => setTimeout(resolve, 10))
  t.same(emu.webhooks.deliveries.map(d => d.status), [500], 'the retry waits 30 s')
  await emu.close()
  await emu.webhooks.idle()
  t.equal(received.length, 1, 'and never comes after close()')

  const hanging = await receiver(t, ['hang'])
  const inFlight = await emulator(t, { url: hanging.url })
  inFlight.seedAuthenticator('user-1', { verificationMethod: 'SMS' })
  while (hanging.received.length === 0) await new Promise(resolve => setTimeout(resolve, 10))
  await inFlight.close()
  t.same(inFlight.webhooks.deliveries, [], 'an attempt cut by close() is not recorded')

  const none = await emulator(t, {})
  t.equal(none.webhooks.url, undefined)
  none.seedAuthenticator('user-1', { verificationMethod: 'SMS' })
  await none.webhooks.idle()
  t.same(none.webhooks.deliveries, [])
  none.webhooks.url = url
  none.reset()
  t.equal(none.webhooks.url, url, 'the url can be set later')
})

t.test('POST /v1/sessions/user/revoke (revokeUserSessions): 200 for a user id, 400 without one', async t => {
  const emu = await emulator(t, {})
  const sdk = new Authsignal({ apiSecretKey: 'webhook-test-secret', apiUrl: emu.apiUrl, retries: 0 })
  await sdk.revokeUserSessions({ userId: 'user-1' })
  t.same(emu.requests.at(-1)?.body, { userId: 'user-1' })
  const res = await fetch(`${emu.apiUrl}/sessions/user/revoke`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('webhook-test-secret:').toString('base64')}`, 'content-type': 'application/json' },
    body: '{}'
  })
  t.equal(res.status, 400)
})
