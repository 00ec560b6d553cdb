// The property tests' world and rules: the plugin with every route on (routes discovered by an `onRoute` hook,
// so routes added later are fuzzed too), the servers of test/hostile/helpers.ts, one case run as one real HTTP
// request, and what must hold for every case: never a 500 (nor any 5xx but 502/503/504 while Authsignal is
// made to fail); a JSON error answer carries its status and a code; Authsignal is only asked about the
// caller (and, for an agent, the user they act on); no credential or contact detail in the answer or the log;
// the emulator's authenticators change only by a DELETE that succeeded, and only as that route says.
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import type { AuthenticatorsPluginOptions } from '../../index.js'
import { signWebhook, type AuthsignalEmulator, type RecordedRequest } from '../../lib/testing/authsignal-emulator.js'
import type { CognitoIssuer } from '../../lib/testing/cognito-issuer.js'
import { issuerFor } from '../helpers.js'
import { Capture, send, startSuite, type Answer, type Target } from '../hostile/helpers.js'
import {
  ALLOWED_REDIRECT, LONG_USER, OTHER_FACTORS, SUPPORT_GROUP, USERS,
  type Auth, type Body, type Case, type Challenge, type Claims, type Param, type Who
} from './arbitraries.js'

export interface Route { method: string, url: string, params: string[] }

/** Every route the app mounts, as `onRoute` reports it (HEAD twins of GET routes included). */
export function collectRoutes (into: Route[]): (app: FastifyInstance) => void {
  return (app) => {
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        const params = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map(m => m[1] as string)
        into.push({ method, url: route.url, params: route.url.endsWith('*') ? [...params, '*'] : params })
      }
    })
  }
}

const CONTACTS: Record<string, { email?: string, phoneNumber?: string }> = {
  'long-sms': { phoneNumber: '+447700900789' },
  'own-sms': { phoneNumber: '+447700900123' },
  'own-email': { email: 'alice.fuzz@example.com' },
  'bob-sms': { phoneNumber: '+447700900456' },
  'bob-email': { email: 'bob.fuzz@example.com' }
}
const METHODS: Record<string, string> = { sms: 'SMS', email: 'EMAIL_OTP', passkey: 'PASSKEY', recovery: 'RECOVERY_CODE', totp: 'AUTHENTICATOR_APP' }
const methodOf = (id: string): string => METHODS[id.split('-')[1] as string] as string
/** Contact details and webhook payload contacts: never in an answer or a log line, in full. */
const CONTACT_TEXT = [...Object.values(CONTACTS).flatMap(c => [c.email, c.phoneNumber]), 'hook.user@example.com', '+447700900999'].filter((v): v is string => v !== undefined)

/** Options that turn on routes other branches add: tried in turn, dropped when this build does not know them yet. */
const NEWER_ROUTES: Array<Partial<AuthenticatorsPluginOptions>> = [
  { routes: { support: { requiredGroups: [SUPPORT_GROUP] } } } as unknown as Partial<AuthenticatorsPluginOptions>
]

export interface World {
  emu: AuthsignalEmulator
  issuer: CognitoIssuer
  otherPool: CognitoIssuer
  app: FastifyInstance & Target
  capture: Capture
  routes: Route[]
  /** Options of NEWER_ROUTES this build refused as unknown (their routes are not mounted, so not fuzzed). */
  unknown: string[]
  /** How long an answer may take: every Authsignal call a route makes at its deadline, and room for a busy machine. */
  answerMs: number
}

const base = (): Partial<AuthenticatorsPluginOptions> => ({
  routes: { prebuiltUi: { allowedRedirectUrls: [ALLOWED_REDIRECT] }, remove: { requireChallenge: true }, challengeToken: true, webhook: true }
})

function merged (extra: Array<Partial<AuthenticatorsPluginOptions>>): Partial<AuthenticatorsPluginOptions> {
  const out = base()
  for (const e of extra) Object.assign(out.routes as object, e.routes)
  return out
}

