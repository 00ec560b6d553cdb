// Failing upstreams as one matrix over real HTTP (test/jwks.test.ts tests the key store's mechanisms one by
// one): Authsignal and the JWKS slow, hanging, resetting, erroring, rate limiting, answering garbage, the wrong
// shape or too much, on every route and every upstream call (the ownership list, the delete, the step-up
// validation), through our own SDK client and a host-supplied one. Every row: the documented status and code
// within a bounded time, the Authsignal record (each call sent once, only under Alice's path, nothing deleted on
// a failure, nothing at all for a JWKS failure), and the same route answering a good request once the fault
// clears. Then a refused connection, key rotation in the middle of traffic, and this suite's log capture.
import { Authsignal } from '@authsignal/node'
import t, { type Test } from 'tap'
import { startAuthsignalEmulator, type EmulatorFault } from '../../lib/testing/authsignal-emulator.js'
import { startCognitoIssuer, type JwksFault } from '../../lib/testing/cognito-issuer.js'
import { ALICE, assertNothingLeaked, Capture, send, startApp, type Answer } from './helpers.js'
import { closedPort, cognitoOptions } from '../helpers.js'

const TIMEOUT_MS = 400
const JWKS_TIMEOUT_MS = 300
// A generous bound for a loaded CI machine, far below a hang.
const SLACK_MS = 800

const capture = new Capture()
const emu = await startAuthsignalEmulator()
t.teardown(() => emu.close())
const issuer = await startCognitoIssuer()
t.teardown(() => issuer.close())
const authsignal = { apiSecretKey: capture.keep(emu.secret), apiUrl: emu.apiUrl, timeoutMs: TIMEOUT_MS }
const cognito = cognitoOptions(issuer)
// Three registrations: removals with the Cognito token alone (requireChallenge: false); with the step-up (the
// default); with a host-supplied SDK instance. A delete with no answer (it hangs, its connection resets) keeps the
// user's lock for its lease (2 × 400 + 1000 + 2000 ms): lockWaitMs lets the next removal wait it out.
const hosted = new Authsignal({ apiSecretKey: emu.secret, apiUrl: emu.apiUrl, retries: 0 })
const app = await startApp(t, capture, [
  { cognito, authsignal, routes: { remove: { requireChallenge: false, lockWaitMs: 5000 } } },
  { cognito, authsignal, prefix: '/stepup' },
  { cognito, authsignal: { client: hosted, timeoutMs: TIMEOUT_MS }, prefix: '/hosted' }
])
const auth = { authorization: `Bearer ${capture.keep(issuer.mint({ sub: ALICE }))}` }
/** A fresh completed removeAuthenticator challenge for Alice, for the step-up route. */
const stepUp = (): Record<string, string> => ({ ...auth, 'x-authsignal-token': capture.keep(emu.completeChallenge(ALICE, 'removeAuthenticator')) })

type Route = 'token' | 'prebuilt-ui' | 'list' | 'delete' | 'delete with step-up' | 'token, host\'s client' | 'list, host\'s client'
const requests: Record<Route, { method: string, path: string, ok: number, headers?: () => Record<string, string> }> = {
  token: { method: 'POST', path: '/authenticators/token', ok: 200 },
  'prebuilt-ui': { method: 'POST', path: '/authenticators/prebuilt-ui', ok: 200 },
  list: { method: 'GET', path: '/authenticators', ok: 200 },
  delete: { method: 'DELETE', path: '/authenticators/own1', ok: 204 },
  'delete with step-up': { method: 'DELETE', path: '/stepup/own1', ok: 204, headers: stepUp },
  'token, host\'s client': { method: 'POST', path: '/hosted/token', ok: 200 },
  'list, host\'s client': { method: 'GET', path: '/hosted', ok: 200 }
}
const call = async (route: Route): Promise<Answer> => send(app, { method: requests[route].method, path: requests[route].path, headers: requests[route].headers?.() ?? auth })

