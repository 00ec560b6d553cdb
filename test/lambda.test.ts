// examples/lambda.ts: the app behind API Gateway (HTTP API, payload 2.0), invoked with real-shaped events,
// backed by the local Cognito issuer and the Authsignal emulator over real HTTP.
import awsLambdaFastify from '@fastify/aws-lambda'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { buildLambdaApp, handler, type ApiGatewayV2Event, type ApiGatewayV2Result, type LambdaEnv } from '../examples/lambda.js'
import { startAuthsignalEmulator, type AuthsignalEmulator } from '../lib/testing/authsignal-emulator.js'
import type { CognitoIssuer } from '../lib/testing/cognito-issuer.js'
import { LOCK_TABLE, startDynamo } from './fixtures/dynamodb.js'
import { issuerFor, payloadOf } from './helpers.js'

const ALICE = '11111111-2222-4333-8444-555555555555'
const BOB = '99999999-8888-4777-8666-555555555555'
const SOURCE_IP = '203.0.113.7'

interface EventOptions {
  token?: string
  body?: unknown
  base64?: boolean
  /** The claims a JWT authorizer on the route would put in the context (API Gateway makes them strings). */
  authorizerClaims?: Record<string, unknown>
}

const decodeClaims = payloadOf

/** The claims as an HTTP API JWT authorizer passes them on: every value a string. */
function authorizerClaimsOf (token: string, overrides: Record<string, unknown> = {}): Record<string, string> {
  return Object.fromEntries(Object.entries({ ...decodeClaims(token), ...overrides }).map(([k, v]) => [k, String(v)]))
}

/** An API Gateway HTTP API event, payload format 2.0, `$default` stage, as AWS documents it. */
function v2Event (method: string, path: string, options: EventOptions = {}): ApiGatewayV2Event {
  const headers: Record<string, string> = {
    accept: 'application/json',
    host: 'abc123defg.execute-api.eu-west-1.amazonaws.com',
    'user-agent': 'lambda-test/1.0',
    'x-amzn-trace-id': 'Root=1-65f1a2b3-0123456789abcdef01234567',
    'x-forwarded-for': SOURCE_IP,
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https'
  }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  let body: string | undefined
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json'
    const json = JSON.stringify(options.body)
    body = options.base64 === true ? Buffer.from(json).toString('base64') : json
  }
  const routeKey = '$default'
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123defg',
      domainName: 'abc123defg.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123defg',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: SOURCE_IP, userAgent: 'lambda-test/1.0' },
      requestId: 'Jx2bCjM3DoEEMHA=',
      routeKey,
      stage: '$default',
      time: '12/Mar/2025:10:00:00 +0000',
      timeEpoch: Date.now(),
      ...(options.authorizerClaims !== undefined && { authorizer: { jwt: { claims: options.authorizerClaims, scopes: null } } })
    },
    ...(body !== undefined && { body }),
    isBase64Encoded: options.base64 === true
  }
}

const lambdaContext = {
  functionName: 'authenticators',
  functionVersion: '$LATEST',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  getRemainingTimeInMillis: () => 10_000
}

function json (result: ApiGatewayV2Result): Record<string, unknown> {
  return JSON.parse(result.body) as Record<string, unknown>
}

async function emulatorFor (t: Test): Promise<AuthsignalEmulator> {
  const emulator = await startAuthsignalEmulator()
  t.teardown(() => emulator.close())
  return emulator
}

function envFor (issuer: CognitoIssuer, emulator: AuthsignalEmulator, extra: LambdaEnv = {}): LambdaEnv {
  return {
    COGNITO_USER_POOL_ID: issuer.userPoolId,
    COGNITO_CLIENT_ID: issuer.clientId,
    COGNITO_ISSUER: issuer.issuer,
    COGNITO_JWKS_URI: issuer.jwksUri,
    AUTHSIGNAL_SECRET: emulator.secret,
    AUTHSIGNAL_API_URL: emulator.apiUrl,
    LOG_LEVEL: 'silent',
    ...extra
  }
}

type Invoke = (event: ApiGatewayV2Event) => Promise<ApiGatewayV2Result>

/** buildLambdaApp behind the @fastify/aws-lambda proxy, as `handler` serves it. */
async function lambdaFor (t: Test, env: LambdaEnv): Promise<Invoke> {
  const app = buildLambdaApp(env)
  t.teardown(() => app.close())
  const proxy = awsLambdaFastify<ApiGatewayV2Event>(app)
  return async (event) => await proxy(event, lambdaContext as never)
}

