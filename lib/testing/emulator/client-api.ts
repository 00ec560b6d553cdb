// The client API that @authsignal/browser calls (/v1/client/...), authorised by the Bearer token from
// track, never by the secret; and the pre-built UI page, authorised by the token in its URL.
import type { IncomingMessage } from 'node:http'
import { randomBytes } from 'node:crypto'
import { errorReply, isRecord, type Reply } from './http.js'
import type { ActionRecord, EmulatorStore } from './store.js'
import type { TokenIssuer } from './token.js'
import { doneHref, renderInvalidTokenPage, renderPrebuiltPage } from './page.js'
import { emailOtpRoutes } from './client-email.js'

export interface ClientContext {
  store: EmulatorStore
  tokens: TokenIssuer
  onOtp?: (info: { userId: string, email: string, code: string }) => void
}

export type ClientHandler = (record: ActionRecord, body: Record<string, unknown>) => Reply | Promise<Reply>

export type ClientApi = (req: IncomingMessage, rec: { method: string, authorized: boolean }, route: string, body: unknown) => Promise<Reply>

export interface PageReply { status: number, html: string, csp?: string }

export function createClientApi (ctx: ClientContext): ClientApi {
  const table: Record<string, ClientHandler> = { ...emailOtpRoutes(ctx) }
  return async (req, rec, route, body) => {
    const handler = rec.method === 'POST' ? table[route] : undefined
    if (handler === undefined) return errorReply(404, 'not_found', 'Route not found')
    const header = req.headers.authorization
    const checked = ctx.tokens.check(header?.startsWith('Bearer ') === true ? header.slice(7) : undefined)
    if ('reason' in checked) {
      // The browser SDK calls onTokenExpired when errorCode is expired_token.
      return checked.reason === 'expired'
        ? errorReply(401, 'expired_token', 'The token has expired')
        : errorReply(401, 'unauthorized', 'The token is missing or invalid')
    }
    rec.authorized = true
    return await handler(checked.record, isRecord(body) ? body : {})
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
