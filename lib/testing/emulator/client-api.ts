// The client API that @authsignal/browser calls (/v1/client/...), authorised by the Bearer token from
// track (never by the secret), or for a passkey sign-in without a token by the tenant id as Basic auth;
// and the pre-built UI page, authorised by the token in its URL.
import type { IncomingMessage } from 'node:http'
import { randomBytes } from 'node:crypto'
import { errorReply, isRecord, type Reply } from './http.js'
import { ADD_SCOPE, type ActionRecord, type EmulatorStore } from './store.js'
import type { TokenIssuer } from './token.js'
import type { RelyingParty } from './webauthn.js'
import { MissingPackageError } from './optional.js'
import { doneHref, renderInvalidTokenPage, renderPrebuiltPage } from './page.js'
import { emailOtpRoutes } from './client-email.js'
import { passkeyRoutes } from './client-passkey.js'
import { totpRoutes } from './client-totp.js'

export interface ClientContext {
  store: EmulatorStore
  tokens: TokenIssuer
  tenantId: string
  rp: RelyingParty
  onOtp?: (info: { userId: string, email: string, code: string }) => void
}

export interface ClientCall {
  record: ActionRecord | undefined // undefined only on routes open to the tenant's Basic auth
  body: Record<string, unknown>
  userAgent: string | undefined
}

export interface ClientRoute {
  method?: 'GET' // default POST
  tenant?: true // also open without a token, to Basic auth on the tenant id (passkey sign-in)
  handle: (call: ClientCall) => Reply | Promise<Reply>
}

export type ClientApi = (req: IncomingMessage, rec: { method: string, authorized: boolean }, route: string, body: unknown) => Promise<Reply>

export interface PageReply { status: number, html: string, csp?: string }

// A route that always runs under a token.
export function withToken (handle: (record: ActionRecord, body: Record<string, unknown>, call: ClientCall) => Reply | Promise<Reply>): ClientRoute {
  return { handle: async (call) => await handle(call.record as ActionRecord, call.body, call) }
}

// Every enrolment route's answer when store.mayEnrol refuses.
export function forbidden (): Reply {
  return errorReply(403, 'forbidden', `The token needs the ${ADD_SCOPE} scope to add an authenticator for an enrolled user`)
}

// The browser SDK sends btoa(encodeURIComponent(tenantId)); the docs say `tenantId:` (empty password).
function tenantMatches (header: string, tenantId: string): boolean {
  const user = Buffer.from(header.slice(6), 'base64').toString('utf8').replace(/:.*$/s, '')
  try {
    return decodeURIComponent(user) === tenantId
  } catch {
    return false
  }
}

export function createClientApi (ctx: ClientContext): ClientApi {
  const table: Record<string, ClientRoute> = {
    // What newer @authsignal/browser versions read to sync passkeys with the Signal API.
    'user-authenticators': {
      method: 'GET',
      handle: ({ record }) => ({ status: 200, body: ctx.store.list((record as ActionRecord).userId).map(({ userId, ...a }) => structuredClone(a)) })
    },
    ...emailOtpRoutes(ctx),
    ...passkeyRoutes(ctx),
    ...totpRoutes(ctx)
  }
  return async (req, rec, route, body) => {
    const found = table[route]
    if (found === undefined || rec.method !== (found.method ?? 'POST')) return errorReply(404, 'not_found', 'Route not found')
    const header = req.headers.authorization ?? ''
    const call: ClientCall = { record: undefined, body: isRecord(body) ? body : {}, userAgent: req.headers['user-agent'] }
    if (found.tenant === true && header.startsWith('Basic ')) {
      if (!tenantMatches(header, ctx.tenantId)) return errorReply(401, 'unauthorized', 'The tenant id is not valid')
    } else {
      const checked = ctx.tokens.check(header.startsWith('Bearer ') ? header.slice(7) : undefined)
      if ('reason' in checked) {
        // The browser SDK calls onTokenExpired when errorCode is expired_token.
        return checked.reason === 'expired'
          ? errorReply(401, 'expired_token', 'The token has expired')
          : errorReply(401, 'unauthorized', 'The token is missing or invalid')
      }
      call.record = checked.record
    }
    rec.authorized = true
    try {
      return await found.handle(call)
    } catch (err) {
      if (err instanceof MissingPackageError) return errorReply(501, 'missing_dependency', err.message)
      throw err
    }
  }
}

export function prebuiltPage ({ store, tokens }: ClientContext, rec: { authorized: boolean }, query: string): PageReply {
  const token = new URLSearchParams(query).get('token')
  const checked = tokens.check(token)
  if ('reason' in checked) return { status: 401, html: renderInvalidTokenPage() }
  rec.authorized = true
  const { record } = checked
  const nonce = randomBytes(16).toString('base64')
  return {
    status: 200,
    csp: `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'`,
    html: renderPrebuiltPage({
      token: token as string,
      userId: record.userId,
      action: record.action,
      state: record.state,
      settings: record.settings,
      authenticators: store.list(record.userId),
      doneHref: doneHref(record.redirectUrl, token as string),
      nonce
    })
  }
}
