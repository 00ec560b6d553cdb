// Row 7, in a fresh process (run with --expose-gc): memory of the verified-token cache after a
// million distinct ~1 KB tokens with realistic Cognito access-token claims.
import { randomBytes, randomUUID } from 'node:crypto'
import { VerifiedTokenCache } from '../lib/cognito/token-cache.js'
import { SharedValues, toVerifiedUser, type VerifiedUser } from '../lib/cognito/user.js'
import { resolveOptions, type ResolvedPool } from '../lib/options/index.js'
import { serveParent } from './ipc.js'

export interface CacheRssResult {
  tokens: number
  maxEntries: number
  size: number
  tokenChars: number
  mb: { rssBefore: number, rssFull: number, rssAfter: number, heapBefore: number, heapFull: number, heapAfter: number }
  seconds: number
}

const MB = 1024 * 1024
const header = Buffer.from(JSON.stringify({ kid: randomUUID(), alg: 'RS256' })).toString('base64url')
// One random "signature" block, sliced at a varying offset: distinct tokens without 1M RSA signatures.
const signaturePool = randomBytes(64 * 1024).toString('base64url')

const pool = resolveOptions({ cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: '4pq1abcdefghijklmnopqrstuv' }, authsignal: { apiSecretKey: 'x' } }).pools[0] as ResolvedPool
const shared = new SharedValues()

// As the plugin does after verifying: the payload parsed from the token, kept as the frozen user object.
function nextToken (i: number): { token: string, claims: VerifiedUser } {
  const now = Math.floor(Date.now() / 1000)
  const sub = randomUUID()
  const claims = {
    sub,
    iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123',
    client_id: '4pq1abcdefghijklmnopqrstuv',
    origin_jti: randomUUID(),
    event_id: randomUUID(),
    token_use: 'access',
    scope: 'aws.cognito.signin.user.admin',
    auth_time: now,
    exp: now + 3600,
    iat: now,
    jti: randomUUID(),
    username: sub,
    'cognito:groups': ['users']
  }
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url')
  const offset = (i * 7919) % (signaturePool.length - 342)
  const token = `${header}.${payload}.${signaturePool.slice(offset, offset + 342)}`
  return { token, claims: toVerifiedUser(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), pool, shared) }
}

function memory (): { rss: number, heap: number } {
  globalThis.gc?.()
  const m = process.memoryUsage()
  return { rss: m.rss / MB, heap: m.heapUsed / MB }
}

export interface CacheRssArgs {
  tokens: number
  maxEntries: number
  /** The same token stream with the cache turned off: what the stream alone does to RSS. */
  control: boolean
}

function run ({ tokens, maxEntries, control }: CacheRssArgs): CacheRssResult {
  if (globalThis.gc === undefined) throw new Error('run with --expose-gc')
  const start = performance.now()
  const cache = new VerifiedTokenCache(control ? 0 : maxEntries)
  const before = memory()
  let tokenChars = 0
  for (let i = 0; i < maxEntries; i++) {
    const { token, claims } = nextToken(i)
    tokenChars = token.length
    // As the plugin does on a miss: look up, then insert.
    if (cache.get(cache.keyOf(token)) === undefined) cache.set(cache.keyOf(token), claims)
  }
  const full = memory()
  for (let i = maxEntries; i < tokens; i++) {
    const { token, claims } = nextToken(i)
    if (cache.get(cache.keyOf(token)) === undefined) cache.set(cache.keyOf(token), claims)
  }
  const after = memory()
  return {
    tokens,
    maxEntries,
    size: cache.size,
    tokenChars,
    mb: { rssBefore: before.rss, rssFull: full.rss, rssAfter: after.rss, heapBefore: before.heap, heapFull: full.heap, heapAfter: after.heap },
    seconds: (performance.now() - start) / 1000
  }
}

serveParent({}, { run: (args) => run(args as CacheRssArgs) }, async () => {})
