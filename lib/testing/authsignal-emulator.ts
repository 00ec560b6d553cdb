// A local Authsignal: the part of the server API v1 that @authsignal/node uses, the client API calls
// @authsignal/browser makes for email OTP, passkeys and authenticator apps, and a minimal pre-built UI
// page. It ships to hosts as `fastify-authsignal-cognito/testing`; its parts are in ./emulator/ (store,
// server API, client API, HTTP shell), this file puts them together.
import { randomBytes } from 'node:crypto'
import { EmulatorStore } from './emulator/store.js'
import { TokenIssuer } from './emulator/token.js'
import { relyingParty, userHandle } from './emulator/webauthn.js'
import { createServerApi } from './emulator/server-api.js'
import { createClientApi, prebuiltPage, type ClientContext } from './emulator/client-api.js'
import { startShell } from './emulator/shell.js'
import { signWebhook, WebhookSender } from './emulator/webhooks.js'
import type { AuthsignalEmulator, AuthsignalEmulatorOptions } from './emulator/types.js'

export type {
  AuthenticatorChange, AuthsignalEmulator, AuthsignalEmulatorOptions, EmulatorFault, EmulatorRule, ParsedUserAgent, RecordedRequest,
  SeedAuthenticator, SentOtp, UserAuthenticator, WebauthnCredential, WebauthnOptions, WebhookDelivery, WebhookOptions
} from './emulator/types.js'
export { AUTHSIGNAL_RETRY_DELAYS_MS, signWebhook } from './emulator/webhooks.js'

export async function startAuthsignalEmulator (opts: AuthsignalEmulatorOptions = {}): Promise<AuthsignalEmulator> {
  const secret = opts.secret ?? 'emulator-secret'
  const tenantId = opts.tenantId ?? 'emulator-tenant'
  const store = new EmulatorStore()
  if (opts.onAuthenticatorChange !== undefined) store.events.on('authenticatorChange', opts.onAuthenticatorChange)
  const webhooks = new WebhookSender(secret, tenantId, opts.webhook)
  store.events.on('authenticatorChange', (change) => webhooks.send(change))
  const tokens = new TokenIssuer(tenantId, opts.tokenTtlSec ?? 600, store.actions)
  const rp = relyingParty(opts.webauthn)
  const client: ClientContext = { store, tokens, tenantId, rp, onOtp: opts.onOtp }
  const shell = await startShell(opts.port ?? 0, {
    serverApi: createServerApi({ secret, store, tokens, baseUrl: () => tokens.issuer }),
    clientApi: createClientApi(client),
    prebuiltPage: (rec, query) => prebuiltPage(client, rec, query)
  })
  tokens.issuer = shell.url

  return {
    url: shell.url,
    apiUrl: `${shell.url}/v1`,
    secret,
    tenantId,
    requests: shell.requests,
    sentOtps: store.sentOtps,
    events: store.events,
    webhooks: {
      get url () { return webhooks.url },
      set url (url) { webhooks.url = url },
      deliveries: webhooks.deliveries,
      idle: () => webhooks.idle(),
      sign: (body, timestampSec) => signWebhook(secret, body, timestampSec)
    },
    webauthn: { rpId: rp.rpId, rpName: rp.rpName, userHandle },
    clearRequests: () => { shell.requests.length = 0 },
    seedAuthenticator: (userId, a) => store.addAuthenticator(userId, a),
    authenticators: (userId) => store.list(userId).map((a) => structuredClone(a)),
    seedRecoveryCodes: (userId, codes = Array.from({ length: 10 }, () => randomBytes(5).toString('hex'))) => {
      // Listed only: @authsignal/browser has no recovery code calls, so nothing here verifies a code.
      return { authenticator: store.addAuthenticator(userId, { verificationMethod: 'RECOVERY_CODE' }), codes: [...codes] }
    },
    setFault: shell.setFault,
    setRule: (rule) => {
      const added = { ...rule }
      store.rules.push(added)
      return () => {
        const at = store.rules.indexOf(added)
        if (at !== -1) store.rules.splice(at, 1)
      }
    },
    completeChallenge: (userId, action, verificationMethod, userAuthenticatorId) => {
      const by = userAuthenticatorId === undefined ? undefined : store.find(userId, userAuthenticatorId)
      if (userAuthenticatorId !== undefined && by === undefined) throw new Error(`completeChallenge: ${userId} has no authenticator ${userAuthenticatorId}`)
      const record = store.createAction(userId, action, {}, 'CHALLENGE_REQUIRED')
      store.succeed(record, by, verificationMethod ?? by?.verificationMethod ?? 'EMAIL_OTP')
      return tokens.issue(record)
    },
    reset: () => {
      store.reset()
      shell.requests.length = 0
      webhooks.deliveries.length = 0
      shell.setFault(null)
    },
    close: async () => {
      webhooks.close()
      await shell.close()
    }
  }
}
