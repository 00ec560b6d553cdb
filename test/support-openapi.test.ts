// The support routes in the OpenAPI document @fastify/swagger builds (examples/openapi.ts): a valid document,
// the three routes under their own tag with exact parameter, body and answer schemas, and their wildcard twins
// (for user ids past the router's maxParamLength) left out.
import { Validator } from '@seriousme/openapi-schema-validator'
import Fastify from 'fastify'
import t from 'tap'
import authenticatorsPlugin from '../index.js'
import { registerOpenApi } from '../examples/openapi.js'

interface Operation {
  tags?: string[]
  description?: string
  security?: unknown
  parameters?: Array<{ in: string, name: string, required?: boolean, schema: Record<string, unknown> }>
  requestBody?: { required?: boolean, content: Record<string, { schema: Record<string, unknown> }> }
  responses: Record<string, { description: string, content?: Record<string, { schema: Record<string, unknown> }> }>
}

const app = Fastify()
t.teardown(() => app.close())
await registerOpenApi(app)
await app.register(authenticatorsPlugin, {
  // Nothing listens on port 9: the document needs no keys and no Authsignal.
  cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'client', jwksUri: 'http://127.0.0.1:9/jwks.json', jwksTimeoutMs: 200 },
  authsignal: { apiSecretKey: 'secret', apiUrl: 'http://127.0.0.1:9/v1' },
  openapi: { securityScheme: 'bearerAuth' },
  routes: { support: { requiredGroups: ['support-agents'] } }
})
await app.ready()
const doc = app.swagger() as unknown as { tags: Array<{ name: string }>, paths: Record<string, Record<string, Operation>> }
const USERS = '/authenticators/support/users/{userId}/authenticators'
const ONE = `${USERS}/{userAuthenticatorId}`

t.test('the document with support on is valid OpenAPI, and the support routes are the three documented ones', async t => {
  const result = await new Validator().validate(JSON.parse(JSON.stringify(doc)))
  t.same(result.valid ? [] : result.errors, [], 'valid')
  t.same(Object.keys(doc.paths).filter(p => p.includes('/support/')).sort(), [USERS, ONE], 'no wildcard twin')
  t.same(Object.keys(doc.paths[USERS] ?? {}).sort(), ['delete', 'get'])
  t.same(Object.keys(doc.paths[ONE] ?? {}), ['delete'])
  t.ok(doc.paths['/authenticators/challenge-token']?.post, 'the challenge-token route is documented with support on')
  t.ok(doc.tags.some(tag => tag.name === 'support'), 'the example declares the support tag')
})

t.test('each support route: its own tag, the bearer scheme, the groups and the challenge in its description, its answers', async t => {
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