interface Row {
  name: string
  route: Route
  fault: EmulatorFault
  /** Which upstream call the fault hits (default: every call of the route). */
  on?: RegExp
  status: number
  code?: string
  /** Answered no sooner than this (the deadline really waited). */
  minMs?: number
}

const ENROLLED = '2026-01-01T00:00:00.000Z'
const LIST_CALL = /\/authenticators$/
const DELETE_CALL = /\/authenticators\/[^/]+$/
const VALIDATE_CALL = /^\/v1\/validate$/

async function check (t: Test, row: Row): Promise<void> {
  emu.reset()
  // Enrolled before Alice's sign-in: the step-up's factor does not postdate it (lib/step-up.ts).
  emu.seedAuthenticator(ALICE, { verificationMethod: 'SMS', userAuthenticatorId: 'own1', createdAt: ENROLLED })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com', userAuthenticatorId: 'own2', createdAt: ENROLLED })
  const headers = requests[row.route].headers?.() // before the fault: a challenge is completed without any call
  emu.setFault(row.fault, { path: row.on })
  const res = await send(app, { method: requests[row.route].method, path: requests[row.route].path, headers: headers ?? auth })
  t.equal(res.status, row.status, `${row.name}: status`)
  if (row.code !== undefined) t.equal(res.json()?.code, row.code, `${row.name}: code`)
  t.ok(res.ms < TIMEOUT_MS + SLACK_MS && res.ms >= (row.minMs ?? 0) - 20, `${row.name}: answered in ${Math.round(res.ms)} ms`)
  const paths = emu.requests.map(r => `${r.method} ${r.path}`)
  // The step-up validation names its user in the body, every other call in the path.
  const forAlice = (r: typeof emu.requests[number]): boolean => r.path.startsWith(`/v1/users/${ALICE}/`) || (r.path === '/v1/validate' && (r.body as { userId?: unknown }).userId === ALICE)
  t.ok(emu.requests.every(forAlice), `${row.name}: Authsignal saw only calls for Alice`)
  t.equal(new Set(paths).size, paths.length, `${row.name}: no call was sent twice`)
  if (row.route.startsWith('delete') && row.status !== 204) t.equal(emu.authenticators(ALICE).length, 2, `${row.name}: nothing was deleted`)
  emu.setFault(null)
  if (emu.authenticators(ALICE).length < 2) emu.seedAuthenticator(ALICE, { verificationMethod: 'SMS', userAuthenticatorId: 'own1', createdAt: ENROLLED })
  t.equal((await call(row.route)).status, requests[row.route].ok, `${row.name}: the next good request succeeds`)
}

