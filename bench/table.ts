// The one table printed at the end of `npm run bench`, and the notes that say how each row was measured.
import { cpus, loadavg } from 'node:os'

export interface Row {
  id: string
  what: string
  value: string
  /** Latency p99 in ms (HTTP rows). */
  p99?: number
  versus: string
  target?: string
  pass?: boolean
}

export interface ReportMeta {
  rounds: number
  seconds: number
  connections: number
  tokens: number
  tokenChars: number
  elapsed: string
  /** 1-minute load average when the run began: other processes on this machine skew every number. */
  loadBefore: string
}

export function printReport (rows: Row[], meta: ReportMeta): void {
  const cells = rows.map(r => [
    r.id,
    r.what,
    r.value,
    r.p99 === undefined || Number.isNaN(r.p99) ? '' : `${r.p99}`,
    r.versus,
    r.target ?? '',
    r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL'
  ])
  const head = ['#', 'measurement', 'value', 'p99 ms', 'ratio / detail', 'target', '']
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map(c => (c[i] as string).length)))
  const line = (c: string[]): string => c.map((v, i) => i === 2 || i === 3 ? v.padStart(widths[i] as number) : v.padEnd(widths[i] as number)).join('  ').trimEnd()
  const out = [
    '',
    `fastify-authsignal-cognito benchmark — node ${process.version}, ${cpus().length} CPUs, load average ${meta.loadBefore} before / ${loadavg()[0]!.toFixed(1)} after, ${meta.connections} connections, ` +
      `best of ${meta.rounds} interleaved rounds x ${meta.seconds} s, ${meta.tokens.toLocaleString('en-US')} distinct ${meta.tokenChars}-char tokens, total ${meta.elapsed}`,
    '',
    line(head),
    line(widths.map(w => '-'.repeat(w))),
    ...cells.map(line),
    '',
    'How:',
    '- HTTP rows: autocannon in the parent process, each app in its own child process (127.0.0.1, port 0); req/s counts 2xx answers only.',
    '- Row 1h sends the same bytes as row 2 to the bare route: row 2 / row 1h is the plugin\'s own cost, row 2 / row 1 also counts parsing a 1 KB header.',
    '- Row 3 cycles the distinct tokens in order through one server: with more tokens than twice the 10,000-entry LRU, none is still cached',
    '  when it comes round again (the hit count in the row is read from the server). Row 3r is the same per-request header rebuild',
    '  against the bare route: what autocannon itself reaches when it must build every request.',
    '- Row 4 is the @fastify/jwt + get-jwks README pattern (decode complete, secret -> getJwks.getPublicKey, onRequest jwtVerify);',
    '  it checks the signature and exp only (no iss/token_use/client_id), so it does less than the plugin.',
    '- Row 5: app.authenticate called with `done` once per distinct token on a request inside a handler, on headers built',
    '  beforehand as Node\'s parser hands them over (a 1,000-entry cache walked in order',
    '  by 3,000 tokens, so every lookup misses and pays lookup + insert): header checks, key lookup, RS256, claims, cache insert.',
    '  Rows 5b, 5c, 5e: app.inject of GET /me minus app.inject of GET /hello with the same header in the same app. Timed on the process\'s',
    '  CPU time (all its threads, GC helpers included; the wall clock on a busy machine also counts other processes), in',
    '  interleaved batches of 500, best batch; the wall-clock figure by the same method is shown next to it.',
    '  Floor: crypto.verify(\'sha256\', signingInput, publicKeyObject, signature), same tokens and key, inputs pre-split.',
    '  5c is @fastify/jwt with a static key and no plugin, by the same method: what the plugin builds on. 2c: same method, one repeated token.',
    '  5s times the steps of one uncached verification alone, same method: split and header decode, payload decode, RS256 (the',
    '  segments to bytes and crypto.verify), claim checks (nbf, exp, Cognito\'s) and user object, the cache key (SHA-256 of the token).',
    '  2c calls app.authenticate with a `done` callback on one request with a cached token (as an onRequest hook runs it): first with',
    '  a real socket whose last token it is, then with inject\'s mock socket (never remembered: the digest-keyed cache); 2s times',
    '  the parts of the latter alone on that request (the LRU lookup through the benchmark\'s hit counter).',
    '- Rows 2 and 2p count, on the server, the lookups of the digest-keyed cache during their rounds: the other requests were',
    '  answered by the connection\'s last token. 2p cycles 64 users\' tokens over autocannon\'s connections, as a proxy would.',
    '- Row 6 counts requests to the local issuer\'s JWKS endpoint during the flood (a fetch that misses a kid opens a 10 s penalty window).',
    '- Row 7 feeds VerifiedTokenCache (lib/cognito/token-cache.ts) directly in a fresh process, memory read after a forced GC; 7c runs the',
    '  same token stream without the cache. Judged on the heap after GC (bounded = no more than when first full, +10%); RSS is shown',
    '  but moves by tens of MB between runs because V8 keeps freed pages (a 3M-token run ends no higher than a 250k one).',
    '- Row 8: GET /authenticators through the plugin (autocannon) vs the same process calling @authsignal/node getAuthenticators',
    '  directly with as many calls in flight as autocannon has connections; the emulator runs in its own process. On 2 cores the',
    '  route side also has autocannon on a core. 8c: the plugin\'s own SDK client and deadline wrapper, called in that same way.',
    '- Rows 10: DELETE of an id that is not the user\'s (the lock taken, the list read under it, 404, the lock released), 200 users',
    '  cycled so requests in flight never wait for each other\'s lock, each lock store in its own plugin server: Debian\'s redis-server',
    '  and dynalite (a DynamoDB emulator on LevelDB, much slower than DynamoDB itself) in their own processes on 127.0.0.1.',
    '  10o-10q: one acquire + release on each store, sequential, wall clock, in a fresh process.',
    '- Row 9: examples/lambda.ts bundled as SAM\'s esbuild build does (bundle, cjs, minified), loaded with require under plain node.',
    '- Rows 11: the token route vs a host route on the same server doing app.authenticate + one SDK track. 11r/11b/11p: each',
    '  request removes one passkey (204) of one of 1,500 users (disjoint per row), with the token of its own challenge completed by',
    '  the user\'s email authenticator, on three plugin servers: requireChallenge true (validateChallenge and the action lookup',
    '  before the lock, the single-use record under it); false behind a host preHandler doing what the route\'s step-up did',
    '  before issue "binding" (SDK validateChallenge, then queryUserActions for the factor that completed it); false alone.',
    ''
  ]
  process.stdout.write(out.join('\n') + '\n')
}
