// `safeLoggerOptions` (lib/logging.ts): what each serializer writes, and a whole app at level trace (one row of
// every hostile concern, plus a host that logs carelessly: raw SDK errors, request headers, its own options,
// tokens in query strings) whose entire log output holds none of the credentials it handled. A control run
// with Fastify's default logger shows the same host code does leak the API secret without it.
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import authenticatorsPlugin, { safeLoggerOptions } from '../../index.js'
import { CENSOR, redactMessage, redactUrl } from '../../lib/logging.js'
import { startAuthsignalEmulator } from '../../lib/testing/authsignal-emulator.js'
import { startCognitoIssuer } from '../../lib/testing/cognito-issuer.js'
import { ALICE, assertNothingLeaked, Capture, send, type Target } from './helpers.js'

const { req: serializeReq, err: serializeErr } = safeLoggerOptions.serializers
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'

t.test('redactUrl: JWT-shaped strings and credential-named query values are replaced, the rest kept', async t => {
  const rows: Array<[string, unknown, unknown]> = [
    ['no query', '/authenticators/pk-1', '/authenticators/pk-1'],
    ['harmless query', '/me?page=2&sort=asc', '/me?page=2&sort=asc'],
    ['access_token', `/me?access_token=${JWT}&page=2`, `/me?access_token=${CENSOR}&page=2`],
    ['token, secret, password, api key, code, auth, signature, session', '/cb?token=a&client_secret=b&password=c&apiKey=d&code=e&authorization=f&X-Amz-Signature=g&session_id=h&state=s',
      `/cb?token=${CENSOR}&client_secret=${CENSOR}&password=${CENSOR}&apiKey=${CENSOR}&code=${CENSOR}&authorization=${CENSOR}&X-Amz-Signature=${CENSOR}&session_id=${CENSOR}&state=s`],
    ['percent-encoded name', '/cb?id%5Ftoken=x', `/cb?id%5Ftoken=${CENSOR}`],
    ['malformed escape in a name', '/cb?%E0%A4%A=x&%E0token=y', `/cb?%E0%A4%A=x&%E0token=${CENSOR}`],
    ['JWT in the path', `/tokens/${JWT}/x`, `/tokens/${CENSOR}/x`],
    ['JWT in a harmless-named parameter', `/me?next=${JWT}`, `/me?next=${CENSOR}`],
    ['fragment after a credential', '/cb?token=a#frag', `/cb?token=${CENSOR}#frag`],
    ['not a string', undefined, undefined]
  ]
  for (const [name, url, expected] of rows) t.equal(redactUrl(url), expected, name)
})

t.test('messages: a URL quoted in a log message is redacted like the url field (found by test/fuzz)', async t => {
  t.equal(redactMessage(`Route GET:/cb?access_token=${JWT}&code=abc&page=2 not found`), `Route GET:/cb?access_token=${CENSOR}&code=${CENSOR}&page=2 not found`)
  t.equal(redactMessage('no url here, a ? and an = sign'), 'no url here, a ? and an = sign')
  // Fastify writes its not-found line from the raw URL: no serializer sees it.
  const lines: string[] = []
  const app = Fastify({ logger: { ...safeLoggerOptions, level: 'info', stream: { write: (line: string) => { lines.push(line) } } } })
  t.teardown(() => app.close())
  const res = await app.inject({ url: `/nowhere?access_token=${JWT}&code=abc&page=2` })
  t.equal(res.statusCode, 404)
  const notFound = lines.find(line => line.includes('not found'))
  t.match(notFound, `Route GET:/nowhere?access_token=${CENSOR}&code=${CENSOR}&page=2 not found`, 'the not-found line keeps the URL, credentials redacted')
  t.notOk(lines.some(line => line.includes(JWT) || line.includes('code=abc')), 'no line carries the token or the code')
})

t.test('req serializer: Fastify\'s fields, never headers, url redacted', async t => {
  const fastifyRequest = { method: 'GET', url: `/me?access_token=${JWT}`, host: 'api.example', ip: '10.0.0.1', socket: { remotePort: 4444 }, headers: { authorization: `Bearer ${JWT}`, cookie: 's=1' } }
  t.same(serializeReq(fastifyRequest as never), { method: 'GET', url: `/me?access_token=${CENSOR}`, host: 'api.example', remoteAddress: '10.0.0.1', remotePort: 4444 })
  // A raw IncomingMessage logged by a host has no host/ip, and a socket may be gone.
  t.same(serializeReq({ method: 'POST', url: '/x', headers: { authorization: 'Bearer x' } } as never), { method: 'POST', url: '/x', host: undefined, remoteAddress: undefined, remotePort: undefined })
})

