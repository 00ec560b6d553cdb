// Saying what is wrong: a JWKS that cannot be fetched keeps its cause; an issuer that matches no token is
// logged (never answered) once per issuer; options that are valid but probably wrong warn at start-up; and
// `app.authenticatorsStatus()` tells a health check what the plugin can do, from memory.
import { readFileSync } from 'node:fs'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import authenticatorsPlugin from '../index.js'
import { IssuerMismatchLog, PER_WINDOW, WINDOW_MS } from '../lib/cognito/issuer-log.js'
import { JwksKeyStore } from '../lib/cognito/jwks.js'
import { TokenIssuerError } from '../lib/errors.js'
import { describeNetworkFailure } from '../lib/network-failure.js'
import { bearer, buildApp, closedPort, cognitoOptions, emulatorFor, emulatorOptions, issuerFor } from './helpers.js'

const issuer = await issuerFor(t)

/** The port of `server`, listening on 127.0.0.1 until the test ends. */
async function listening (t: Test, server: { listen: (port: number, host: string, done: () => void) => unknown, close: () => unknown, address: () => unknown }): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  return (server.address() as AddressInfo).port
}

/** An HTTPS server whose certificate is self-signed: what a TLS failure looks like. */
async function selfSignedPort (t: Test): Promise<number> {
  const key = readFileSync(new URL('./fixtures/tls-key.pem', import.meta.url))
  const cert = readFileSync(new URL('./fixtures/tls-cert.pem', import.meta.url))
  return await listening(t, createHttpsServer({ key, cert }, (_req, res) => res.end('{}')))
}

async function jwksError (t: Test, jwksUri: string): Promise<string> {
  const store = new JwksKeyStore({ jwksUri, timeoutMs: 2000, penaltyMs: 0 })
  t.teardown(() => store.close())
  return await store.refresh().then(() => 'fetched', (err: Error) => err.message)
}

t.test('a JWKS that cannot be fetched: the error keeps the cause', async t => {
  t.match(await jwksError(t, `http://127.0.0.1:${await closedPort()}/jwks.json`), /JWKS could not be fetched: connection refused \(ECONNREFUSED\)/)

  t.match(await jwksError(t, `https://127.0.0.1:${await selfSignedPort(t)}/jwks.json`), /JWKS could not be fetched: TLS failed \(DEPTH_ZERO_SELF_SIGNED_CERT\)/)

  // Something that is not HTTP at all: the parser's own code.
  const garbage = createTcpServer(socket => socket.end('SSH-2.0-OpenSSH\r\n\r\n'))
  await new Promise<void>(resolve => garbage.listen(0, '127.0.0.1', resolve))
  t.teardown(() => garbage.close())
  t.match(await jwksError(t, `http://127.0.0.1:${(garbage.address() as AddressInfo).port}/jwks.json`), /JWKS could not be fetched: HPE_/)

  // A connection dropped before any answer, every time (it is tried twice: see the next test).
  let drops = 0
  const drop = createTcpServer(socket => { drops++; socket.destroy() })
  await new Promise<void>(resolve => drop.listen(0, '127.0.0.1', resolve))
  t.teardown(() => drop.close())
  t.match(await jwksError(t, `http://127.0.0.1:${(drop.address() as AddressInfo).port}/jwks.json`), /JWKS could not be fetched: (connection (reset|closed)|other side closed)/)
  t.equal(drops, 2, 'a dropped connection is tried again once, not more')

  t.match(await jwksError(t, issuer.url), /JWKS answered HTTP 404/)
})

