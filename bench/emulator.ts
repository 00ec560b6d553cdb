// The Authsignal emulator in its own process (row 8's upstream), seeded with a few authenticators.
import { serveParent } from './ipc.js'

export type EmulatorReady = { apiUrl: string, secret: string } | { unavailable: string }
/** Rows 11r/11b/11p: each user's passkeys to remove, each with the token of a removal challenge completed by email. */
export interface RemovalsArgs { users: string[], perUser: number }
export interface Removal { userId: string, userAuthenticatorId: string, challengeToken: string }

const userId = process.argv[2] ?? 'bench-user'

try {
  // Imported late so the benchmark still runs (without row 8) where the emulator is not there.
  const { startAuthsignalEmulator } = await import('../lib/testing/authsignal-emulator.js')
  const emulator = await startAuthsignalEmulator()
  emulator.seedAuthenticator(userId, { verificationMethod: 'EMAIL_OTP', email: 'bench.user@example.com' })
  emulator.seedAuthenticator(userId, { verificationMethod: 'SMS', phoneNumber: '+14155550123' })
  emulator.seedAuthenticator(userId, { verificationMethod: 'PASSKEY', displayName: 'Bench laptop' })
  // It records every request it receives: forget them, or the log grows with the load.
  const forget = setInterval(() => emulator.clearRequests(), 250)
  serveParent({ apiUrl: emulator.apiUrl, secret: emulator.secret } satisfies EmulatorReady, {
    // Rows 11r/11b/11p: each user an email authenticator (the step-up's factor, enrolled first), then `perUser`
    // passkeys, each with the token of its own completed challenge: every request removes one, none twice.
    removals: (args) => {
      const { users, perUser } = args as RemovalsArgs
      return users.map(user => {
        const email = emulator.seedAuthenticator(user, { verificationMethod: 'EMAIL_OTP', email: 'remover@example.com' })
        return Array.from({ length: perUser }, (): Removal => ({
          userId: user,
          userAuthenticatorId: emulator.seedAuthenticator(user, { verificationMethod: 'PASSKEY', displayName: 'Bench key' }).userAuthenticatorId,
          challengeToken: emulator.completeChallenge(user, 'removeAuthenticator', undefined, email.userAuthenticatorId)
        }))
      })
    }
  }, async () => {
    clearInterval(forget)
    await emulator.close()
  })
} catch (err) {
  serveParent({ unavailable: (err as Error).message } satisfies EmulatorReady, {}, async () => {})
}
