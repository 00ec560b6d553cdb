// A local Authsignal: the part of the server API v1 that @authsignal/node uses, plus the client
// API calls @authsignal/browser makes to enrol and verify an email OTP authenticator, and a
// minimal pre-built UI page. node:http and node:crypto only: it ships to hosts as
// `fastify-authsignal-cognito/testing`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto'
import { compact, errorReply, isRecord, readBody, send, sendJson, setCors, type Reply } from './authsignal-emulator-http.js'
import { signToken, verifyToken, type EmulatorTokenClaims } from './authsignal-emulator-token.js'
import { doneHref, renderInvalidTokenPage, renderPrebuiltPage } from './authsignal-emulator-page.js'

export interface AuthsignalEmulatorOptions {
  secret?: string // API secret: the Basic auth username (password empty). Default 'emulator-secret'
  tenantId?: string // default 'emulator-tenant'
  port?: number // default 0 (any free port)
  tokenTtlSec?: number // lifetime of the tokens it issues, default 600
  onOtp?: (info: { userId: string, email: string, code: string }) => void // each email OTP it "sends"
}

export type EmulatorFault =
  | { kind: 'latency', ms: number } // answers normally after ms
  | { kind: 'hang' } // never answers until close()
  | { kind: 'status', status: number, body?: unknown } // body defaults to an Authsignal error body
  | { kind: 'garbage' } // 200 with a non-JSON text/html body
  | { kind: 'wrongContentType' } // answers normally, but as text/plain
  | { kind: 'reset' } // destroys the socket after the headers and part of the body
  | { kind: 'huge', bytes: number } // 200 JSON body of that many bytes

export interface RecordedRequest {
  method: string
  url: string // raw request URL exactly as received
  path: string // its pathname, not decoded nor normalised
  body: unknown // parsed JSON, raw text when not JSON, undefined when empty
  authorized: boolean // carried valid credentials (server API: the secret; client API and page: a valid token)
}

export interface UserAuthenticator {
  userId: string
  userAuthenticatorId: string
  verificationMethod: string
  createdAt: string
  verifiedAt?: string
  lastVerifiedAt?: string
  email?: string
  phoneNumber?: string
  displayName?: string
}

export interface SeedAuthenticator {
  verificationMethod: string
  email?: string
  phoneNumber?: string
  displayName?: string
  userAuthenticatorId?: string
  createdAt?: string
  verifiedAt?: string
}

export interface SentOtp { userId: string, email: string, code: string }

export interface AuthsignalEmulator {
  url: string // http://127.0.0.1:PORT
  apiUrl: string // `${url}/v1`: apiUrl for @authsignal/node and baseUrl for @authsignal/browser
  secret: string
  tenantId: string
  requests: RecordedRequest[] // every request received, in order; headers are never stored
  sentOtps: SentOtp[] // every email OTP "sent", in order
  clearRequests (): void
  seedAuthenticator (userId: string, a: SeedAuthenticator): UserAuthenticator
  authenticators (userId: string): UserAuthenticator[]
  // Applies to server API requests (/v1/... except /v1/client/...) whose pathname matches `path`,
  // for the next `times` of them (default: until cleared). One fault at a time; null clears it.
  setFault (fault: EmulatorFault | null, opts?: { path?: RegExp, times?: number }): void
  // Creates an action in state CHALLENGE_SUCCEEDED and returns its token (step-up tests).
  completeChallenge (userId: string, action: string, verificationMethod?: string): string
  reset (): void // clears authenticators, actions, codes, faults, requests
  close (): Promise<void> // closes the server and every open socket, hung ones too
}

interface ActionRecord {
  userId: string
  action: string
  idempotencyKey: string
  state: string
  createdAt: string
  stateUpdatedAt: string
  verificationMethod?: string
  scope?: string
  redirectUrl?: unknown
  settings: boolean
}

interface PendingOtp {
  code: string
  email: string
  authenticator: UserAuthenticator
  enrol: boolean // true: verifying the code adds the authenticator; false: a challenge of an existing one
  attempts: number
}

interface Route {
  method: string
  pattern: string[] // segments after /v1; ':name' captures one non-empty segment
  handle: (params: Record<string, string>, body: unknown) => Reply
}

const MAX_OTP_ATTEMPTS = 5
const ADD_SCOPE = 'add:authenticators'
const UNAUTHORIZED = 'The request is unauthorized. Check that your API key and region base URL are correctly configured.'

function now (): string {
  return new Date().toISOString()
}

