// `npm run dev`: the example app with the plugin, offline. It starts cognito-local (pool, client and demo
// user in .dev/), the Authsignal emulator and the app, then prints a token and curl lines to try.
// The app also serves the browser demo at / (dev/demo.ts) and Swagger UI at /documentation. The emulator
// sends its webhooks to the app (POST /authenticators/webhook), which keeps cognito-local's user in step.
// With COGNITO_* and/or AUTHSIGNAL_* variables (.env.example) the same app uses the real services.
import { AdminGetUserCommand, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider'
import type { FastifyServerOptions } from 'fastify'
import { Redis } from 'ioredis'
import type { AuthenticatorChangeEvent } from '../index.js'
import { buildExampleApp, SUPPORT_GROUP } from '../examples/app.js'
import { startAuthsignalEmulator, type AuthsignalEmulator } from '../lib/testing/authsignal-emulator.js'
import { agentDefaults, cognitoClient, demoDefaults, ensureDemoSetup, signIn, startCognitoLocal } from './cognito-local.js'
import { cliEntry } from './cli.js'
import { registerDemo, type DemoLogin, type DemoProfile } from './demo.js'
import { DevServerError, readDevConfig, redactUrl, type DevPorts, type Env } from './config.js'
import { devOutput, type AuthsignalInfo, type CognitoInfo } from './output.js'
import { assertPortFree, HOST, portError } from './ports.js'

export interface DevServerOptions {
  /** Where COGNITO_*, AUTHSIGNAL_*, the ports and COGNITO_LOCAL_DATA_DIR are read. Default process.env. */
  env?: Env
  /** Win over the env's ports; 0 picks a free port. */
  ports?: DevPorts
  /** Lines the running server prints (the emulator's email OTP codes). Default console.log. */
  log?: (line: string) => void
  /** The example app's logger options (level, stream), with `safeLoggerOptions` under them. Default off. */
  logger?: Exclude<FastifyServerOptions['logger'], boolean>
}

export interface DevServer {
  /** `demo` is the app's demo page on localhost (passkeys need a domain, not an IP address). */
  urls: { app: string, demo: string, cognito: string | undefined, authsignal: string }
  /** The demo user's access token (cognito-local only). */
  token: string | undefined
  curlLines: string[]
  enrolLines: string[]
  stepUpLines: string[]
  supportLines: string[]
  banner: string
  /** Closes the app, the emulator and cognito-local; idempotent. */
  stop (): Promise<void>
}

// The demo user's authenticators in the emulator, so that list and delete have something to show.
const SEEDS = [
  { verificationMethod: 'EMAIL_OTP', email: demoDefaults.email },
  { verificationMethod: 'SMS', phoneNumber: '+14155550123' }
]

const PREFIX = '/authenticators'

// POST /dev/login: a sign-in against cognito-local, prefilled with the demo user in the page.
function demoLogin (cognito: Extract<CognitoInfo, { kind: 'local' }>): DemoLogin {
  return {
    username: cognito.username,
    password: cognito.password,
    signIn: async (username, password) =>
      (await signIn({ endpoint: cognito.endpoint, clientId: cognito.clientId, username, password })).accessToken
  }
}

// GET /dev/cognito-profile: the user's attributes in cognito-local, and the last webhook event acted on for them.
function demoProfile (client: CognitoIdentityProviderClient, userPoolId: string, changes: Map<string, AuthenticatorChangeEvent>): DemoProfile {
  return {
    read: async (username) => {
      const user = await client.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: username }))
      return Object.fromEntries(user.UserAttributes!.map((a) => [a.Name as string, a.Value as string]))
    },
    lastEvent: (userId) => changes.get(userId)
  }
}

function subOf (jwt: string): string {
  return JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString('utf8')).sub
}

