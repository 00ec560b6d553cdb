// Row 5, in a fresh process: microseconds per uncached verification.
// Method: `app.inject` of the protected route with distinct tokens, minus `app.inject` of a bare route in
// the same app with the same header, run back to back. The floor is one `crypto.verify('sha256', ...)` per
// token on the same public key (inputs pre-split). Each is timed in batches of BATCH operations on the
// process's CPU time (process.cpuUsage), not the wall clock: on a busy 2-core machine the wall clock also
// counts the time other processes held the core. The best batch of each is kept; batches are interleaved.
import { createPublicKey, hash, verify, type JsonWebKey, type KeyObject } from 'node:crypto'
import { Socket } from 'node:net'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { JwtRsaVerifier } from 'aws-jwt-verify'
import type { FastifyInstance } from 'fastify'
import { readBearerToken, UnverifiedToken } from '../lib/cognito/bearer-token.js'
import { VerifiedTokenCache } from '../lib/cognito/token-cache.js'
import { assertCognitoClaims } from '../lib/cognito/claims.js'
import { SharedValues, toVerifiedUser, type VerifiedUser } from '../lib/cognito/user.js'
import { resolveOptions, type ResolvedPool } from '../lib/options/index.js'
import { baselineApp, cacheStats, pluginApp, staticKeyJwtApp, type IssuerInfo } from './apps.js'
import { serveParent } from './ipc.js'

export interface InProcessArgs { issuer: IssuerInfo, tokens: string[], repeated: string, rounds: number, tokenCacheSize: number }
type Measure = 'pluginHook' | 'bareInject' | 'pluginInject' | 'pluginCachedInject' | 'baselineBareInject' | 'baselineInject' |
  'staticBareInject' | 'staticInject' | 'cryptoVerify' | 'awsJwtVerify' | 'splitHeader' | 'splitPayload' | 'splitSignature' | 'splitClaims' | 'splitCacheKey' |
  'hitHook' | 'hitConnection' | 'hitHeader' | 'hitDigest' | 'hitLru' | 'hitAccept'
export interface InProcessResult {
  /** Best microseconds of process CPU time per operation, per measurement. */
  us: Record<Measure, number>
  /** The same on the wall clock (best batch): closer to latency, but skewed by other processes. */
  wallUs: Record<Measure, number>
  cacheHits: number
  tokens: number
  batch: number
}

const BATCH = 500
const MEASURES: Measure[] = [
  'pluginHook', 'bareInject', 'pluginInject', 'pluginCachedInject', 'baselineBareInject', 'baselineInject', 'staticBareInject', 'staticInject', 'cryptoVerify', 'awsJwtVerify',
  'splitHeader', 'splitPayload', 'splitSignature', 'splitClaims', 'splitCacheKey', 'hitHook', 'hitConnection', 'hitHeader', 'hitDigest', 'hitLru', 'hitAccept'
]

interface Clock { cpu: number, wall: number }

function now (): Clock {
  const { user, system } = process.cpuUsage()
  return { cpu: user + system, wall: performance.now() * 1000 }
}

function perOp (start: Clock, count: number): Clock {
  const end = now()
  return { cpu: (end.cpu - start.cpu) / count, wall: (end.wall - start.wall) / count }
}

async function injectBatch (app: FastifyInstance, url: string, tokens: string[]): Promise<Clock> {
  const start = now()
  for (let i = 0; i < tokens.length; i++) {
    // A loop of awaited injects that never reaches the event loop's check phase keeps every request alive
    // (heap grows ~10 KB per inject and timings degrade): let it turn now and then, in every row alike.
    if (i % 100 === 0) await yieldToLoop()
    const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tokens[i] as string}` } })
    if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}: ${res.body}`)
  }
  return perOp(start, tokens.length)
}

function syncBatch (from: number, count: number, fn: (i: number) => void): Clock {
  const start = now()
  for (let i = from; i < from + count; i++) fn(i)
  return perOp(start, count)
}

