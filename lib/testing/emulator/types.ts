// The Authsignal emulator's public types: its options, its records, and the handle tests drive it by.
import type { EventEmitter } from 'node:events'
import type { UserAuthenticator as SdkUserAuthenticator } from '@authsignal/node'

export interface AuthsignalEmulatorOptions {
  secret?: string // API secret: the Basic auth username (password empty). Default 'emulator-secret'
  tenantId?: string // default 'emulator-tenant'
  port?: number // default 0 (any free port)
  tokenTtlSec?: number // lifetime of the tokens it issues, default 600
  onOtp?: (info: { userId: string, email: string, code: string }) => void // each email OTP it "sends"
  webauthn?: WebauthnOptions
  onAuthenticatorChange?: (change: AuthenticatorChange) => void // also emitted on `events`
  webhook?: WebhookOptions // sends each authenticator change as Authsignal's signed webhook
}

export interface WebhookOptions {
  url?: string // where to POST; may also be set later (`emulator.webhooks.url`). Unset: nothing is sent
  retryDelaysMs?: number[] // the wait before each retry of a non-2xx; default Authsignal's [30000, 30000, 30000]
  timeoutMs?: number // an attempt without an answer by then counts as failed; default 10000
}

// One attempt to deliver a webhook event.
export interface WebhookDelivery {
  eventId: string // the envelope's id: the same on every attempt of one event
  type: string // authenticator.created / .updated / .deleted
  attempt: number // 1 for the first delivery, then 2, 3, 4 for the retries
  body: string // the JSON sent, exactly
  at: string // when the attempt was sent
  status?: number // the answer's status
  error?: string // or why there was none (e.g. AbortError after timeoutMs)
}

export interface WebauthnOptions {
  rpId?: string // default 'localhost': the page must be served from localhost (WebAuthn refuses IP addresses)
  rpName?: string // default 'Authsignal emulator'
  origins?: string[] // exact origins allowed; default any http(s)://localhost[:port]
}

export type EmulatorFault =
  | { kind: 'latency', ms: number } // answers normally after ms
  | { kind: 'hang' } // never answers until close()
  | { kind: 'status', status: number, body?: unknown } // body defaults to an Authsignal error body
  | { kind: 'garbage' } // 200 with a non-JSON text/html body
  | { kind: 'wrongContentType' } // answers normally, but as text/plain
  | { kind: 'reset' } // destroys the socket after the headers and part of the body
  | { kind: 'huge', bytes: number } // 200 JSON body of that many bytes

export interface RecordedRequest {
  method: string
  url: string // raw request URL exactly as received
  path: string // its pathname, not decoded nor normalised
  body: unknown // parsed JSON, raw text when not JSON, undefined when empty
  authorized: boolean // carried valid credentials (server API: the secret; client API and page: a valid token)
}

// The SDK's own record, so the emulator answers in exactly its shape; the method stays a plain string (the
// emulator also stores what a test seeds) and the passkey credential is the fuller one below.
export type UserAuthenticator = Omit<SdkUserAuthenticator, 'verificationMethod' | 'webauthnCredential'> & {
  verificationMethod: string
  webauthnCredential?: WebauthnCredential // passkeys only
}

// The shape of @authsignal/node's WebauthnCredential (see emulator/passkey-metadata.ts for what is sourced).
export interface WebauthnCredential {
  credentialId: string // base64url, as the browser's PublicKeyCredential.id
  deviceId: string
  name: string
  aaguid: string
  aaguidMapping?: { name: string, svgIconLight: string, svgIconDark: string }
  credentialBackedUp: boolean
  credentialDeviceType: string // 'singleDevice' | 'multiDevice'
  authenticatorAttachment?: string // 'platform' | 'cross-platform'
  parsedUserAgent?: ParsedUserAgent
}