t.test('Authsignal faults on every route', async t => {
  const timeout = { status: 504, code: 'FST_AUTHSIGNAL_TIMEOUT', minMs: TIMEOUT_MS }
  const upstream = { status: 502, code: 'FST_AUTHSIGNAL_UPSTREAM_ERROR' }
  const bad = { status: 502, code: 'FST_AUTHSIGNAL_BAD_RESPONSE' }
  const unreachable = { status: 502, code: 'FST_AUTHSIGNAL_UNREACHABLE' }
  const limited = { status: 503, code: 'FST_AUTHSIGNAL_RATE_LIMITED' }
  const rows: Row[] = [
    { name: 'token: just under the timeout', route: 'token', fault: { kind: 'latency', ms: TIMEOUT_MS - 200 }, status: 200 },
    { name: 'token: just over the timeout', route: 'token', fault: { kind: 'latency', ms: TIMEOUT_MS + 200 }, ...timeout },
    { name: 'list: just under the timeout', route: 'list', fault: { kind: 'latency', ms: TIMEOUT_MS - 200 }, status: 200 },
    { name: 'list: just over the timeout', route: 'list', fault: { kind: 'latency', ms: TIMEOUT_MS + 200 }, ...timeout },
    { name: 'delete: slow list then slow delete, each under the timeout', route: 'delete', fault: { kind: 'latency', ms: TIMEOUT_MS - 200 }, status: 204 },
    { name: 'token: hangs', route: 'token', fault: { kind: 'hang' }, ...timeout },
    { name: 'prebuilt-ui: hangs', route: 'prebuilt-ui', fault: { kind: 'hang' }, ...timeout },
    { name: 'list: hangs', route: 'list', fault: { kind: 'hang' }, ...timeout },
    { name: 'delete: the delete call hangs', route: 'delete', fault: { kind: 'hang' }, on: DELETE_CALL, ...timeout },
    { name: 'token: resets mid-answer', route: 'token', fault: { kind: 'reset' }, ...unreachable },
    { name: 'list: resets mid-answer', route: 'list', fault: { kind: 'reset' }, ...unreachable },
    { name: 'delete: the delete call resets', route: 'delete', fault: { kind: 'reset' }, on: DELETE_CALL, ...unreachable },
    { name: 'token: 400', route: 'token', fault: { kind: 'status', status: 400 }, ...upstream },
    { name: 'token: 401 (our secret refused: not the user\'s fault)', route: 'token', fault: { kind: 'status', status: 401 }, ...upstream },
    { name: 'list: 403', route: 'list', fault: { kind: 'status', status: 403 }, ...upstream },
    { name: 'list: 404', route: 'list', fault: { kind: 'status', status: 404 }, ...upstream },
    { name: 'delete: 409 on the delete call', route: 'delete', fault: { kind: 'status', status: 409 }, on: DELETE_CALL, ...upstream },
    { name: 'prebuilt-ui: 422', route: 'prebuilt-ui', fault: { kind: 'status', status: 422 }, ...upstream },
    { name: 'token: 500', route: 'token', fault: { kind: 'status', status: 500 }, ...upstream },
    { name: 'list: 502', route: 'list', fault: { kind: 'status', status: 502 }, ...upstream },
    { name: 'delete: 503 on the ownership list', route: 'delete', fault: { kind: 'status', status: 503 }, on: LIST_CALL, ...upstream },
    { name: 'token: 429', route: 'token', fault: { kind: 'status', status: 429 }, ...limited },
    { name: 'list: 429 with an empty body', route: 'list', fault: { kind: 'status', status: 429, body: '' }, ...limited },
    { name: 'delete: 429 on the delete call', route: 'delete', fault: { kind: 'status', status: 429 }, on: DELETE_CALL, ...limited },
    { name: 'token: an HTML page with 200', route: 'token', fault: { kind: 'garbage' }, ...bad },
    { name: 'list: an HTML page with 200', route: 'list', fault: { kind: 'garbage' }, ...bad },
    { name: 'prebuilt-ui: JSON labelled text/plain', route: 'prebuilt-ui', fault: { kind: 'wrongContentType' }, ...bad },
    { name: 'list: JSON labelled text/plain', route: 'list', fault: { kind: 'wrongContentType' }, ...bad },
    { name: 'token: 2 MiB body', route: 'token', fault: { kind: 'huge', bytes: 2 * 1024 * 1024 }, ...bad },
    { name: 'list: 2 MiB body', route: 'list', fault: { kind: 'huge', bytes: 2 * 1024 * 1024 }, ...bad },
    { name: 'delete: an error body with 200 on the ownership list', route: 'delete', fault: { kind: 'status', status: 200, body: { error: 'x' } }, on: LIST_CALL, ...bad },
    { name: 'delete: the ownership list hangs', route: 'delete', fault: { kind: 'hang' }, on: LIST_CALL, ...timeout },
    { name: 'delete: 500 on the delete call', route: 'delete', fault: { kind: 'status', status: 500 }, on: DELETE_CALL, ...upstream },
    { name: 'delete with step-up: the validation hangs', route: 'delete with step-up', fault: { kind: 'hang' }, on: VALIDATE_CALL, ...timeout },
    { name: 'delete with step-up: the validation answers 500', route: 'delete with step-up', fault: { kind: 'status', status: 500 }, on: VALIDATE_CALL, ...upstream },
    { name: 'delete with step-up: the validation answers {}', route: 'delete with step-up', fault: { kind: 'status', status: 200, body: {} }, on: VALIDATE_CALL, ...bad },
    { name: 'token, host\'s client: hangs (still bounded)', route: 'token, host\'s client', fault: { kind: 'hang' }, ...timeout },
    { name: 'list, host\'s client: 500', route: 'list, host\'s client', fault: { kind: 'status', status: 500 }, ...upstream },
    // A 200 of the wrong shape, on every route.
    ...([
      ['token', {}], ['token', { token: '' }], ['prebuilt-ui', { token: 'x' }], ['prebuilt-ui', { url: '' }], ['list', {}], ['list', null],
      ['list', [{ verificationMethod: 'SMS', createdAt: '2026-01-01T00:00:00Z' }]], ['list', ['pk-1']],
      ['list', [{ userAuthenticatorId: 'a', verificationMethod: 'EMAIL_OTP', createdAt: '2026-01-01T00:00:00Z', email: 42 }]],
      ['delete', {}]
    ] as Array<[Route, unknown]>).map(([route, body]): Row => ({
      name: `${route}: 200 with ${JSON.stringify(body)}`, route, fault: { kind: 'status', status: 200, body }, ...(route === 'delete' && { on: LIST_CALL }), ...bad
    }))
  ]
  for (const row of rows) await check(t, row)
})

