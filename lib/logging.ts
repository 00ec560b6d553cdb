// A Fastify logger configuration that keeps credentials out of log lines:
//
//   Fastify({ logger: { ...safeLoggerOptions, level: 'info' } })
//
// - `req` serializer: Fastify's fields (method, url, host, remote address and port), never headers; in the
//   url, JWT-shaped strings and the values of query parameters named like credentials are replaced by
//   `[Redacted]` (our routes take no query string, a host's might: `?access_token=…`).
// - `err` serializer: a whitelist (type, code, statusCode, message, stack and the same for `cause`), instead
//   of pino's default that copies every enumerable field. An axios or @authsignal/node error carries its
//   request config, whose `auth.username` is the API secret, and the raw request with its headers: none of
//   that is written. JWT-shaped strings in messages and stacks are replaced too.
// - messages (pino's `logMethod` hook): the same redaction as the url, for the URLs a message quotes
//   (Fastify's not-found line `Route GET:/cb?access_token=… not found` is written by Fastify, not a serializer).
// - pino `redact` for the places a host's own log call or serializer may put credentials:
//   `req.headers.authorization`, `req.headers["x-authsignal-token"]`, `req.headers.cookie` (and the same
//   under `headers.`), `res.headers["set-cookie"]`, and `apiSecretKey` at the top or one level down
//   (`{ authsignal: options.authsignal }`).
//
// The plugin itself never logs a header, a token or the secret; this is for what the host adds.
import type { FastifyServerOptions } from 'fastify'

type LoggerOptions = Exclude<FastifyServerOptions['logger'], boolean | undefined>

export const CENSOR = '[Redacted]'

/** Paths pino replaces with `[Redacted]` wherever a log object has them. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-authsignal-token"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-authsignal-token"]',
  'headers.cookie',
  'res.headers["set-cookie"]',
  'apiSecretKey',
  '*.apiSecretKey'
]

// A JWS/JWE compact serialisation: its header is base64url JSON, which always starts `eyJ` ('{"').
const JWT_SHAPED = /eyJ[\w-]*\.[\w-]*\.[\w-]*/g
// Query parameters whose value is a credential by its name.
const CREDENTIAL_PARAM = /^(?:.*token.*|.*secret.*|.*password.*|.*key|code|auth.*|.*signature|session.*)$/i
const QUERY_PARAM = /([?&])([^=&#]*)=([^&#]*)/g
const MAX_CAUSE_DEPTH = 3

/** `text` with JWT-shaped strings replaced by `[Redacted]`. */
export function scrub (text: string): string {
  return text.replace(JWT_SHAPED, CENSOR)
}

function redactQuery (text: string, param: RegExp): string {
  return scrub(text).replace(param, (whole, sep: string, name: string) => {
    let decoded = name
    try {
      decoded = decodeURIComponent(name)
    } catch {}
    return CREDENTIAL_PARAM.test(decoded) ? `${sep}${name}=${CENSOR}` : whole
  })
}

/** A request URL with JWT-shaped strings and credential-named query values replaced. */
export function redactUrl (url: unknown): unknown {
  return typeof url === 'string' ? redactQuery(url, QUERY_PARAM) : url
}

// In a message a URL ends at whitespace: `Route GET:/cb?code=x not found` keeps its " not found".
const QUERY_PARAM_IN_TEXT = /([?&])([^=&#\s]*)=([^&#\s]*)/g

/** A log message with the URLs in it redacted as `redactUrl` does. */
export function redactMessage (text: string): string {
  return redactQuery(text, QUERY_PARAM_IN_TEXT)
}

interface LoggedRequest { method?: unknown, url?: unknown, host?: unknown, ip?: unknown, socket?: { remotePort?: unknown } }

function serializeRequest (req: LoggedRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: redactUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort
  }
}

interface LoggedError { name?: unknown, message?: unknown, stack?: unknown, code?: unknown, statusCode?: unknown, cause?: unknown }

interface SerializedError {
  [field: string]: unknown
  type: string
  message: string
  stack: string
  code?: unknown
  statusCode?: unknown
  cause?: SerializedError
}

function text (value: unknown): string {
  return typeof value === 'string' ? scrub(value) : ''
}

function serializeError (err: unknown, depth = 0): SerializedError {
  const e: LoggedError = typeof err === 'object' && err !== null ? err : { message: String(err) }
  const out: SerializedError = {
    type: typeof e.name === 'string' ? e.name : 'Error',
    message: text(e.message),
    stack: text(e.stack),
    code: typeof e.code === 'string' || typeof e.code === 'number' ? e.code : undefined,
    statusCode: typeof e.statusCode === 'number' ? e.statusCode : undefined
  }
  if (e.cause !== undefined && depth < MAX_CAUSE_DEPTH) out.cause = serializeError(e.cause, depth + 1)
  return out
}

/**
 * Spread into Fastify's logger options: `Fastify({ logger: { ...safeLoggerOptions, level } })`.
 * To add serializers of your own, spread ours first: `serializers: { ...safeLoggerOptions.serializers, … }`.
 */
export const safeLoggerOptions = {
  redact: { paths: REDACT_PATHS, censor: CENSOR },
  // Messages are text the serializers never see: Fastify's not-found line is `Route GET:<raw url> not found`.
  hooks: {
    logMethod (this: unknown, args: unknown[], method: (...args: unknown[]) => void) {
      method.apply(this, args.map(arg => typeof arg === 'string' ? redactMessage(arg) : arg))
    }
  },
  serializers: {
    req: serializeRequest,
    err: (err: unknown) => serializeError(err)
  }
} satisfies LoggerOptions