export async function startDevServer (options: DevServerOptions = {}): Promise<DevServer> {
  const config = readDevConfig(options.env ?? process.env, options.ports)
  const log = options.log ?? console.log
  // Everything started so far, stopped in reverse order on failure or stop().
  const started: Array<() => Promise<void>> = []
  const stopAll = async (): Promise<void> => {
    for (const stop of started.splice(0).reverse()) await stop()
  }

  try {
    // The app starts last; a taken app port is reported before the emulators start.
    await assertPortFree({ port: config.appPort, part: 'the example app', envName: 'PORT' })

    let emulator: AuthsignalEmulator | undefined
    let authsignal: AuthsignalInfo
    if (config.authsignal.kind === 'emulator') {
      const use = { port: config.authsignal.port, part: 'the Authsignal emulator', envName: 'AUTHSIGNAL_EMULATOR_PORT' }
      emulator = await startAuthsignalEmulator({
        port: use.port,
        onOtp: ({ email, code }) => log(`[authsignal emulator] email OTP code for ${email}: ${code}`)
      }).catch((err: unknown) => { throw portError(err, use) })
      started.push(emulator.close)
      authsignal = { kind: 'emulator', url: emulator.url, apiUrl: emulator.apiUrl, secret: emulator.secret }
    } else {
      authsignal = { kind: 'authsignal', apiUrl: config.authsignal.apiUrl }
    }

    let cognito: CognitoInfo
    let token: string | undefined
    // The support agent (cognito-local only): another user of the pool, in the example app's support group.
    let agentToken: string | undefined
    // cognito-local's admin API: the app's cognitoSync writes the user's attributes there.
    let cognitoAdmin: CognitoIdentityProviderClient | undefined
    if (config.cognito.kind === 'local') {
      const use = { port: config.cognito.port, part: 'cognito-local', envName: 'COGNITO_LOCAL_PORT' }
      const local = await startCognitoLocal({ port: use.port, dataDir: config.cognito.dataDir })
        .catch((err: unknown) => { throw portError(err, use) })
      started.push(local.stop)
      const demo = await ensureDemoSetup({ endpoint: local.endpoint })
      token = (await signIn({ endpoint: local.endpoint, clientId: demo.clientId, username: demo.username, password: demo.password })).accessToken
      const agent = await ensureDemoSetup({ endpoint: local.endpoint, ...agentDefaults, groups: [SUPPORT_GROUP] })
      agentToken = (await signIn({ endpoint: local.endpoint, clientId: agent.clientId, username: agent.username, password: agent.password })).accessToken
      cognito = { kind: 'local', endpoint: local.endpoint, dataDir: config.cognito.dataDir, ...demo }
      const admin = cognitoClient(local.endpoint)
      started.push(async () => { admin.destroy() })
      cognitoAdmin = admin
    } else {
      cognito = config.cognito
    }

    // The demo user's id is the sub of its token: known only with cognito-local, seeded only in the emulator.
    const seeded = emulator !== undefined && token !== undefined
      ? SEEDS.map((seed) => (emulator as AuthsignalEmulator).seedAuthenticator(subOf(token as string), seed))
      : []
    // The agent's own email OTP, for the challenge of their own the reset needs.
    if (emulator !== undefined && agentToken !== undefined) emulator.seedAuthenticator(subOf(agentToken), { verificationMethod: 'EMAIL_OTP', email: agentDefaults.email })

    let redis: Redis | undefined
    if (config.redisUrl !== undefined) {
      const client = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
      const shown = redactUrl(config.redisUrl)
      // One line per outage instead of ioredis's stack trace per reconnect attempt; removals answer 503 meanwhile.
      // Down until the first connect: a failed start-up is the DevServerError below, not an outage.
      let down = true
      client.on('error', (err: Error) => { if (!down) log(`[redis] ${shown} unreachable (${err.message}): the rate limit is skipped and removals answer 503 until it is back`); down = true })
      client.on('ready', () => { down = false })
      await client.connect().catch((err: Error) => {
        client.disconnect()
        throw new DevServerError(`REDIS_URL=${shown} cannot be reached (${err.message}): start Redis or unset REDIS_URL to keep the rate limit and the lock in this process.`)
      })
      started.push(async () => { await client.quit() })
      redis = client
    }

    // The last authenticator event from Authsignal's webhooks acted on, per user: the demo page shows it.
    const changes = new Map<string, AuthenticatorChangeEvent>()
    const app = await buildExampleApp({
      userPoolId: cognito.userPoolId,
      clientId: cognito.clientId,
      issuer: cognito.kind === 'local' ? cognito.issuer : undefined,
      apiSecretKey: config.authsignal.kind === 'emulator' ? (emulator as AuthsignalEmulator).secret : config.authsignal.apiSecretKey,
      apiUrl: authsignal.apiUrl,
      logger: options.logger,
      redis,
      // The page removes authenticators with a step-up challenge; the emulator's RP id for the Signal API.
      requireChallenge: true,
      // FRESH_SIGN_IN_SEC=0: the page completes a challenge with an existing factor before each enrolment.
      freshSignInSec: config.freshSignInSec,
      passkeyRpId: emulator?.webauthn.rpId,
      cognitoAdmin,
      ...(cognitoAdmin !== undefined && {
        onAuthenticatorChange: (change: AuthenticatorChangeEvent) => {
          if (change.source === 'webhook') changes.set(change.userId, change)
        }
      })
    })
    started.push(() => app.close())
    registerDemo(app, {
      prefix: PREFIX,
      email: demoDefaults.email,
      // The client SDK insists on a tenantId but sends it only on calls without a token; every call the
      // page makes carries the token from POST /authenticators/token, so with the real Authsignal any
      // non-empty value does.
      authsignal: { baseUrl: authsignal.apiUrl, tenantId: emulator?.tenantId ?? 'unused-with-a-token' },
      login: cognito.kind === 'local' ? demoLogin(cognito) : undefined,
      sentOtps: emulator?.sentOtps,
      profile: cognitoAdmin === undefined ? undefined : demoProfile(cognitoAdmin, cognito.userPoolId, changes)
    })
    await app.listen({ host: HOST, port: config.appPort })
    const { port } = app.server.address() as { port: number }
    const appUrl = `http://${HOST}:${port}`
    const demoUrl = `http://localhost:${port}/`
    // From now on the emulator sends each authenticator change to the app, signed as Authsignal does.
    if (emulator !== undefined) emulator.webhooks.url = `${appUrl}${PREFIX}/webhook`

    const agent = agentToken === undefined ? undefined : { token: agentToken, email: agentDefaults.email, userId: subOf(token as string) }
    const output = devOutput({ appUrl, demoUrl, prefix: PREFIX, cognito, authsignal, token, email: demoDefaults.email, seeded, agent, freshSignInSec: config.freshSignInSec })
    let stopping: Promise<void> | undefined
    return {
      urls: { app: appUrl, demo: demoUrl, cognito: cognito.kind === 'local' ? cognito.endpoint : undefined, authsignal: authsignal.apiUrl },
      token,
      ...output,
      stop: () => (stopping ??= stopAll())
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}

await cliEntry(import.meta.url, startDevServer)
