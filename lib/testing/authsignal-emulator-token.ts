// HS256 tokens the Authsignal emulator issues (track, completeChallenge, client verify).
// Hand-written with node:crypto because the emulator ships without runtime dependencies.
import { createHmac, timingSafeEqual } from 'node:crypto'

export interface EmulatorTokenClaims {
  iss: string
  sub: string
  tenantId: string
  action: string
  idempotencyKey: string
  scope?: string
  jti: string
  iat: number
  exp: number
}

export type TokenCheck =
  | { ok: true, claims: EmulatorTokenClaims }
  | { ok: false, reason: 'malformed' | 'signature' | 'expired' }

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')

function sign (key: Buffer, input: string): Buffer {
  return createHmac('sha256', key).update(input).digest()
}

export function signToken (key: Buffer, claims: EmulatorTokenClaims): string {
  const input = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  return `${input}.${sign(key, input).toString('base64url')}`
}

// The MAC covers the header too, so a token whose header says `none` or another alg
// cannot carry a valid signature: no separate alg check is needed.
export function verifyToken (key: Buffer, token: unknown, nowSec: number): TokenCheck {
  const parts = typeof token === 'string' ? token.split('.') : []
  if (parts.length !== 3) return { ok: false, reason: 'malformed' }
  const [header, payload, signature] = parts as [string, string, string]
  const expected = sign(key, `${header}.${payload}`)
  const given = Buffer.from(signature, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'signature' }
  }
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as EmulatorTokenClaims
  if (nowSec >= claims.exp) return { ok: false, reason: 'expired' }
  return { ok: true, claims }
}
