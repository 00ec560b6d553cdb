// Shared test setup: a real local issuer (JWKS over HTTP) and the plugin in a real Fastify app.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import authenticatorsPlugin, { type AuthenticatorsPluginOptions, type AuthsignalOptions, type CognitoOptions } from '../index.js'
import { startAuthsignalEmulator, type AuthsignalEmulator, type AuthsignalEmulatorOptions } from '../lib/testing/authsignal-emulator.js'
import { startCognitoIssuer, type CognitoIssuer, type CognitoIssuerOptions } from '../lib/testing/cognito-issuer.js'

/** The users of the tests: UUIDs, as Cognito subs are. */
export const ALICE = 'a11ce000-0000-4000-8000-000000000001'
export const BOB = 'b0b00000-0000-4000-8000-000000000002'

/** The (unverified) payload of a JWT: what a test reads of a token it holds. */
export function payloadOf (jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>
}

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
  /** Adds the caller's own routes before the app is ready. */
  register?: (app: FastifyInstance) => void
}

/** The plugin registered as the README shows, plus a host route protected by `app.authenticate`. */
export async function buildApp (t: Test, issuer: CognitoIssuer, options: AppOptions = {}): Promise<FastifyInstance> {
  const { cognito, logStream, register, ...rest } = options
  const app = Fastify({ logger: logStream === undefined ? false : { level: 'debug', stream: logStream } })
  await app.register(authenticatorsPlugin, {
    authsignal: { apiSecretKey: 'test-secret', apiUrl: 'http://127.0.0.1:9/v1', timeoutMs: 2000 },
    ...rest,
    cognito: cognitoOptions(issuer, cognito)
  })
  app.get('/me', { onRequest: app.authenticate }, async (request) => ({ sub: request.user.sub }))
  app.get('/claims', { onRequest: app.authenticate }, async (request) => request.user)
  register?.(app)
  t.teardown(() => app.close())
  await app.ready()
  return app
}

export function bearer (token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}

// --- Authsignal emulator helpers (routes and upstream tests) ---

export async function emulatorFor (t: Test, options?: AuthsignalEmulatorOptions): Promise<AuthsignalEmulator> {
  const emulator = await startAuthsignalEmulator(options)
  t.teardown(() => emulator.close())
  return emulator
}

/** The plugin's `authsignal` options pointing at the emulator. */
export function emulatorOptions (emulator: AuthsignalEmulator, extra: Partial<AuthsignalOptions> = {}): AuthsignalOptions {
  return { apiSecretKey: emulator.secret, apiUrl: emulator.apiUrl, timeoutMs: 2000, ...extra }
}

/** A POST to the emulator's client API (what @authsignal/browser sends) under an Authsignal token. */
export async function clientApi (emulator: AuthsignalEmulator, path: string, token: string, body?: unknown): Promise<{ status: number, json: Record<string, unknown> }> {
  const res = await fetch(`${emulator.apiUrl}/client/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return { status: res.status, json: await res.json() as Record<string, unknown> }
}

/** What the emulator received, as `METHOD /raw/path` lines, in order. */
export function upstreamCalls (emulator: AuthsignalEmulator): string[] {
  return emulator.requests.map(r => `${r.method} ${r.path}`)
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
export async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>(resolve => server.close(() => resolve()))
  return port
}