t.test('Authsignal refuses the connection: 502 FST_AUTHSIGNAL_UNREACHABLE at once, on every route', async t => {
  const refused = await startApp(t, capture, [{ cognito, authsignal: { ...authsignal, apiUrl: `http://127.0.0.1:${await closedPort()}/v1` } }])
  for (const route of ['token', 'prebuilt-ui', 'list', 'delete'] as const) {
    const res = await send(refused, { method: requests[route].method, path: requests[route].path, headers: auth })
    t.equal(res.status, 502, `${route}: status`)
    t.equal(res.json()?.code, 'FST_AUTHSIGNAL_UNREACHABLE', `${route}: code`)
    t.ok(res.ms < TIMEOUT_MS + SLACK_MS, `${route}: answered in ${Math.round(res.ms)} ms`)
  }
})

t.test('JWKS faults: 503 within the JWKS timeout, no Authsignal call, healthy once the JWKS is back', async t => {
  const jwks = await startCognitoIssuer()
  t.teardown(() => jwks.close())
  const jwksApp = await startApp(t, capture, [{
    cognito: { userPoolId: jwks.userPoolId, clientId: jwks.clientId, issuer: jwks.issuer, jwksUri: jwks.jwksUri, jwksTimeoutMs: JWKS_TIMEOUT_MS, jwksPenaltyMs: 0, tokenCacheSize: 0 },
    authsignal
  }])
  const oldKeyToken = capture.keep(jwks.mint({ sub: ALICE }))
  const rows: Array<{ name: string, fault: JwksFault, status: number, code?: string, minMs?: number }> = [
    { name: 'slow, under the timeout', fault: { kind: 'latency', ms: JWKS_TIMEOUT_MS - 200 }, status: 200 },
    { name: 'slow, over the timeout', fault: { kind: 'latency', ms: JWKS_TIMEOUT_MS + 300 }, status: 503, code: 'FST_COGNITO_JWKS_UNAVAILABLE', minMs: JWKS_TIMEOUT_MS },
    { name: 'hangs', fault: { kind: 'hang' }, status: 503, code: 'FST_COGNITO_JWKS_UNAVAILABLE', minMs: JWKS_TIMEOUT_MS },
    { name: 'answers 500', fault: { kind: 'status', status: 500 }, status: 503, code: 'FST_COGNITO_JWKS_UNAVAILABLE' },
    { name: 'answers invalid JSON', fault: { kind: 'invalidJson' }, status: 503, code: 'FST_COGNITO_JWKS_UNAVAILABLE' },
    { name: 'answers an empty key set', fault: { kind: 'emptyKeys' }, status: 503, code: 'FST_COGNITO_JWKS_UNAVAILABLE' }
  ]
  for (const row of rows) {
    // A key the app has never seen, so the row's token needs the JWKS.
    jwks.rotate()
    const token = capture.keep(jwks.mint({ sub: ALICE }))
    emu.reset()
    jwks.setFault(row.fault)
    const res = await send(jwksApp, { path: '/authenticators', headers: { authorization: `Bearer ${token}` } })
    t.equal(res.status, row.status, `${row.name}: status`)
    if (row.code !== undefined) t.equal(res.json()?.code, row.code, `${row.name}: code`)
    t.ok(res.ms < JWKS_TIMEOUT_MS + SLACK_MS && res.ms >= (row.minMs ?? 0) - 20, `${row.name}: answered in ${Math.round(res.ms)} ms`)
    t.same(emu.requests.map(r => r.path), row.status === 200 ? [`/v1/users/${ALICE}/authenticators`] : [], `${row.name}: Authsignal record`)
    if (row.status !== 200) {
      const stale = await send(jwksApp, { path: '/authenticators', headers: { authorization: `Bearer ${oldKeyToken}` } })
      t.equal(stale.status, 200, `${row.name}: a token of a key already held still passes during the outage`)
    }
    jwks.setFault(null)
    t.equal((await send(jwksApp, { path: '/authenticators', headers: { authorization: `Bearer ${token}` } })).status, 200, `${row.name}: the same token passes once the JWKS is back`)
  }
})

