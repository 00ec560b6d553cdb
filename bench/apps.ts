// The apps under test, built the same way in the server children (HTTP rows) and in-process (row 5).
import fastifyJwt, { type TokenOrHeader } from '@fastify/jwt'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import buildGetJwks from 'get-jwks'
import { UserActionState } from '@authsignal/node'
import { Redis } from 'ioredis'
import authenticatorsPlugin, { dynamoDbLock, memoryLock, redisLock, type CognitoClaims, type LockStore } from '../index.js'
import { VerifiedTokenCache } from '../lib/cognito/token-cache.js'
import type { LockKind } from './stores.js'

// This program holds @fastify/jwt as well (the baseline verifies the same Cognito tokens with it), so the shared
// `request.user` is typed by @fastify/jwt: tell it what the tokens carry (README, TypeScript).
declare module '@fastify/jwt' {
  interface FastifyJWT { user: CognitoClaims }
}

export type AppKind = 'bare' | 'plugin' | 'baseline'

export interface IssuerInfo {
  userPoolId: string
  clientId: string
  issuer: string
  jwksUri: string
}

export interface UpstreamInfo { apiUrl: string, secret: string }

export interface AppOptions {
  issuer: IssuerInfo
  upstream?: UpstreamInfo | undefined
  tokenCacheSize?: number
  /** Where the removal route's lock lives (rows 10). Default: in the process. */
  lock?: LockKind
  /** The removal's step-up (row 11r). Always set explicitly: the default may change (issue "binding"). */
  requireChallenge?: boolean
  /**
   * Row 11b: the removal's step-up as it was before issue "binding", done by a host hook in front of the route
   * (with requireChallenge: false): SDK validateChallenge and queryUserActions, judged as the route judged them then.
   */
  stepUpBeforeBinding?: boolean
}

const storeClients: Array<{ disconnect?: () => void, destroy?: () => void }> = []

/** A lock store as a host builds one, from the benchmark's description of it. */
export function lockStore (lock: LockKind): LockStore {
  if (lock.kind === 'redis') {
    const client = new Redis(lock.url)
    storeClients.push(client)
    return redisLock({ client })
  }
  if (lock.kind === 'dynamodb') {
    const client = new DynamoDBClient({ endpoint: lock.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } })
    storeClients.push(client)
    return dynamoDbLock({ client, tableName: lock.tableName })
  }
  return memoryLock()
}

/** Lets a child process end: its store clients hold sockets open. */
export function closeStoreClients (): void {
  for (const client of storeClients.splice(0)) {
    client.disconnect?.()
    client.destroy?.()
  }
}

const hello = async (): Promise<{ hello: string }> => ({ hello: 'world' })

/** A bare Fastify app: the reference every other row is compared with. */
export function bareApp (): FastifyInstance {
  const app = Fastify({ logger: false })
  app.get('/hello', hello)
  return app
}

