// Concurrency over real HTTP: many parallel removals for one user (the last-authenticator rule holds),
// parallel token issuance (one track each, no mix-up), and a burst of 1,000 mixed good and hostile requests
// at 50 in flight (no 500, every answer the documented one for its kind, the server healthy and its memory
// bounded afterwards).
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import t from 'tap'
import { ALICE, assertNothingLeaked, Capture, send, startSuite, type Answer, type Send } from './helpers.js'

const capture = new Capture()
const { emu, issuer, app } = await startSuite(t, capture, 3000, { routes: { remove: { requireChallenge: false }, prebuiltUi: { allowedRedirectUrls: ['https://app.example/done'] } } })
const bearerOf = (sub: string): Record<string, string> => ({ authorization: `Bearer ${capture.keep(issuer.mint({ sub }))}` })

/** Runs `jobs` with at most `limit` in flight. */
async function pool<T> (jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++
      results[i] = await (jobs[i] as () => Promise<T>)()
    }
  }
  await Promise.all(Array.from({ length: limit }, worker))
  return results
}

t.test('30 parallel deletes of 10 authenticators (each id three times, three tokens of one user): exactly 9 removed, the last one kept', async t => {
  emu.reset()
  const ids = Array.from({ length: 10 }, (_, i) => emu.seedAuthenticator(ALICE, { verificationMethod: 'SMS', userAuthenticatorId: `pk-${i}` }).userAuthenticatorId)
  // A slow listing widens the window in which two removals could both see "more than one left".
  emu.setFault({ kind: 'latency', ms: 5 }, { path: /\/authenticators$/ })
  const tokens = [bearerOf(ALICE), bearerOf(ALICE), bearerOf(ALICE)]

  const answers = await Promise.all(ids.flatMap(id => tokens.map(headers => send(app, { method: 'DELETE', path: `/authenticators/${id}`, headers }))))
  emu.setFault(null)

  const statuses = answers.map(a => a.status)
  t.equal(statuses.filter(s => s === 204).length, 9, 'nine 204')
  t.ok(statuses.every(s => s === 204 || s === 404 || s === 409), `the rest are 404 (already gone) or 409 (last one): ${[...new Set(statuses)].sort().join(', ')}`)
  t.ok(statuses.includes(409), 'the last one was refused at least once')
  t.equal(emu.authenticators(ALICE).length, 1, 'one authenticator is left')
  const deletes = emu.requests.filter(r => r.method === 'DELETE')
  t.equal(deletes.length, 9, 'nine DELETE calls upstream')
  t.equal(new Set(deletes.map(r => r.path)).size, 9, 'each for a different id')
  t.ok(emu.requests.every(r => r.path.startsWith(`/v1/users/${ALICE}/authenticators`)), 'every call under Alice\'s path')
})

t.test('25 parallel POST /token: 25 × 200, 25 distinct Authsignal tokens, 25 track calls for the right user', async t => {
  emu.reset()
  const users = Array.from({ length: 25 }, (_, i) => `user-${String(i).padStart(2, '0')}`)

  const answers = await Promise.all(users.map(sub => send(app, { method: 'POST', path: '/authenticators/token', headers: bearerOf(sub) })))

  t.same(answers.map(a => a.status), users.map(() => 200))
  const tokens = answers.map(a => a.json().authsignalToken as string)
  t.equal(new Set(tokens).size, 25, 'all different')
  // Each user got a token for themselves (the emulator's token names its subject).
  const subjects = tokens.map(token => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).sub)
  t.same(subjects, users, 'no answer went to the wrong user')
  t.same(emu.requests.map(r => `${r.method} ${r.path}`).sort(), users.map(u => `POST /v1/users/${u}/actions/addAuthenticator`), 'one track call per request')
})