async function run ({ issuer, tokens, repeated, rounds, tokenCacheSize }: InProcessArgs): Promise<InProcessResult> {
  // A cache smaller than the token list, walked in order: every lookup misses (the counter proves it),
  // yet the miss path pays its real cost (lookup + insert), which `tokenCacheSize: 0` would hide.
  const plugin = await pluginApp({ issuer, tokenCacheSize })
  // Row 5 itself: the plugin's verification alone, `app.authenticate` called on one request per token
  // inside a handler (no Fastify hook dispatch, no inject per token in the timing). Its own app, so its
  // cache does not warm the one row 5e reads.
  const hookApp = await pluginApp({ issuer, tokenCacheSize })
  // Called as Fastify calls an onRequest hook (with `done`: synchronous once the key is held), on headers
  // built beforehand as flat strings, as Node's HTTP parser hands them over.
  let hookHeaders: string[] = []
  hookApp.get('/verify-loop', async (request, reply) => {
    const done = (err?: Error): void => { if (err !== undefined) throw err }
    for (const header of hookHeaders) {
      request.headers.authorization = header
      hookApp.authenticate(request, reply, done)
    }
    return 'ok'
  })
  // Row 2c: a cache hit, as an onRequest hook runs it (synchronous, through `done`), and its parts (2s) on
  // the same request: the header read, the digest, the LRU lookup (with its exp check), the request property.
  const hits: Partial<Record<Measure, Clock>> = {}
  hookApp.get('/hit-loop', async (request, reply) => {
    request.headers.authorization = `Bearer ${repeated}`
    const done = (err?: Error): void => { if (err !== undefined) throw err }
    const cache = new VerifiedTokenCache(tokenCacheSize)
    const key = cache.keyOf(repeated)
    hookApp.authenticate(request, reply, done)
    const user = request.user as VerifiedUser
    cache.set(key, user)
    const target = request as unknown as Record<string, unknown>
    hits.hitHook = syncBatch(0, BATCH, () => { hookApp.authenticate(request, reply, done) })
    // The same request on a real connection, whose last token it is (inject's mock socket is never remembered).
    const raw = request.raw as unknown as { socket: unknown }
    const mock = raw.socket
    raw.socket = new Socket()
    hookApp.authenticate(request, reply, done)
    hits.hitConnection = syncBatch(0, BATCH, () => { hookApp.authenticate(request, reply, done) })
    raw.socket = mock
    hits.hitHeader = syncBatch(0, BATCH, () => { readBearerToken(request) })
    hits.hitDigest = syncBatch(0, BATCH, () => { cache.keyOf(repeated) })
    hits.hitLru = syncBatch(0, BATCH, () => { cache.get(key) })
    hits.hitAccept = syncBatch(0, BATCH, (i) => { target.user = i === -1 ? undefined : user })
    return 'ok'
  })
  const baseline = await baselineApp()
  const jwks = await (await fetch(issuer.jwksUri)).json() as { keys: Array<JsonWebKey & { kid: string }> }
  const kid = (JSON.parse(Buffer.from(tokens[0]!.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid
  const publicKey: KeyObject = createPublicKey({ key: jwks.keys.find(k => k.kid === kid)!, format: 'jwk' })
  const staticKey = await staticKeyJwtApp(publicKey.export({ type: 'spki', format: 'pem' }) as string)
  await Promise.all([plugin.ready(), hookApp.ready(), baseline.ready(), staticKey.ready()])
  const headers = tokens.map(t => Buffer.from(`Bearer ${t}`, 'latin1').toString('latin1'))
  const inputs = tokens.map(t => Buffer.from(t.slice(0, t.lastIndexOf('.'))))
  const signatures = tokens.map(t => Buffer.from(t.slice(t.lastIndexOf('.') + 1), 'base64url'))
  // aws-jwt-verify (the design's reference) with its JWKS cached: its uncached verification cost.
  const aws = JwtRsaVerifier.create({ issuer: issuer.issuer, audience: null, jwksUri: issuer.jwksUri })
  aws.cacheJwks(jwks as unknown as Parameters<typeof aws.cacheJwks>[0])
  // Row 5's split: the steps of one uncached verification, each alone (lib/cognito/verifier.ts runs them in turn).
  const pool = resolveOptions({ cognito: { ...issuer }, authsignal: { apiSecretKey: 'x' } }).pools[0] as ResolvedPool
  const parsed = tokens.map(t => new UnverifiedToken(t))
  const payloads = parsed.map(t => t.payload)
  const shared = new SharedValues()

  const best = Object.fromEntries(MEASURES.map(m => [m, Infinity])) as Record<Measure, number>
  const bestWall = { ...best }
  const keep = (name: Measure, t: Clock): void => {
    best[name] = Math.min(best[name], t.cpu)
    bestWall[name] = Math.min(bestWall[name], t.wall)
  }
  const repeatedBatch = new Array<string>(BATCH).fill(repeated)
  let cacheHits = 0
  for (let round = 0; round < rounds; round++) {
    for (let from = 0; from + BATCH <= tokens.length; from += BATCH) {
      const batch = tokens.slice(from, from + BATCH)
      hookHeaders = headers.slice(from, from + BATCH)
      const hitsBefore = cacheStats.hits
      const hookStart = now()
      await hookApp.inject({ method: 'GET', url: '/verify-loop' })
      keep('pluginHook', perOp(hookStart, batch.length))
      keep('bareInject', await injectBatch(plugin, '/hello', batch))
      keep('pluginInject', await injectBatch(plugin, '/me', batch))
      cacheHits += cacheStats.hits - hitsBefore
      await hookApp.inject({ method: 'GET', url: '/hit-loop' })
      for (const [name, t] of Object.entries(hits)) keep(name as Measure, t)
      keep('pluginCachedInject', await injectBatch(plugin, '/me', repeatedBatch))
      keep('baselineBareInject', await injectBatch(baseline, '/hello', batch))
      keep('baselineInject', await injectBatch(baseline, '/me', batch))
      keep('staticBareInject', await injectBatch(staticKey, '/hello', batch))
      keep('staticInject', await injectBatch(staticKey, '/me', batch))
      keep('cryptoVerify', syncBatch(from, BATCH, (i) => {
        if (!verify('sha256', inputs[i] as Buffer, publicKey, signatures[i] as Buffer)) throw new Error('bad signature')
      }))
      keep('awsJwtVerify', syncBatch(from, BATCH, (i) => { aws.verifySync(tokens[i] as string) }))
      keep('splitHeader', syncBatch(from, BATCH, (i) => { parsed[i] = new UnverifiedToken(tokens[i] as string) }))
      keep('splitPayload', syncBatch(from, BATCH, (i) => { payloads[i] = (parsed[i] as UnverifiedToken).payload }))
      keep('splitSignature', syncBatch(from, BATCH, (i) => { if (!(parsed[i] as UnverifiedToken).signedBy(publicKey)) throw new Error('bad signature') }))
      keep('splitClaims', syncBatch(from, BATCH, (i) => { toVerifiedUser(assertCognitoClaims(payloads[i] as Record<string, unknown>, pool), pool, shared) }))
      keep('splitCacheKey', syncBatch(from, BATCH, (i) => { hash('sha256', tokens[i] as string, 'binary') }))
    }
  }
  await Promise.all([plugin.close(), hookApp.close(), baseline.close(), staticKey.close()])
  return { us: best, wallUs: bestWall, cacheHits, tokens: tokens.length, batch: BATCH }
}

serveParent({}, { run: (args) => run(args as InProcessArgs) }, async () => {})