t.test('err serializer: a whitelist, so an axios/SDK error\'s config, request and response are never written', async t => {
  const secret = 'sk_live_very_secret'
  const axiosLike = Object.assign(new Error(`Request failed with status code 401 for ${JWT}`), {
    code: 'ERR_BAD_REQUEST',
    config: { auth: { username: secret, password: '' }, headers: { Authorization: `Basic ${Buffer.from(`${secret}:`).toString('base64')}` } },
    request: { _header: `POST /v1/users/x/actions/y HTTP/1.1\r\nAuthorization: Basic ${secret}` },
    response: { status: 401, data: { token: JWT } },
    isAxiosError: true
  })
  const wrapped = Object.assign(new Error('track failed', { cause: axiosLike }), { statusCode: 502, axiosError: axiosLike })
  const out = serializeErr(wrapped as never)
  t.match(out, { type: 'Error', message: 'track failed', statusCode: 502, cause: { type: 'Error', code: 'ERR_BAD_REQUEST', message: `Request failed with status code 401 for ${CENSOR}` } })
  t.notOk(JSON.stringify(out).includes(secret), 'the secret is not written')
  t.notOk(JSON.stringify(out).includes(JWT), 'nor the token')
  t.same(Object.keys(out).sort(), ['cause', 'code', 'message', 'stack', 'statusCode', 'type'])
  t.equal(out.code, undefined, 'no code on the outer error')

  // Causes are followed three levels deep, no further (a cycle cannot loop).
  const cyclic: Error & { cause?: unknown } = new Error('loop')
  cyclic.cause = cyclic
  t.equal(JSON.stringify(serializeErr(cyclic as never)).match(/"loop"/g)?.length, 4)
  // Not every thrown value is an Error.
  t.match(serializeErr({ name: 42, message: 7, code: 5, statusCode: '500' } as never), { type: 'Error', message: '', stack: '', code: 5, statusCode: undefined })
  t.match(serializeErr(`failed for ${JWT}` as never), { type: 'Error', message: `failed for ${CENSOR}` })
  t.match(serializeErr(null as never), { type: 'Error', message: 'null' })
})

interface Host { app: FastifyInstance & Target, secret: string }

