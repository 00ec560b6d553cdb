// The Authsignal emulator's public types: its options, its records, and the handle tests drive it by.

export interface AuthsignalEmulatorOptions {
  secret?: string // API secret: the Basic auth username (password empty). Default 'emulator-secret'
  tenantId?: string // default 'emulator-tenant'
  port?: number // default 0 (any free port)
  tokenTtlSec?: number // lifetime of the tokens it issues, default 600
  onOtp?: (info: { userId: string, email: string, code: string }) => void // each email OTP it "sends"
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

export interface UserAuthenticator {
  userId: string
  userAuthenticatorId: string
  verificationMethod: string
  createdAt: string
  verifiedAt?: string
  lastVerifiedAt?: string
  email?: string
  phoneNumber?: string
  displayName?: string
}

export interface SeedAuthenticator {
  verificationMethod: string
  email?: string
  phoneNumber?: string
  displayName?: string
  userAuthenticatorId?: string
  createdAt?: string
  verifiedAt?: string
}

export interface SentOtp { userId: string, email: string, code: string }

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
  // Creates an action in state CHALLENGE_SUCCEEDED and returns its token (step-up tests).
  completeChallenge (userId: string, action: string, verificationMethod?: string): string
  reset (): void // clears authenticators, actions, codes, faults, requests
  close (): Promise<void> // closes the server and every open socket, hung ones too
}