export async function startWorld (t: Test, timeoutMs: number): Promise<World> {
  const capture = new Capture()
  const unknown: string[] = []
  let extra = [...NEWER_ROUTES]
  for (;;) {
    const routes: Route[] = []
    try {
      const { emu, issuer, app } = await startSuite(t, capture, timeoutMs, merged(extra), collectRoutes(routes))
      const otherPool = await issuerFor(t, { userPoolId: 'eu-west-1_OtherPool9' })
      capture.secrets.add(emu.secret)
      for (const text of CONTACT_TEXT) capture.secrets.add(text)
      return { emu, issuer, otherPool, app, capture, routes, unknown, answerMs: 6 * timeoutMs + 5000 }
    } catch (err) {
      const name = /option (routes\.\w+)/.exec((err as Error).message)?.[1]
      const refused = extra.find(e => name !== undefined && `routes.${Object.keys(e.routes ?? {})[0] ?? ''}` === name)
      if (refused === undefined || !/unknown option/.test((err as Error).message)) throw err
      unknown.push(name as string)
      extra = extra.filter(e => e !== refused)
    }
  }
}

// --- One case ---

/** Percent-encodes each UTF-8 byte of `text` that `keep` does not match. */
function percentEncode (text: string, keep: RegExp): string {
  let out = ''
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte)
    out += byte < 0x80 && keep.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}
const UNRESERVED = /[A-Za-z0-9._~-]/
/** What node:http lets through in a request target as written (%, /, ?, # included: they change the routing). */
const VISIBLE = /[\x21-\x7e]/

function encodeParam ({ value, encoding }: Param): string {
  if (encoding === 'segments') return value.split('/').map(segment => percentEncode(decoded(segment), UNRESERVED)).join('/')
  if (encoding === 'raw') return percentEncode(value, VISIBLE)
  const once = percentEncode(value, UNRESERVED)
  return encoding === 'twice' ? percentEncode(once, UNRESERVED) : once
}

