// What the property tests send: each part of a request drawn on its own (who calls and how the token travels,
// each path parameter and how it is encoded, the query string, the body and its content type, the step-up
// header, other headers, what the Authsignal emulator is made to do), so fast-check can shrink a failing
// request down to the part that matters. Parts are descriptions: tokens are minted and challenges completed
// when the case runs (test/fuzz/surface.ts), against the servers of that run.
import fc from 'fast-check'
import type { EmulatorFault } from '../../lib/testing/authsignal-emulator.js'
import { ALICE, BOB } from '../helpers.js'

/** A support agent: a user of the pool in the support group. */
export const AGENT = 'a9e00000-0000-4000-8000-000000000003'
export const SUPPORT_GROUP = 'support'
export const USERS = { alice: ALICE, bob: BOB, agent: AGENT } as const
export type Who = keyof typeof USERS

/** Each user's authenticators, by id: which ones Alice has varies per case (her last one, recovery codes). */
export const ALICE_FACTORS = ['own-sms', 'own-email', 'own-passkey', 'own-recovery'] as const
export const OTHER_FACTORS = { bob: ['bob-sms', 'bob-email'], agent: ['agent-totp'], long: ['long-sms', 'long-email'] } as const
export const ALLOWED_REDIRECT = 'https://app.example/done'
/** A user id longer than Fastify's 100-character params: the support routes' wildcard twins serve it. */
export const LONG_USER = `long.user@example:${'x'.repeat(100)}`

export interface Claims {
  sub: string
  tokenUse: 'access' | 'id'
  ownClient: boolean
  ownIssuer: boolean
  issuedSecAgo: number
  expiresInSec: number
  signedInSecAgo: number | undefined
  groups: string[] | undefined
  scope: string | undefined
  dropUsername: boolean
  header: Record<string, unknown>
}

export type Auth =
  | { kind: 'none' }
  | { kind: 'user', who: Who, signedInSecAgo: number }
  | { kind: 'claims', claims: Claims }
  | { kind: 'otherPool', who: Who }
  | { kind: 'tampered', who: Who, part: 'header' | 'payload' | 'signature' | 'truncated' | 'extraSegment' }
  | { kind: 'scheme', scheme: string, who: Who }
  | { kind: 'raw', value: string }
  | { kind: 'twice', first: Who, second: Who }

/** How a path parameter is written: percent-encoded once, as written, twice; `segments`: a wildcard's tail, each segment encoded once. */
export type Encoding = 'component' | 'raw' | 'twice' | 'segments'
export interface Param { value: string, encoding: Encoding }

export type Query = { kind: 'text', text: string } | { kind: 'credential', name: string }

export type Signature = 'valid' | 'missing' | 'garbage' | 'stale' | 'future' | 'otherSecret' | 'tampered'
export type Body =
  | { kind: 'none' }
  | { kind: 'json', value: unknown }
  | { kind: 'text', text: string }
  | { kind: 'padded', bytes: number }
  | { kind: 'webhook', id: string, type: string, data: Record<string, unknown>, signature: Signature }

export type Challenge =
  | { kind: 'none' }
  | { kind: 'completed', by: 'caller' | Who, factor: 'sms' | 'email' | 'passkey' | 'method' | 'agent', ownAction: boolean }
  | { kind: 'raw', value: string }

export interface Fault { fault: EmulatorFault, path: RegExp | undefined }

export interface Case {
  method: string | undefined
  params: Record<string, Param>
  query: Query | undefined
  auth: Auth
  challenge: Challenge
  contentType: string | undefined
  body: Body
  headers: Array<[string, string]>
  aliceHas: string[]
  fault: Fault | undefined
}

const who = fc.constantFrom<Who>('alice', 'bob', 'agent')

/** `arbitrary` in one case out of `every`, else undefined (fc.option's `freq` is the other way round: the chance of nil). */
function sometimes<T> (arbitrary: fc.Arbitrary<T>, every: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: every - 1 }, { arbitrary, weight: 1 })
}

