// Hostile tokens over real HTTP, beyond the attack corpus (test/token-corpus.test.ts): duplicate JSON keys,
// non-JSON and wrongly counted segments, Bearer spelled every way, several Authorization headers on the
// wire, tokens of another registration, clock skew at the tolerance edges. Every row: the status, the code,
// and the Authsignal record (nothing at all for a refused token; only the token's own user's path otherwise).
import t, { type Test } from 'tap'
import { startAuthsignalEmulator } from '../../lib/testing/authsignal-emulator.js'
import { startCognitoIssuer } from '../../lib/testing/cognito-issuer.js'
import { ALICE, assertNothingLeaked, Capture, earlyInASecond, send, sendRaw, startApp, startKeyServer, type Answer } from './helpers.js'

const POOL_A = 'eu-west-1_PoolAAAA1'
const POOL_B = 'eu-west-1_PoolBBBB2'
const ISSUER_A = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL_A}`
const ISSUER_B = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL_B}`
const TOLERANCE = 5

const capture = new Capture()
const emu = await startAuthsignalEmulator()
t.teardown(() => emu.close())
// Pools A and B share one key set (as two registrations of one signing authority would): only `iss` and
// the client tell their tokens apart. Pool C has keys of its own.
const keys = await startKeyServer(t)
const poolC = await startCognitoIssuer({ userPoolId: 'eu-west-1_PoolCCCC3' })
t.teardown(() => poolC.close())
const authsignal = { apiSecretKey: capture.keep(emu.secret), apiUrl: emu.apiUrl, timeoutMs: 2000 }
const app = await startApp(t, capture, [
  { prefix: '/a/authenticators', cognito: { userPoolId: POOL_A, clientId: 'client-a', issuer: ISSUER_A, jwksUri: keys.jwksUri, clockToleranceSec: TOLERANCE, tokenCacheSize: 0 }, authsignal },
  { prefix: '/b/authenticators', cognito: { userPoolId: POOL_B, clientId: 'client-b', issuer: ISSUER_B, jwksUri: keys.jwksUri }, authsignal },
  { prefix: '/c/authenticators', cognito: { userPoolId: poolC.userPoolId, clientId: poolC.clientId, issuer: poolC.issuer, jwksUri: poolC.jwksUri }, authsignal }
])

const header = `{"alg":"RS256","kid":"${keys.kid}"}`
/** Pool A access-token claims as JSON text; `extra` is appended inside the object (duplicate keys welcome). */
interface ClaimOptions { iat?: number, exp?: number, iss?: string, client?: string }
function claimsA (extra = '', options: ClaimOptions = {}): string {
  const { iat = Math.floor(Date.now() / 1000), iss = ISSUER_A, client = 'client-a' } = options
  const exp = options.exp ?? iat + 3600
  return `{"sub":"${ALICE}","iss":"${iss}","token_use":"access","client_id":"${client}","username":"alice","iat":${iat},"exp":${exp}${extra}}`
}
const tokenA = (extra = '', opts: ClaimOptions = {}): string => capture.keep(keys.signRaw(header, claimsA(extra, opts)))
const good = tokenA()
const [h, p, s] = good.split('.') as [string, string, string]
const b64 = (text: string): string => Buffer.from(text).toString('base64url')
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
/** JSON text with spaces after it, so that its base64url form ends in a group of `n` bytes (1 or 2: stray bits). */
const padded = (json: string, n: 1 | 2): string => `${json}${' '.repeat((3 + n - (json.length % 3)) % 3)}`
/** JSON text whose base64url encoding ends in unused bits, encoded with one of them set: it decodes to the same bytes. */
function strayBits (json: string): string {
  const canonical = b64(json)
  if (canonical.length % 4 === 0) throw new Error('no stray bits: pad the JSON')
  const last = ALPHABET.indexOf(canonical.at(-1) as string)
  const stray = `${canonical.slice(0, -1)}${ALPHABET[last + 1] as string}`
  if (!Buffer.from(stray, 'base64url').equals(Buffer.from(json))) throw new Error('stray bits changed the bytes')
  return stray
}
/** JSON text encoded with + and / rather than - and _ (a run of `?` always encodes a `_`). */
function standardAlphabet (json: string): string {
  const encoded = Buffer.from(json).toString('base64').replace(/=+$/, '')
  if (!/[+/]/.test(encoded)) throw new Error('no + or / in the encoding: add a run of ?')
  return encoded
}

