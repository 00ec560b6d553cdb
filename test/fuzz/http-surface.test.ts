// Property-based tests over the plugin's whole HTTP surface (issue 23 item 7): every route the app mounts,
// found by an `onRoute` hook, gets generated requests (test/fuzz/arbitraries.ts) over real HTTP, and every
// answer is held to the rules of test/fuzz/surface.ts. Seeded and bounded: FUZZ_SEED and FUZZ_RUNS (runs
// per route; route i runs seed + i) change them; `npm run test:fuzz` runs a larger budget. A failure prints the
// seed, the path to replay it and the shrunk request (FUZZ_SHRINK=0: the first failing one as drawn). FUZZ_CODES=1
// counts the answers by status and code rather than status alone.
import fc from 'fast-check'
import t from 'tap'
import { requestCase } from './arbitraries.js'
import { assertTrailingLogClean, runCase, startWorld, type Outcome } from './surface.js'

const seed = Number(process.env.FUZZ_SEED ?? 20261204)
const runsPerRoute = Number(process.env.FUZZ_RUNS ?? 40)
// Short, so a hanging Authsignal costs little per case, yet long enough for the emulator on a busy 2-core machine
// (a 504 without an outage is a failure).
const world = await startWorld(t, 1500)
t.comment(`fuzz: seed ${seed}, ${runsPerRoute} runs per route (FUZZ_SEED, FUZZ_RUNS)`)
if (world.unknown.length > 0) t.comment(`fuzz: this build does not know ${world.unknown.join(', ')}: those routes are not mounted`)

const outcomes: Outcome[] = []
for (const [index, route] of world.routes.entries()) {
  t.test(`${route.method} ${route.url}: every generated request keeps the rules`, async t => {
    let cases = 0
    await fc.assert(fc.asyncProperty(requestCase(route.params), async c => {
      cases++
      outcomes.push(await runCase(world, route, c))
    }), { seed: seed + index, numRuns: runsPerRoute, endOnFailure: process.env.FUZZ_SHRINK === '0' })
    t.comment(`${cases} cases`)
    t.pass(`${cases} requests`)
  })
}

t.test('the generated requests reached every route and the answers that matter', async t => {
  t.ok(world.routes.length >= 6, `${world.routes.length} routes found: ${world.routes.map(r => `${r.method} ${r.url}`).join(', ')}`)
  const byRoute = new Map<string, Map<string, number>>()
  for (const o of outcomes) {
    const key = `${o.route.method} ${o.route.url}`
    const counts = byRoute.get(key) ?? new Map<string, number>()
    const answer = process.env.FUZZ_CODES === '1' ? `${o.status} ${o.code ?? ''}` : String(o.status)
    counts.set(answer, (counts.get(answer) ?? 0) + 1)
    byRoute.set(key, counts)
  }
  for (const [route, counts] of byRoute) t.comment(`${route}: ${[...counts].sort((a, b) => a[0].localeCompare(b[0])).map(([s, n]) => `${s}×${n}`).join(' ')}`)
  const statuses = new Set(outcomes.map(o => o.status))
  // Without successes and each kind of refusal the properties would hold vacuously.
  for (const status of [200, 204, 400, 401, 403, 404]) t.ok(statuses.has(status), `some request answered ${status}`)
  t.comment(`fuzz: ${outcomes.length} cases in all`)
  await world.app.close()
  assertTrailingLogClean(world)
  t.pass('the log written after the last answer holds no credential either')
})