t.test('key rotation during traffic: no 5xx, old-key tokens keep passing, new-key tokens pass after one refetch window', async t => {
  const PENALTY_MS = 200
  const pool = await startCognitoIssuer()
  t.teardown(() => pool.close())
  const rotating = await startApp(t, capture, [{
    cognito: { userPoolId: pool.userPoolId, clientId: pool.clientId, issuer: pool.issuer, jwksUri: pool.jwksUri, jwksPenaltyMs: PENALTY_MS, tokenCacheSize: 0 },
    authsignal
  }])
  // Each JWKS answer takes a while, so refetches are in flight while requests keep arriving.
  pool.setFault({ kind: 'latency', ms: 50 })
  const oldToken = capture.keep(pool.mint({ sub: ALICE }))
  const fetchesBefore = pool.jwksRequests
  const started = Date.now()
  const answers: Array<{ key: 'old' | 'new', res: Answer }> = []
  let newToken = ''
  for (let wave = 0; wave < 16; wave++) {
    if (wave === 4) newToken = capture.keep((pool.rotate(), pool.mint({ sub: ALICE })))
    const wave_ = Array.from({ length: 20 }, (_, i) => {
      const key = newToken !== '' && i % 2 === 0 ? 'new' as const : 'old' as const
      return send(rotating, { path: '/authenticators', headers: { authorization: `Bearer ${key === 'new' ? newToken : oldToken}` } }).then(res => ({ key, res }))
    })
    answers.push(...await Promise.all(wave_))
  }
  await new Promise(resolve => setTimeout(resolve, PENALTY_MS + 50))
  const after = await send(rotating, { path: '/authenticators', headers: { authorization: `Bearer ${newToken}` } })

  t.equal(answers.length, 320)
  t.same(answers.filter(a => a.res.status >= 500).map(a => a.res.body), [], 'no 5xx')
  t.ok(answers.filter(a => a.key === 'old').every(a => a.res.status === 200), 'every old-key token passed')
  t.ok(answers.filter(a => a.key === 'new').every(a => a.res.status === 200 || a.res.json()?.code === 'FST_COGNITO_TOKEN_UNKNOWN_KEY'), 'a new-key token is a 200, or a 401 unknown kid inside a refetch window')
  t.equal(after.status, 200, 'after the window, the new-key token passes')
  const windows = Math.ceil((Date.now() - started) / PENALTY_MS) + 1
  t.ok(pool.jwksRequests - fetchesBefore <= windows, `${pool.jwksRequests - fetchesBefore} JWKS fetches in ${windows} penalty windows`)
})

t.test('log capture of this suite: no API secret, bearer token or Authsignal token in any line', async t => {
  assertNothingLeaked(t, capture, { lines: 500, secrets: 10 })
})
