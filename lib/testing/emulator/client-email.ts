// Client API routes for email OTP: start enrolment, challenge an enrolled address, verify the code.
import { randomInt, randomUUID } from 'node:crypto'
import { compact, errorReply } from './http.js'
import { ADD_SCOPE, now, type ActionRecord, type PendingOtp } from './store.js'
import type { UserAuthenticator } from './types.js'
import type { ClientContext, ClientHandler } from './client-api.js'

const MAX_OTP_ATTEMPTS = 5

export function emailOtpRoutes ({ store, tokens, onOtp }: ClientContext): Record<string, ClientHandler> {
  function sendOtp (record: ActionRecord, otp: Omit<PendingOtp, 'code' | 'attempts'>): void {
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0')
    store.otps.set(record.idempotencyKey, { ...otp, code, attempts: 0 })
    const info = { userId: record.userId, email: otp.email, code }
    store.sentOtps.push(info)
    onOtp?.({ ...info })
  }

  return {
    'user-authenticators/email-otp': (record, body) => {
      if (typeof body.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(body.email)) {
        return errorReply(400, 'invalid_request', 'A valid email is required')
      }
      if (!store.mayEnrol(record)) {
        return errorReply(403, 'forbidden', `The token needs the ${ADD_SCOPE} scope to add an authenticator for an enrolled user`)
      }
      const authenticator: UserAuthenticator = {
        userId: record.userId,
        userAuthenticatorId: randomUUID(),
        verificationMethod: 'EMAIL_OTP',
        createdAt: now(),
        email: body.email
      }
      sendOtp(record, { email: body.email, authenticator, enrol: true })
      return { status: 200, body: { userAuthenticatorId: authenticator.userAuthenticatorId, userId: record.userId } }
    },
    'challenge/email-otp': (record) => {
      const authenticator = store.list(record.userId).find((a) => a.verificationMethod === 'EMAIL_OTP' && a.email !== undefined)
      if (authenticator === undefined) return errorReply(400, 'invalid_request', 'The user has no email OTP authenticator')
      sendOtp(record, { email: authenticator.email as string, authenticator, enrol: false })
      return { status: 200, body: { challengeId: randomUUID() } }
    },
    'verify/email-otp': (record, body) => {
      const otp = store.otps.get(record.idempotencyKey)
      if (otp === undefined) return { status: 200, body: { isVerified: false, failureReason: 'CODE_INVALID_OR_EXPIRED' } }
      if (String(body.verificationCode) !== otp.code) {
        otp.attempts += 1
        if (otp.attempts < MAX_OTP_ATTEMPTS) return { status: 200, body: { isVerified: false, failureReason: 'CODE_INVALID_OR_EXPIRED' } }
        store.otps.delete(record.idempotencyKey)
        return { status: 200, body: { isVerified: false, failureReason: 'MAX_ATTEMPTS_EXCEEDED' } }
      }
      store.otps.delete(record.idempotencyKey)
      const at = now()
      const { authenticator } = otp
      authenticator.lastVerifiedAt = at
      if (otp.enrol) {
        authenticator.verifiedAt = at
        store.list(record.userId).push(authenticator)
      }
      store.succeed(record, 'EMAIL_OTP')
      return {
        status: 200,
        body: compact({
          isVerified: true,
          accessToken: tokens.issue(record),
          userAuthenticator: otp.enrol ? { ...authenticator } : undefined
        })
      }
    }
  }
}
