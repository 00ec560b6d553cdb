// The browser demo of `npm run dev`: a plain HTML page and a small ES module (dev/demo-page/, no build
// step) that walk through the whole flow with the real @authsignal/browser SDK: sign in, enrol an email
// OTP authenticator, a passkey or an authenticator app (Custom UI flow), open the pre-built UI, list, and
// remove authenticators with a step-up challenge of another factor (then the WebAuthn Signal API).
// Two dev-only routes help it along and exist only when their emulator runs:
//   POST /dev/login     signs a user in to cognito-local and returns the access token;
//   GET  /dev/last-otp  the last email OTP code the Authsignal emulator "sent" to the signed-in user;
//   GET  /dev/cognito-profile  the signed-in user's attributes in cognito-local (AdminGetUser), which the
//                       plugin's cognitoSync keeps in step, and the last webhook event acted on for them.
// None of this belongs in a production app; every route here is hidden from the OpenAPI document.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { AuthenticatorChangeEvent } from '../index.js'
import type { SentOtp } from '../lib/testing/authsignal-emulator.js'

export interface DemoLogin {
  /** Prefilled in the page's sign-in form. */
  username: string
  password: string
  /** Signs in to cognito-local (USER_PASSWORD_AUTH) and resolves to the access token. */
  signIn (username: string, password: string): Promise<string>
}

export interface DemoProfile {
  /** The user's attributes in cognito-local, by username. */
  read (username: string): Promise<Record<string, string>>
  /** The last authenticator event from Authsignal's webhooks acted on for this Authsignal user id. */
  lastEvent (userId: string): AuthenticatorChangeEvent | undefined
}

export interface DemoOptions {
  /** Where the plugin's routes are mounted. */
  prefix: string
  /** Prefilled in the page's enrolment form. */
  email: string
  /** For `new Authsignal({ tenantId, baseUrl })` in the page. */
  authsignal: { baseUrl: string, tenantId: string }
  /** cognito-local only: enables POST /dev/login. */
  login?: DemoLogin
  /** The Authsignal emulator only: the codes it "sent" (its `sentOtps`); enables GET /dev/last-otp. */
  sentOtps?: readonly SentOtp[]
  /** cognito-local only: enables GET /dev/cognito-profile. */
  profile?: DemoProfile
}

const DEMO_DIR = fileURLToPath(new URL('./demo-page/', import.meta.url))
// The SDK's `dist/index.js` is a self-contained ES module (no imports; `export { Authsignal, ... }`),
// so the page imports it as is. (`dist/index.min.js` is an IIFE that sets a global `authsignal`.)
const SDK_FILE = fileURLToPath(import.meta.resolve('@authsignal/browser'))

const JS = 'text/javascript; charset=utf-8'
const HIDDEN = { hide: true } as const

function devError (reply: FastifyReply, statusCode: number, error: string, code: string, message: string): FastifyReply {
  return reply.code(statusCode).send({ statusCode, code, error, message })
}

export function registerDemo (app: FastifyInstance, options: DemoOptions): void {
  const { login, sentOtps, profile } = options
  const sdkOrigin = new URL(options.authsignal.baseUrl).origin

  app.get('/', { schema: HIDDEN }, async (_request, reply) => {
    // The page talks to this app and to Authsignal's client API (the emulator), and to nothing else.
    reply.header('content-security-policy', `default-src 'self'; connect-src 'self' ${sdkOrigin}; ` +
      "style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    return reply.type('text/html; charset=utf-8').send(await readFile(`${DEMO_DIR}index.html`))
  })
  app.get('/demo/app.js', { schema: HIDDEN }, async (_request, reply) =>
    reply.type(JS).send(await readFile(`${DEMO_DIR}app.js`)))
  app.get('/demo/authsignal-browser.js', { schema: HIDDEN }, async (_request, reply) =>
    reply.type(JS).send(await readFile(SDK_FILE)))
  app.get('/demo/config.json', { schema: HIDDEN }, async () => ({
    prefix: options.prefix,
    email: options.email,
    authsignal: options.authsignal,
    login: login === undefined ? null : { username: login.username, password: login.password },
    devOtp: sentOtps !== undefined,
    cognitoProfile: profile !== undefined
  }))

  if (login !== undefined) {
    app.post('/dev/login', {
      schema: {
        ...HIDDEN,
        body: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: { username: { type: 'string', minLength: 1, maxLength: 128 }, password: { type: 'string', minLength: 1, maxLength: 256 } }
        }
      }
    }, async (request, reply) => {
      const { username, password } = request.body as { username: string, password: string }
      try {
        return { accessToken: await login.signIn(username, password) }
      } catch (err) {
        const { message, $fault } = err as Error & { $fault?: string }
        // An error cognito-local answered with (the AWS SDK's `$fault: 'client'`: unknown user, wrong
        // password...) is a refused sign-in; anything else (connection refused...) is not the user's fault.
        return $fault === 'client'
          ? devError(reply, 401, 'Unauthorized', 'DEV_LOGIN_FAILED', `cognito-local refused the sign-in: ${message}`)
          : devError(reply, 502, 'Bad Gateway', 'DEV_LOGIN_UNAVAILABLE', `cognito-local did not answer the sign-in: ${message}`)
      }
    })
  }

  if (sentOtps !== undefined) {
    app.get('/dev/last-otp', { schema: HIDDEN, onRequest: app.authenticate }, async (request, reply) => {
      // The emulator's user id is the verified token's sub (the plugin's default userIdClaim).
      const last = sentOtps.filter((otp) => otp.userId === request.user.sub).at(-1)
      if (last === undefined) return devError(reply, 404, 'Not Found', 'DEV_NO_OTP', 'The emulator has sent no email OTP code to this user yet')
      return { devOnly: true, email: last.email, otp: last.code }
    })
  }

  if (profile !== undefined) {
    app.get('/dev/cognito-profile', { schema: HIDDEN, onRequest: app.authenticate }, async (request) => {
      // The user id in Authsignal is the verified token's sub (the plugin's default userIdClaim).
      const attributes = await profile.read(request.user.username as string)
      const pick = ['email', 'email_verified', 'phone_number', 'phone_number_verified']
      return {
        devOnly: true,
        attributes: Object.fromEntries(pick.filter((name) => name in attributes).map((name) => [name, attributes[name]])),
        lastEvent: profile.lastEvent(request.user.sub) ?? null
      }
    })
  }
}
