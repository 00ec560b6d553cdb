// The Authsignal emulator in its own process (row 8's upstream), seeded with a few authenticators.
import { serveParent } from './ipc.js'

export type EmulatorReady = { apiUrl: string, secret: string } | { unavailable: string }
export interface ChallengeTokensArgs { users: string[], perUser: number }

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
    // Row 11r: tokens of completed removal challenges, `perUser` for each user, so no token need be sent twice.
    challengeTokens: (args) => {
      const { users, perUser } = args as ChallengeTokensArgs
      return users.map(user => Array.from({ length: perUser }, () => emulator.completeChallenge(user, 'removeAuthenticator', 'EMAIL_OTP')))
    }
  }, async () => {
    clearInterval(forget)
    await emulator.close()
  })
} catch (err) {
  serveParent({ unavailable: (err as Error).message } satisfies EmulatorReady, {}, async () => {})
}
