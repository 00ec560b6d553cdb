// Hostile ids and bodies over real HTTP, beyond test/routes-remove.test.ts: every row sends a request as
// written on the wire (no client-side normalisation) with Alice's valid token and asserts the status, the
// code, and the Authsignal record: nothing at all, or only requests under /v1/users/<alice>/ (with the
// recorded track body where a body could have smuggled something). Bob's authenticators never change.
import t, { type Test } from 'tap'
import { ALICE, assertNothingLeaked, BOB, Capture, send, sendRaw, startSuite, type Answer } from './helpers.js'

const ALLOWED = 'https://app.example/done'
const capture = new Capture()
const { emu, issuer, app } = await startSuite(t, capture, 2000, { routes: { remove: { requireChallenge: false }, prebuiltUi: { allowedRedirectUrls: [ALLOWED] } } })
const token = capture.keep(issuer.mint({ sub: ALICE }))
const auth = { authorization: `Bearer ${token}` }
const json = { ...auth, 'content-type': 'application/json' }

interface Row {
  name: string
  method?: string
  path?: string
  /** The request line's target and extra header lines, sent on a raw socket. */
  raw?: { target: string, headers?: string, body?: string }
  headers?: Record<string, string>
  body?: string
  status: number
  code?: string
  /** 'none': Authsignal saw nothing; otherwise exactly these calls (paths under Alice's). */
  upstream: 'none' | string[]
  /** Extra checks on the recorded request bodies. */
  recorded?: (t: Test, bodies: unknown[]) => void
}

const own = (...calls: string[]): string[] => calls.map(c => c.replace('<self>', `/v1/users/${ALICE}`))
const LIST = 'GET <self>/authenticators'
const del = (id: string): string => `DELETE <self>/authenticators/${id}`

async function check (t: Test, row: Row): Promise<Answer> {
  emu.reset()
  for (const id of ['own1', 'own2', 'own3']) emu.seedAuthenticator(ALICE, { verificationMethod: 'SMS', userAuthenticatorId: id })
  for (const id of ['x', 'bobs-id']) emu.seedAuthenticator(BOB, { verificationMethod: 'SMS', userAuthenticatorId: id })
  const method = row.method ?? 'DELETE'
  const res = row.raw !== undefined
    ? await sendRaw(app, `${method} ${row.raw.target} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}${row.raw.headers ?? ''}`, row.raw.body)
    : await send(app, { method, path: row.path as string, headers: row.headers ?? auth, body: row.body })
  t.equal(res.status, row.status, `${row.name}: status`)
  if (row.code !== undefined) t.equal(res.json()?.code, row.code, `${row.name}: code`)
  const calls = emu.requests.map(r => `${r.method} ${r.path}`)
  if (row.upstream === 'none') t.same(calls, [], `${row.name}: Authsignal saw nothing`)
  else t.same(calls, own(...row.upstream), `${row.name}: Authsignal saw only Alice's path`)
  t.equal(emu.authenticators(BOB).length, 2, `${row.name}: Bob keeps his authenticators`)
  row.recorded?.(t, emu.requests.map(r => r.body))
  return res
}

const BAD_URL = { status: 400, code: 'FST_ERR_BAD_URL', upstream: 'none' as const }
const ID_400 = { status: 400, code: 'FST_AUTHSIGNAL_INVALID_AUTHENTICATOR_ID', upstream: 'none' as const }