/** A host app with the plugin and careless routes of its own, logging at trace into `capture`. */
async function carelessHost (t: Test, capture: Capture, logger: Record<string, unknown>): Promise<Host> {
  const emu = await startAuthsignalEmulator({ secret: `sk_test_${crypto.randomUUID()}` })
  t.teardown(() => emu.close())
  const issuer = await startCognitoIssuer()
  t.teardown(() => issuer.close())
  const secret = capture.keep(emu.secret)
  const options = {
    cognito: { userPoolId: issuer.userPoolId, clientId: issuer.clientId, issuer: issuer.issuer, jwksUri: issuer.jwksUri, jwksTimeoutMs: 300, jwksPenaltyMs: 0 },
    authsignal: { apiSecretKey: secret, apiUrl: emu.apiUrl, timeoutMs: 300 },
    routes: { remove: { requireChallenge: true } }
  }
  const app = Fastify({ logger: { ...logger, level: 'trace', stream: capture.stream } })
  await app.register(authenticatorsPlugin, options)
  // Careless host code: the raw SDK error (it carries the axios config, hence the secret) reaches Fastify.
  app.get('/raw-sdk', { onRequest: app.authenticate }, async () => app.authsignal.getUser({ userId: 'nobody' }))
  // Logs the request headers, and its own options.
  app.get('/log-headers', async (request) => {
    request.log.info({ headers: request.headers }, 'headers')
    request.log.info({ req: { ...request, headers: request.headers } }, 'request with headers')
    request.log.info({ authsignal: options.authsignal }, 'options')
    return { ok: true }
  })
  // A callback that takes its credentials in the query string.
  app.get('/callback', async () => ({ ok: true }))
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const target = Object.assign(app, { port: (app.server.address() as { port: number }).port, capture }) as unknown as FastifyInstance & Target

  const alice = capture.keep(issuer.mint({ sub: ALICE }))
  const auth = { authorization: `Bearer ${alice}` }
  const first = emu.seedAuthenticator(ALICE, { verificationMethod: 'SMS' })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' })
  emu.seedAuthenticator(ALICE, { verificationMethod: 'PASSKEY' })
  const challenge = capture.keep(emu.completeChallenge(ALICE, 'removeAuthenticator'))

  // One of each concern. Tokens: a good one, a tampered one, two Authorization headers.
  await send(target, { path: '/authenticators', headers: auth })
  await send(target, { path: '/authenticators', headers: { authorization: `Bearer ${capture.keep(`${alice.slice(0, -4)}AAAA`)}` } })
  await send(target, { path: '/authenticators', headers: ['authorization', `Bearer ${alice}`, 'authorization', `Bearer ${alice}`] })
  // Ids and bodies: a traversal, a body too large, a redirect not allowed.
  await send(target, { method: 'DELETE', path: '/authenticators/..%2F..%2Fbob', headers: { ...auth, 'x-authsignal-token': challenge } })
  await send(target, { method: 'POST', path: '/authenticators/token', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(2000) }) })
  await send(target, { method: 'POST', path: '/authenticators/prebuilt-ui', headers: { ...auth, 'content-type': 'application/json' }, body: '{"redirectUrl":"https://evil.example"}' })
  // Successes that hand out Authsignal tokens, and a removal with a step-up token.
  await send(target, { method: 'POST', path: '/authenticators/token', headers: auth })
  await send(target, { method: 'POST', path: '/authenticators/prebuilt-ui', headers: auth })
  await send(target, { method: 'DELETE', path: `/authenticators/${first.userAuthenticatorId}`, headers: { ...auth, 'x-authsignal-token': challenge } })
  // Upstreams: Authsignal hangs, resets, answers 500; the JWKS answers 500 for a new key.
  for (const fault of [{ kind: 'hang' }, { kind: 'reset' }, { kind: 'status', status: 500 }] as const) {
    emu.setFault(fault, { times: 1 })
    await send(target, { method: 'POST', path: '/authenticators/token', headers: auth })
  }
  issuer.rotate()
  issuer.setFault({ kind: 'status', status: 500 })
  await send(target, { path: '/authenticators', headers: { authorization: `Bearer ${capture.keep(issuer.mint({ sub: ALICE }))}` } })
  issuer.setFault(null)
  // Concurrency: ten parallel token requests.
  await Promise.all(Array.from({ length: 10 }, () => send(target, { method: 'POST', path: '/authenticators/token', headers: auth })))
  // The careless host routes.
  emu.setFault({ kind: 'status', status: 500 }, { times: 1 })
  await send(target, { path: '/raw-sdk', headers: auth })
  await send(target, { path: '/log-headers', headers: { ...auth, 'x-authsignal-token': challenge, cookie: `session=${alice}` } })
  await send(target, { path: `/callback?code=${capture.keep(`code-${crypto.randomUUID()}`)}&id_token=${alice}&state=abc` })
  return { app: target, secret }
}

t.test('control: with Fastify\'s default logger, the same careless host code writes the API secret', async t => {
  const capture = new Capture()
  const { secret } = await carelessHost(t, capture, {})
  t.ok(capture.lines.some(line => line.includes(secret)), 'the secret is in the log (the raw SDK error\'s axios config, the logged options)')
  t.ok(capture.lines.some(line => line.includes('x-authsignal-token')), 'and the logged headers')
})

t.test('safeLoggerOptions at level trace, one request of every hostile concern plus careless host logging: no API secret, bearer token or Authsignal token in any log line or error answer', async t => {
  const capture = new Capture()
  await carelessHost(t, capture, safeLoggerOptions)
  const logged = capture.lines.join('')
  t.match(logged, /"msg":"headers"/, 'the host\'s header log line was written')
  t.match(logged, new RegExp(`"authorization":"\\${CENSOR}"`), 'with the Authorization header redacted')
  t.match(logged, /"apiSecretKey":"\[Redacted\]"/, 'the logged options with the secret redacted')
  t.match(logged, /\/callback\?code=\[Redacted\]&id_token=\[Redacted\]&state=abc/, 'the callback url with its credentials redacted')
  t.match(logged, /FST_AUTHSIGNAL_TIMEOUT/, 'the upstream errors were logged')
  assertNothingLeaked(t, capture, { lines: 60, secrets: 15 })
})
