// The JWKS key store, against a real JWKS server: flood protection, rotation, timeouts and failures.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { JwksKeyStore, parseJwks } from '../lib/cognito/jwks.js'
import { generateSigningKey } from '../lib/testing/cognito-issuer.js'
import { bearer, buildApp, issuerFor } from './helpers.js'

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

t.test('a flood of random kids causes at most one refetch per penalty window', async t => {
  const issuer = await issuerFor(t)
  const app = await buildApp(t, issuer)
  const tokens = Array.from({ length: 2000 }, (_, i) => issuer.mint({ header: { kid: `random-${i}-${Math.random()}` } }))
  const answers = await Promise.all(tokens.map(token => app.inject({ url: '/me', headers: bearer(token) })))
  t.ok(answers.every(res => res.statusCode === 401 && res.json().code === 'FST_COGNITO_TOKEN_UNKNOWN_KEY'), 'every random kid is a 401')
  t.ok(issuer.jwksRequests <= 2, `JWKS fetched ${issuer.jwksRequests} times (prewarm included)`)
  // 2,000 made-up headers went through the bounded memo of judged headers: the real one still gets in.
  t.equal((await app.inject({ url: '/me', headers: bearer(issuer.mint()) })).statusCode, 200, 'a real token after the flood')
})

t.test('concurrent requests for an unknown kid share one fetch', async t => {
  const issuer = await issuerFor(t)
  const store = new JwksKeyStore({ jwksUri: issuer.jwksUri, timeoutMs: 1000, penaltyMs: 10_000 })
  const results = await Promise.allSettled(Array.from({ length: 50 }, () => store.getKey(issuer.kid)))
  t.ok(results.every(r => r.status === 'fulfilled'), 'all got the key')
  t.equal(issuer.jwksRequests, 1, 'one fetch for fifty lookups')
  t.equal(store.status().fetches, 1, 'its status counts one fetch')
  t.equal((await store.getKey(issuer.kid)).kid, issuer.kid, 'a held key is answered from memory')
  t.equal(store.status().fetches, 1, 'without a fetch')
})

t.test('key rotation: a key published right after start-up is accepted at once, with one refetch (the prewarm opens no penalty window)', async t => {
  const issuer = await issuerFor(t)
  const app = await buildApp(t, issuer) // the default 10 s penalty window
  t.equal(issuer.jwksRequests, 1, 'prewarmed')
  issuer.rotate()
  const before = issuer.jwksRequests
  t.equal((await app.inject({ url: '/me', headers: bearer(issuer.mint()) })).statusCode, 200, 'token signed with the new key')
  t.equal(issuer.jwksRequests, before + 1, 'one refetch')
  issuer.rotate()
  t.equal((await app.inject({ url: '/me', headers: bearer(issuer.mint()) })).statusCode, 200, 'and again after a refetch that found its kid')
  t.equal(issuer.jwksRequests, before + 2)
  t.equal((await app.inject({ url: '/me', headers: bearer(issuer.mint()) })).statusCode, 200)
  t.equal(issuer.jwksRequests, before + 2, 'no further fetch for a known kid')
})

t.test('a flood of random kids right after start-up and later: at most one fetch per penalty window each time', async t => {
  const issuer = await issuerFor(t)
  // A generous fetch timeout: 2,000 requests at once can hold the event loop for seconds on a busy machine.
  const app = await buildApp(t, issuer, { cognito: { jwksPenaltyMs: 300, jwksTimeoutMs: 30_000 } })
  const flood = async (): Promise<number> => {
    const before = issuer.jwksRequests
    const tokens = Array.from({ length: 2000 }, (_, i) => issuer.mint({ header: { kid: `random-${i}-${Math.random()}` } }))
    const answers = await Promise.all(tokens.map(token => app.inject({ url: '/me', headers: bearer(token) })))
    t.same([...new Set(answers.map(res => res.json().code))], ['FST_COGNITO_TOKEN_UNKNOWN_KEY'], 'every random kid is a 401')
    return issuer.jwksRequests - before
  }
  const atStart = await flood()
  t.ok(atStart <= 1, `right after start-up: ${atStart} fetch(es)`)
  // Wait for the window to pass: then one fetch may be made again.
  const until = Date.now() + 300
  while (Date.now() <= until) await sleep(until - Date.now() + 1)
  const later = await flood()
  t.ok(later <= 1, `later: ${later} fetch(es)`)
})

t.test('a kid removed from the JWKS is refused after the next refetch', async t => {
  const issuer = await issuerFor(t)
  const app = await buildApp(t, issuer, { cognito: { jwksPenaltyMs: 0, tokenCacheSize: 0 } })
  const oldKid = issuer.kid
  const oldToken = issuer.mint()
  issuer.rotate()
  t.equal((await app.inject({ url: '/me', headers: bearer(issuer.mint()) })).statusCode, 200, 'refetch picks up the new key')
  issuer.unpublish(oldKid)
  t.equal((await app.inject({ url: '/me', headers: bearer(issuer.mint({ header: { kid: 'unknown' } })) })).statusCode, 401, 'an unknown kid refetches')
  const res = await app.inject({ url: '/me', headers: bearer(oldToken) })
  t.equal(res.json().code, 'FST_COGNITO_TOKEN_UNKNOWN_KEY', 'the withdrawn key is gone')
})

