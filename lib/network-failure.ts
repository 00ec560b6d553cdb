// Why a connection failed, in words an operator can act on: one table for the JWKS fetch and the Authsignal
// calls, so both name their cause the same way. Only error codes and known phrases are read and only their
// names come out: a message may carry a URL, and a client's error its configuration.

const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'DNS lookup failed (no such host)',
  EAI_AGAIN: 'DNS lookup failed (temporary)',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'connection closed'
}

/** A Node.js or undici error code as its cause. */
export function describeErrorCode (code: string): string {
  if (CAUSES[code] !== undefined) return `${CAUSES[code]} (${code})`
  if (/CERT|TLS|SSL/.test(code)) return `TLS failed (${code})`
  return code
}

/**
 * The cause of a failed request from what is left of it: its code (or its cause's), else the code or phrase in
 * its message (axios, behind @authsignal/node, keeps only the message: "connect ECONNREFUSED 127.0.0.1:443").
 */
export function describeNetworkFailure (err: { code?: unknown, cause?: unknown, message?: unknown }): string {
  const cause = err.cause as { code?: unknown } | undefined
  const code = [err.code, cause?.code].find((c): c is string => typeof c === 'string' && /^[A-Z][A-Z0-9_]+$/.test(c))
  if (code !== undefined) return describeErrorCode(code)
  const message = typeof err.message === 'string' ? err.message : ''
  const named = /\b(E[A-Z_]{3,}|UND_ERR_[A-Z_]+)\b/.exec(message)?.[1]
  if (named !== undefined) return describeErrorCode(named)
  if (/certificate|ssl|tls/i.test(message)) return 'TLS failed (certificate or handshake)'
  if (/socket hang up|aborted/i.test(message)) return 'connection closed before the answer'
  if (/parse error/i.test(message)) return 'not an HTTP answer (parse error)'
  return 'no cause given'
}
