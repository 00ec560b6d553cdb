// Shared test setup: a real local issuer (JWKS over HTTP) and the plugin in a real Fastify app.
import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import authenticatorsPlugin, { type AuthenticatorsPluginOptions, type CognitoOptions } from '../index.js'
import { startCognitoIssuer, type CognitoIssuer, type CognitoIssuerOptions } from '../lib/testing/cognito-issuer.js'

export async function issuerFor (t: Test, options?: CognitoIssuerOptions): Promise<CognitoIssuer> {
  const issuer = await startCognitoIssuer(options)
  t.teardown(() => issuer.close())
  return issuer
}

export function cognitoOptions (issuer: CognitoIssuer, extra: Partial<CognitoOptions> = {}): CognitoOptions {
  return { userPoolId: issuer.userPoolId, clientId: issuer.clientId, issuer: issuer.issuer, jwksUri: issuer.jwksUri, ...extra }
}

export interface AppOptions extends Partial<Omit<AuthenticatorsPluginOptions, 'cognito'>> {
  cognito?: Partial<CognitoOptions>
  logStream?: { write: (line: string) => void }
}

/** The plugin registered as the README shows, plus a host route protected by `app.authenticate`. */
export async function buildApp (t: Test, issuer: CognitoIssuer, options: AppOptions = {}): Promise<FastifyInstance> {
  const { cognito, logStream, ...rest } = options
  const app = Fastify({ logger: logStream === undefined ? false : { level: 'debug', stream: logStream } })
  await app.register(authenticatorsPlugin, {
    authsignal: { apiSecretKey: 'test-secret', apiUrl: 'http://127.0.0.1:9/v1', timeoutMs: 2000 },
    ...rest,
    cognito: cognitoOptions(issuer, cognito)
  })
  app.get('/me', { onRequest: app.authenticate }, async (request) => ({ sub: request.user.sub }))
  app.get('/claims', { onRequest: app.authenticate }, async (request) => request.user)
  t.teardown(() => app.close())
  await app.ready()
  return app
}

export function bearer (token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}