t.test('importing the module needs no environment; buildLambdaApp names a missing variable', async t => {
  t.type(handler, 'function')
  const complete: LambdaEnv = { COGNITO_USER_POOL_ID: 'eu-west-1_AbCdEf123', COGNITO_CLIENT_ID: 'client', AUTHSIGNAL_SECRET: 'secret' }
  for (const name of Object.keys(complete)) {
    t.throws(() => buildLambdaApp({ ...complete, [name]: undefined }), { message: `Environment variable ${name} is not set (see examples/lambda.ts)` })
    t.throws(() => buildLambdaApp({ ...complete, [name]: '  ' }), { message: new RegExp(`^Environment variable ${name} is not set`) }, 'blank counts as unset')
  }
})

t.test('defaults: the real pool\'s issuer, Authsignal\'s default URL, info logs', async t => {
  const app = buildLambdaApp({ COGNITO_USER_POOL_ID: 'eu-west-1_AbCdEf123', COGNITO_CLIENT_ID: 'client', AUTHSIGNAL_SECRET: 'secret' })
  t.teardown(() => app.close())
  t.equal(app.log.level, 'info')
  t.equal(app.hasPlugin('fastify-authsignal-cognito'), false, 'registered on ready, not when built')
})

t.test('the four routes, with and without a JWT authorizer on the API', async t => {
  const issuer = await issuerFor(t)
  const emulator = await emulatorFor(t)
  const invoke = await lambdaFor(t, envFor(issuer, emulator))
  const token = issuer.mint({ sub: ALICE, username: 'alice' })

  for (const withAuthorizer of [false, true]) {
    t.test(withAuthorizer ? 'behind a JWT authorizer (claims in the context)' : 'without an authorizer', async t => {
      emulator.reset()
      const email = emulator.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' })
      const sms = emulator.seedAuthenticator(ALICE, { verificationMethod: 'SMS', phoneNumber: '+61400123456' })
      const claims = withAuthorizer ? { authorizerClaims: authorizerClaimsOf(token) } : {}

      const tokenResult = await invoke(v2Event('POST', '/authenticators/token', { token, ...claims }))
      t.equal(tokenResult.statusCode, 200)
      t.match(tokenResult.headers['content-type'], /^application\/json/)
      const authsignalToken = json(tokenResult).authsignalToken
      t.type(authsignalToken, 'string')
      t.same(Object.keys(json(tokenResult)), ['authsignalToken', 'challengeRequired'])
      t.equal(tokenResult.headers['cache-control'], 'no-store', 'the answer is not cached on the way')
      const track = emulator.requests.find(r => r.method === 'POST' && r.path === `/v1/users/${ALICE}/actions/addAuthenticator`)
      t.match(track?.body, { scope: 'add:authenticators', ipAddress: SOURCE_IP, userAgent: 'lambda-test/1.0' },
        'the user comes from the token; the IP is API Gateway\'s sourceIp')

      const ui = await invoke(v2Event('POST', '/authenticators/prebuilt-ui', { token, body: {}, base64: withAuthorizer, ...claims }))
      t.equal(ui.statusCode, 200)
      t.match(json(ui).prebuiltUiUrl, new RegExp(`^${emulator.url}/prebuilt\\?token=`))

      const listed = await invoke(v2Event('GET', '/authenticators', { token, ...claims }))
      t.equal(listed.statusCode, 200)
      t.same(json(listed), {
        authenticators: [
          { userAuthenticatorId: email.userAuthenticatorId, verificationMethod: 'EMAIL_OTP', createdAt: email.createdAt, verifiedAt: email.verifiedAt, email: 'a\u2022\u2022\u2022@example.com' },
          { userAuthenticatorId: sms.userAuthenticatorId, verificationMethod: 'SMS', createdAt: sms.createdAt, verifiedAt: sms.verifiedAt, phoneNumber: '\u2022\u2022\u2022\u2022 3456' }
        ]
      })

      const removed = await invoke(v2Event('DELETE', `/authenticators/${sms.userAuthenticatorId}`, { token, ...claims }))
      t.equal(removed.statusCode, 204)
      t.equal(removed.body, '')
      t.same(emulator.authenticators(ALICE).map(a => a.userAuthenticatorId), [email.userAuthenticatorId])

      const last = await invoke(v2Event('DELETE', `/authenticators/${email.userAuthenticatorId}`, { token, ...claims }))
      t.equal(last.statusCode, 409)
      t.match(json(last), { statusCode: 409, code: 'FST_AUTHSIGNAL_LAST_AUTHENTICATOR' })
      t.equal(emulator.authenticators(ALICE).length, 1)
    })
  }

  t.test('request errors answer 400/404 without reaching Authsignal\'s delete', async t => {
    emulator.reset()
    emulator.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' })
    emulator.seedAuthenticator(ALICE, { verificationMethod: 'SMS', phoneNumber: '+61400123456' })
    const bob = emulator.seedAuthenticator(BOB, { verificationMethod: 'SMS', phoneNumber: '+61400999999' })

    const redirect = await invoke(v2Event('POST', '/authenticators/prebuilt-ui', { token, body: { redirectUrl: 'https://evil.example/' } }))
    t.equal(redirect.statusCode, 400)
    t.match(json(redirect), { code: 'FST_AUTHSIGNAL_REDIRECT_NOT_ALLOWED' })

    for (const id of ['..%2F..%2F' + BOB + '%2Fauthenticators%2F' + bob.userAuthenticatorId, 'has.dot', 'a%20b']) {
      const bad = await invoke(v2Event('DELETE', `/authenticators/${id}`, { token }))
      t.equal(bad.statusCode, 400, id)
      t.match(json(bad), { statusCode: 400, code: 'FST_AUTHSIGNAL_INVALID_AUTHENTICATOR_ID' })
    }
    const notMine = await invoke(v2Event('DELETE', `/authenticators/${bob.userAuthenticatorId}`, { token }))
    t.equal(notMine.statusCode, 404)
    t.match(json(notMine), { code: 'FST_AUTHSIGNAL_AUTHENTICATOR_NOT_FOUND' })
    t.equal(emulator.requests.filter(r => r.method === 'DELETE').length, 0)
    t.equal(emulator.authenticators(BOB).length, 1)
  })

  t.test('the authorizer context is not trusted: the user is the verified token\'s', async t => {
    emulator.reset()
    emulator.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' })
    emulator.seedAuthenticator(BOB, { verificationMethod: 'SMS', phoneNumber: '+61400999999' })
    const forged = authorizerClaimsOf(token, { sub: BOB, username: 'bob' })
    const listed = await invoke(v2Event('GET', '/authenticators', { token, authorizerClaims: forged }))
    t.equal(listed.statusCode, 200)
    t.match(json(listed), { authenticators: [{ verificationMethod: 'EMAIL_OTP' }] })
    t.same(emulator.requests.map(r => r.path), [`/v1/users/${ALICE}/authenticators`])
  })
})

