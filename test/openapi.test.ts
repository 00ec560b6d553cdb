// examples/openapi.ts + the plugin: the OpenAPI 3 document @fastify/swagger builds from the routes' schemas.
import swagger from '@fastify/swagger'
import { Validator } from '@seriousme/openapi-schema-validator'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import authenticatorsPlugin from '../index.js'
import { DOCUMENTATION_PREFIX, registerOpenApi } from '../examples/openapi.js'

interface Operation {
  summary?: string
  description?: string
  tags?: string[]
  security?: Array<Record<string, string[]>>
  parameters?: Array<{ in: string, name: string, required?: boolean, schema: Record<string, unknown> }>
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }
  responses: Record<string, { description: string, content?: Record<string, { schema: Record<string, unknown> }> }>
}

interface Document {
  openapi: string
  info: { title: string, version: string }
  components: { securitySchemes: Record<string, unknown> }
  paths: Record<string, Record<string, Operation>>
}

const ERROR_SCHEMA = {
  type: 'object',
  required: ['statusCode', 'code', 'error', 'message'],
  properties: { statusCode: { type: 'integer' }, code: { type: 'string' }, error: { type: 'string' }, message: { type: 'string' } }
}

// Where each route lives with the default prefix, and the error answers it declares. (Fastify registers a
// prefix's '/' route as both '/authenticators' and '/authenticators/'; @fastify/swagger lists the latter.)
const ROUTES = [
  { path: '/authenticators/token', method: 'post', success: '200', errors: ['400', '401', '403', '502', '503', '504'] },
  { path: '/authenticators/prebuilt-ui', method: 'post', success: '200', errors: ['400', '401', '403', '502', '503', '504'] },
  { path: '/authenticators/', method: 'get', success: '200', errors: ['401', '403', '502', '503', '504'] },
  { path: '/authenticators/{userAuthenticatorId}', method: 'delete', success: '204', errors: ['400', '401', '403', '404', '409', '502', '503', '504'] },
  { path: '/authenticators/challenge-token', method: 'post', success: '200', errors: ['401', '403', '502', '503', '504'] }
] as const

async function documentedApp (t: Test) {
  const app = Fastify()
  t.teardown(() => app.close())
  await registerOpenApi(app)
  await app.register(authenticatorsPlugin, {
    // Nothing listens on port 9: the document needs no keys and no Authsignal.
    cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'client', jwksUri: 'http://127.0.0.1:9/jwks.json', jwksTimeoutMs: 200 },
    authsignal: { apiSecretKey: 'secret', apiUrl: 'http://127.0.0.1:9/v1' },
    openapi: { securityScheme: 'bearerAuth' }
  })
  await app.ready()
  return { app, doc: app.swagger() as unknown as Document }
}

const PLUGIN = {
  cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'client', jwksUri: 'http://127.0.0.1:9/jwks.json', jwksTimeoutMs: 200 },
  authsignal: { apiSecretKey: 'secret', apiUrl: 'http://127.0.0.1:9/v1' }
}

/** What a real OpenAPI validator says of a document (the errors, or none). */
async function validate (doc: unknown): Promise<unknown> {
  const result = await new Validator().validate(JSON.parse(JSON.stringify(doc)))
  return result.valid ? [] : result.errors
}

t.test('a host with @fastify/swagger\'s default options (no security schemes) gets a valid document', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(swagger, { openapi: {} })
  await app.register(authenticatorsPlugin, PLUGIN)
  await app.ready()
  const doc = app.swagger() as unknown as Document
  t.same(await validate(doc), [], 'valid OpenAPI')
  const op = doc.paths['/authenticators/token']?.post as Operation
  t.equal(op.security, undefined, 'no requirement on a scheme the host never declared')
  t.match(op.responses['401']?.description, /Cognito token/, 'the 401 says a Cognito bearer token is needed')
})