t.test('an unreachable Authsignal: the answer, the log line and authenticatorsStatus() name the cause, never the secret', async t => {
  const secret = 'sk-diagnostics-secret'
  const unreachable = async (apiUrl: string): Promise<{ message: string, status: string | undefined, log: string }> => {
    const lines: string[] = []
    const app = await buildApp(t, issuer, { authsignal: { apiSecretKey: secret, apiUrl, timeoutMs: 2000 }, logStream: { write: (line: string) => { lines.push(line) } } })
    const res = await app.inject({ url: '/authenticators', headers: bearer(issuer.mint()) })
    t.equal(res.json().code, 'FST_AUTHSIGNAL_UNREACHABLE')
    t.notOk(lines.join('').includes(secret) || res.body.includes(secret), 'the secret is in no log line and not in the answer')
    return { message: res.json().message, status: app.authenticatorsStatus().authsignal.lastCall?.error, log: lines.filter(l => l.includes('"level":50')).join('') }
  }
  const garbage = await listening(t, createTcpServer(socket => socket.end('SSH-2.0-OpenSSH\r\n\r\n')))
  const cases: Array<[string, RegExp]> = [
    [`http://127.0.0.1:${await closedPort()}/v1`, /getAuthenticators: connection refused \(ECONNREFUSED\)/],
    [`https://127.0.0.1:${await selfSignedPort(t)}/v1`, /getAuthenticators: TLS failed/],
    [`http://127.0.0.1:${garbage}/v1`, /getAuthenticators: not an HTTP answer/]
  ]
  for (const [apiUrl, cause] of cases) {
    const { message, status, log } = await unreachable(apiUrl)
    t.match(message, cause, `the answer names it (${message})`)
    t.match(status, cause, 'authenticatorsStatus() names it')
    t.match(log, cause, 'the error log line names it')
  }
})

