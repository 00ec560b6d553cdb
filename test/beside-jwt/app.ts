// The README's "With @fastify/jwt and @fastify/auth" set-up, as a host writes it: @fastify/jwt signs and
// verifies the host's own HS256 tokens (`app.authenticate`, its README's pattern, claims in `request.user`);
// this plugin verifies Cognito tokens under names of its own (`app.cognitoAuthenticate`, `request.cognitoUser`)
// for its routes and the host's. Registered in either order.
import fastifyAuth from '@fastify/auth'
import fastifyJwt from '@fastify/jwt'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import authenticatorsPlugin, { type AuthenticatorsPluginOptions } from '../../index.js'

export interface HostClaims { account: string, role: 'admin' | 'member' }

declare module '@fastify/jwt' {
  interface FastifyJWT { payload: HostClaims, user: HostClaims }
}
declare module 'fastify' {
  interface FastifyInstance { authenticate: (request: FastifyRequest) => Promise<void> }
}
// A host says `from 'fastify-authsignal-cognito'`; this test program imports the source.
declare module '../../index.js' {
  interface DecoratorNames { authenticate: 'cognitoAuthenticate', user: 'cognitoUser' }
}

export const HOST_SECRET = 'the host\'s own HS256 secret, at least 32 bytes long'
export type Order = 'jwt first' | 'plugin first'

export async function buildHost (order: Order, options: Pick<AuthenticatorsPluginOptions, 'cognito' | 'authsignal'>): Promise<FastifyInstance> {
  const app = Fastify()
  async function registerJwt (): Promise<void> {
    await app.register(fastifyJwt, { secret: HOST_SECRET })
    app.decorate('authenticate', async (request: FastifyRequest) => { await request.jwtVerify() })
  }
  async function registerPlugin (): Promise<void> {
    await app.register(authenticatorsPlugin, { ...options, decorators: { authenticate: 'cognitoAuthenticate', user: 'cognitoUser' } })
  }
  if (order === 'jwt first') await registerJwt()
  await registerPlugin()
  if (order === 'plugin first') await registerJwt()
  await app.register(fastifyAuth)

  // The host's own tokens, its own claims.
  app.get('/account', { onRequest: app.authenticate }, async (request) => ({ account: request.user.account }))
  // Cognito tokens on a host route.
  app.get('/me', { onRequest: app.cognitoAuthenticate }, async (request) => ({ sub: request.cognitoUser.sub }))
  // Either kind (@fastify/auth): the first that accepts wins, the last refusal is the answer.
  app.get('/either', { onRequest: app.auth([app.authenticate, app.cognitoAuthenticate]) }, async (request) => ({
    account: request.user?.account ?? null,
    sub: request.cognitoUser?.sub ?? null
  }))
  return app
}