function decoded (text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

interface Minted { header: string[], callers: string[], agent: boolean, credentials: string[] }

function mintClaims (world: World, c: Claims): string {
  const now = Math.floor(Date.now() / 1000)
  return world.issuer.mint({
    sub: c.sub,
    tokenUse: c.tokenUse,
    ...(!c.ownClient && { clientId: 'other-client' }),
    iat: now - c.issuedSecAgo,
    expiresInSec: c.expiresInSec,
    ...(c.signedInSecAgo !== undefined && { authTime: now - c.signedInSecAgo }),
    ...(c.groups !== undefined && { groups: c.groups }),
    ...(c.scope !== undefined && { scope: c.scope }),
    claims: {
      ...(!c.ownIssuer && { iss: `${world.issuer.issuer}x` }),
      ...(c.dropUsername && { username: undefined, 'cognito:username': undefined })
    },
    header: c.header
  })
}

/** The Authorization header(s) of a case, the user ids Authsignal may be asked about, and the credentials sent. */
function authorization (world: World, auth: Auth): Minted {
  const token = (who: Who, signedInSecAgo = 0): string =>
    world.issuer.mint({ sub: USERS[who], ...(who === 'agent' && { groups: [SUPPORT_GROUP] }), authTime: Math.floor(Date.now() / 1000) - signedInSecAgo })
  const one = (value: string, credential: string, callers: string[], agent = false): Minted =>
    ({ header: ['authorization', value], callers, agent, credentials: [credential] })
  switch (auth.kind) {
    case 'none': return { header: [], callers: [], agent: false, credentials: [] }
    case 'user': { const jwt = token(auth.who, auth.signedInSecAgo); return one(`Bearer ${jwt}`, jwt, [USERS[auth.who]], auth.who === 'agent') }
    case 'claims': {
      const jwt = mintClaims(world, auth.claims)
      return one(`Bearer ${jwt}`, jwt, [auth.claims.sub], auth.claims.groups?.includes(SUPPORT_GROUP) === true)
    }
    case 'otherPool': { const jwt = world.otherPool.mint({ sub: USERS[auth.who] }); return one(`Bearer ${jwt}`, jwt, []) }
    case 'tampered': {
      const [h, p, s] = token(auth.who).split('.') as [string, string, string]
      const flip = (part: string): string => `${part.slice(0, -2)}${part.endsWith('AA') ? 'BB' : 'AA'}`
      const jwt = { header: `${flip(h)}.${p}.${s}`, payload: `${h}.${flip(p)}.${s}`, signature: `${h}.${p}.${flip(s)}`, truncated: `${h}.${p}`, extraSegment: `${h}.${p}.${s}.${s}` }[auth.part]
      // Without its signature a token is no credential (and not JWT-shaped for the log's redaction).
      return one(`Bearer ${jwt}`, auth.part === 'truncated' ? '' : jwt, [])
    }
    case 'scheme': { const jwt = token(auth.who); return one(`${auth.scheme}${jwt}`, jwt, [USERS[auth.who]], auth.who === 'agent') }
    case 'raw': return one(auth.value, '', [])
    case 'twice': {
      // Node keeps the first of several Authorization headers: only the first token may speak.
      const first = token(auth.first)
      const second = token(auth.second)
      return { header: ['authorization', `Bearer ${first}`, 'authorization', `Bearer ${second}`], callers: [USERS[auth.first]], agent: auth.first === 'agent', credentials: [first, second] }
    }
  }
}

function completeChallenge (world: World, challenge: Challenge, callers: string[], aliceHas: string[]): string | undefined {
  if (challenge.kind === 'none') return undefined
  if (challenge.kind === 'raw') return challenge.value
  const userId = challenge.by === 'caller' ? callers[0] ?? USERS.alice : USERS[challenge.by]
  const action = challenge.ownAction ? 'removeAuthenticator' : 'addAuthenticator'
  const factor = userId === USERS.alice
    ? aliceHas.find(id => id === `own-${challenge.factor}`)
    : userId === USERS.bob ? `bob-${challenge.factor}` : userId === USERS.agent ? 'agent-totp' : undefined
  const owned = factor !== undefined && world.emu.authenticators(userId).some(a => a.userAuthenticatorId === factor)
  return owned ? world.emu.completeChallenge(userId, action, undefined, factor) : world.emu.completeChallenge(userId, action, 'EMAIL_OTP')
}

function bodyOf (world: World, body: Body): { text: string | undefined, headers: string[], credentials: string[] } {
  switch (body.kind) {
    case 'none': return { text: undefined, headers: [], credentials: [] }
    case 'json': return { text: JSON.stringify(body.value) ?? 'null', headers: [], credentials: [] }
    case 'text': return { text: body.text, headers: [], credentials: [] }
    case 'padded': return { text: JSON.stringify({ pad: 'x'.repeat(body.bytes) }), headers: [], credentials: [] }
    case 'webhook': {
      const text = JSON.stringify({ version: 1, id: body.id, source: 'https://authsignal.com', time: new Date().toISOString(), tenantId: world.emu.tenantId, type: body.type, data: body.data })
      const now = Math.floor(Date.now() / 1000)
      const signature = {
        valid: signWebhook(world.emu.secret, text),
        missing: undefined,
        garbage: 't=abc,v2=???',
        stale: signWebhook(world.emu.secret, text, now - 3600),
        future: signWebhook(world.emu.secret, text, now + 3600),
        otherSecret: signWebhook('another-secret-of-16+chars', text),
        tampered: signWebhook(world.emu.secret, `${text} `)
      }[body.signature]
      return { text, headers: signature === undefined ? [] : ['x-signature-v2', signature], credentials: [] }
    }
  }
}

export interface Outcome { route: Route, status: number, code: string | undefined }

type Snapshot = Map<string, string>

function snapshot (emu: AuthsignalEmulator, users: string[]): Snapshot {
  return new Map(users.map(u => [u, JSON.stringify(emu.authenticators(u))]))
}

function seed (emu: AuthsignalEmulator, aliceHas: string[]): void {
  emu.reset()
  const add = (userId: string, id: string): void => {
    emu.seedAuthenticator(userId, { verificationMethod: methodOf(id), userAuthenticatorId: id, ...CONTACTS[id] })
  }
  for (const id of aliceHas) add(USERS.alice, id)
  for (const id of OTHER_FACTORS.bob) add(USERS.bob, id)
  for (const id of OTHER_FACTORS.agent) add(USERS.agent, id)
  for (const id of OTHER_FACTORS.long) add(LONG_USER, id)
}

/** `/v1/users/<id>` and below, or a call that names the user in its body (validate, revoke sessions). */
function isAbout (request: RecordedRequest, userId: string): boolean {
  const own = `/v1/users/${encodeURIComponent(userId)}`
  return request.path === own || request.path.startsWith(`${own}/`) || (request.body as { userId?: unknown } | undefined)?.userId === userId
}

class Violation extends Error {}
function must (condition: boolean, message: string): asserts condition {
  if (!condition) throw new Violation(message)
}

/** Credentials of earlier cases whose lines the log may still be writing ("request completed" comes after the answer). */
let pendingCredentials: string[] = []
let checkedLines = 0

function assertNoLeak (world: World, credentials: string[], answer: Answer | undefined, issued: string | undefined): void {
  const worthSearching = credentials.filter(c => c.length >= 16)
  const secrets = [world.emu.secret, ...CONTACT_TEXT, ...worthSearching]
  if (answer !== undefined) {
    // The Authsignal token this very answer hands out is the only credential it may carry.
    const body = issued === undefined ? answer.body : answer.body.split(issued).join('')
    const found = secrets.find(s => body.includes(s))
    must(found === undefined, `the answer (${answer.status}) carries a credential or contact detail: ${found?.slice(0, 12) ?? ''}…`)
  }
  const lines = world.capture.lines.slice(checkedLines)
  for (const secret of [...pendingCredentials, ...secrets]) {
    const line = lines.find(l => l.includes(secret))
    must(line === undefined, `a log line carries a credential or contact detail (${secret.slice(0, 12)}…): ${line?.slice(0, 300) ?? ''}`)
  }
  checkedLines += lines.length
  pendingCredentials = worthSearching
}

/** Checks the last case's trailing log lines once every answer is written (after app.close()). */
export function assertTrailingLogClean (world: World): void {
  assertNoLeak(world, [], undefined, undefined)
}

function issuedToken (answer: Answer): string | undefined {
  const body = answer.json() as { authsignalToken?: unknown, prebuiltUiUrl?: unknown } | undefined
  if (typeof body?.authsignalToken === 'string') return body.authsignalToken
  if (typeof body?.prebuiltUiUrl === 'string') return body.prebuiltUiUrl
  return undefined
}

/** The answer, or a Violation once it is clearly late: every upstream call has its deadline, none may hang the request. */
async function answerWithin (world: World, answer: Promise<Answer>, label: string): Promise<Answer> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Violation(`no answer within ${world.answerMs} ms: ${label}`)), world.answerMs)
  })
  try {
    return await Promise.race([answer, late])
  } finally {
    clearTimeout(timer)
  }
}