t.test('a burst of 1,000 mixed requests at 50 in flight: no 500, every answer as documented, healthy and bounded afterwards', async t => {
  emu.reset()
  setFlagsFromString('--expose-gc')
  const gc = (globalThis.gc ?? runInNewContext('gc')) as () => void
  const users = ['burst-0', 'burst-1', 'burst-2', 'burst-3']
  for (const user of users) {
    emu.seedAuthenticator(user, { verificationMethod: 'SMS' })
    emu.seedAuthenticator(user, { verificationMethod: 'EMAIL_OTP', email: `${user}@example.com` })
  }
  const good = users.map(bearerOf)
  const now = Math.floor(Date.now() / 1000)
  const valid = issuer.mint({ sub: 'burst-0' })
  const bad: Record<string, Record<string, string>> = {
    garbage: { authorization: 'Bearer not-a-jwt' },
    none: {},
    expired: { authorization: `Bearer ${capture.keep(issuer.mint({ sub: 'burst-0', iat: now - 7200, expiresInSec: 3600 }))}` },
    tampered: { authorization: `Bearer ${capture.keep(`${valid.slice(0, -6)}AAAAAA`)}` },
    'unknown kid': { authorization: `Bearer ${capture.keep(issuer.mint({ sub: 'burst-0', header: { kid: 'rotated-away' } }))}` }
  }
  // Kind → the request and the one documented answer; `calls` is how many Authsignal calls it may make.
  const kinds: Array<{ kind: string, req: (i: number) => Send, status: number, calls: number }> = [
    { kind: 'list', req: i => ({ path: '/authenticators', headers: good[i % 4] }), status: 200, calls: 1 },
    { kind: 'token', req: i => ({ method: 'POST', path: '/authenticators/token', headers: good[i % 4] }), status: 200, calls: 1 },
    { kind: 'delete: not owned', req: i => ({ method: 'DELETE', path: `/authenticators/not-${i}`, headers: good[i % 4] }), status: 404, calls: 1 },
    { kind: 'delete: traversal id', req: i => ({ method: 'DELETE', path: `/authenticators/..%2F..%2Fburst-${(i + 1) % 4}%2Fauthenticators%2Fx`, headers: good[i % 4] }), status: 400, calls: 0 },
    { kind: 'delete: 101-character id', req: i => ({ method: 'DELETE', path: `/authenticators/${'a'.repeat(101)}`, headers: good[i % 4] }), status: 414, calls: 0 },
    { kind: 'prebuilt-ui: redirect not allowed', req: i => ({ method: 'POST', path: '/authenticators/prebuilt-ui', headers: { ...good[i % 4], 'content-type': 'application/json' }, body: '{"redirectUrl":"https://evil.example/"}' }), status: 400, calls: 0 },
    ...Object.entries(bad).map(([name, headers]) => ({ kind: `bad token: ${name}`, req: (): Send => ({ path: '/authenticators', headers }), status: 401, calls: 0 }))
  ]
  const plan = Array.from({ length: 1000 }, (_, i) => ({ i, ...(kinds[i % kinds.length] as typeof kinds[number]) }))

  // Warm up (JIT, caches, sockets), then measure.
  await pool(plan.slice(0, 100).map(p => async () => send(app, p.req(p.i))), 50)
  gc()
  const heapBefore = process.memoryUsage().heapUsed
  emu.clearRequests()
  const started = performance.now()
  const answers: Answer[] = await pool(plan.map(p => async () => send(app, p.req(p.i))), 50)
  const elapsed = performance.now() - started

  t.equal(answers.length, 1000)
  t.same(answers.filter(a => a.status >= 500).map(a => a.body), [], 'no 5xx')
  const wrong = plan.filter((p, i) => answers[i]?.status !== p.status).map((p, i) => `${p.kind}: ${answers[i]?.status}`)
  t.same(wrong, [], 'every answer is the documented one for its kind')
  t.equal(emu.requests.length, plan.reduce((sum, p) => sum + p.calls, 0), 'Authsignal calls: exactly one per good request, none for the others')
  t.ok(emu.requests.every(r => users.some(u => r.path.startsWith(`/v1/users/${u}/`))), 'every call under the caller\'s own path')
  const healthy = await send(app, { path: '/authenticators', headers: good[0] })
  t.equal(healthy.status, 200, 'a good request afterwards succeeds')
  emu.clearRequests()
  gc()
  const grownMiB = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024
  t.ok(grownMiB < 32, `heap grew ${grownMiB.toFixed(1)} MiB across 1,000 requests (bound 32 MiB; ${Math.round(elapsed)} ms)`)
})

t.test('log capture of this suite: no API secret, bearer token or Authsignal token in any line', async t => {
  assertNothingLeaked(t, capture, { lines: 2000, secrets: 50 })
})
