// The bounded Authsignal client: the plugin leaves the host's global axios alone, never follows a
// redirect with our secret, and judges answers the emulator cannot give (empty bodies, HTML error pages
// from a proxy in front of Authsignal, JSON without a content type), all over real HTTP and the real SDK.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Authsignal } from '@authsignal/node'
import axios from 'axios'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import authenticatorsPlugin from '../index.js'
import { AxiosDeadline, hookRequestConfig, sdkVersion, toUpstreamError } from '../lib/authsignal/client.js'
import { ALICE, bearer, buildApp, cognitoOptions, emulatorFor, emulatorOptions, issuerFor, tokenOnly } from './helpers.js'

// One key pair for the whole file: tests share the issuer, never its state.
const issuer = await issuerFor(t)

type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** A real HTTP server standing in for a proxy in front of Authsignal; records what reached it. */
async function upstream (t: Test, handler: Handler): Promise<{ apiUrl: string, seen: string[] }> {
  const seen: string[] = []
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    req.resume()
    req.on('end', () => handler(req, res))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, seen }
}

function interceptorCounts (): { request: number, response: number } {
  const count = (manager: unknown) => (manager as { handlers: unknown[] }).handlers.filter(h => h !== null).length
  return { request: count(axios.interceptors.request), response: count(axios.interceptors.response) }
}

t.test('registering the plugin twice adds no interceptor (axios-retry) to the global axios', async t => {
  const before = interceptorCounts()
  const emu = await emulatorFor(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(async scope => { await scope.register(authenticatorsPlugin, { cognito: cognitoOptions(issuer), authsignal: emulatorOptions(emu), prefix: '/a' }) })
  await app.register(async scope => { await scope.register(authenticatorsPlugin, { cognito: cognitoOptions(issuer), authsignal: emulatorOptions(emu), prefix: '/b' }) })
  await app.ready()
  await app.inject({ method: 'POST', url: '/a/token', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.same(interceptorCounts(), before)
})

t.test('an HTML error page from a proxy in front of Authsignal is 502 FST_AUTHSIGNAL_UPSTREAM_ERROR', async t => {
  const proxy = await upstream(t, (_req, res) => { res.writeHead(502, { 'content-type': 'text/html' }).end('<html><h1>502 Bad Gateway</h1></html>') })
  const app = await buildApp(t, issuer, { authsignal: { apiSecretKey: 'sk', apiUrl: proxy.apiUrl } })

  const res = await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'FST_AUTHSIGNAL_UPSTREAM_ERROR')
  t.notOk(res.body.includes('<html>'), 'the upstream page is not passed on')
})

t.test('a 429 with a zero-byte body is 503 FST_AUTHSIGNAL_RATE_LIMITED', async t => {
  const proxy = await upstream(t, (_req, res) => { res.writeHead(429).end() })
  const app = await buildApp(t, issuer, { authsignal: { apiSecretKey: 'sk', apiUrl: proxy.apiUrl } })

  const res = await app.inject({ url: '/authenticators', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'FST_AUTHSIGNAL_RATE_LIMITED')
})

t.test('a 200 with a JSON body but no content type is 502 FST_AUTHSIGNAL_BAD_RESPONSE', async t => {
  const proxy = await upstream(t, (_req, res) => { res.writeHead(200).end(JSON.stringify({ token: 'tok', url: 'http://x/' })) })
  const app = await buildApp(t, issuer, { authsignal: { apiSecretKey: 'sk', apiUrl: proxy.apiUrl } })

  const res = await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'FST_AUTHSIGNAL_BAD_RESPONSE')
})

t.test('a 200 with an empty body where a token was expected is 502 FST_AUTHSIGNAL_BAD_RESPONSE', async t => {
  const proxy = await upstream(t, (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end() })
  const app = await buildApp(t, issuer, { authsignal: { apiSecretKey: 'sk', apiUrl: proxy.apiUrl } })

  const res = await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'FST_AUTHSIGNAL_BAD_RESPONSE')
})

t.test('a delete answered with an empty 204 is a success', async t => {
  const list = JSON.stringify([
    { userAuthenticatorId: 'one', verificationMethod: 'SMS', createdAt: '2026-01-01T00:00:00Z', verifiedAt: '2026-01-01T00:00:00Z' },
    { userAuthenticatorId: 'two', verificationMethod: 'PASSKEY', createdAt: '2026-01-01T00:00:00Z', verifiedAt: '2026-01-01T00:00:00Z' }
  ])
  const proxy = await upstream(t, (req, res) => {
    if (req.method === 'GET') res.writeHead(200, { 'content-type': 'application/json' }).end(list)
    else res.writeHead(204).end()
  })
  const app = await buildApp(t, issuer, { authsignal: { apiSecretKey: 'sk', apiUrl: proxy.apiUrl }, routes: { remove: tokenOnly } })

  const res = await app.inject({ method: 'DELETE', url: '/authenticators/one', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.statusCode, 204)
  t.same(proxy.seen, [`GET /v1/users/${ALICE}/authenticators`, `DELETE /v1/users/${ALICE}/authenticators/one`])
})

t.test('a redirect from upstream is not followed (the secret goes nowhere else): 502 FST_AUTHSIGNAL_UPSTREAM_ERROR', async t => {
  const elsewhere = await upstream(t, (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"stolen"}') })
  const proxy = await upstream(t, (_req, res) => { res.writeHead(307, { location: `${elsewhere.apiUrl}/users/x/actions/addAuthenticator` }).end() })
  const app = await buildApp(t, issuer, { authsignal: { apiSecretKey: 'sk', apiUrl: proxy.apiUrl } })

  const res = await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'FST_AUTHSIGNAL_UPSTREAM_ERROR')
  t.same(elsewhere.seen, [], 'nothing reached the redirect target')
})

// Last in this file: it leaves axios-retry installed on this process's global axios, as a host's own
// Authsignal instance with default options would.
t.test('with a host\'s retrying Authsignal instance on the global axios, the plugin still sends track once after a connection reset', async t => {
  // Drops every connection before answering: ECONNRESET, which axios-retry retries even for a POST.
  const flaky = await upstream(t, req => { req.socket.destroy() })
  const hostClient = new Authsignal({ apiSecretKey: 'sk', apiUrl: flaky.apiUrl })
  const app = await buildApp(t, issuer, { authsignal: { apiSecretKey: 'sk', apiUrl: flaky.apiUrl } })

  await t.rejects(hostClient.track({ userId: 'host-user', action: 'signIn' }))
  t.ok(flaky.seen.length > 1, `sanity: the host's own client re-sent its POST (${flaky.seen.length} times)`)

  flaky.seen.length = 0
  const res = await app.inject({ method: 'POST', url: '/authenticators/token', headers: bearer(issuer.mint({ sub: ALICE })) })

  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'FST_AUTHSIGNAL_UNREACHABLE')
  t.same(flaky.seen, [`POST /v1/users/${ALICE}/actions/addAuthenticator`], 'the plugin\'s track was sent exactly once')
})

t.test('a host-supplied client that rejects with something other than an Error is a 502, not a 500', async t => {
  // A host may pass its own Authsignal subclass (e.g. one that wraps calls); whatever it throws is upstream trouble.
  class HostClient extends Authsignal {
    override async getAuthenticators (): Promise<never> {
      throw 'the host client failed' // eslint-disable-line no-throw-literal
    }
  }
  const client = new HostClient({ apiSecretKey: 'host-secret', apiUrl: 'http://127.0.0.1:9/v1', retries: 0 })
  const app = await buildApp(t, issuer, { authsignal: { client } })
  const res = await app.inject({ url: '/authenticators', headers: bearer(issuer.mint({ sub: ALICE })) })
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'FST_AUTHSIGNAL_UNREACHABLE')
})

