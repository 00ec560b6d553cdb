// Audit lines: one per change to a user's factors and per refusal that matters, as identity servers keep them
// (who, what, from which route; the request id comes with the request's logger). Never an address, a phone
// number or a token: only ids, methods and the reason, so the lines can be kept and shipped anywhere.
import type { FastifyBaseLogger } from 'fastify'

export interface AuditFacts {
  /** The Authsignal user id acted for. */
  userId: string
  /** The route's URL pattern (e.g. `/authenticators/:userAuthenticatorId`). */
  route: string
  userAuthenticatorId?: string
  verificationMethod?: string
  /** The method that completed the step-up, where known. */
  stepUpMethod?: string
  /** Why it was refused (the error's message: it names no address or token). */
  reason?: string
}

/** `event` is stable (`stepup.accepted`, `stepup.refused`, `authenticator.removed`...): hosts filter on `audit`. */
export function audit (log: FastifyBaseLogger, level: 'info' | 'warn', event: string, facts: AuditFacts): void {
  log[level]({ audit: event, ...facts }, `fastify-authsignal-cognito: ${event}`)
}