t.test('bad tokens: 401 with a stable code and WWW-Authenticate, Authsignal never called', async t => {
  const issuer = await issuerFor(t)
  const emulator = await emulatorFor(t)
  const invoke = await lambdaFor(t, envFor(issuer, emulator))
  const { privateKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const now = Math.floor(Date.now() / 1000)
  const valid = issuer.mint({ sub: ALICE })

  const cases: Array<[string, string | undefined, string]> = [
    ['no Authorization header', undefined, 'FST_COGNITO_NO_TOKEN'],
    ['not a JWT', 'not-a-jwt', 'FST_COGNITO_TOKEN_MALFORMED'],
    ['expired', issuer.mint({ sub: ALICE, iat: now - 7200, expiresInSec: 3600 }), 'FST_COGNITO_TOKEN_EXPIRED'],
    ['signed with another key', issuer.mint({ sub: ALICE, privateKey: otherKey }), 'FST_COGNITO_TOKEN_SIGNATURE'],
    ['another app client', issuer.mint({ sub: ALICE, clientId: 'other-client' }), 'FST_COGNITO_TOKEN_CLIENT'],
    ['an ID token (a JWT authorizer would let it through)', issuer.mint({ sub: ALICE, tokenUse: 'id' }), 'FST_COGNITO_TOKEN_USE'],
    ['another issuer', issuer.mint({ sub: ALICE, claims: { iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other' } }), 'FST_COGNITO_TOKEN_ISSUER']
  ]
  const routes: Array<[string, string]> = [
    ['POST', '/authenticators/token'], ['POST', '/authenticators/prebuilt-ui'], ['GET', '/authenticators'], ['DELETE', '/authenticators/abc']
  ]
  for (const [name, bad, code] of cases) {
    for (const [method, path] of routes) {
      for (const authorizerClaims of [undefined, authorizerClaimsOf(valid)]) {
        // With authorizer claims of a valid token in the context, the bad token is still refused.
        const result = await invoke(v2Event(method, path, { ...(bad !== undefined && { token: bad }), ...(authorizerClaims !== undefined && { authorizerClaims }) }))
        const label = `${name}: ${method} ${path}${authorizerClaims === undefined ? '' : ' (authorizer context)'}`
        t.equal(result.statusCode, 401, label)
        t.match(json(result), { statusCode: 401, code, error: 'Unauthorized' }, label)
        // RFC 6750: no error attribute when the request carried no token at all.
        t.match(result.headers['www-authenticate'], bad === undefined ? /^Bearer$/ : /^Bearer .*error="invalid_token"/, label)
        if (bad !== undefined) t.notMatch(result.body, bad, 'the token is not echoed')
      }
    }
  }
  t.same(emulator.requests, [])
})

t.test('COGNITO_CLIENT_ID takes a comma-separated list', async t => {
  const issuer = await issuerFor(t)
  const emulator = await emulatorFor(t)
  const invoke = await lambdaFor(t, envFor(issuer, emulator, { COGNITO_CLIENT_ID: ` ${issuer.clientId} , web-client ` }))
  for (const clientId of [issuer.clientId, 'web-client']) {
    const result = await invoke(v2Event('GET', '/authenticators', { token: issuer.mint({ sub: ALICE, clientId }) }))
    t.equal(result.statusCode, 200, clientId)
    t.same(json(result), { authenticators: [] })
  }
})

t.test('handler: built from process.env on the first invocation, reused after', async t => {
  const issuer = await issuerFor(t)
  const emulator = await emulatorFor(t)
  const env = envFor(issuer, emulator)
  const saved = Object.fromEntries(Object.keys(env).map(name => [name, process.env[name]]))
  t.teardown(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  })
  Object.assign(process.env, env)
  emulator.seedAuthenticator(ALICE, { verificationMethod: 'EMAIL_OTP', email: 'alice@example.com' })

  const token = issuer.mint({ sub: ALICE })
  const first = await handler(v2Event('GET', '/authenticators', { token }), lambdaContext)
  t.equal(first.statusCode, 200)
  t.match(json(first), { authenticators: [{ verificationMethod: 'EMAIL_OTP', email: 'a\u2022\u2022\u2022@example.com' }] })
  const jwksFetches = issuer.jwksRequests

  const second = await handler(v2Event('POST', '/authenticators/token', { token }), lambdaContext)
  t.equal(second.statusCode, 200)
  t.type(json(second).authsignalToken, 'string')
  t.equal(issuer.jwksRequests, jwksFetches, 'a warm invocation fetches no keys')

  const unauthorized = await handler(v2Event('GET', '/authenticators'), lambdaContext)
  t.equal(unauthorized.statusCode, 401)
  t.match(json(unauthorized), { code: 'FST_COGNITO_NO_TOKEN' })
})

t.test('LOCK_TABLE_NAME: removals of two Lambda processes at once share the DynamoDB lock, and the last authenticator stays', async t => {
  const dynamo = await startDynamo(t)
  // The SDK's default credential chain, as in a Lambda container (its role's keys are in the environment).
  process.env.AWS_ACCESS_KEY_ID = 'test'
  process.env.AWS_SECRET_ACCESS_KEY = 'test-secret-key'
  const issuer = await issuerFor(t)
  const emulator = await emulatorFor(t)
  emulator.setFault({ kind: 'latency', ms: 15 }, { path: /\/authenticators$/ })
  const env = envFor(issuer, emulator, { LOCK_TABLE_NAME: LOCK_TABLE, AWS_REGION: 'eu-west-1', DYNAMODB_ENDPOINT: dynamo.endpoint })
  const [a, b] = [await lambdaFor(t, env), await lambdaFor(t, env)]
  for (let trial = 0; trial < 10; trial++) {
    const user = randomUUID()
    const [x, y] = [emulator.seedAuthenticator(user, { verificationMethod: 'SMS' }), emulator.seedAuthenticator(user, { verificationMethod: 'EMAIL_OTP' })]
    const token = issuer.mint({ sub: user })
    const results = await Promise.all([
      a(v2Event('DELETE', `/authenticators/${x.userAuthenticatorId}`, { token })),
      b(v2Event('DELETE', `/authenticators/${y.userAuthenticatorId}`, { token }))
    ])
    t.same(results.map(r => r.statusCode).sort(), [204, 409], `trial ${trial}: one removed, the last refused`)
    t.equal(emulator.authenticators(user).length, 1)
  }
})