t.test('a host that declares its own bearer scheme under another name has the routes reference it', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(swagger, {
    openapi: { components: { securitySchemes: { cognito: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } } } }
  })
  await app.register(authenticatorsPlugin, { ...PLUGIN, openapi: { securityScheme: 'cognito' } })
  await app.ready()
  const doc = app.swagger() as unknown as Document
  t.same(await validate(doc), [], 'valid OpenAPI')
  for (const route of ROUTES) t.same(doc.paths[route.path]?.[route.method]?.security, [{ cognito: [] }], `${route.method} ${route.path}`)
})

t.test('the example app\'s document is valid OpenAPI', async t => {
  const { doc } = await documentedApp(t)
  t.same(await validate(doc), [])
})

t.test('the document: info, the bearerAuth scheme, the five routes (the step-up\'s token route is on by default) and nothing else of the plugin', async t => {
  const { doc } = await documentedApp(t)
  t.match(doc.openapi, /^3\./)
  t.match(doc.info, { title: 'fastify-authsignal-cognito', version: /^\d+\.\d+\.\d+/ })
  t.same(doc.components.securitySchemes.bearerAuth, {
    type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A Cognito user pool access token'
  })
  t.same(Object.keys(doc.paths).filter(p => p.startsWith('/authenticators')).sort(), ROUTES.map(r => r.path).sort())
  for (const route of ROUTES) {
    t.same(Object.keys(doc.paths[route.path] ?? {}), [route.method], `${route.method.toUpperCase()} ${route.path}`)
  }
  t.notOk(Object.keys(doc.paths).some(p => p.startsWith(DOCUMENTATION_PREFIX)), 'Swagger UI\'s own routes are hidden')
})

t.test('each route: summary, tag, bearerAuth security, success and error responses', async t => {
  const { doc } = await documentedApp(t)
  for (const route of ROUTES) {
    const op = doc.paths[route.path]?.[route.method] as Operation
    const name = `${route.method.toUpperCase()} ${route.path}`
    t.type(op.summary, 'string', name)
    t.same(op.tags, ['authenticators'], name)
    t.same(op.security, [{ bearerAuth: [] }], name)
    t.same(Object.keys(op.responses).sort(), [route.success, ...route.errors].sort(), name)
    for (const status of route.errors) {
      const response = op.responses[status]
      t.type(response?.description, 'string', `${name} ${status} is described`)
      t.match(response?.content?.['application/json']?.schema, ERROR_SCHEMA, `${name} ${status} has the error shape`)
    }
  }
})

t.test('request and success schemas', async t => {
  const { doc } = await documentedApp(t)
  const json = (op: Operation | undefined, status: string) => op?.responses[status]?.content?.['application/json']?.schema

  const token = doc.paths['/authenticators/token']?.post
  t.match(json(token, '200'), { type: 'object', required: ['authsignalToken'], properties: { authsignalToken: { type: 'string' } } })
  t.match(token?.requestBody?.content['application/json']?.schema, {
    type: 'object', properties: { email: { type: 'string', maxLength: 254 }, phoneNumber: { type: 'string', pattern: '^\\+[1-9][0-9]{6,14}$' } }
  }, 'the guide\'s optional { email, phoneNumber }')

  const prebuilt = doc.paths['/authenticators/prebuilt-ui']?.post
  t.match(prebuilt?.requestBody?.content['application/json']?.schema, {
    type: 'object', additionalProperties: false, properties: { redirectUrl: { type: 'string', maxLength: 2048 } }
  })
  t.match(json(prebuilt, '200'), { type: 'object', required: ['prebuiltUiUrl'], properties: { prebuiltUiUrl: { type: 'string' } } })

  const list = doc.paths['/authenticators/']?.get
  t.match(json(list, '200'), {
    type: 'object',
    required: ['authenticators'],
    properties: {
      authenticators: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['userAuthenticatorId', 'verificationMethod', 'createdAt'],
          properties: {
            userAuthenticatorId: { type: 'string' },
            verificationMethod: { type: 'string' },
            createdAt: { type: 'string' },
            verifiedAt: { type: 'string' },
            lastVerifiedAt: { type: 'string' },
            email: { type: 'string' },
            phoneNumber: { type: 'string' },
            displayName: { type: 'string' },
            passkey: {
              type: 'object',
              additionalProperties: false,
              required: ['credentialId'],
              properties: { credentialId: { type: 'string' }, name: { type: 'string' }, backedUp: { type: 'boolean' } }
            }
          }
        }
      }
    }
  })
  const item = (json(list, '200') as { properties: { authenticators: { items: { properties: Record<string, Record<string, unknown>> } } } }).properties.authenticators.items
  t.same(Object.keys(item.properties), ['userAuthenticatorId', 'verificationMethod', 'createdAt', 'verifiedAt', 'lastVerifiedAt', 'email', 'phoneNumber', 'displayName', 'passkey'],
    'exactly the whitelisted fields')
  for (const field of ['credentialId', 'name', 'backedUp']) t.type((item.properties.passkey as { properties: Record<string, { description?: string }> }).properties[field]?.description, 'string', `passkey.${field} is described`)
  t.notOk('passkeySignal' in ((json(list, '200') as { properties: object }).properties), 'no passkeySignal without routes.list.passkeyRpId')

  const remove = doc.paths['/authenticators/{userAuthenticatorId}']?.delete
  t.same(remove?.parameters?.find(p => p.in === 'path'), {
    in: 'path', name: 'userAuthenticatorId', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,100}$' }
  })
  t.match(remove?.parameters?.find(p => p.in === 'header'), { name: 'x-authsignal-token', required: false })
  t.equal(remove?.responses['204']?.description, 'Removed')
  t.notOk(remove?.responses['204']?.content, '204 has no body')
  t.match(remove?.description, /last one cannot be removed/)
})