/** Runs one case on `route` and throws (a Violation) when a property does not hold. */
export async function runCase (world: World, route: Route, c: Case): Promise<Outcome> {
  const { emu } = world
  seed(emu, c.aliceHas)
  const minted = authorization(world, c.auth)
  const challenge = completeChallenge(world, c.challenge, minted.callers, c.aliceHas)
  const body = bodyOf(world, c.body)

  let path = route.url
  const targets: string[] = []
  for (const [name, p] of Object.entries(c.params)) {
    const encoded = encodeParam(p)
    path = path.replace(name === '*' ? '*' : `:${name}`, encoded)
    // A wildcard's tail names users by its segments.
    targets.push(p.value, decoded(encoded), ...encoded.split('/').map(decoded))
  }
  if (c.query !== undefined) {
    path += `?${c.query.kind === 'text' ? percentEncode(c.query.text, VISIBLE) : `${c.query.name}=${minted.credentials[0] ?? 'none'}`}`
  }
  const headers = [...minted.header, ...body.headers]
  if (challenge !== undefined) headers.push('x-authsignal-token', challenge)
  if (c.contentType !== undefined) headers.push('content-type', c.contentType)
  for (const [name, value] of c.headers) headers.push(name, value)
  if (body.text !== undefined) headers.push('content-length', String(Buffer.byteLength(body.text)))
  const method = c.method ?? route.method
  // Node refuses more than 16 KiB of headers (431) and Fastify answers a HEAD's 431 with a body, which the client
  // then cannot parse: that request is about node and the client, not the plugin.
  fc.pre(method !== 'HEAD' || headers.reduce((n, h) => n + h.length + 4, 0) < 16_000)
  const credentials = [...minted.credentials, ...(challenge !== undefined && c.challenge.kind === 'completed' ? [challenge] : [])]
  for (const credential of credentials) world.capture.keep(credential)

  // Who Authsignal may hear about: the caller; an agent's target on the routes that take a user id.
  const allowed = [...minted.callers, ...(minted.agent && (route.params.includes('userId') || route.params.includes('*')) ? targets : [])]
  const watched = [...new Set([...Object.values(USERS), LONG_USER, ...allowed])]
  const before = snapshot(emu, watched)
  if (c.fault !== undefined) emu.setFault(c.fault.fault, c.fault.path === undefined ? undefined : { path: c.fault.path })
  const answer = await answerWithin(world, send(world.app, { method, path, headers, body: body.text }), `${method} ${path.slice(0, 200)}`)
  emu.setFault(null)
  const label = `${method} ${path.slice(0, 200)} → ${answer.status} ${answer.body.slice(0, 200)}`

  // 1. Status: never a 500; a 5xx only while Authsignal fails, and only the upstream ones.
  must(answer.status !== 500, `500: ${label}`)
  if (answer.status >= 500) must(c.fault !== undefined && [502, 503, 504].includes(answer.status), `unexpected ${answer.status}: ${label}`)
  // 2. A JSON error answer of the plugin says what went wrong with a code. Not the plugin's: the host's not-found
  //    handler (a method or path no route has) and the server's refusal of oversized headers, before any route.
  const json = answer.json() as { statusCode?: unknown, code?: unknown, message?: unknown } | undefined
  const hostNotFound = answer.status === 404 && typeof json?.message === 'string' && json.message.startsWith(`Route ${method}:`)
  // Fastify's own answer to a URL it cannot decode, before any route: set by the host (`frameworkErrors`).
  const hostBadUrl = answer.status === 400 && json?.code === 'FST_ERR_BAD_URL'
  if (answer.status >= 400 && json !== undefined && !hostNotFound && answer.status !== 431) {
    must(json.statusCode === answer.status && typeof json.code === 'string', `error answer without its status and code: ${label}`)
  }
  // 3. Authsignal heard only about the users this request may act for.
  const stray = emu.requests.filter(r => !allowed.some(u => isAbout(r, u)))
  must(stray.length === 0, `upstream request outside ${JSON.stringify(allowed)}: ${stray.map(r => `${r.method} ${r.path}`).join(', ')} for ${label}`)
  // 4. No credential or contact detail in the answer or the log. Fastify's default answers to a URL no route has or
  //    Fastify cannot decode quote the URL (query string included) and are the host's to replace (SECURITY.md):
  //    only their log lines are the plugin's concern.
  assertNoLeak(world, credentials, hostNotFound || hostBadUrl ? undefined : answer, issuedToken(answer))
  // 5. Authenticators change only by a DELETE that succeeded: removals (no additions or edits), of allowed users,
  //    exactly the one named when the route names one.
  const after = snapshot(emu, watched)
  const changed = watched.filter(u => before.get(u) !== after.get(u))
  const succeededDelete = method === 'DELETE' && answer.status >= 200 && answer.status < 300
  if (!succeededDelete) must(changed.length === 0, `authenticators of ${changed.join(', ')} changed by ${label}`)
  const removed: string[] = []
  for (const u of changed) {
    must(allowed.includes(u), `authenticators of ${u} changed by ${label}`)
    const was = JSON.parse(before.get(u) as string) as Array<{ userAuthenticatorId: string }>
    const now = JSON.parse(after.get(u) as string) as Array<{ userAuthenticatorId: string }>
    must(now.every(a => was.some(b => JSON.stringify(b) === JSON.stringify(a))), `authenticators of ${u} added or edited by ${label}`)
    removed.push(...was.filter(b => !now.some(a => a.userAuthenticatorId === b.userAuthenticatorId)).map(b => b.userAuthenticatorId))
  }
  if (succeededDelete && route.params.includes('userAuthenticatorId')) {
    must(removed.length === 1 && targets.includes(removed[0] as string), `removed ${JSON.stringify(removed)} instead of the one named: ${label}`)
  }
  return { route, status: answer.status, code: typeof json?.code === 'string' ? json.code : undefined }
}