interface Row {
  name: string
  /** GET <prefix>/authenticators with this Authorization header (or these raw header lines). */
  authorization?: string
  headers?: string[]
  raw?: string
  prefix?: '/a' | '/b' | '/c'
  status: number
  code?: string
  /** The user whose path Authsignal may see; undefined: Authsignal must see nothing. */
  user?: string
}

async function check (t: Test, row: Row): Promise<Answer> {
  const from = emu.requests.length
  const path = `${row.prefix ?? '/a'}/authenticators`
  const res = row.raw !== undefined
    ? await sendRaw(app, `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${row.raw}`)
    : await send(app, { path, headers: row.headers ?? (row.authorization === undefined ? {} : { authorization: row.authorization }) })
  t.equal(res.status, row.status, `${row.name}: status`)
  if (row.code !== undefined) t.equal(res.json()?.code, row.code, `${row.name}: code`)
  const calls = emu.requests.slice(from)
  if (row.user === undefined) t.same(calls, [], `${row.name}: Authsignal saw nothing`)
  else t.same(calls.map(r => r.path), [`/v1/users/${row.user}/authenticators`], `${row.name}: Authsignal saw only /v1/users/${row.user}/`)
  return res
}

// JSON.parse keeps the *last* of duplicate keys, in the plugin as in aws-jwt-verify and every JSON library the
// issuer would use; the signature covers the bytes, so a duplicate can only be added by whoever holds the
// pool's key. Decided: the last value is the value, for the algorithm check, the claims and the user id alike.
t.test('duplicate JSON keys: the last one wins everywhere, and appending one breaks the signature', async t => {
  const rows: Row[] = [
    { name: 'header: two alg, none then RS256 (signed by the pool)', authorization: `Bearer ${capture.keep(keys.signRaw(`{"alg":"none","kid":"${keys.kid}","alg":"RS256"}`, claimsA()))}`, status: 200, user: ALICE },
    { name: 'header: two alg, RS256 then HS256', authorization: `Bearer ${capture.keep(keys.signRaw(`{"alg":"RS256","kid":"${keys.kid}","alg":"HS256"}`, claimsA()))}`, status: 401, code: 'FST_COGNITO_TOKEN_ALGORITHM' },
    { name: 'header: two kid, the pool\'s then an unknown one', authorization: `Bearer ${capture.keep(keys.signRaw(`{"alg":"RS256","kid":"${keys.kid}","kid":"nope"}`, claimsA()))}`, status: 401, code: 'FST_COGNITO_TOKEN_UNKNOWN_KEY' },
    { name: 'payload: two iss, pool A then pool B', authorization: `Bearer ${tokenA(`,"iss":"${ISSUER_B}"`)}`, status: 401, code: 'FST_COGNITO_TOKEN_ISSUER' },
    { name: 'payload: two iss, pool B then pool A', authorization: `Bearer ${capture.keep(keys.signRaw(header, `{"iss":"${ISSUER_B}",${claimsA().slice(1)}`))}`, status: 200, user: ALICE },
    { name: 'payload: two sub, alice then bob: bob is the user', authorization: `Bearer ${tokenA(',"sub":"bob"')}`, status: 200, user: 'bob' },
    { name: 'payload: two exp, the last one past', authorization: `Bearer ${tokenA(',"exp":1000')}`, status: 401, code: 'FST_COGNITO_TOKEN_EXPIRED' },
    { name: 'payload: two token_use, access then id', authorization: `Bearer ${tokenA(',"token_use":"id"')}`, status: 401, code: 'FST_COGNITO_TOKEN_USE' },
    { name: 'payload: a __proto__ claim is dropped, not made the user\'s prototype', authorization: `Bearer ${tokenA(',"__proto__":{"sub":"bob"}')}`, status: 200, user: ALICE },
    { name: 'payload: a duplicate sub appended to a signed token', authorization: `Bearer ${h}.${b64(`${claimsA().slice(0, -1)},"sub":"bob"}`)}.${s}`, status: 401, code: 'FST_COGNITO_TOKEN_SIGNATURE' }
  ]
  for (const row of rows) await check(t, row)
})

