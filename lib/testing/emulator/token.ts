// HS256 tokens the Authsignal emulator issues (track, completeChallenge, client verify), and the check
// that ties each one to its action. Hand-written with node:crypto: the emulator's core needs no dependency.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { compact } from './http.js'
import type { ActionRecord } from './store.js'

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

export type CheckedToken = { claims: EmulatorTokenClaims, record: ActionRecord } | { reason: string }

export class TokenIssuer {
  private readonly key = randomBytes(32) // per instance: tokens from another emulator are forged here
  issuer = '' // the emulator's URL, known once it listens

  constructor (
    private readonly tenantId: string,
    private readonly ttlSec: number,
    private readonly actions: Map<string, ActionRecord>
  ) {}

  issue (record: ActionRecord): string {
    const iat = Math.floor(Date.now() / 1000)
    return signToken(this.key, compact<EmulatorTokenClaims>({
      iss: this.issuer,
      sub: record.userId,
      tenantId: this.tenantId,
      action: record.action,
      idempotencyKey: record.idempotencyKey,
      scope: record.scope,
      jti: randomUUID(), // every token differs, even two issued in the same second
      iat,
      exp: iat + this.ttlSec
    }))
  }

  // A token is only as good as the action behind it: reset() revokes every token issued before.
  check (token: unknown): CheckedToken {
    const check = verifyToken(this.key, token, Math.floor(Date.now() / 1000))
    if (!check.ok) return { reason: check.reason }
    const record = this.actions.get(check.claims.idempotencyKey)
    if (record === undefined) return { reason: 'unknown action' }
    return { claims: check.claims, record }
  }
}