t.test('what a failed request keeps of its cause is named: its code, its cause\'s code, or the code or phrase in its message', async t => {
  const cases: Array<[Parameters<typeof describeNetworkFailure>[0], string]> = [
    [{ code: 'ECONNRESET', message: 'socket hang up' }, 'connection reset (ECONNRESET)'],
    [{ message: 'fetch failed', cause: { code: 'ENOTFOUND' } }, 'DNS lookup failed (no such host) (ENOTFOUND)'],
    [{ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'TLS failed (ERR_TLS_CERT_ALTNAME_INVALID)'],
    [{ message: 'getaddrinfo EAI_AGAIN api.authsignal.com' }, 'DNS lookup failed (temporary) (EAI_AGAIN)'],
    [{ message: 'connect EHOSTUNREACH 10.0.0.1:443' }, 'host unreachable (EHOSTUNREACH)'],
    [{ message: 'unable to verify the first certificate' }, 'TLS failed (certificate or handshake)'],
    [{ message: 'socket hang up' }, 'connection closed before the answer'],
    [{ message: 'Parse Error: Expected HTTP/' }, 'not an HTTP answer (parse error)'],
    [{ code: 'not a code', message: 42 }, 'no cause given']
  ]
  for (const [err, cause] of cases) t.equal(describeNetworkFailure(err), cause)
})

t.test('a connection dropped once (a keep-alive connection the server had just closed) is tried again at once: the keys are fetched', async t => {
  let connections = 0
  const jwks = await (await fetch(issuer.jwksUri)).text()
  const flaky = createTcpServer(socket => {
    if (++connections === 1) return socket.destroy()
    socket.once('data', () => socket.end(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(jwks)}\r\nconnection: close\r\n\r\n${jwks}`))
  })
  await new Promise<void>(resolve => flaky.listen(0, '127.0.0.1', resolve))
  t.teardown(() => flaky.close())
  t.equal(await jwksError(t, `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/jwks.json`), 'fetched')
  t.equal(connections, 2)
})

t.test('a configured issuer that matches no token: 401 to the client, the token\'s issuer logged once beside the configured ones', async t => {
  const lines: string[] = []
  const app = await buildApp(t, issuer, { cognito: { issuer: `${issuer.issuer}/` }, logStream: { write: (line: string) => { lines.push(line) } } })
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ url: '/me', headers: bearer(issuer.mint()) })
    t.equal(res.json().code, 'FST_COGNITO_TOKEN_ISSUER')
    t.notOk(res.body.includes(issuer.issuer), 'the answer does not name the issuer')
  }
  const warned = lines.filter(line => line.includes('its issuer is not a configured one')).map(line => JSON.parse(line))
  t.equal(warned.length, 1, 'logged once for that issuer')
  t.match(warned[0], { level: 40, tokenIssuer: issuer.issuer, configuredIssuers: [`${issuer.issuer}/`] })

  // Other issuers are logged once each; a JWT-shaped issuer is not written as is; a minute logs at most PER_WINDOW issuers.
  const jwtShaped = issuer.mint()
  await app.inject({ url: '/me', headers: bearer(issuer.mint({ claims: { iss: jwtShaped } })) })
  await app.inject({ url: '/me', headers: bearer(issuer.mint({ claims: { iss: 42 } })) })
  for (let i = 0; i < 30; i++) await app.inject({ url: '/me', headers: bearer(issuer.mint({ claims: { iss: `https://example.com/${i}` } })) })
  const all = lines.filter(line => line.includes('its issuer is not a configured one'))
  t.equal(all.length, PER_WINDOW, `at most ${PER_WINDOW} distinct issuers are logged in a minute`)
  t.notOk(lines.some(line => line.includes(jwtShaped)), 'no token in the log')
  t.ok(all.some(line => line.includes('"tokenIssuer":"(number)"')))
})

t.test('junk issuers cannot silence the issuer log: each minute logs again, and says how many it left out', async t => {
  const lines: string[] = []
  const log = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { lines.push(line) } } } }).log
  let now = 0
  const issuerLog = new IssuerMismatchLog([issuer.issuer], () => now)
  const refuse = (iss: string): void => issuerLog.explain(new TokenIssuerError(), issuer.mint({ claims: { iss } }), log)
  const logged = (): string[] => lines.map(line => JSON.parse(line)).filter(l => l.tokenIssuer !== undefined).map(l => l.tokenIssuer)

  for (let i = 0; i < 3 * PER_WINDOW; i++) refuse(`https://junk.example/${i}`)
  refuse('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Real')
  t.equal(logged().length, PER_WINDOW, 'a window logs at most its share')

  now += WINDOW_MS
  refuse('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Real')
  t.equal(logged().at(-1), 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Real', 'the real misconfiguration is logged in the next window')
  t.match(JSON.parse(lines.at(-2) as string), { leftOut: 2 * PER_WINDOW + 1, msg: /more tokens were refused for issuers not logged/ }, 'with the count of what was left out')
  refuse('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Real')
  t.equal(logged().length, PER_WINDOW + 1, 'once per window for the same issuer')
})

t.test('valid but probably wrong options warn at start-up with the fix', async t => {
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { lines.push(line) } } } })
  t.teardown(() => app.close())
  await app.register(authenticatorsPlugin, {
    cognito: { userPoolId: 'eu-wset-1_AbCdEf123', clientId: 'c', jwksUri: `http://127.0.0.1:${await closedPort()}/jwks.json` },
    authsignal: { apiSecretKey: 'secret', apiUrl: 'https://au.api.authsignal.com' }
  })
  const warnings = lines.map(line => JSON.parse(line).msg as string)
  t.match(warnings.find(w => w.includes('userPoolId')), /cognito\.userPoolId eu-wset-1_AbCdEf123 names the region eu-wset-1, where Cognito has no user pools/)
  t.match(warnings.find(w => w.includes('apiUrl')), /authsignal\.apiUrl https:\/\/au\.api\.authsignal\.com does not end in \/v1/)

  lines.length = 0
  const pools = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { lines.push(line) } } } })
  t.teardown(() => pools.close())
  await pools.register(authenticatorsPlugin, {
    cognito: [{ userPoolId: 'eu-west-1_AbCdEf123', clientId: 'c', userIdPrefix: 'a:' }, { userPoolId: 'us-esat-1_AbCdEf123', clientId: 'c', userIdPrefix: 'b:' }],
    authsignal: { apiSecretKey: 'secret' }
  })
  t.same(lines.map(line => JSON.parse(line).msg as string).filter(w => w.includes('userPoolId')).map(w => w.split(' ')[1]), ['cognito[1].userPoolId'], 'several pools: the one named')

  lines.length = 0
  const good = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { lines.push(line) } } } })
  t.teardown(() => good.close())
  await good.register(authenticatorsPlugin, { cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'c' }, authsignal: { apiSecretKey: 'secret' } })
  t.same(lines, [], 'a right configuration warns about nothing')
})