t.test('with passkeyRpId and requireChallenge: passkeySignal, the challenge-token route, and the removal\'s 403 say what they are', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  await registerOpenApi(app)
  await app.register(authenticatorsPlugin, { ...PLUGIN, openapi: { securityScheme: 'bearerAuth' }, routes: { list: { passkeyRpId: 'example.com' }, remove: { requireChallenge: true } } })
  await app.ready()
  const doc = app.swagger() as unknown as Document
  t.same(await validate(doc), [], 'valid OpenAPI')
  const list = doc.paths['/authenticators/']?.get
  t.match(list?.responses['200']?.content?.['application/json']?.schema, {
    required: ['authenticators'],
    properties: {
      passkeySignal: {
        type: 'object',
        additionalProperties: false,
        required: ['rpId', 'userId', 'allAcceptedCredentialIds'],
        description: /signalAllAcceptedCredentials/,
        properties: { rpId: { type: 'string' }, userId: { type: 'string' }, allAcceptedCredentialIds: { type: 'array', items: { type: 'string' } } }
      }
    }
  })
  t.match(list?.description, /signalAllAcceptedCredentials/)
  const token = doc.paths['/authenticators/challenge-token']?.post
  t.match(token, {
    summary: /step-up challenge/,
    description: /Tracks the `removeAuthenticator` action/,
    tags: ['authenticators'],
    security: [{ bearerAuth: [] }],
    responses: { 200: { content: { 'application/json': { schema: { required: ['authsignalToken'] } } } } }
  })
  t.same(Object.keys(token?.responses ?? {}).sort(), ['200', '401', '403', '502', '503', '504'])
  const remove = doc.paths['/authenticators/{userAuthenticatorId}']?.delete
  t.match(remove?.description, /challenge completed with another factor than the one removed/)
  t.match(remove?.responses['403']?.description, /completed with the authenticator being removed/)
})

t.test('GET /documentation/json serves the document; /documentation serves Swagger UI', async t => {
  const { app, doc } = await documentedApp(t)
  const served = await app.inject({ method: 'GET', url: `${DOCUMENTATION_PREFIX}/json` })
  t.equal(served.statusCode, 200)
  t.match(served.headers['content-type'], /^application\/json/)
  t.same(served.json(), JSON.parse(JSON.stringify(doc)))
  const ui = await app.inject({ method: 'GET', url: `${DOCUMENTATION_PREFIX}/` })
  t.equal(ui.statusCode, 200)
  t.match(ui.body, /swagger-ui/i)
})
