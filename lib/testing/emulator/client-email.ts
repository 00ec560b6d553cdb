// Client API routes for email OTP: start enrolment, challenge an enrolled address, verify the code.
import { randomInt, randomUUID } from 'node:crypto'
import { compact, errorReply } from './http.js'
import { now, type ActionRecord, type PendingOtp } from './store.js'
import { forbidden, withToken, type ClientContext, type ClientRoute } from './client-api.js'

export function emailOtpRoutes ({ store, tokens, onOtp }: ClientContext): Record<string, ClientRoute> {
  function sendOtp (record: ActionRecord, otp: Omit<PendingOtp, 'code'>): void {
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0')
    store.otps.set(record.idempotencyKey, { ...otp, code })
    store.failures.delete(record.idempotencyKey) // a new code, a new count of attempts
    const info = { userId: record.userId, email: otp.email, code }
    store.sentOtps.push(info)
    onOtp?.({ ...info })
  }

  return {
    'user-authenticators/email-otp': withToken((record, body) => {
      if (typeof body.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(body.email)) {
        return errorReply(400, 'invalid_request', 'A valid email is required')
      }
      if (!store.mayEnrol(record)) return forbidden()
      const authenticator = { userId: record.userId, userAuthenticatorId: randomUUID(), verificationMethod: 'EMAIL_OTP', createdAt: now(), email: body.email }
      sendOtp(record, { email: body.email, authenticator, enrol: true })
      return { status: 200, body: { userAuthenticatorId: authenticator.userAuthenticatorId, userId: record.userId } }
    }),
    'challenge/email-otp': withToken((record) => {
      const authenticator = store.list(record.userId).find((a) => a.verificationMethod === 'EMAIL_OTP' && a.email !== undefined)
      if (authenticator === undefined) return errorReply(400, 'invalid_request', 'The user has no email OTP authenticator')
      sendOtp(record, { email: authenticator.email as string, authenticator, enrol: false })
      return { status: 200, body: { challengeId: randomUUID() } }
    }),
    'verify/email-otp': withToken((record, body) => {
      const otp = store.otps.get(record.idempotencyKey)
      if (otp === undefined) return { status: 200, body: { isVerified: false, failureReason: 'CODE_INVALID_OR_EXPIRED' } }
      if (String(body.verificationCode) !== otp.code) {
        const failureReason = store.fail(record)
        if (failureReason === 'MAX_ATTEMPTS_EXCEEDED') store.otps.delete(record.idempotencyKey)
        return { status: 200, body: { isVerified: false, failureReason } }
      }
      store.otps.delete(record.idempotencyKey)
      store.succeed(record, otp.authenticator)
      const userAuthenticator = otp.enrol ? store.enrol(otp.authenticator) : undefined
      return { status: 200, body: compact({ isVerified: true, accessToken: tokens.issue(record), userAuthenticator }) }
    })
  }
}
