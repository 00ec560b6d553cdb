// `npm run dev`: the example app with the plugin, offline. It starts cognito-local (pool, client and demo
// user in .dev/), the Authsignal emulator and the app, then prints a token and curl lines to try.
// The app also serves the browser demo at / (examples/dev-demo.ts) and Swagger UI at /documentation.
// With COGNITO_* and/or AUTHSIGNAL_* variables (.env.example) the same app uses the real services.
import rateLimit from '@fastify/rate-limit'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
// A host writes `import authenticatorsPlugin, { safeLoggerOptions } from 'fastify-authsignal-cognito'`.
import authenticatorsPlugin, { safeLoggerOptions } from '../index.js'
import { startAuthsignalEmulator, type AuthsignalEmulator } from '../lib/testing/authsignal-emulator.js'
import { demoDefaults, ensureDemoSetup, signIn, startCognitoLocal } from './cognito-local.js'
import { cliEntry } from './dev-cli.js'
import { registerDemo, type DemoLogin } from './dev-demo.js'
import { readDevConfig, type DevPorts, type Env } from './dev-config.js'
import { devOutput, type AuthsignalInfo, type CognitoInfo } from './dev-output.js'
import { assertPortFree, HOST, portError } from './dev-ports.js'
import { registerOpenApi } from './openapi.js'

export interface ExampleAppConfig {
  userPoolId: string
  clientId: string
  /** Only for cognito-local; a real pool's issuer follows from its id. */
  issuer?: string
  apiSecretKey: string
  apiUrl: string
  /** The app's logger options (level, stream), on top of the package's credential-free configuration. Default: no logger. */
  logger?: Exclude<FastifyServerOptions['logger'], boolean>
}

/** The host app, written as the README shows it. */
export async function buildExampleApp (config: ExampleAppConfig): Promise<FastifyInstance> {
  const app = Fastify({ logger: config.logger === undefined ? false : { ...safeLoggerOptions, ...config.logger } })
  // Before the plugin: @fastify/swagger collects the routes as they are added.
  await registerOpenApi(app)
  // Per user, after the routes' app.authenticate has set request.user (the README's SECURITY section).
  await app.register(rateLimit, { hook: 'preHandler', max: 120, timeWindow: '1 minute', keyGenerator: (request) => request.user?.sub ?? request.ip })
  await app.register(authenticatorsPlugin, {
    cognito: { userPoolId: config.userPoolId, clientId: config.clientId, issuer: config.issuer },
    authsignal: { apiSecretKey: config.apiSecretKey, apiUrl: config.apiUrl },
    // examples/openapi.ts declares the bearer scheme as `bearerAuth`: the routes reference it.
    openapi: { securityScheme: 'bearerAuth' }
  })
  app.get('/me', { onRequest: app.authenticate }, async (request) => ({ sub: request.user.sub, username: request.user.username }))
  return app
}

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
  urls: { app: string, cognito: string | undefined, authsignal: string }
  /** The demo user's access token (cognito-local only). */
  token: string | undefined
  curlLines: string[]
  enrolLines: string[]
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
    if (config.cognito.kind === 'local') {
      const use = { port: config.cognito.port, part: 'cognito-local', envName: 'COGNITO_LOCAL_PORT' }
      const local = await startCognitoLocal({ port: use.port, dataDir: config.cognito.dataDir })
        .catch((err: unknown) => { throw portError(err, use) })
      started.push(local.stop)
      const demo = await ensureDemoSetup({ endpoint: local.endpoint })
      token = (await signIn({ endpoint: local.endpoint, clientId: demo.clientId, username: demo.username, password: demo.password })).accessToken
      cognito = { kind: 'local', endpoint: local.endpoint, dataDir: config.cognito.dataDir, ...demo }
    } else {
      cognito = config.cognito
    }

    // The demo user's id is the sub of its token: known only with cognito-local, seeded only in the emulator.
    const seeded = emulator !== undefined && token !== undefined
      ? SEEDS.map((seed) => (emulator as AuthsignalEmulator).seedAuthenticator(subOf(token as string), seed))
      : []

    const app = await buildExampleApp({
      userPoolId: cognito.userPoolId,
      clientId: cognito.clientId,
      issuer: cognito.kind === 'local' ? cognito.issuer : undefined,
      apiSecretKey: config.authsignal.kind === 'emulator' ? (emulator as AuthsignalEmulator).secret : config.authsignal.apiSecretKey,
      apiUrl: authsignal.apiUrl,
      logger: options.logger
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
      sentOtps: emulator?.sentOtps
    })
    await app.listen({ host: HOST, port: config.appPort })
    const { port } = app.server.address() as { port: number }
    const appUrl = `http://${HOST}:${port}`

    const output = devOutput({ appUrl, prefix: PREFIX, cognito, authsignal, token, email: demoDefaults.email, seeded })
    let stopping: Promise<void> | undefined
    return {
      urls: { app: appUrl, cognito: cognito.kind === 'local' ? cognito.endpoint : undefined, authsignal: authsignal.apiUrl },
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