function matchRoute (routes: Route[], method: string, segments: string[]): { route: Route, params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== method || route.pattern.length !== segments.length) continue
    const params: Record<string, string> = {}
    const ok = route.pattern.every((part, i) => {
      const segment = segments[i] as string
      if (!part.startsWith(':')) return part === segment
      params[part.slice(1)] = segment
      return segment !== ''
    })
    if (ok) return { route, params }
  }
  return undefined
}

// Path parameters are decoded per segment, after splitting the raw path on '/': an encoded
// '%2F' stays inside its segment and '..' is a literal id, never a step up.
function decodeParams (params: Record<string, string>): Record<string, string> | undefined {
  try {
    return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, decodeURIComponent(v)]))
  } catch {
    return undefined
  }
}

export async function startAuthsignalEmulator (opts: AuthsignalEmulatorOptions = {}): Promise<AuthsignalEmulator> {
  const secret = opts.secret ?? 'emulator-secret'
  const tenantId = opts.tenantId ?? 'emulator-tenant'
  const tokenTtlSec = opts.tokenTtlSec ?? 600
  const signingKey = randomBytes(32) // per instance: tokens from another emulator are forged here

  const users = new Map<string, UserAuthenticator[]>()
  const actions = new Map<string, ActionRecord>()
  const otps = new Map<string, PendingOtp>() // by action idempotencyKey
  const requests: RecordedRequest[] = []
  const sentOtps: SentOtp[] = []
  let fault: { fault: EmulatorFault, path: RegExp | undefined, remaining: number } | undefined
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  let baseUrl = ''

  function list (userId: string): UserAuthenticator[] {
    let found = users.get(userId)
    if (found === undefined) {
      found = []
      users.set(userId, found)
    }
    return found
  }

  function addAuthenticator (userId: string, a: SeedAuthenticator): UserAuthenticator {
    const createdAt = a.createdAt ?? now()
    const record = compact<UserAuthenticator>({
      userId,
      userAuthenticatorId: a.userAuthenticatorId ?? randomUUID(),
      verificationMethod: a.verificationMethod,
      createdAt,
      verifiedAt: a.verifiedAt ?? createdAt,
      email: a.email,
      phoneNumber: a.phoneNumber,
      displayName: a.displayName
    })
    list(userId).push(record)
    return { ...record }
  }

  function enrolled (userId: string): string[] {
    return [...new Set(list(userId).map((a) => a.verificationMethod))]
  }

  function issueToken (record: ActionRecord): string {
    const iat = Math.floor(Date.now() / 1000)
    return signToken(signingKey, compact<EmulatorTokenClaims>({
      iss: baseUrl,
      sub: record.userId,
      tenantId,
      action: record.action,
      idempotencyKey: record.idempotencyKey,
      scope: record.scope,
      jti: randomUUID(), // every token differs, even two issued in the same second
      iat,
      exp: iat + tokenTtlSec
    }))
  }

  function createAction (userId: string, action: string, attrs: Record<string, unknown>, state: string): ActionRecord {
    const at = now()
    const record: ActionRecord = compact({
      userId,
      action,
      idempotencyKey: typeof attrs.idempotencyKey === 'string' ? attrs.idempotencyKey : randomUUID(),
      state,
      createdAt: at,
      stateUpdatedAt: at,
      scope: typeof attrs.scope === 'string' ? attrs.scope : undefined,
      redirectUrl: attrs.redirectUrl,
      settings: attrs.redirectToSettings === true || action === 'manageAuthenticators'
    })
    actions.set(record.idempotencyKey, record)
    return record
  }

  function succeed (record: ActionRecord, verificationMethod: string): void {
    record.state = 'CHALLENGE_SUCCEEDED'
    record.stateUpdatedAt = now()
    record.verificationMethod = verificationMethod
  }

  // A token is only as good as the action behind it: reset() revokes every token issued before.
  function checkToken (token: unknown): { claims: EmulatorTokenClaims, record: ActionRecord } | { reason: string } {
    const check = verifyToken(signingKey, token, Math.floor(Date.now() / 1000))
    if (!check.ok) return { reason: check.reason }
    const record = actions.get(check.claims.idempotencyKey)
    if (record === undefined) return { reason: 'unknown action' }
    return { claims: check.claims, record }
  }

  function sendOtp (record: ActionRecord, otp: Omit<PendingOtp, 'code' | 'attempts'>): void {
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0')
    otps.set(record.idempotencyKey, { ...otp, code, attempts: 0 })
    const info = { userId: record.userId, email: otp.email, code }
    sentOtps.push(info)
    opts.onOtp?.({ ...info })
  }

  const serverRoutes: Route[] = [
    {
      method: 'GET',
      pattern: ['users', ':userId'],
      handle: ({ userId }) => {
        const own = list(userId as string)
        const email = own.find((a) => a.email !== undefined)?.email
        const phoneNumber = own.find((a) => a.phoneNumber !== undefined)?.phoneNumber
        return {
          status: 200,
          body: compact({
            userId,
            isEnrolled: own.length > 0,
            email,
            emailVerified: email !== undefined,
            phoneNumber,
            phoneNumberVerified: phoneNumber !== undefined,
            enrolledVerificationMethods: enrolled(userId as string),
            allowedVerificationMethods: [...new Set(['EMAIL_OTP', ...enrolled(userId as string)])]
          })
        }
      }
    },
    {
      method: 'GET',
      pattern: ['users', ':userId', 'authenticators'],
      handle: ({ userId }) => ({ status: 200, body: list(userId as string) })
    },
    {
      method: 'POST',
      pattern: ['users', ':userId', 'authenticators'],
      handle: ({ userId }, body) => {
        const attrs = isRecord(body) ? body : {}
        if (typeof attrs.verificationMethod !== 'string') {
          return errorReply(400, 'invalid_request', 'verificationMethod is required')
        }
        const authenticator = addAuthenticator(userId as string, {
          verificationMethod: attrs.verificationMethod,
          email: typeof attrs.email === 'string' ? attrs.email : undefined,
          phoneNumber: typeof attrs.phoneNumber === 'string' ? attrs.phoneNumber : undefined
        })
        return { status: 200, body: { authenticator } }
      }
    },
    {
      method: 'DELETE',
      pattern: ['users', ':userId', 'authenticators', ':id'],
      handle: ({ userId, id }) => {
        const own = list(userId as string)
        const index = own.findIndex((a) => a.userAuthenticatorId === id)
        if (index === -1) return errorReply(404, 'not_found', 'Authenticator not found')
        own.splice(index, 1)
        return { status: 200, body: { success: true } }
      }
    },
    {
      method: 'POST',
      pattern: ['users', ':userId', 'actions', ':action'],
      handle: ({ userId, action }, body) => {
        const methods = enrolled(userId as string)
        // Emulator rule: no rules engine, so a user with an authenticator is always challenged.
        const state = methods.length > 0 ? 'CHALLENGE_REQUIRED' : 'ALLOW'
        const record = createAction(userId as string, action as string, isRecord(body) ? body : {}, state)
        const token = issueToken(record)
        return {
          status: 200,
          body: {
            idempotencyKey: record.idempotencyKey,
            state,
            url: `${baseUrl}/prebuilt?token=${token}`,
            token,
            isEnrolled: methods.length > 0,
            enrolledVerificationMethods: methods,
            allowedVerificationMethods: [...new Set(['EMAIL_OTP', ...methods])]
          }
        }
      }
    },
    {
      method: 'GET',
      pattern: ['users', ':userId', 'actions', ':action', ':idempotencyKey'],
      handle: ({ userId, action, idempotencyKey }) => {
        const record = actions.get(idempotencyKey as string)
        if (record === undefined || record.userId !== userId || record.action !== action) return errorReply(404, 'not_found', 'Action not found')
        return {
          status: 200,
          body: compact({
            state: record.state,
            stateUpdatedAt: record.stateUpdatedAt,
            createdAt: record.createdAt,
            verificationMethod: record.verificationMethod
          })
        }
      }
    },
    {
      method: 'POST',
      pattern: ['validate'],
      handle: (_params, body) => {
        const input = isRecord(body) ? body : {}
        const checked = checkToken(input.token)
        if ('reason' in checked) {
          return { status: 200, body: { isValid: false, error: checked.reason === 'expired' ? 'Token has expired' : 'Invalid token' } }
        }
        const { record } = checked
        if ((input.userId !== undefined && input.userId !== record.userId) || (input.action !== undefined && input.action !== record.action)) {
          return { status: 200, body: { isValid: false, error: 'Token does not match the given userId or action' } }
        }
        return {
          status: 200,
          body: compact({
            isValid: record.state === 'CHALLENGE_SUCCEEDED',
            state: record.state,
            stateUpdatedAt: record.stateUpdatedAt,
            userId: record.userId,
            actionCode: record.action,
            idempotencyKey: record.idempotencyKey,
            verificationMethod: record.verificationMethod
          })
        }
      }
    }
  ]

  // Client API: authorised by the Bearer token from track, never by the secret.
  type ClientHandler = (record: ActionRecord, body: Record<string, unknown>) => Reply
  const clientRoutes: Record<string, ClientHandler> = {
    'user-authenticators/email-otp': (record, body) => {
      if (typeof body.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(body.email)) {
        return errorReply(400, 'invalid_request', 'A valid email is required')
      }
      // Like Authsignal: a token may enrol a user's first authenticator; adding another needs
      // the add:authenticators scope or a challenge completed with this token's action.
      const scopes = (record.scope ?? '').split(' ')
      if (list(record.userId).length > 0 && !scopes.includes(ADD_SCOPE) && record.state !== 'CHALLENGE_SUCCEEDED') {
        return errorReply(403, 'forbidden', `The token needs the ${ADD_SCOPE} scope to add an authenticator for an enrolled user`)
      }
      const authenticator: UserAuthenticator = {
        userId: record.userId,
        userAuthenticatorId: randomUUID(),
        verificationMethod: 'EMAIL_OTP',
        createdAt: now(),
        email: body.email
      }
      sendOtp(record, { email: body.email, authenticator, enrol: true })
      return { status: 200, body: { userAuthenticatorId: authenticator.userAuthenticatorId, userId: record.userId } }
    },
    'challenge/email-otp': (record) => {
      const authenticator = list(record.userId).find((a) => a.verificationMethod === 'EMAIL_OTP' && a.email !== undefined)
      if (authenticator === undefined) return errorReply(400, 'invalid_request', 'The user has no email OTP authenticator')
      sendOtp(record, { email: authenticator.email as string, authenticator, enrol: false })
      return { status: 200, body: { challengeId: randomUUID() } }
    },
    'verify/email-otp': (record, body) => {
      const otp = otps.get(record.idempotencyKey)
      if (otp === undefined) return { status: 200, body: { isVerified: false, failureReason: 'CODE_INVALID_OR_EXPIRED' } }
      if (String(body.verificationCode) !== otp.code) {
        otp.attempts += 1
        if (otp.attempts < MAX_OTP_ATTEMPTS) return { status: 200, body: { isVerified: false, failureReason: 'CODE_INVALID_OR_EXPIRED' } }
        otps.delete(record.idempotencyKey)
        return { status: 200, body: { isVerified: false, failureReason: 'MAX_ATTEMPTS_EXCEEDED' } }
      }
      otps.delete(record.idempotencyKey)
      const at = now()
      const { authenticator } = otp
      authenticator.lastVerifiedAt = at
      if (otp.enrol) {
        authenticator.verifiedAt = at
        list(record.userId).push(authenticator)
      }
      succeed(record, 'EMAIL_OTP')
      return {
        status: 200,
        body: compact({
          isVerified: true,
          accessToken: issueToken(record),
          userAuthenticator: otp.enrol ? { ...authenticator } : undefined
        })
      }
    }
  }

  function serverAuthorized (req: IncomingMessage): boolean {
    const header = req.headers.authorization
    if (header?.startsWith('Basic ') !== true) return false
    const username = Buffer.from(header.slice(6), 'base64').toString('utf8').replace(/:.*$/s, '')
    const given = Buffer.from(username)
    const expected = Buffer.from(secret)
    return given.length === expected.length && timingSafeEqual(given, expected)
  }

  function takeFault (path: string): EmulatorFault | undefined {
    if (fault === undefined || (fault.path !== undefined && path.search(fault.path) === -1)) return undefined
    const current = fault.fault
    fault.remaining -= 1
    if (fault.remaining <= 0) fault = undefined
    return current
  }

  function delay (ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve()
      }, ms)
      timer.unref()
      timers.add(timer)
    })
  }

  async function serverApi (req: IncomingMessage, res: ServerResponse, rec: RecordedRequest, segments: string[], body: unknown): Promise<void> {
    let contentType: string | undefined
    const injected = takeFault(rec.path)
    switch (injected?.kind) {
      case 'latency':
        await delay(injected.ms)
        break
      case 'hang':
        return // the socket stays open until the client gives up or close() destroys it
      case 'status':
        return sendJson(res, injected.body === undefined
          ? errorReply(injected.status, 'emulated_fault', `Emulated ${injected.status} response`)
          : { status: injected.status, body: injected.body })
      case 'garbage':
        return send(res, 200, 'text/html', '<html><body><h1>502 Bad Gateway</h1></body></html>')
      case 'wrongContentType':
        contentType = 'text/plain'
        break
      case 'reset':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' })
        res.write('{"partial":', () => res.destroy())
        return
      case 'huge':
        return send(res, 200, 'application/json', `{"data":"${'x'.repeat(Math.max(0, injected.bytes - 11))}"}`)
    }
    rec.authorized = serverAuthorized(req)
    if (!rec.authorized) return sendJson(res, errorReply(401, 'unauthorized', UNAUTHORIZED), contentType)
    const matched = matchRoute(serverRoutes, rec.method, segments)
    if (matched === undefined) return sendJson(res, errorReply(404, 'not_found', 'Route not found'), contentType)
    const params = decodeParams(matched.params)
    if (params === undefined) return sendJson(res, errorReply(400, 'invalid_request', 'Malformed path parameter'), contentType)
    sendJson(res, matched.route.handle(params, body), contentType)
  }

  function clientApi (req: IncomingMessage, res: ServerResponse, rec: RecordedRequest, route: string, body: unknown): void {
    const handler = rec.method === 'POST' ? clientRoutes[route] : undefined
    if (handler === undefined) return sendJson(res, errorReply(404, 'not_found', 'Route not found'))
    const header = req.headers.authorization
    const checked = checkToken(header?.startsWith('Bearer ') === true ? header.slice(7) : undefined)
    if ('reason' in checked) {
      // The browser SDK calls onTokenExpired when errorCode is expired_token.
      return sendJson(res, checked.reason === 'expired'
        ? errorReply(401, 'expired_token', 'The token has expired')
        : errorReply(401, 'unauthorized', 'The token is missing or invalid'))
    }
    rec.authorized = true
    sendJson(res, handler(checked.record, isRecord(body) ? body : {}))
  }

  function prebuiltPage (res: ServerResponse, rec: RecordedRequest, query: string): void {
    const token = new URLSearchParams(query).get('token')
    const checked = checkToken(token)
    if ('reason' in checked) return send(res, 401, 'text/html; charset=utf-8', renderInvalidTokenPage())
    rec.authorized = true
    const { record } = checked
    const nonce = randomBytes(16).toString('base64')
    res.setHeader('content-security-policy', `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'`)
    send(res, 200, 'text/html; charset=utf-8', renderPrebuiltPage({
      token: token as string,
      userId: record.userId,
      action: record.action,
      state: record.state,
      settings: record.settings,
      authenticators: list(record.userId),
      doneHref: doneHref(record.redirectUrl, token as string),
      nonce
    }))
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = String(req.url)
    const queryAt = url.indexOf('?')
    const path = queryAt === -1 ? url : url.slice(0, queryAt)
    const method = String(req.method)
    const parsed = await readBody(req)
    const rec: RecordedRequest = { method, url, path, body: parsed.value, authorized: false }
    requests.push(rec)

    const segments = path.split('/').slice(1)
    const browserFacing = path === '/prebuilt' || path.startsWith('/v1/client/')
    if (browserFacing) setCors(req, res)
    if (browserFacing && method === 'OPTIONS') {
      res.writeHead(204)
      res.end()
      return
    }
    if (parsed.malformed) return sendJson(res, errorReply(400, 'invalid_request', 'The request body is not valid JSON'))
    if (path === '/prebuilt' && method === 'GET') return prebuiltPage(res, rec, url.slice(path.length + 1))
    if (path.startsWith('/v1/client/')) return clientApi(req, res, rec, path.slice('/v1/client/'.length), parsed.value)
    if (segments[0] === 'v1') return await serverApi(req, res, rec, segments.slice(1), parsed.value)
    sendJson(res, errorReply(404, 'not_found', 'Route not found'))
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      sendJson(res, errorReply(500, 'internal_error', `Emulator error: ${String(err)}`))
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  baseUrl = `http://127.0.0.1:${port}`

  return {
    url: baseUrl,
    apiUrl: `${baseUrl}/v1`,
    secret,
    tenantId,
    requests,
    sentOtps,
    clearRequests: () => { requests.length = 0 },
    seedAuthenticator: addAuthenticator,
    authenticators: (userId) => list(userId).map((a) => ({ ...a })),
    setFault: (next, faultOpts = {}) => {
      fault = next === null ? undefined : { fault: next, path: faultOpts.path, remaining: faultOpts.times ?? Infinity }
    },
    completeChallenge: (userId, action, verificationMethod = 'EMAIL_OTP') => {
      const record = createAction(userId, action, {}, 'CHALLENGE_REQUIRED')
      succeed(record, verificationMethod)
      return issueToken(record)
    },
    reset: () => {
      users.clear()
      actions.clear()
      otps.clear()
      requests.length = 0
      sentOtps.length = 0
      fault = undefined
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      await closed
    }
  }
}