export interface ParsedUserAgent {
  ua: string
  browser: { name?: string, version?: string, major?: string }
  device: { model?: string, type?: string, vendor?: string }
  engine: { name?: string, version?: string }
  os: { name?: string, version?: string }
  cpu: { architecture?: string }
}

// What the emulator reports when an authenticator is added, verified (lastVerifiedAt moves) or removed;
// the names are Authsignal's webhook event types.
export interface AuthenticatorChange {
  type: 'authenticator.created' | 'authenticator.updated' | 'authenticator.deleted'
  time: string
  authenticator: UserAuthenticator // a copy
}

export interface SeedAuthenticator {
  verificationMethod: string
  email?: string
  phoneNumber?: string
  displayName?: string
  userAuthenticatorId?: string
  createdAt?: string
  verifiedAt?: string | null // null: an enrolment started and never verified, listed without verifiedAt
}

export interface SentOtp { userId: string, email: string, code: string }

// A rule of Authsignal's rules engine as a test sets it: track answers `state` for the actions it matches
// (`action` and `userId` each optional: absent matches any).
export interface EmulatorRule {
  action?: string
  userId?: string
  state: 'ALLOW' | 'CHALLENGE_REQUIRED' | 'BLOCK' | 'REVIEW_REQUIRED'
}

export interface AuthsignalEmulator {
  url: string // http://127.0.0.1:PORT
  apiUrl: string // `${url}/v1`: apiUrl for @authsignal/node and baseUrl for @authsignal/browser
  secret: string
  tenantId: string
  requests: RecordedRequest[] // every request received, in order; headers are never stored
  sentOtps: SentOtp[] // every email OTP "sent", in order
  clearRequests (): void
  seedAuthenticator (userId: string, a: SeedAuthenticator): UserAuthenticator
  authenticators (userId: string): UserAuthenticator[]
  // Applies to server API requests (/v1/... except /v1/client/...) whose pathname matches `path`,
  // for the next `times` of them (default: until cleared). One fault at a time; null clears it.
  setFault (fault: EmulatorFault | null, opts?: { path?: RegExp, times?: number }): void
  // Creates an action in state CHALLENGE_SUCCEEDED and returns its token (step-up tests). With
  // userAuthenticatorId (one of the user's), that authenticator completed it: it becomes the action's
  // verifiedByAuthenticatorId, its lastVerifiedAt moves, and verificationMethod defaults to its method.
  completeChallenge (userId: string, action: string, verificationMethod?: string, userAuthenticatorId?: string): string
  // Decides track's rule outcome, as a rule in Authsignal's portal would: the last rule set that matches the
  // user and action wins; with none, track answers ALLOW (Authsignal without rules). Returns a function that
  // removes this rule; reset() removes them all.
  setRule (rule: EmulatorRule): () => void
  // Gives the user a RECOVERY_CODE authenticator, as Authsignal lists recovery codes, and returns it with
  // the codes (default: ten random ones). The codes are for show: no emulated route verifies them.
  seedRecoveryCodes (userId: string, codes?: string[]): { authenticator: UserAuthenticator, codes: string[] }
  events: EventEmitter<{ authenticatorChange: [AuthenticatorChange] }>
  webhooks: {
    url: string | undefined // settable: where the events go from then on
    deliveries: WebhookDelivery[] // every attempt that got an answer or failed, in order
    idle (): Promise<void> // resolves once every event sent so far is delivered or out of retries
    sign (body: string, timestampSec?: number): string // an X-Signature-V2 value for body, as the emulator signs
  }
  webauthn: {
    rpId: string
    rpName: string
    // The WebAuthn user handle (user.id, base64url) the emulator registers passkeys under: what a page
    // passes as `userId` to PublicKeyCredential.signalAllAcceptedCredentials.
    userHandle (userId: string): string
  }
  reset (): void // clears authenticators, actions, codes, rules, faults, requests
  close (): Promise<void> // closes the server and every open socket, hung ones too
}
