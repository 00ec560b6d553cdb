// Shared by the hostile suites: the plugin in a real Fastify app listening on 127.0.0.1 and logging every
// line (level trace, `safeLoggerOptions`) into the suite's capture; HTTP clients that send requests exactly
// as written (node:http for ordinary rows, a raw socket for bytes node:http refuses to send); a signer for
// hand-written JWTs (duplicate keys, non-JSON segments) with its own JWKS server; and the checks every row
// makes on the upstream record and, at the end of each file, on the log capture.
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto'
import { createServer, request as httpRequest, type OutgoingHttpHeaders } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import authenticatorsPlugin, { safeLoggerOptions, type AuthenticatorsPluginOptions } from '../../index.js'
import { startAuthsignalEmulator, type AuthsignalEmulator, type RecordedRequest } from '../../lib/testing/authsignal-emulator.js'
import { startCognitoIssuer, type CognitoIssuer } from '../../lib/testing/cognito-issuer.js'
import { cognitoOptions } from '../helpers.js'

export { ALICE, BOB } from '../helpers.js'

/** Everything the suite's apps logged, every answer they gave, and every credential the suite handled. */
export class Capture {
  readonly lines: string[] = []
  readonly answers: Answer[] = []
  /** API secrets, bearer tokens, Authsignal tokens: none may appear in a log line. */
  readonly secrets = new Set<string>()
  readonly stream = { write: (line: string) => { this.lines.push(line) } }

  /** Remembers a credential (short strings such as `a.b.c` are not worth searching for). */
  keep<T extends string> (value: T): T {
    if (value.length >= 16) this.secrets.add(value)
    return value
  }

  /** Authsignal tokens in an answer of the token or pre-built UI route. */
  keepIssued (answer: Answer): void {
    const body = answer.json() as { authsignalToken?: unknown, prebuiltUiUrl?: unknown } | undefined
    if (typeof body?.authsignalToken === 'string') this.keep(body.authsignalToken)
    if (typeof body?.prebuiltUiUrl === 'string') this.keep(new URL(body.prebuiltUiUrl).searchParams.get('token') ?? '')
  }
}

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
  ms: number
  json: () => any
}

function answer (status: number, headers: Answer['headers'], body: string, ms: number): Answer {
  return {
    status,
    headers,
    body,
    ms,
    json: () => {
      try {
        return JSON.parse(body)
      } catch {
        return undefined
      }
    }
  }
}

export interface Target { port: number, capture: Capture }

export interface Send {
  method?: string
  path: string
  /** An object, or a flat [name, value, name, value…] list to send several headers of one name. */
  headers?: OutgoingHttpHeaders | string[]
  body?: string
}

/** One request over real HTTP with node:http, the path sent as written (no `..` resolution). */
export async function send (target: Target, { method = 'GET', path, headers = {}, body }: Send): Promise<Answer> {
  const started = performance.now()
  const res = await new Promise<Answer>((resolve, reject) => {
    // A raw header list replaces node:http's defaults, Host included.
    // node:http frames no body of a DELETE by itself: say how long it is unless the row sends it chunked.
    const framed = body === undefined || Array.isArray(headers) || headers['transfer-encoding'] !== undefined ? {} : { 'content-length': Buffer.byteLength(body) }
    const list = Array.isArray(headers) ? [...headers, 'host', `127.0.0.1:${target.port}`] : { ...framed, ...headers }
    const req = httpRequest({ host: '127.0.0.1', port: target.port, method, path, headers: list, agent: false }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => resolve(answer(res.statusCode as number, res.headers, text, performance.now() - started)))
    })
    req.on('error', reject)
    req.end(body)
  })
  target.capture.answers.push(res)
  target.capture.keepIssued(res)
  return res
}

/** Bytes written to a socket as given: for request lines and headers node:http refuses to send. */
export async function sendRaw (target: Target, head: string, body = ''): Promise<Answer> {
  const started = performance.now()
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(target.port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    socket.on('error', reject)
    // Not end(): a half-closed socket lets Node drop the connection before a slow answer is written.
    socket.write(Buffer.concat([Buffer.from(`${head}\r\nconnection: close\r\n\r\n`, 'latin1'), Buffer.from(body)]))
  })
  const [statusLine = '', ...headerLines] = (text.split('\r\n\r\n')[0] ?? '').split('\r\n')
  const headers: Answer['headers'] = {}
  for (const line of headerLines) {
    const at = line.indexOf(':')
    headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim()
  }
  const res = answer(Number(statusLine.split(' ')[1]), headers, text.slice(text.indexOf('\r\n\r\n') + 4), performance.now() - started)
  target.capture.answers.push(res)
  return res
}

