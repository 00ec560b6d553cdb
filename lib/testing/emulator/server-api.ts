// The server API v1 that @authsignal/node calls: Basic auth on the secret, then one handler a route.
import type { IncomingMessage } from 'node:http'
import { timingSafeEqual } from 'node:crypto'
import { errorReply, type Reply } from './http.js'
import type { EmulatorStore } from './store.js'
import type { TokenIssuer } from './token.js'
import { userRoutes } from './server-users.js'
import { actionRoutes } from './server-actions.js'

export interface Route {
  method: string
  pattern: string[] // segments after /v1; ':name' captures one non-empty segment
  handle: (params: Record<string, string>, body: unknown, query: URLSearchParams) => Reply
}

export interface ServerApiContext {
  secret: string
  store: EmulatorStore
  tokens: TokenIssuer
  baseUrl: () => string
}

export interface ServerRequest {
  method: string
  segments: string[] // the path after /v1, split on '/', not decoded
  query: string
  body: unknown
}

export type ServerApi = (req: IncomingMessage, rec: { authorized: boolean }, request: ServerRequest) => Reply

const UNAUTHORIZED = 'The request is unauthorized. Check that your API key and region base URL are correctly configured.'

function matchRoute (routes: Route[], method: string, segments: string[]): { route: Route, params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== method || route.pattern.length !== segments.length) continue
    const params: Record<string, string> = {}
    const ok = route.pattern.every((part, i) => {
      const segment = segments[i] as string
      if (!part.startsWith(':')) return part === segment
      params[part.slice(1)] = segment
      return segment !== ''
    })
    if (ok) return { route, params }
  }
  return undefined
}

// Path parameters are decoded per segment, after splitting the raw path on '/': an encoded
// '%2F' stays inside its segment and '..' is a literal id, never a step up.
function decodeParams (params: Record<string, string>): Record<string, string> | undefined {
  try {
    return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, decodeURIComponent(v)]))
  } catch {
    return undefined
  }
}

function secretMatches (req: IncomingMessage, secret: string): boolean {
  const header = req.headers.authorization
  if (header?.startsWith('Basic ') !== true) return false
  const username = Buffer.from(header.slice(6), 'base64').toString('utf8').replace(/:.*$/s, '')
  const given = Buffer.from(username)
  const expected = Buffer.from(secret)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

export function createServerApi (ctx: ServerApiContext): ServerApi {
  const table = [...userRoutes(ctx), ...actionRoutes(ctx)]
  return (req, rec, { method, segments, query, body }) => {
    rec.authorized = secretMatches(req, ctx.secret)
    if (!rec.authorized) return errorReply(401, 'unauthorized', UNAUTHORIZED)
    const matched = matchRoute(table, method, segments)
    if (matched === undefined) return errorReply(404, 'not_found', 'Route not found')
    const params = decodeParams(matched.params)
    if (params === undefined) return errorReply(400, 'invalid_request', 'Malformed path parameter')
    return matched.route.handle(params, body, new URLSearchParams(query))
  }
}