t.test('segments that are not JSON objects, and the wrong number of segments: 401 malformed, no key lookup', async t => {
  const fetches = poolC.jwksRequests
  const rows: Row[] = [
    { name: 'payload not JSON (validly signed)', authorization: `Bearer ${capture.keep(keys.signRaw(header, 'not json'))}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'payload a JSON array (validly signed)', authorization: `Bearer ${capture.keep(keys.signRaw(header, `[${claimsA()}]`))}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'payload a JSON number', authorization: `Bearer ${capture.keep(keys.signRaw(header, '42'))}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'payload a JSON string', authorization: `Bearer ${capture.keep(keys.signRaw(header, '"claims"'))}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'payload null', authorization: `Bearer ${capture.keep(keys.signRaw(header, 'null'))}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'payload not UTF-8', authorization: `Bearer ${h}.${Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url')}.${s}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'header null', authorization: `Bearer ${capture.keep(keys.signRaw('null', claimsA()))}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'header a JSON array (no alg)', authorization: `Bearer ${capture.keep(keys.signRaw('[1]', claimsA()))}`, status: 401, code: 'FST_COGNITO_TOKEN_ALGORITHM' },
    { name: 'header empty', authorization: `Bearer .${p}.${s}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'signature empty', authorization: `Bearer ${h}.${p}.`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'one segment', authorization: `Bearer ${h}${p}${s}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'two segments', authorization: `Bearer ${h}.${p}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'four segments', authorization: `Bearer ${good}.${s}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'five segments (JWE form)', authorization: `Bearer ${h}.${p}.${s}.${s}.${s}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'standard base64 (+ / =) instead of base64url', authorization: `Bearer ${h}.${p}.${s}+/==`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'two tokens comma-joined in one header', authorization: `Bearer ${good}, Bearer ${good}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    // Encodings Node's decoder would accept, each validly signed: a segment is base64url only in its canonical form.
    { name: 'payload with stray bits after its last byte (validly signed)', authorization: `Bearer ${capture.keep(keys.signSegments(b64(header), strayBits(padded(claimsA(), 2))))}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'header with stray bits (validly signed)', authorization: `Bearer ${capture.keep(keys.signSegments(strayBits(padded(header, 1)), b64(claimsA())))}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'signature with stray bits after its last byte', authorization: `Bearer ${h}.${p}.${s.slice(0, -1)}${ALPHABET[ALPHABET.indexOf(s.at(-1) as string) + 1] as string}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'payload in the standard base64 alphabet (validly signed)', authorization: `Bearer ${capture.keep(keys.signSegments(b64(header), standardAlphabet(claimsA(',"note":"????????"'))))}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'payload with = padding (validly signed)', authorization: `Bearer ${capture.keep(keys.signSegments(b64(header), Buffer.from(padded(claimsA(), 2)).toString('base64')))}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' }
  ]
  for (const row of rows) await check(t, row)
  t.equal(poolC.jwksRequests, fetches, 'no JWKS fetch for any of them')
})

t.test('Bearer spelled every way, over the wire', async t => {
  const rows: Row[] = [
    { name: 'Bearer', authorization: `Bearer ${good}`, status: 200, user: ALICE },
    { name: 'bearer (scheme is case-insensitive, RFC 9110)', authorization: `bearer ${good}`, status: 200, user: ALICE },
    { name: 'BeArEr', authorization: `BeArEr ${good}`, status: 200, user: ALICE },
    { name: 'spaces around the value (trimmed by the HTTP parser)', raw: `authorization:    Bearer ${good}   `, status: 200, user: ALICE },
    { name: 'two spaces after Bearer', authorization: `Bearer  ${good}`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'tab after Bearer', authorization: `Bearer\t${good}`, status: 401, code: 'FST_COGNITO_BAD_AUTHORIZATION_HEADER' },
    { name: 'no-break space after Bearer', raw: `authorization: Bearer\u00a0${good}`, status: 401, code: 'FST_COGNITO_BAD_AUTHORIZATION_HEADER' },
    { name: 'Bearer with no token', authorization: 'Bearer', status: 401, code: 'FST_COGNITO_BAD_AUTHORIZATION_HEADER' },
    { name: 'BearerX prefix', authorization: `BearerX ${good}`, status: 401, code: 'FST_COGNITO_BAD_AUTHORIZATION_HEADER' },
    { name: 'token without a scheme', authorization: good, status: 401, code: 'FST_COGNITO_BAD_AUTHORIZATION_HEADER' },
    { name: 'quoted token', authorization: `Bearer "${good}"`, status: 401, code: 'FST_COGNITO_TOKEN_MALFORMED' },
    { name: 'Token scheme', authorization: `Token ${good}`, status: 401, code: 'FST_COGNITO_BAD_AUTHORIZATION_HEADER' },
    { name: 'obsolete line folding (refused by Node\'s parser)', raw: `authorization: Bearer\r\n ${good}`, status: 400 },
    { name: 'empty header', authorization: '', status: 401, code: 'FST_COGNITO_NO_TOKEN' }
  ]
  for (const row of rows) await check(t, row)
})

// Node keeps only the first Authorization header in `request.headers`: the plugin counts them on the raw list.
t.test('several Authorization headers on the wire: 401, whatever their order and case', async t => {
  const rows: Row[] = [
    { name: 'two identical', headers: ['Authorization', `Bearer ${good}`, 'Authorization', `Bearer ${good}`], status: 401, code: 'FST_COGNITO_BAD_AUTHORIZATION_HEADER' },
    { name: 'good then garbage', headers: ['Authorization', `Bearer ${good}`, 'Authorization', 'Bearer x.y.z'], status: 401, code: 'FST_COGNITO_BAD_AUTHORIZATION_HEADER' },
    { name: 'garbage then good', headers: ['Authorization', 'Basic Zm9vOmJhcg==', 'Authorization', `Bearer ${good}`], status: 401, code: 'FST_COGNITO_BAD_AUTHORIZATION_HEADER' },
    { name: 'different case names', raw: `Authorization: Bearer ${good}\r\nAUTHORIZATION: Bearer ${good}`, status: 401, code: 'FST_COGNITO_BAD_AUTHORIZATION_HEADER' },
    { name: 'an empty second one', raw: `authorization: Bearer ${good}\r\nauthorization: `, status: 401, code: 'FST_COGNITO_BAD_AUTHORIZATION_HEADER' }
  ]
  for (const row of rows) await check(t, row)
})

t.test('a token valid at one registration is refused at another', async t => {
  const poolBToken = capture.keep(keys.signRaw(header, claimsA('', { iss: ISSUER_B, client: 'client-b' })))
  const poolCToken = capture.keep(poolC.mint({ sub: ALICE }))
  const rows: Row[] = [
    { name: 'pool A token at /a', authorization: `Bearer ${good}`, prefix: '/a', status: 200, user: ALICE },
    { name: 'pool B token at /b', authorization: `Bearer ${poolBToken}`, prefix: '/b', status: 200, user: ALICE },
    { name: 'pool A token at /b (same keys, other issuer)', authorization: `Bearer ${good}`, prefix: '/b', status: 401, code: 'FST_COGNITO_TOKEN_ISSUER' },
    { name: 'pool B token at /a', authorization: `Bearer ${poolBToken}`, prefix: '/a', status: 401, code: 'FST_COGNITO_TOKEN_ISSUER' },
    { name: 'pool A issuer with pool B\'s client at /a', authorization: `Bearer ${tokenA('', { client: 'client-b' })}`, prefix: '/a', status: 401, code: 'FST_COGNITO_TOKEN_CLIENT' },
    { name: 'pool C token (own keys) at /c', authorization: `Bearer ${poolCToken}`, prefix: '/c', status: 200, user: ALICE },
    // An unknown kid of a foreign issuer: the issuer is judged before the key is looked for (no JWKS fetch).
    { name: 'pool C token at /a (its kid is not in A\'s key set)', authorization: `Bearer ${poolCToken}`, prefix: '/a', status: 401, code: 'FST_COGNITO_TOKEN_ISSUER' },
    { name: 'pool A token at /c', authorization: `Bearer ${good}`, prefix: '/c', status: 401, code: 'FST_COGNITO_TOKEN_ISSUER' }
  ]
  for (const row of rows) await check(t, row)
})

// Registration /a: tolerance 5 s, token cache off. The plugin accepts exp while now <= exp + tolerance and nbf
// while now >= nbf - tolerance; the plugin refuses iat > now + tolerance. With whole seconds and `now` early
// in second N: exp = N - 5 is already out, exp = N - 4 still in; nbf and iat = N + 5 are in, N + 6 out.
t.test('clock skew at the tolerance edges', async t => {
  // The rows are judged against the server's clock: a batch that straddles a second boundary (a busy
  // machine) proves nothing and is sent again with fresh tokens, until one batch fits in one second.
  for (let attempt = 1; ; attempt++) {
    const n = await earlyInASecond()
    const at = (iat: number, exp: number, extra = ''): string => tokenA(extra, { iat, exp })
    const rows: Row[] = [
      { name: `exp = now - ${TOLERANCE + 1} s`, authorization: `Bearer ${at(n - 60, n - TOLERANCE - 1)}`, status: 401, code: 'FST_COGNITO_TOKEN_EXPIRED' },
      { name: `exp = now - ${TOLERANCE} s (the edge)`, authorization: `Bearer ${at(n - 60, n - TOLERANCE)}`, status: 401, code: 'FST_COGNITO_TOKEN_EXPIRED' },
      { name: `exp = now - ${TOLERANCE - 1} s`, authorization: `Bearer ${at(n - 60, n - TOLERANCE + 1)}`, status: 200, user: ALICE },
      { name: 'exp = now', authorization: `Bearer ${at(n - 60, n)}`, status: 200, user: ALICE },
      { name: `nbf = now + ${TOLERANCE} s (the edge)`, authorization: `Bearer ${at(n, n + 600, `,"nbf":${n + TOLERANCE}`)}`, status: 200, user: ALICE },
      { name: `nbf = now + ${TOLERANCE + 1} s`, authorization: `Bearer ${at(n, n + 600, `,"nbf":${n + TOLERANCE + 1}`)}`, status: 401, code: 'FST_COGNITO_TOKEN_NOT_YET_VALID' },
      { name: `iat = now + ${TOLERANCE} s (the edge)`, authorization: `Bearer ${at(n + TOLERANCE, n + 600)}`, status: 200, user: ALICE },
      { name: `iat = now + ${TOLERANCE + 1} s`, authorization: `Bearer ${at(n + TOLERANCE + 1, n + 600)}`, status: 401, code: 'FST_COGNITO_TOKEN_NOT_YET_VALID' }
    ]
    const from = emu.requests.length
    // All rows at once, so they are judged within the same second.
    const answers = await Promise.all(rows.map(async row => ({ row, res: await send(app, { path: '/a/authenticators', headers: { authorization: row.authorization as string } }) })))
    if (Date.now() / 1000 >= n + 1 && attempt < 20) continue
    t.ok(Date.now() / 1000 < n + 1, `all judged within second N (attempt ${attempt})`)
    for (const { row, res } of answers) {
      t.equal(res.status, row.status, `${row.name}: status`)
      if (row.code !== undefined) t.equal(res.json()?.code, row.code, `${row.name}: code`)
    }
    const accepted = rows.filter(row => row.status === 200).length
    t.same(emu.requests.slice(from).map(r => r.path), Array(accepted).fill(`/v1/users/${ALICE}/authenticators`), `one call per accepted row (${accepted}), all for Alice; none for a refused one`)
    return
  }
})

t.test('log capture of this suite: no API secret, bearer token or Authsignal token in any line', async t => {
  assertNothingLeaked(t, capture, { lines: 100, secrets: 25 })
})