/** The app under test: the plugin registered once per entry (each in its own scope, as the README shows). `prepare` runs first (hooks that must see every route). */
export async function startApp (t: Test, capture: Capture, registrations: AuthenticatorsPluginOptions[], prepare?: (app: FastifyInstance) => void): Promise<FastifyInstance & Target> {
  const app = Fastify({ logger: { ...safeLoggerOptions, level: 'trace', stream: capture.stream } })
  prepare?.(app)
  for (const options of registrations) {
    if (typeof options.authsignal.apiSecretKey === 'string') capture.keep(options.authsignal.apiSecretKey)
    await app.register(async scope => { await scope.register(authenticatorsPlugin, options) })
  }
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  return Object.assign(app, { port: (app.server.address() as AddressInfo).port, capture }) as unknown as FastifyInstance & Target
}

/** A suite's servers: the Authsignal emulator, a Cognito issuer, and the app registered once with `extra`. */
export async function startSuite (t: Test, capture: Capture, timeoutMs: number, extra: Partial<AuthenticatorsPluginOptions> = {}, prepare?: (app: FastifyInstance) => void): Promise<{ emu: AuthsignalEmulator, issuer: CognitoIssuer, app: FastifyInstance & Target }> {
  const emu = await startAuthsignalEmulator()
  t.teardown(() => emu.close())
  const issuer = await startCognitoIssuer()
  t.teardown(() => issuer.close())
  const app = await startApp(t, capture, [{
    cognito: cognitoOptions(issuer),
    authsignal: { apiSecretKey: capture.keep(emu.secret), apiUrl: emu.apiUrl, timeoutMs },
    ...extra
  }], prepare)
  return { emu, issuer, app }
}

/** What the emulator received since `from`, as `METHOD /path` lines. */
export function callsSince (emulator: AuthsignalEmulator, from: number): string[] {
  return emulator.requests.slice(from).map(r => `${r.method} ${r.path}`)
}

/** True when every recorded request is for the user's own path (`/v1/users/<user>/…`). */
export function onlyOwnPaths (requests: RecordedRequest[], user: string): boolean {
  return requests.every(r => r.path.startsWith(`/v1/users/${user}/`))
}

/** The final check of every hostile file: the whole capture holds none of the credentials it handled. */
export function assertNothingLeaked (t: Test, capture: Capture, minimum: { lines: number, secrets: number }): void {
  const secrets = [...capture.secrets]
  t.ok(capture.lines.length >= minimum.lines, `captured ${capture.lines.length} log lines`)
  t.ok(secrets.length >= minimum.secrets, `collected ${secrets.length} credentials to look for`)
  const inLogs = secrets.filter(secret => capture.lines.some(line => line.includes(secret)))
  t.same(inLogs, [], `none of ${secrets.length} credentials is in any of ${capture.lines.length} log lines`)
  // Answers: bearer tokens and API secrets never; Authsignal tokens only in the 200s that carry them by design.
  const issued = new Set<string>()
  for (const a of capture.answers) {
    const body = a.json() as { authsignalToken?: unknown, prebuiltUiUrl?: unknown } | undefined
    if (a.status === 200 && (typeof body?.authsignalToken === 'string' || typeof body?.prebuiltUiUrl === 'string')) issued.add(a.body)
  }
  const inAnswers = secrets.filter(secret => capture.answers.some(a => !issued.has(a.body) && a.body.includes(secret)))
  t.same(inAnswers, [], `nor in any of ${capture.answers.length} answers (beyond the Authsignal token a 200 hands out)`)
}

// --- Hand-written tokens ---

export interface KeyServer {
  kid: string
  jwksUri: string
  privateKey: KeyObject
  /** Signs header and payload given as JSON *text* (so duplicate keys and non-JSON survive). */
  signRaw: (header: string, payload: string) => string
  /** Signs two segments given as they will appear in the token (so a non-canonical encoding survives). */
  signSegments: (header: string, payload: string) => string
  close: () => Promise<void>
}

const b64 = (text: string): string => Buffer.from(text).toString('base64url')

/** An RSA key of our own and a JWKS server publishing it. */
export async function startKeyServer (t: Test): Promise<KeyServer> {
  const kid = randomUUID()
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const signSegments = (header: string, payload: string): string =>
    `${header}.${payload}.${sign('sha256', Buffer.from(`${header}.${payload}`), privateKey).toString('base64url')}`
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] })
  const server = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(jwks) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const close = async (): Promise<void> => { server.closeAllConnections(); await new Promise<void>(resolve => server.close(() => resolve())) }
  t.teardown(close)
  return {
    kid,
    privateKey,
    jwksUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    signRaw: (header, payload) => signSegments(b64(header), b64(payload)),
    signSegments,
    close
  }
}

/** Resolves once Date.now() is early in a second, so second-granular edge rows cannot straddle a tick. */
export async function earlyInASecond (): Promise<number> {
  while (Date.now() % 1000 > 100) await new Promise(resolve => setTimeout(resolve, 5))
  return Math.floor(Date.now() / 1000)
}