/** Our plugin registered as the README shows, plus a host route protected by `app.authenticate`. */
export async function pluginApp (options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  const { issuer, upstream } = options
  // Before the plugin registers its routes, so they get it (the claims are set by then: onRequest runs first).
  if (options.stepUpBeforeBinding === true) {
    // What the route's step-up did before "binding" (lib/routes/remove.ts at e7d3f71^1, issue "passkeys"): the
    // challenge validated, then who completed it looked up in the user's succeeded actions; refused when that is
    // the authenticator being removed (Authsignal names it in every row 11 challenge). No single-use record, no age
    // bound, no newer-factor rule: those are what "binding" added.
    app.addHook('preHandler', async (request, reply) => {
      if (request.method !== 'DELETE') return
      const userId = request.user.sub
      const token = request.headers['x-authsignal-token']
      const action = 'removeAuthenticator'
      const result = await app.authsignal.validateChallenge({ token: typeof token === 'string' ? token : '', userId, action })
      if (!result.isValid || result.state !== 'CHALLENGE_SUCCEEDED' || result.userId !== userId || result.action !== action) {
        return await reply.code(403).send({ code: 'FST_AUTHSIGNAL_CHALLENGE_REQUIRED' })
      }
      const actions = await app.authsignal.queryUserActions({ userId, actionCodes: [action], state: UserActionState.CHALLENGE_SUCCEEDED })
      const done = actions.find(a => a.idempotencyKey === result.idempotencyKey)
      const verifiedBy = done?.verifiedByAuthenticatorId
      if (verifiedBy === undefined || verifiedBy === (request.params as { userAuthenticatorId: string }).userAuthenticatorId) {
        return await reply.code(403).send({ code: 'FST_AUTHSIGNAL_CHALLENGE_REQUIRED' })
      }
    })
  }
  await app.register(authenticatorsPlugin, {
    cognito: {
      userPoolId: issuer.userPoolId,
      clientId: issuer.clientId,
      issuer: issuer.issuer,
      jwksUri: issuer.jwksUri,
      ...(options.tokenCacheSize !== undefined && { tokenCacheSize: options.tokenCacheSize })
    },
    // Without an emulator the routes point at a closed port: only the host routes are measured then.
    authsignal: { apiSecretKey: upstream?.secret ?? 'unused', apiUrl: upstream?.apiUrl ?? 'http://127.0.0.1:9/v1' },
    routes: {
      remove: {
        requireChallenge: options.requireChallenge ?? false,
        // Row 11r's challenges are all completed before the run starts, which lasts longer than the default 300 s.
        maxChallengeAgeSec: 3600,
        ...(options.lock !== undefined && { lock: lockStore(options.lock) })
      }
    }
  })
  app.get('/hello', hello)
  app.get('/me', { onRequest: app.authenticate }, async (request) => ({ sub: request.user.sub }))
  // What any onRequest hook costs in Fastify, before it does anything (row 2n).
  app.get('/noop', { onRequest: (_request, _reply, done) => { done() } }, hello)
  // Row 11's reference: the token route's work before issue "binding", done by hand: the same verification,
  // then one SDK track of the enrolment action, its token answered.
  app.post('/track', { onRequest: app.authenticate }, async (request) => {
    const { token } = await app.authsignal.track({ userId: request.user.sub, action: 'addAuthenticator', attributes: { scope: 'add:authenticators', ipAddress: request.ip } })
    return { authsignalToken: token }
  })
  return app
}

/** The baseline: the @fastify/jwt + get-jwks README pattern, verbatim in spirit. */
export async function baselineApp (): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  const getJwks = buildGetJwks()
  await app.register(fastifyJwt, {
    decode: { complete: true },
    secret: (_request: FastifyRequest, token: TokenOrHeader) => {
      const { header, payload } = token as { header: { kid: string, alg: string }, payload: { iss: string } }
      return getJwks.getPublicKey({ kid: header.kid, domain: payload.iss, alg: header.alg })
    }
  })
  app.get('/hello', hello)
  app.get('/me', { onRequest: (request) => request.jwtVerify() }, async (request) => ({ sub: request.user.sub }))
  return app
}

/** @fastify/jwt alone with a static public key: no JWKS, no plugin (to tell its cost from ours in row 5). */
export async function staticKeyJwtApp (publicKeyPem: string): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(fastifyJwt, { secret: { public: publicKeyPem }, verify: { algorithms: ['RS256'] } })
  app.get('/hello', hello)
  app.get('/me', { onRequest: (request) => request.jwtVerify() }, async (request) => ({ sub: request.user.sub }))
  return app
}

export async function buildApp (kind: AppKind, options: AppOptions): Promise<FastifyInstance> {
  if (kind === 'bare') return bareApp()
  if (kind === 'plugin') return pluginApp(options)
  return baselineApp()
}

/** Counts verified-token cache lookups and hits, so a "distinct tokens" row can prove it never hit the cache. */
export const cacheStats = { gets: 0, hits: 0 }
const originalGet = VerifiedTokenCache.prototype.get
VerifiedTokenCache.prototype.get = function countedGet (this: VerifiedTokenCache, key: string | undefined) {
  const claims = originalGet.call(this, key)
  cacheStats.gets++
  if (claims !== undefined) cacheStats.hits++
  return claims
}