t.test('authenticator ids: traversal, encodings, injection, look-alikes, empty, long', async t => {
  const rows: Row[] = [
    { name: 'own id (control)', path: '/authenticators/own1', status: 204, upstream: own(LIST, del('own1')) },
    { name: 'own id, every character percent-encoded (decoded once: still own1)', path: '/authenticators/%6F%77%6E%31', status: 204, upstream: own(LIST, del('own1')) },
    { name: 'another user\'s id', path: '/authenticators/bobs-id', status: 404, code: 'FST_AUTHSIGNAL_AUTHENTICATOR_NOT_FOUND', upstream: own(LIST) },
    { name: 'own id in another case', path: '/authenticators/OWN1', status: 404, code: 'FST_AUTHSIGNAL_AUTHENTICATOR_NOT_FOUND', upstream: own(LIST) },
    // Traversal: raw, encoded, double-encoded, backslash.
    { name: 'raw backslashes', path: `/authenticators/..\\..\\${BOB}\\authenticators\\x`, ...ID_400 },
    { name: 'lower-case %5c', path: `/authenticators/..%5c..%5c${BOB}%5cauthenticators%5cx`, ...ID_400 },
    { name: '%2F after an own id', path: `/authenticators/own1%2F..%2F..%2F${BOB}%2Fauthenticators%2Fx`, ...ID_400 },
    { name: 'double-encoded slash', path: `/authenticators/..%252F..%252F${BOB}%252Fauthenticators%252Fx`, ...ID_400 },
    { name: 'triple-encoded dots', path: '/authenticators/%2525252e%2525252e', ...ID_400 },
    { name: 'overlong UTF-8 dots and slash (not UTF-8: refused by the router)', path: '/authenticators/%C0%AE%C0%AE%C0%AF', ...BAD_URL },
    { name: 'IIS %u escapes', path: '/authenticators/%u002e%u002e%u2215bob', ...BAD_URL },
    { name: 'broken percent escape', path: '/authenticators/own1%E0%A4%A', ...BAD_URL },
    { name: 'raw "/.." after an own id (no route)', path: `/authenticators/own1/../../${BOB}/authenticators/x`, status: 404, upstream: 'none' },
    { name: 'trailing slash after an own id (no route)', path: '/authenticators/own1/', status: 404, upstream: 'none' },
    { name: 'double slash before an own id (no route)', path: '/authenticators//own1', status: 404, upstream: 'none' },
    // Query and fragment injection: never part of the id, never a user.
    { name: 'query naming another user', path: `/authenticators/own1?userId=${BOB}&userAuthenticatorId=x`, status: 204, upstream: own(LIST, del('own1')) },
    { name: 'query carrying a traversal after another user\'s id', path: `/authenticators/x?/../../${BOB}/authenticators/x`, status: 404, upstream: own(LIST) },
    { name: 'matrix parameter', path: `/authenticators/own1;userId=${BOB}`, ...ID_400 },
    { name: 'raw fragment on the wire (ignored by the router)', raw: { target: `/authenticators/own1#/../../${BOB}/authenticators/x` }, status: 204, upstream: own(LIST, del('own1')) },
    // Unicode look-alikes of an own id.
    { name: 'Cyrillic o', path: `/authenticators/${encodeURIComponent('\u043Ewn1')}`, ...ID_400 },
    { name: 'fullwidth letters', path: `/authenticators/${encodeURIComponent('\uFF4F\uFF57\uFF4E\uFF11')}`, ...ID_400 },
    { name: 'zero-width space appended', path: `/authenticators/own1${encodeURIComponent('\u200B')}`, ...ID_400 },
    { name: 'combining mark', path: `/authenticators/own1${encodeURIComponent('\u0301')}`, ...ID_400 },
    { name: 'fullwidth full stops', path: '/authenticators/%EF%BC%8E%EF%BC%8E', ...ID_400 },
    { name: 'raw UTF-8 bytes on the wire (refused by Node\'s parser)', raw: { target: `/authenticators/${Buffer.from('\u043Ewn1').toString('latin1')}` }, status: 400, upstream: 'none' },
    // Whitespace, empty, long.
    { name: 'encoded space', path: '/authenticators/own1%20', ...ID_400 },
    { name: 'encoded tab', path: '/authenticators/%09own1', ...ID_400 },
    { name: 'raw space on the wire (refused by Node\'s parser)', raw: { target: '/authenticators/own 1' }, status: 400, upstream: 'none' },
    { name: 'empty id', path: '/authenticators/', ...ID_400 },
    { name: '100 characters (the longest id)', path: `/authenticators/${'a'.repeat(100)}`, status: 404, code: 'FST_AUTHSIGNAL_AUTHENTICATOR_NOT_FOUND', upstream: own(LIST) },
    { name: '101 characters (Fastify\'s param limit)', path: `/authenticators/${'a'.repeat(101)}`, status: 414, code: 'FST_ERR_MAX_PARAM_LENGTH', upstream: 'none' },
    { name: '20 KiB path (Node\'s header limit)', path: `/authenticators/${'a'.repeat(20_000)}`, status: 431, upstream: 'none' }
  ]
  for (const row of rows) await check(t, row)
})