/** Strings that have reached other users' paths or broken parsers somewhere, then anything at all. */
const hostileText = fc.oneof(
  fc.constantFrom('.', '..', '../', `../${BOB}`, `..%2F${BOB}`, '%2e%2e', '%2E%2E%2F', '..\\x', `${BOB}/..`, 'a/b', 'a%2Fb', '%00', 'a\u0000b',
    '%', '%zz', '%C0%AE', '__proto__', 'constructor', '?', '#', ';', 'x?y=1', ' ', '\u202e', 'é', '\uD800', '💥', 'x'.repeat(101), ''),
  fc.string({ unit: 'grapheme', maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{95,135}$/),
  fc.stringMatching(/^[A-Za-z0-9.@:+_-]{1,140}$/)
)

/** Support's user ids: the users, look-alikes, and the long ids (101–128 characters) Fastify's params cannot hold. */
const userIds = fc.oneof(
  fc.constantFrom<string>(ALICE, BOB, AGENT, LONG_USER, ALICE.toUpperCase(), `${BOB} `),
  fc.stringMatching(/^[A-Za-z0-9.@:+_-]{101,130}$/)
)
const authenticatorIds = fc.constantFrom<string>(...ALICE_FACTORS, ...OTHER_FACTORS.bob, ...OTHER_FACTORS.agent, ...OTHER_FACTORS.long)

/** A wildcard route's tail (`*`): a user id, `authenticators`, maybe an authenticator id, or anything; `/` kept. */
const tail = fc.oneof(
  fc.tuple(fc.oneof(userIds, hostileText), fc.option(fc.oneof(authenticatorIds, hostileText), { nil: undefined }))
    .map(([user, id]) => [user, 'authenticators', ...(id === undefined ? [] : [id])].map(s => s.replaceAll('/', '%2F')).join('/')),
  hostileText
)

const plausibleTail = fc.tuple(fc.constantFrom(LONG_USER, BOB), fc.option(fc.constantFrom(...OTHER_FACTORS.long, ...OTHER_FACTORS.bob), { nil: undefined }))
  .map(([user, id]) => [user, 'authenticators', ...(id === undefined ? [] : [id])].join('/'))

function param (name: string): fc.Arbitrary<Param> {
  if (name === '*') return fc.record({ value: tail, encoding: fc.constant<Encoding>('segments') })
  const known = name === 'userAuthenticatorId' ? authenticatorIds : name === 'userId' ? userIds : hostileText
  return fc.record({
    value: fc.oneof({ arbitrary: known, weight: 3 }, { arbitrary: hostileText, weight: 2 }),
    encoding: fc.constantFrom<Encoding>('component', 'component', 'raw', 'twice')
  })
}

const claims: fc.Arbitrary<Claims> = fc.record({
  sub: fc.oneof(fc.constantFrom(ALICE, BOB, AGENT, 'local-client'), hostileText, fc.uuid()),
  tokenUse: fc.constantFrom<'access' | 'id'>('access', 'id'),
  // Mostly a token the pool would accept, so the generated subject reaches Authsignal's paths.
  ownClient: fc.constantFrom(true, true, true, false),
  ownIssuer: fc.constantFrom(true, true, true, false),
  issuedSecAgo: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 600 }), weight: 3 }, { arbitrary: fc.integer({ min: -120, max: 7200 }), weight: 1 }),
  expiresInSec: fc.oneof({ arbitrary: fc.constant(3600), weight: 3 }, { arbitrary: fc.integer({ min: -10, max: 7200 }), weight: 1 }),
  signedInSecAgo: fc.option(fc.integer({ min: -60, max: 90_000 }), { nil: undefined }),
  groups: fc.option(fc.subarray([SUPPORT_GROUP, 'admin', 'Support', '']), { nil: undefined }),
  scope: fc.option(fc.constantFrom('aws.cognito.signin.user.admin', 'add:authenticators', '', 'openid email'), { nil: undefined }),
  dropUsername: fc.boolean(),
  header: fc.oneof(
    { arbitrary: fc.constant({}), weight: 6 },
    fc.record({ alg: fc.constantFrom('none', 'RS512', 'ES256', 'rs256') }),
    fc.record({ kid: fc.oneof(fc.uuid(), fc.constant(undefined), fc.constant(1)) }),
    fc.record({ jku: fc.constant('https://evil.example/jwks.json') })
  )
})

/** Valid header value text (node:http refuses control characters). */
const headerText = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: 'grapheme', maxLength }).map(s => Buffer.from(s, 'utf8').toString('latin1').replace(/[^\t\x20-\x7e\x80-\xff]/g, '?'))

const auth: fc.Arbitrary<Auth> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('user' as const), who, signedInSecAgo: fc.constantFrom(0, 60, 7200) }), weight: 8 },
  { arbitrary: fc.record({ kind: fc.constant('claims' as const), claims }), weight: 4 },
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('otherPool' as const), who }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('tampered' as const), who, part: fc.constantFrom('header', 'payload', 'signature', 'truncated', 'extraSegment') }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('scheme' as const), who, scheme: fc.constantFrom('bearer ', 'BEARER ', 'Bearer  ', 'Bearer\t', ' Bearer ', 'Bearer', 'Basic ', 'Token ', 'Bearer Bearer ') }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('raw' as const), value: fc.oneof(headerText(64), fc.constantFrom('Bearer ', 'Bearer a.b.c', 'Bearer ...', `Bearer ${'A'.repeat(9000)}`)) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('twice' as const), first: who, second: who }), weight: 1 }
)

