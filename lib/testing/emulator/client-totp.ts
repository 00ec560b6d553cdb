// Client API routes for authenticator apps, as @authsignal/browser's totp.enroll and totp.verify call
// them. Codes are RFC 6238 (SHA-1, 6 digits, 30 s), checked with otpauth, loaded on first use.
import { randomUUID } from 'node:crypto'
import type * as OTPAuth from 'otpauth'
import { compact, errorReply } from './http.js'
import { MAX_ATTEMPTS, now, type ActionRecord } from './store.js'
import { importOptional } from './optional.js'
import { forbidden, withToken, type ClientContext, type ClientRoute } from './client-api.js'
import type { UserAuthenticator } from './types.js'

const ISSUER = 'Authsignal emulator' // the name an authenticator app shows (Authsignal uses the tenant's)

interface Candidate { authenticator: UserAuthenticator, secret: string, lastStep: number, enrolling: boolean }

export function totpRoutes ({ store, tokens }: ClientContext): Record<string, ClientRoute> {
  // The user's app authenticators a code may be for: the enrolment under way, and those verified before.
  function candidates (record: ActionRecord): Candidate[] {
    const enrolment = store.totpEnrolments.get(record.userId)
    const verified = store.list(record.userId).flatMap((authenticator) => {
      const totp = store.totps.get(authenticator.userAuthenticatorId)
      return totp === undefined ? [] : [{ authenticator, ...totp, enrolling: false }]
    })
    return enrolment === undefined ? verified : [{ ...enrolment, lastStep: -1, enrolling: true }, ...verified]
  }

  return {
    // Starts an enrolment (replacing one under way): the authenticator is listed once a code verifies.
    'user-authenticators/totp': withToken(async (record) => {
      if (!store.mayEnrol(record)) return forbidden()
      const { Secret, TOTP } = await importOptional<typeof OTPAuth>('otpauth')
      const secret = new Secret({ size: 20 }).base32
      const label = store.list(record.userId).find((a) => a.email !== undefined)?.email ?? record.userId
      const uri = new TOTP({ issuer: ISSUER, label, secret }).toString()
      const authenticator = { userId: record.userId, userAuthenticatorId: randomUUID(), verificationMethod: 'AUTHENTICATOR_APP', createdAt: now() }
      store.totpEnrolments.set(record.userId, { authenticator, secret })
      return { status: 200, body: { userAuthenticatorId: authenticator.userAuthenticatorId, userId: record.userId, uri, secret } }
    }),

    // Finishes the enrolment, or is the challenge of an enrolled app: the SDK has no separate challenge
    // call for TOTP. A code is good once (RFC 6238 section 5.2; Authsignal documents no replay rule).
    'verify/totp': withToken(async (record, body) => {
      if ((store.failures.get(record.idempotencyKey) ?? 0) >= MAX_ATTEMPTS) {
        return { status: 200, body: { isVerified: false, failureReason: 'MAX_ATTEMPTS_EXCEEDED' } }
      }
      const options = candidates(record)
      if (options.length === 0) return errorReply(400, 'invalid_request', 'The user has no authenticator app')
      const { Secret, TOTP } = await importOptional<typeof OTPAuth>('otpauth')
      const step = TOTP.counter()
      const token = String(body.verificationCode)
      const match = options
        .map((c) => ({ ...c, delta: TOTP.validate({ token, secret: Secret.fromBase32(c.secret), window: 1 }) }))
        .find((c) => c.delta !== null && step + c.delta > c.lastStep)
      if (match === undefined) return { status: 200, body: { isVerified: false, failureReason: store.fail(record) } }
      const lastStep = step + (match.delta as number)
      store.succeed(record, match.authenticator)
      store.totps.set(match.authenticator.userAuthenticatorId, { secret: match.secret, lastStep })
      let userAuthenticator
      if (match.enrolling) {
        store.totpEnrolments.delete(record.userId)
        userAuthenticator = store.enrol(match.authenticator)
      }
      return { status: 200, body: compact({ isVerified: true, accessToken: tokens.issue(record), userAuthenticator }) }
    })
  }
}