t.test('a host-supplied client that throws before returning a promise is a 502 at once, and leaves no deadline timer behind', async t => {
  class HostClient extends Authsignal {
    // Not async: the throw happens while the plugin calls it, before any promise exists.
    override getAuthenticators (): never {
      throw new Error('the host client failed at once')
    }
  }
  const client = new HostClient({ apiSecretKey: 'host-secret', apiUrl: 'http://127.0.0.1:9/v1', retries: 0 })
  const app = await buildApp(t, issuer, { authsignal: { client, timeoutMs: 60_000 } })
  const headers = bearer(issuer.mint({ sub: ALICE }))
  await app.inject({ url: '/authenticators', headers })
  const timers = (): number => process.getActiveResourcesInfo().filter(name => name === 'Timeout').length
  const before = timers()
  const res = await app.inject({ url: '/authenticators', headers })
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'FST_AUTHSIGNAL_UNREACHABLE')
  t.equal(timers(), before, 'the 60 s deadline timer was cleared with the answer')
})

t.test(`the installed @authsignal/node still has what the deadline relies on (tested with ${sdkVersion()})`, async t => {
  t.equal(typeof (Authsignal.prototype as unknown as Record<string, unknown>).getRequestConfig, 'function',
    `@authsignal/node ${sdkVersion()}: the private getRequestConfig hook is gone; the deadline can no longer reach axios`)
  t.throws(() => hookRequestConfig({}), { message: `@authsignal/node ${sdkVersion()} has no getRequestConfig: fastify-authsignal-cognito needs the version its package.json pins` },
    'an SDK without the hook fails registration, naming its version')
  // With an empty error body the SDK keeps only axios's message: the status is read from it.
  const { apiUrl } = await upstream(t, (_req, res) => { res.writeHead(503).end() })
  const err = await new Authsignal({ apiSecretKey: 'x', apiUrl, retries: 0 }).getUser({ userId: 'u' }).catch((e: Error) => e)
  t.match((err as Error).message, /status code 503/, `@authsignal/node ${sdkVersion()}: the message of an empty-body error still names its status`)
  t.equal(toUpstreamError(err, 'getUser').statusCode, 502)
})

t.test('the deadline really ends the request: the upstream sees its connection closed when the route answers 504', async t => {
  let closed!: () => void
  const connectionClosed = new Promise<void>(resolve => { closed = resolve })
  // Never answers; tells when the plugin's side ends the request.
  const { apiUrl, seen } = await upstream(t, (req) => { req.socket.on('close', () => closed()) })
  const app = await buildApp(t, issuer, { authsignal: { apiSecretKey: 'test-secret', apiUrl, timeoutMs: 300 } })
  const res = await app.inject({ url: '/authenticators', headers: bearer(issuer.mint({ sub: ALICE })) })
  t.equal(res.statusCode, 504)
  t.same(seen, [`GET /v1/users/${ALICE}/authenticators`])
  await connectionClosed
  t.pass('the upstream connection was closed by the deadline, not left open')
})

t.test('AxiosDeadline: what axios reads of a signal', async t => {
  const early = new AxiosDeadline()
  early.abort()
  t.equal(early.signal.aborted, true, 'aborted before the request is sent: axios does not send it')
  const deadline = new AxiosDeadline()
  let called = 0
  deadline.addEventListener('abort', () => { called++ })
  deadline.abort()
  t.equal(called, 1, 'the request in flight is ended')
  const settled = new AxiosDeadline()
  settled.addEventListener('abort', () => { called++ })
  settled.removeEventListener()
  settled.abort()
  t.equal(called, 1, 'a request that has ended is not ended again')
})