const query: fc.Arbitrary<Query | undefined> = sometimes(fc.oneof(
  fc.record({ kind: fc.constant('text' as const), text: fc.oneof(fc.constantFrom('userId=' + BOB, '__proto__[x]=1', 'a=1&a=2', '%', '=&=', 'x=%zz'), fc.string({ unit: 'grapheme', maxLength: 40 })) }),
  fc.record({ kind: fc.constant('credential' as const), name: fc.constantFrom('access_token', 'id_token', 'token', 'x-authsignal-token', 'next') })
), 3)

const json: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({ redirectUrl: fc.oneof(fc.constant(ALLOWED_REDIRECT), fc.webUrl(), fc.constant(`${ALLOWED_REDIRECT}/../evil`), fc.integer()) }, { requiredKeys: [] }),
  fc.record({ reason: fc.oneof(fc.string({ maxLength: 30 }), fc.constant(''), fc.constant('r'.repeat(501)), fc.integer()) }, { requiredKeys: [] }),
  fc.record({ email: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 20 }), fc.constant(null)), phoneNumber: fc.oneof(fc.constantFrom('+447700900123', '12', '+1'.padEnd(40, '5')), fc.string({ maxLength: 20 })) }, { requiredKeys: [] }),
  fc.record({ userId: fc.constantFrom(BOB, AGENT), userAuthenticatorId: fc.constantFrom('bob-sms', 'own-sms') })
)

/** An Authsignal webhook envelope's parts: authenticator events about anyone, and other types. */
const webhook: fc.Arbitrary<Body> = fc.record({
  kind: fc.constant('webhook' as const),
  id: fc.oneof(fc.uuid(), fc.constantFrom('dup-1', '', 'i'.repeat(257))),
  type: fc.constantFrom('authenticator.created', 'authenticator.updated', 'authenticator.deleted', 'user.created', 'authenticator.created '),
  data: fc.record({
    userId: fc.oneof(fc.constantFrom(ALICE, BOB), hostileText),
    userAuthenticatorId: fc.oneof(fc.constantFrom('own-sms', 'bob-sms'), hostileText),
    verificationMethod: fc.constantFrom('SMS', 'EMAIL_OTP', 'PASSKEY', ''),
    email: fc.constantFrom('hook.user@example.com'),
    phoneNumber: fc.constantFrom('+447700900999')
  }, { requiredKeys: [] }),
  signature: fc.constantFrom<Signature>('valid', 'valid', 'missing', 'garbage', 'stale', 'future', 'otherSecret', 'tampered')
})

const body: fc.Arbitrary<Body> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('json' as const), value: json }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('{"a":', '{"__proto__":{"x":1}}', 'null', '[]', '""', '\u0000')) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('padded' as const), bytes: fc.constantFrom(2000, 70_000, 1_100_000) }), weight: 1 },
  { arbitrary: webhook, weight: 3 }
)

const contentType: fc.Arbitrary<string | undefined> = fc.option(fc.oneof(
  {
    arbitrary: fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'APPLICATION/JSON', 'application/jsonx', ''),
    weight: 4
  },
  { arbitrary: headerText(30), weight: 1 }
), { freq: 5, nil: undefined })

const challenge: fc.Arbitrary<Challenge> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 3 },
  {
    arbitrary: fc.record({
      kind: fc.constant('completed' as const),
      by: fc.constantFrom<'caller' | Who>('caller', 'caller', 'caller', 'alice', 'bob', 'agent'),
      factor: fc.constantFrom<'sms' | 'email' | 'passkey' | 'method' | 'agent'>('sms', 'email', 'passkey', 'method', 'agent'),
      ownAction: fc.boolean()
    }),
    weight: 4
  },
  { arbitrary: fc.record({ kind: fc.constant('raw' as const), value: fc.oneof(headerText(40), fc.constant('x'.repeat(9000)), fc.constant('a.b.c')) }), weight: 1 }
)