const trackBody = (t: Test, bodies: unknown[], name: string): Record<string, unknown> => {
  t.equal(bodies.length, 1, `${name}: one call`)
  return bodies[0] as Record<string, unknown>
}

t.test('bodies: not JSON, too large, poisoned, or carrying unknown fields', async t => {
  const TRACK_ADD = own('POST <self>/actions/addAuthenticator')
  const TRACK_MANAGE = own('POST <self>/actions/manageAuthenticators')
  const noSmuggling = (name: string, allowed: string[]) => (t: Test, bodies: unknown[]) => {
    // The SDK sends track's attributes as the body.
    const body = trackBody(t, bodies, name)
    t.same(Object.keys(body).filter(key => !allowed.includes(key)), [], `${name}: the track body has only the plugin's attributes`)
    t.notMatch(JSON.stringify(body), /bob|admin|evil|smuggled/i, `${name}: nothing of the request body reached Authsignal`)
  }
  const smuggle = JSON.stringify({ userId: BOB, action: 'deleteEverything', scope: 'admin', attributes: { redirectUrl: 'https://evil.example' }, smuggled: true })
  const rows: Row[] = [
    // POST /token: an optional object { email, phoneNumber } (the guide's Lambda's); unknown fields are removed (Ajv removeAdditional).
    { name: 'token: unknown JSON fields are removed', method: 'POST', path: '/authenticators/token', headers: json, body: smuggle, status: 200, upstream: TRACK_ADD, recorded: noSmuggling('token', ['ipAddress', 'scope', 'userAgent']) },
    { name: 'token: text/plain', method: 'POST', path: '/authenticators/token', headers: { ...auth, 'content-type': 'text/plain' }, body: smuggle, status: 400, code: 'FST_ERR_VALIDATION', upstream: 'none' },
    { name: 'token: a form is 415', method: 'POST', path: '/authenticators/token', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: `userId=${BOB}`, status: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', upstream: 'none' },
    { name: 'token: multipart is 415', method: 'POST', path: '/authenticators/token', headers: { ...auth, 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--', status: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', upstream: 'none' },
    { name: 'token: broken JSON', method: 'POST', path: '/authenticators/token', headers: json, body: '{"userId":', status: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY', upstream: 'none' },
    { name: 'token: empty body labelled JSON', method: 'POST', path: '/authenticators/token', headers: json, body: '', status: 400, code: 'FST_ERR_CTP_EMPTY_JSON_BODY', upstream: 'none' },
    { name: 'token: __proto__ poisoning', method: 'POST', path: '/authenticators/token', headers: json, body: '{"__proto__":{"userId":"bob"}}', status: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY', upstream: 'none' },
    { name: 'token: constructor.prototype poisoning', method: 'POST', path: '/authenticators/token', headers: json, body: '{"constructor":{"prototype":{"userId":"bob"}}}', status: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY', upstream: 'none' },
    { name: 'token: 1025 bytes (limit 1 KiB)', method: 'POST', path: '/authenticators/token', headers: json, body: JSON.stringify({ pad: 'x'.repeat(1015) }), status: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', upstream: 'none' },
    { name: 'token: declares 1 GiB and sends nothing', method: 'POST', raw: { target: '/authenticators/token', headers: '\r\ncontent-type: application/json\r\ncontent-length: 1073741824' }, status: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', upstream: 'none' },
    { name: 'token: chunked past the limit', method: 'POST', path: '/authenticators/token', headers: { ...json, 'transfer-encoding': 'chunked' }, body: JSON.stringify({ pad: 'x'.repeat(4000) }), status: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', upstream: 'none' },
    // POST /prebuilt-ui: an optional object { redirectUrl }; unknown fields are removed (Ajv removeAdditional).
    { name: 'prebuilt-ui: unknown fields removed, allowed redirect kept', method: 'POST', path: '/authenticators/prebuilt-ui', headers: json, body: JSON.stringify({ ...JSON.parse(smuggle), redirectUrl: ALLOWED, redirectToSettings: false }), status: 200, upstream: TRACK_MANAGE, recorded: (t, bodies) => { noSmuggling('prebuilt-ui', ['ipAddress', 'redirectToSettings', 'redirectUrl', 'userAgent'])(t, bodies); t.match(bodies[0], { redirectUrl: ALLOWED, redirectToSettings: true }, 'prebuilt-ui: our settings mode, the allowed URL') } },
    { name: 'prebuilt-ui: JSON null counts as no body', method: 'POST', path: '/authenticators/prebuilt-ui', headers: json, body: 'null', status: 200, upstream: TRACK_MANAGE },
    { name: 'prebuilt-ui: text/plain', method: 'POST', path: '/authenticators/prebuilt-ui', headers: { ...auth, 'content-type': 'text/plain' }, body: `redirectUrl=${ALLOWED}`, status: 400, code: 'FST_ERR_VALIDATION', upstream: 'none' },
    { name: 'prebuilt-ui: a JSON array', method: 'POST', path: '/authenticators/prebuilt-ui', headers: json, body: `[${JSON.stringify({ redirectUrl: ALLOWED })}]`, status: 400, code: 'FST_ERR_VALIDATION', upstream: 'none' },
    { name: 'prebuilt-ui: redirect not allowed', method: 'POST', path: '/authenticators/prebuilt-ui', headers: json, body: '{"redirectUrl":"https://evil.example/"}', status: 400, code: 'FST_AUTHSIGNAL_REDIRECT_NOT_ALLOWED', upstream: 'none' },
    { name: 'prebuilt-ui: allowed URL plus a traversal', method: 'POST', path: '/authenticators/prebuilt-ui', headers: json, body: JSON.stringify({ redirectUrl: `${ALLOWED}/../../evil` }), status: 400, code: 'FST_AUTHSIGNAL_REDIRECT_NOT_ALLOWED', upstream: 'none' },
    { name: 'prebuilt-ui: allowed URL in upper case', method: 'POST', path: '/authenticators/prebuilt-ui', headers: json, body: JSON.stringify({ redirectUrl: ALLOWED.toUpperCase() }), status: 400, code: 'FST_AUTHSIGNAL_REDIRECT_NOT_ALLOWED', upstream: 'none' },
    { name: 'prebuilt-ui: a number (coerced to "5", not allowed)', method: 'POST', path: '/authenticators/prebuilt-ui', headers: json, body: '{"redirectUrl":5}', status: 400, code: 'FST_AUTHSIGNAL_REDIRECT_NOT_ALLOWED', upstream: 'none' },
    { name: 'prebuilt-ui: redirect over 2048 characters', method: 'POST', path: '/authenticators/prebuilt-ui', headers: json, body: JSON.stringify({ redirectUrl: `${ALLOWED}?${'x'.repeat(2100)}` }), status: 400, code: 'FST_ERR_VALIDATION', upstream: 'none' },
    { name: 'prebuilt-ui: 4097 bytes (limit 4 KiB)', method: 'POST', path: '/authenticators/prebuilt-ui', headers: json, body: JSON.stringify({ pad: 'x'.repeat(4087) }), status: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', upstream: 'none' },
    // Delete and list take no body and no query: neither can name a user.
    { name: 'delete: a JSON body naming another user', path: `/authenticators/own1?userId=${BOB}`, headers: json, body: JSON.stringify({ userId: BOB, userAuthenticatorId: 'x' }), status: 204, upstream: own(LIST, del('own1')) },
    { name: 'list: a query naming another user', method: 'GET', path: `/authenticators?userId=${BOB}&user=${BOB}`, status: 200, upstream: own(LIST) }
  ]
  for (const row of rows) await check(t, row)
})

t.test('log capture of this suite: no API secret, bearer token or Authsignal token in any line', async t => {
  assertNothingLeaked(t, capture, { lines: 120, secrets: 4 })
})
