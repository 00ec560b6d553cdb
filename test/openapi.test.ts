// examples/openapi.ts + the plugin: the OpenAPI 3 document @fastify/swagger builds from the routes' schemas.
import swagger from '@fastify/swagger'
import { Validator } from '@seriousme/openapi-schema-validator'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import authenticatorsPlugin, { type AuthenticatorsPluginOptions } from '../index.js'
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
  { path: '/authenticators/token', method: 'post', success: '200', errors: ['401', '403', '502', '503', '504'] },
  { path: '/authenticators/prebuilt-ui', method: 'post', success: '200', errors: ['400', '401', '403', '502', '503', '504'] },
  { path: '/authenticators/', method: 'get', success: '200', errors: ['401', '403', '502', '503', '504'] },
  { path: '/authenticators/{userAuthenticatorId}', method: 'delete', success: '204', errors: ['400', '401', '403', '404', '409', '502', '503', '504'] }
] as const

async function documentedApp (t: Test, extra: Partial<AuthenticatorsPluginOptions> = {}) {
  const app = Fastify()
  t.teardown(() => app.close())
  await registerOpenApi(app)
  await app.register(authenticatorsPlugin, {
    // Nothing listens on port 9: the document needs no keys and no Authsignal.
    cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'client', jwksUri: 'http://127.0.0.1:9/jwks.json', jwksTimeoutMs: 200 },
    authsignal: { apiSecretKey: 'secret', apiUrl: 'http://127.0.0.1:9/v1' },
    openapi: { securityScheme: 'bearerAuth' },
    ...extra
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

/** Every documented route of the plugin requires `scheme`, and no other. */
function assertSecured (t: Test, doc: Document, scheme: string): void {
  for (const route of ROUTES) t.same(doc.paths[route.path]?.[route.method]?.security, [{ [scheme]: [] }], `${route.method} ${route.path} requires ${scheme}`)
}

t.test('a host with @fastify/swagger\'s default OpenAPI options gets a valid document with the bearer scheme on every route', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(swagger, { openapi: {} })
  await app.register(authenticatorsPlugin, { ...PLUGIN, routes: { webhook: true } })
  await app.ready()
  const doc = app.swagger() as unknown as Document
  t.same(await validate(doc), [], 'valid OpenAPI')
  t.match(doc.components.securitySchemes, { cognito: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: /Cognito/ } }, 'the plugin declares its scheme')
  assertSecured(t, doc, 'cognito')
  t.notOk(Object.keys(doc.paths).some(p => p.endsWith('/webhook')), 'the webhook route stays hidden')
})

t.test('a host with no @fastify/swagger options at all (Swagger 2.0) gets a valid document with the bearer scheme on every route', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(swagger)
  await app.register(authenticatorsPlugin, { ...PLUGIN, openapi: {} })
  await app.ready()
  const doc = app.swagger() as unknown as Document & { swagger: string, securityDefinitions: Record<string, unknown> }
  t.equal(doc.swagger, '2.0')
  t.same(await validate(doc), [], 'valid Swagger 2.0')
  t.match(doc.securityDefinitions, { cognito: { type: 'apiKey', in: 'header', name: 'Authorization', description: /Bearer/ } })
  assertSecured(t, doc, 'cognito')
})

t.test('a scheme the host declares under the plugin\'s name stands as declared, and the host\'s options are not changed', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  const oauth = { type: 'oauth2' as const, flows: { implicit: { authorizationUrl: 'https://auth.example.com/oauth2/authorize', scopes: {} } } }
  const securitySchemes = { cognito: oauth }
  const securityDefinitions: Record<string, never> = {}
  await app.register(swagger, { openapi: { components: { securitySchemes } } })
  await app.register(authenticatorsPlugin, PLUGIN)
  await app.ready()
  const doc = app.swagger() as unknown as Document
  t.same(await validate(doc), [], 'valid OpenAPI')
  t.same(doc.components.securitySchemes, { cognito: oauth }, 'the host\'s scheme, untouched')
  assertSecured(t, doc, 'cognito')

  const v2 = Fastify()
  t.teardown(() => v2.close())
  await v2.register(swagger, { swagger: { securityDefinitions } })
  await v2.register(authenticatorsPlugin, { ...PLUGIN, openapi: { securityScheme: 'bearer' } })
  await v2.ready()
  t.match((v2.swagger() as unknown as { securityDefinitions: Record<string, unknown> }).securityDefinitions, { bearer: { in: 'header', name: 'Authorization' } })
  t.same(securityDefinitions, {}, 'the host\'s Swagger 2.0 definitions object is not written to')
})

t.test('a scheme name the host sets but never declares is declared by the plugin (the document stays valid)', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  const securitySchemes = { apiKey: { type: 'apiKey' as const, in: 'header', name: 'x-api-key' } }
  await app.register(swagger, { openapi: { components: { securitySchemes } } })
  await app.register(authenticatorsPlugin, { ...PLUGIN, openapi: { securityScheme: 'userPool' } })
  await app.ready()
  const doc = app.swagger() as unknown as Document
  t.same(await validate(doc), [], 'valid OpenAPI')
  t.same(Object.keys(doc.components.securitySchemes).sort(), ['apiKey', 'userPool'])
  t.match(doc.components.securitySchemes.userPool, { type: 'http', scheme: 'bearer' })
  t.same(Object.keys(securitySchemes), ['apiKey'], 'the host\'s options object is not written to')
  assertSecured(t, doc, 'userPool')
})

