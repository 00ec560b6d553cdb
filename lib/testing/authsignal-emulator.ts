// A local Authsignal: the part of the server API v1 that @authsignal/node uses, plus the client API
// calls @authsignal/browser makes to enrol and verify an email OTP authenticator, and a minimal
// pre-built UI page. It ships to hosts as `fastify-authsignal-cognito/testing`; its parts are in
// ./emulator/ (store, server API, client API, HTTP shell), this file puts them together.
import { EmulatorStore } from './emulator/store.js'
import { TokenIssuer } from './emulator/token.js'
import { createServerApi } from './emulator/server-api.js'
import { createClientApi, prebuiltPage, type ClientContext } from './emulator/client-api.js'
import { startShell } from './emulator/shell.js'
import type { AuthsignalEmulator, AuthsignalEmulatorOptions } from './emulator/types.js'

export type {
  AuthsignalEmulator, AuthsignalEmulatorOptions, EmulatorFault, RecordedRequest, SeedAuthenticator, SentOtp,
  UserAuthenticator
} from './emulator/types.js'

export async function startAuthsignalEmulator (opts: AuthsignalEmulatorOptions = {}): Promise<AuthsignalEmulator> {
  const secret = opts.secret ?? 'emulator-secret'
  const tenantId = opts.tenantId ?? 'emulator-tenant'
  const store = new EmulatorStore()
  const tokens = new TokenIssuer(tenantId, opts.tokenTtlSec ?? 600, store.actions)
  const client: ClientContext = { store, tokens, onOtp: opts.onOtp }
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
    clearRequests: () => { shell.requests.length = 0 },
    seedAuthenticator: (userId, a) => store.addAuthenticator(userId, a),
    authenticators: (userId) => store.list(userId).map((a) => ({ ...a })),
    setFault: shell.setFault,
    completeChallenge: (userId, action, verificationMethod = 'EMAIL_OTP') => {
      const record = store.createAction(userId, action, {}, 'CHALLENGE_REQUIRED')
      store.succeed(record, verificationMethod)
      return tokens.issue(record)
    },
    reset: () => {
      store.reset()
      shell.requests.length = 0
      shell.setFault(null)
    },
    close: shell.close
  }
}
