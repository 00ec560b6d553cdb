// The emulator's WebAuthn relying party: RP id and name, allowed origins, the user handle it registers
// passkeys under, and @simplewebauthn/server (loaded on first use) to make options and verify answers.
import type * as SimpleWebAuthn from '@simplewebauthn/server'
import { importOptional } from './optional.js'
import type { WebauthnOptions } from './types.js'

export type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server'

export interface RelyingParty {
  rpId: string
  rpName: string
  // @simplewebauthn/server's expectedOrigin for this answer: the configured origins, or by default the
  // origin the browser reports when it is a localhost one (the library then checks it, as any other).
  expectedOrigin: (answer: { response: { clientDataJSON: string } }) => string[]
}

const LOCALHOST = /^https?:\/\/localhost(:\d{1,5})?$/

// Default: rpId 'localhost' and any http(s)://localhost[:port] origin (what Authsignal's docs advise a
// development tenant to configure, for whatever port the app runs on). WebAuthn needs a secure context
// (http://localhost is one) and an RP id that is the page's host or a registrable suffix of it; an IP
// address such as 127.0.0.1 is never a valid RP id, so a page that uses passkeys runs on localhost.
export function relyingParty (opts: WebauthnOptions = {}): RelyingParty {
  return {
    rpId: opts.rpId ?? 'localhost',
    rpName: opts.rpName ?? 'Authsignal emulator',
    expectedOrigin: (answer) => opts.origins ?? [reportedOrigin(answer)].filter((o) => LOCALHOST.test(o))
  }
}

// The origin in the answer's client data, unverified: the library verifies the answer against it.
function reportedOrigin (answer: { response: { clientDataJSON: string } }): string {
  try {
    return String(JSON.parse(Buffer.from(answer.response.clientDataJSON, 'base64url').toString('utf8')).origin)
  } catch {
    return ''
  }
}

// Authsignal does not document the user handle (WebAuthn user.id) it registers passkeys under, and its
// SDKs never compute one: they read it back from the registration options (options.user.id) or the
// assertion (response.userHandle) when they call the Signal API. The emulator uses the common choice of
// libraries such as @simplewebauthn/server: the UTF-8 bytes of the Authsignal user id, base64url-encoded.
export function userHandle (userId: string): string {
  return Buffer.from(userId, 'utf8').toString('base64url')
}

export async function simpleWebAuthn (): Promise<typeof SimpleWebAuthn> {
  return await importOptional<typeof SimpleWebAuthn>('@simplewebauthn/server')
}