t.test('a host\'s global transform still runs on its own routes; transformObject sees the plugin\'s routes too', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  const transformed: string[] = []
  let pathsSeen: string[] = []
  await app.register(swagger, {
    openapi: {},
    transform: ({ schema, url }) => { transformed.push(url); return { schema, url } },
    transformObject: (documentObject) => {
      if ('openapiObject' in documentObject) pathsSeen = Object.keys(documentObject.openapiObject.paths ?? {})
      return 'openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject
    }
  })
  app.get('/me', { schema: { tags: ['host'] } }, async () => ({}))
  await app.register(authenticatorsPlugin, PLUGIN)
  await app.ready()
  const doc = app.swagger() as unknown as Document
  t.same(transformed, ['/me'], 'the host\'s transform: its routes only (the plugin\'s routes bring their own)')
  t.same(pathsSeen.sort(), ['/me', ...ROUTES.map(r => r.path)].sort(), 'transformObject: every route')
  t.same(await validate(doc), [], 'valid OpenAPI')
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
  assertSecured(t, doc, 'cognito')
  t.same(Object.keys(doc.components.securitySchemes).sort(), ['apiKey', 'cognito'], 'no scheme added beside the host\'s')
})

t.test('the example app\'s document is valid OpenAPI', async t => {
  const { doc } = await documentedApp(t)
  t.same(await validate(doc), [])
})

t.test('the document: info, the bearerAuth scheme, the four routes and nothing else of the plugin', async t => {
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
  t.notOk(token?.requestBody, 'no body')

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

// The support routes: their own tag, exact schemas, and their wildcard twins (user ids past the router's
// maxParamLength) left out of the document.
const USERS = '/authenticators/support/users/{userId}/authenticators'
const ONE = `${USERS}/{userAuthenticatorId}`

async function supportDocument (t: Test): Promise<Document & { tags: Array<{ name: string }> }> {
  return (await documentedApp(t, { routes: { support: { requiredGroups: ['support-agents'] } } })).doc as Document & { tags: Array<{ name: string }> }
}

t.test('the document with support on is valid OpenAPI, and the support routes are the three documented ones', async t => {
  const doc = await supportDocument(t)
  t.same(await validate(doc), [], 'valid')
  t.same(Object.keys(doc.paths).filter(p => p.includes('/support/')).sort(), [USERS, ONE], 'no wildcard twin')
  t.same(Object.keys(doc.paths[USERS] ?? {}).sort(), ['delete', 'get'])
  t.same(Object.keys(doc.paths[ONE] ?? {}), ['delete'])
  t.ok(doc.paths['/authenticators/challenge-token']?.post, 'the challenge-token route is documented with support on')
  t.ok(doc.tags.some(tag => tag.name === 'support'), 'the example declares the support tag')
})

t.test('each support route: its own tag, the bearer scheme, the groups and the challenge in its description, its answers', async t => {
  const doc = await supportDocument(t)
  const routes: Array<[string, string, string[]]> = [
    [USERS, 'get', ['200', '400', '401', '403', '502', '503', '504']],
    [ONE, 'delete', ['204', '400', '401', '403', '404', '502', '503', '504']],
    [USERS, 'delete', ['200', '400', '401', '403', '502', '503', '504']]
  ]
  for (const [path, method, statuses] of routes) {
    const op = doc.paths[path]?.[method] as Operation
    const name = `${method.toUpperCase()} ${path}`
    t.same(op.tags, ['support'], name)
    t.same(op.security, [{ bearerAuth: [] }], name)
    t.match(op.description, 'support-agents', `${name}: names the groups`)
    t.same(Object.keys(op.responses).sort(), statuses.sort(), name)
    t.same(op.parameters?.find(p => p.name === 'userId'), {
      in: 'path',
      name: 'userId',
      required: true,
      schema: { type: 'string', pattern: '^(?!\\.{1,2}$)[A-Za-z0-9._@:+-]{1,128}$' },
      description: 'The Authsignal user id (a pool\'s userIdPrefix + its claim)'
    }, `${name}: userId`)
  }
  for (const op of [doc.paths[ONE]?.delete, doc.paths[USERS]?.delete] as Operation[]) {
    t.match(op.description, 'Needs the token of a `removeAuthenticator` challenge the caller completed themselves, in `x-authsignal-token`.')
    t.match(op.responses['403']?.description, 'their own completed challenge is missing or not valid')
    t.same(op.requestBody?.content['application/json']?.schema, {
      type: 'object',
      required: ['reason'],
      additionalProperties: false,
      properties: { reason: { type: 'string', minLength: 1, maxLength: 500, description: 'Why: written to the audit log line and told to onAuthenticatorChange' } }
    })
    t.match(op.parameters?.find(p => p.in === 'header'), { name: 'x-authsignal-token', required: false, schema: { type: 'string', maxLength: 8192 } })
  }
  t.same(doc.paths[ONE]?.delete?.parameters?.find(p => p.name === 'userAuthenticatorId')?.schema, { type: 'string', pattern: '^[A-Za-z0-9_-]{1,100}$' })
  t.same(doc.paths[USERS]?.delete?.responses['200']?.content?.['application/json']?.schema, {
    type: 'object', required: ['removed'], additionalProperties: false, properties: { removed: { type: 'integer', description: 'How many authenticators were removed' } }
  })
  t.match(doc.paths[USERS]?.get?.responses['200']?.content?.['application/json']?.schema, {
    type: 'object', required: ['authenticators'], properties: { authenticators: { type: 'array', items: { required: ['userAuthenticatorId', 'verificationMethod', 'createdAt'] } } }
  })
  t.equal(doc.paths[USERS]?.get?.requestBody, undefined, 'the list takes no body')
})