t.test('plain http to another machine (the JWKS or Authsignal) warns at start-up; to this machine it does not', async t => {
  const warningsFor = async (jwksUri: string, apiUrl: string): Promise<string[]> => {
    const lines: string[] = []
    const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { lines.push(line) } } } })
    t.teardown(() => app.close())
    await app.register(authenticatorsPlugin, { cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'c', jwksUri }, authsignal: { apiSecretKey: 'sk-warned', apiUrl } })
    return lines.map(line => JSON.parse(line).msg as string)
  }
  const away = await warningsFor('http://keys.example.com/jwks.json', 'http://authsignal.example.com/v1')
  t.match(away.find(w => w.includes('jwksUri')), /cognito\.jwksUri http:\/\/keys\.example\.com\/jwks\.json is plain http to another machine: .*use https/)
  t.match(away.find(w => w.includes('apiUrl')), /authsignal\.apiUrl http:\/\/authsignal\.example\.com\/v1 is plain http to another machine: .*use https/)
  t.notOk(away.some(w => w.includes('sk-warned')), 'the secret is not in the warning')
  for (const host of ['localhost:4010', '127.0.0.1:4010', '[::1]:4010']) {
    t.same(await warningsFor(`http://${host}/jwks.json`, `http://${host}/v1`), [], `${host}: no warning`)
  }
})

t.test('app.authenticatorsStatus(): keys per pool, the last JWKS fetch and the last Authsignal call, read from memory', async t => {
  const emu = await emulatorFor(t)
  const down = await issuerFor(t, { userPoolId: 'eu-west-1_Down' })
  down.setFault({ kind: 'status', status: 503 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(authenticatorsPlugin, {
    cognito: [cognitoOptions(issuer, { userIdPrefix: 'a:' }), cognitoOptions(down, { userIdPrefix: 'b:', jwksPenaltyMs: 0 })],
    authsignal: emulatorOptions(emu)
  })
  t.match(app.authenticatorsStatus(), { ready: false, pools: [{ keys: 0, fetches: 0, lastFetch: undefined }, { keys: 0, fetches: 0 }] }, 'before start-up: nothing fetched yet')
  await app.ready()
  const before = emu.requests.length
  const status = app.authenticatorsStatus()
  t.equal(status.ready, false, 'not ready: one pool holds no key')
  t.match(status.pools, [
    { userPoolId: issuer.userPoolId, issuers: [issuer.issuer], keys: 1, fetches: 1, lastFetch: { at: String } },
    { userPoolId: down.userPoolId, keys: 0, fetches: 1, lastFetch: { error: 'JWKS answered HTTP 503' } }
  ])
  t.notOk('error' in (status.pools[0]?.lastFetch ?? {}), 'the good pool\'s last fetch has no error')
  t.equal(status.authsignal.lastCall, undefined, 'no call to Authsignal yet')
  t.equal(emu.requests.length, before, 'a probe sends nothing upstream')

  await app.inject({ url: '/authenticators', headers: bearer(issuer.mint()) })
  t.match(app.authenticatorsStatus().authsignal.lastCall, { at: String, operation: 'getAuthenticators', ok: true })
  emu.setFault({ kind: 'status', status: 500 }, { times: 1 })
  await app.inject({ url: '/authenticators', headers: bearer(issuer.mint()) })
  t.match(app.authenticatorsStatus().authsignal.lastCall, { operation: 'getAuthenticators', ok: false, code: 'FST_AUTHSIGNAL_UPSTREAM_ERROR' })

  down.setFault(null)
  await app.inject({ url: '/authenticators', headers: bearer(down.mint()) })
  t.equal(app.authenticatorsStatus().ready, true, 'ready once every pool holds a key')
})