t.test('JWKS failures are 503 within the timeout, never a hang or a 500', async t => {
  const faults = [
    { kind: 'hang' as const },
    { kind: 'latency' as const, ms: 2000 },
    { kind: 'status' as const, status: 500 },
    { kind: 'invalidJson' as const },
    { kind: 'emptyKeys' as const }
  ]
  for (const fault of faults) {
    const issuer = await issuerFor(t)
    issuer.setFault(fault)
    const app = await buildApp(t, issuer, { cognito: { jwksTimeoutMs: 300, jwksPenaltyMs: 0 } })
    const started = Date.now()
    const res = await app.inject({ url: '/me', headers: bearer(issuer.mint()) })
    t.equal(res.statusCode, 503, `${fault.kind}: 503`)
    t.equal(res.json().code, 'FST_COGNITO_JWKS_UNAVAILABLE', `${fault.kind}: code`)
    // The 300 ms timeout, plus what a saturated machine adds: far below a hang (tap's own timeout).
    t.ok(Date.now() - started < 5000, `${fault.kind}: answered in ${Date.now() - started} ms`)
    issuer.setFault(null)
    t.equal((await app.inject({ url: '/me', headers: bearer(issuer.mint()) })).statusCode, 200, `${fault.kind}: healthy once the JWKS is back`)
  }
})

t.test('while the JWKS is down, cached keys keep working and unknown kids are 503', async t => {
  const issuer = await issuerFor(t)
  const app = await buildApp(t, issuer, { cognito: { jwksPenaltyMs: 0, tokenCacheSize: 0 } })
  issuer.setFault({ kind: 'status', status: 503 })
  t.equal((await app.inject({ url: '/me', headers: bearer(issuer.mint()) })).statusCode, 200, 'known kid: stale beats an outage')
  const unknown = await app.inject({ url: '/me', headers: bearer(issuer.mint({ header: { kid: 'rotated' } })) })
  t.equal(unknown.statusCode, 503, 'an unknown kid cannot be judged')
  t.notMatch(unknown.body, /unavailable"}/, 'the upstream body is not echoed')
})

t.test('a failed prewarm is logged, not fatal', async t => {
  const issuer = await issuerFor(t)
  issuer.setFault({ kind: 'status', status: 500 })
  const lines: string[] = []
  const app = await buildApp(t, issuer, { cognito: { jwksPenaltyMs: 0 }, logStream: { write: (line: string) => { lines.push(line) } } })
  t.ok(lines.some(line => line.includes('JWKS prewarm failed') && line.includes('HTTP 500')), 'warned')
  issuer.setFault(null)
  t.equal((await app.inject({ url: '/me', headers: bearer(issuer.mint()) })).statusCode, 200, 'works once the JWKS answers')
})

t.test('close() aborts a fetch under way', async t => {
  const issuer = await issuerFor(t)
  issuer.setFault({ kind: 'hang' })
  const store = new JwksKeyStore({ jwksUri: issuer.jwksUri, timeoutMs: 60_000, penaltyMs: 0 })
  const pending = store.getKey(issuer.kid)
  await sleep(50)
  store.close()
  await t.rejects(pending, { code: 'FST_COGNITO_JWKS_UNAVAILABLE', message: /could not be fetched/ })
})

t.test('oversized and redirected JWKS answers are refused', async t => {
  let mode = 'large-declared'
  const server = createServer((req, res) => {
    if (mode === 'large-declared') res.writeHead(200, { 'content-length': String(1024 * 1024) }).end(Buffer.alloc(1024 * 1024, 32))
    else if (mode === 'large-chunked') { res.writeHead(200); res.end(' '.repeat(300 * 1024)) } else res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end()
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  const jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`
  for (const next of ['large-declared', 'large-chunked', 'redirect']) {
    mode = next
    const store = new JwksKeyStore({ jwksUri, timeoutMs: 1000, penaltyMs: 0 })
    await t.rejects(store.refresh(), { code: 'FST_COGNITO_JWKS_UNAVAILABLE' }, mode)
  }
})

t.test('parseJwks keeps only usable RS256 signing keys', async t => {
  const good = generateSigningKey('good').jwk
  const doc = {
    keys: [
      good,
      { ...good, kid: 'enc', use: 'enc' },
      { ...good, kid: 'rs512', alg: 'RS512' },
      { kid: 'ec', kty: 'EC' },
      { ...good, kid: undefined },
      { ...good, kid: 'broken', e: undefined },
      null
    ]
  }
  t.same([...parseJwks(JSON.stringify(doc)).keys()], ['good'])
  t.throws(() => parseJwks('{"keys":[{"kid":"ec","kty":"EC"}]}'), /no usable RS256/)
  t.throws(() => parseJwks('null'), /no "keys" array/)
  t.throws(() => parseJwks('{'), /not JSON/)
})

t.test('a JWKS that hangs at start-up holds ready() for 5 s at most (Fastify fails an onReady hook after 10 s); the fetch goes on', async t => {
  const issuer = await issuerFor(t)
  issuer.setFault({ kind: 'hang' })
  const started = Date.now()
  const app = await buildApp(t, issuer, { cognito: { jwksTimeoutMs: 60_000 } })
  t.ok(Date.now() - started >= 4900, `ready after ${Date.now() - started} ms: it did wait for the keys`)
  t.equal(issuer.jwksRequests, 1, 'the prewarm fetch is under way')
  issuer.setFault(null)
  await app.close()
})