const extraHeaders: fc.Arbitrary<Array<[string, string]>> = fc.array(fc.tuple(
  fc.constantFrom('x-forwarded-for', 'x-forwarded-host', 'x-original-url', 'x-http-method-override', 'x-user-id', 'cookie', 'accept', 'accept-encoding', 'origin', 'x-amzn-oidc-data', 'x-huge'),
  fc.oneof(headerText(40), fc.constantFrom(BOB, '/authenticators/bob-sms', 'DELETE', 'gzip, br', 'x'.repeat(20_000)))
), { maxLength: 2 })

const faults: EmulatorFault[] = [
  { kind: 'status', status: 500 }, { kind: 'status', status: 503 }, { kind: 'status', status: 429 }, { kind: 'status', status: 400 }, { kind: 'status', status: 404 },
  { kind: 'garbage' }, { kind: 'wrongContentType' }, { kind: 'reset' }, { kind: 'latency', ms: 30 }, { kind: 'hang' }, { kind: 'huge', bytes: 300_000 }
]
const fault: fc.Arbitrary<Fault | undefined> = sometimes(fc.record({
  fault: fc.constantFrom(...faults),
  path: fc.constantFrom(undefined, /\/authenticators/, /\/actions/, /\/validate$/)
}), 6)

/** A request as a well-behaved client sends it: its user's own ids, a JSON body when there is one, a step-up token. */
function plausibleCase (params: string[]): fc.Arbitrary<Case> {
  const own = (name: string): fc.Arbitrary<Param> => fc.record({
    value: name === 'userAuthenticatorId'
      ? fc.constantFrom<string>(...ALICE_FACTORS, ...OTHER_FACTORS.bob)
      : name === 'userId' ? fc.constantFrom<string>(ALICE, BOB, AGENT) : name === '*' ? plausibleTail : hostileText,
    encoding: fc.constant<Encoding>(name === '*' ? 'segments' : 'component')
  })
  // Staff routes (a user id in the path) are mostly called by the agent.
  const staff = params.includes('userId') || params.includes('*')
  const payload = fc.oneof(
    fc.constant({ body: { kind: 'none' as const }, contentType: undefined }),
    json.map(value => ({ body: { kind: 'json' as const, value }, contentType: 'application/json' })),
    fc.string({ minLength: 1, maxLength: 40 }).map(reason => ({ body: { kind: 'json' as const, value: { reason } }, contentType: 'application/json' })),
    // Webhooks as Authsignal sends them: signed, mostly well.
    fc.tuple(webhook, fc.uuid(), fc.constantFrom<Signature>('valid', 'valid', 'valid', 'tampered')).map(([body, id, signature]) => ({
      body: { ...body, id, signature, data: { userId: ALICE, userAuthenticatorId: 'own-sms', verificationMethod: 'SMS', ...(body as { data: object }).data } } as Body,
      contentType: 'application/json'
    }))
  )
  // A step-up completed by the caller for the removal's action, with one of their factors.
  const stepUp = fc.record({
    kind: fc.constant('completed' as const),
    by: fc.constant('caller' as const),
    factor: fc.constantFrom<'sms' | 'email' | 'passkey' | 'method'>('sms', 'email', 'passkey', 'method'),
    ownAction: fc.constant(true)
  })
  return fc.record({
    params: fc.record(Object.fromEntries(params.map(name => [name, own(name)]))),
    auth: fc.record({ kind: fc.constant('user' as const), who: staff ? fc.constantFrom<Who>('agent', 'agent', 'alice') : fc.constantFrom<Who>('alice', 'alice', 'bob', 'agent'), signedInSecAgo: fc.constantFrom(0, 7200) }),
    challenge: fc.oneof({ arbitrary: stepUp, weight: 3 }, { arbitrary: challenge, weight: 1 }),
    payload,
    fault,
    aliceHas: fc.oneof({ arbitrary: fc.constant<string[]>([...ALICE_FACTORS]), weight: 3 }, { arbitrary: fc.subarray([...ALICE_FACTORS], { minLength: 1 }), weight: 1 })
  }).map(({ payload, ...rest }) => ({ ...rest, ...payload, method: undefined, query: undefined, headers: [] }))
}

/** A whole request for a route whose path has these parameters: half as a well-behaved client sends it, half anything. */
export function requestCase (params: string[]): fc.Arbitrary<Case> {
  return fc.oneof(plausibleCase(params), anyCase(params))
}

function anyCase (params: string[]): fc.Arbitrary<Case> {
  return fc.record({
    method: sometimes(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'), 8),
    params: fc.record(Object.fromEntries(params.map(name => [name, param(name)]))),
    query,
    auth,
    challenge,
    contentType,
    body,
    headers: extraHeaders,
    aliceHas: fc.subarray([...ALICE_FACTORS], { minLength: 0 }),
    fault
  })
}
