// Server API routes about a user and their authenticators: get user, list, enrol verified, delete; and
// revoking the user's sessions (the emulator keeps none: it answers as Authsignal does).
import { compact, errorReply, isRecord } from './http.js'
import type { Route, ServerApiContext } from './server-api.js'

export function userRoutes ({ store }: ServerApiContext): Route[] {
  return [
    {
      method: 'GET',
      pattern: ['users', ':userId'],
      handle: ({ userId }) => {
        const own = store.list(userId as string)
        const email = own.find((a) => a.email !== undefined)?.email
        const phoneNumber = own.find((a) => a.phoneNumber !== undefined)?.phoneNumber
        return {
          status: 200,
          body: compact({
            userId,
            isEnrolled: own.length > 0,
            email,
            emailVerified: email !== undefined,
            phoneNumber,
            phoneNumberVerified: phoneNumber !== undefined,
            enrolledVerificationMethods: store.enrolled(userId as string),
            allowedVerificationMethods: store.allowed(userId as string)
          })
        }
      }
    },
    {
      method: 'GET',
      pattern: ['users', ':userId', 'authenticators'],
      handle: ({ userId }) => ({ status: 200, body: store.list(userId as string) })
    },
    {
      method: 'POST',
      pattern: ['users', ':userId', 'authenticators'],
      handle: ({ userId }, body) => {
        const attrs = isRecord(body) ? body : {}
        if (typeof attrs.verificationMethod !== 'string') {
          return errorReply(400, 'invalid_request', 'verificationMethod is required')
        }
        const authenticator = store.addAuthenticator(userId as string, {
          verificationMethod: attrs.verificationMethod,
          email: typeof attrs.email === 'string' ? attrs.email : undefined,
          phoneNumber: typeof attrs.phoneNumber === 'string' ? attrs.phoneNumber : undefined
        })
        return { status: 200, body: { authenticator } }
      }
    },
    {
      method: 'DELETE',
      pattern: ['users', ':userId', 'authenticators', ':id'],
      handle: ({ userId, id }) => store.removeAuthenticator(userId as string, id as string)
        ? { status: 200, body: { success: true } }
        : errorReply(404, 'not_found', 'Authenticator not found')
    },
    {
      method: 'POST',
      pattern: ['sessions', 'user', 'revoke'],
      handle: (_params, body) => isRecord(body) && typeof body.userId === 'string' && body.userId !== ''
        ? { status: 200, body: {} }
        : errorReply(400, 'invalid_request', 'userId is required')
    }
  ]
}
