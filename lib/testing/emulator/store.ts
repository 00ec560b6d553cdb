// The emulator's state: users' authenticators (and the secrets behind them), actions and pending
// challenges, the rules that change them, and the feed of authenticator changes.
import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import { compact } from './http.js'
import type { AuthenticatorChange, EmulatorRule, SeedAuthenticator, SentOtp, UserAuthenticator } from './types.js'

export interface ActionRecord {
  userId: string
  action: string
  idempotencyKey: string
  state: string
  createdAt: string
  stateUpdatedAt: string
  verificationMethod?: string
  verifiedByAuthenticatorId?: string
  scope?: string
  redirectUrl?: unknown
  settings: boolean
}

export interface PendingOtp {
  code: string
  email: string
  authenticator: UserAuthenticator
  enrol: boolean // true: verifying the code adds the authenticator; false: a challenge of an existing one
}

// What verifies an authenticator, kept apart from the listed record so it is never listed.
export interface PasskeySecret { publicKey: Uint8Array, counter: number, transports?: string[] }
export interface TotpSecret { secret: string, lastStep: number } // lastStep: the time step of the last code accepted

// A WebAuthn ceremony under way, by challengeId. A passkey sign-in by action (no token) starts with
// only `action` set; the authentication options add the WebAuthn challenge to the same entry.
export interface PendingWebauthn {
  challenge?: string
  ceremony: 'registration' | 'authentication'
  idempotencyKey?: string // the token's action, when the ceremony runs under a token
  action?: string // passkey sign-in without a token: the action to create
  username?: string
  displayName?: string
}

export const ADD_SCOPE = 'add:authenticators'
export const MAX_ATTEMPTS = 5

export function now (): string {
  return new Date().toISOString()
}

export class EmulatorStore {
  readonly users = new Map<string, UserAuthenticator[]>()
  readonly passkeys = new Map<string, PasskeySecret>() // by userAuthenticatorId
  readonly totps = new Map<string, TotpSecret>() // by userAuthenticatorId
  readonly actions = new Map<string, ActionRecord>()
  /** Each user's actions, oldest first: a user's query reads their own, not every user's. */
  private readonly actionsByUser = new Map<string, ActionRecord[]>()
  readonly otps = new Map<string, PendingOtp>() // by action idempotencyKey
  readonly failures = new Map<string, number>() // wrong codes so far, by action idempotencyKey
  readonly webauthn = new Map<string, PendingWebauthn>() // by challengeId
  readonly totpEnrolments = new Map<string, { authenticator: UserAuthenticator, secret: string }>() // by userId
  readonly sentOtps: SentOtp[] = []
  readonly rules: EmulatorRule[] = []
  readonly events = new EventEmitter<{ authenticatorChange: [AuthenticatorChange] }>()

  list (userId: string): UserAuthenticator[] {
    let found = this.users.get(userId)
    if (found === undefined) {
      found = []
      this.users.set(userId, found)
    }
    return found
  }

  find (userId: string, userAuthenticatorId: string): UserAuthenticator | undefined {
    return this.list(userId).find((a) => a.userAuthenticatorId === userAuthenticatorId)
  }

  findPasskey (credentialId: unknown): { authenticator: UserAuthenticator, secret: PasskeySecret } | undefined {
    for (const own of this.users.values()) {
      const authenticator = own.find((a) => a.webauthnCredential?.credentialId === credentialId)
      if (authenticator !== undefined) return { authenticator, secret: this.passkeys.get(authenticator.userAuthenticatorId) as PasskeySecret }
    }
    return undefined
  }

  addAuthenticator (userId: string, a: SeedAuthenticator): UserAuthenticator {
    const createdAt = a.createdAt ?? now()
    return this.enrol(compact<UserAuthenticator>({
      userId,
      userAuthenticatorId: a.userAuthenticatorId ?? randomUUID(),
      verificationMethod: a.verificationMethod,
      createdAt,
      verifiedAt: a.verifiedAt === null ? undefined : a.verifiedAt ?? createdAt,
      email: a.email,
      phoneNumber: a.phoneNumber,
      displayName: a.displayName
    }))
  }

  // Lists a verified authenticator (its secret, if any, already kept) and reports it created.
  enrol (authenticator: UserAuthenticator): UserAuthenticator {
    this.list(authenticator.userId).push(authenticator)
    this.emit('authenticator.created', authenticator)
    return structuredClone(authenticator)
  }

  removeAuthenticator (userId: string, userAuthenticatorId: string): boolean {
    const own = this.list(userId)
    const index = own.findIndex((a) => a.userAuthenticatorId === userAuthenticatorId)
    if (index === -1) return false
    const [removed] = own.splice(index, 1) as [UserAuthenticator]
    for (const secrets of [this.passkeys, this.totps]) secrets.delete(userAuthenticatorId)
    this.emit('authenticator.deleted', removed)
    return true
  }

  enrolled (userId: string): string[] {
    return [...new Set(this.list(userId).map((a) => a.verificationMethod))]
  }

  allowed (userId: string): string[] {
    return [...new Set(['EMAIL_OTP', ...this.enrolled(userId)])]
  }

  createAction (userId: string, action: string, attrs: Record<string, unknown>, state: string): ActionRecord {
    const at = now()
    const record: ActionRecord = compact({
      userId,
      action,
      idempotencyKey: typeof attrs.idempotencyKey === 'string' ? attrs.idempotencyKey : randomUUID(),
      state,
      createdAt: at,
      stateUpdatedAt: at,
      scope: typeof attrs.scope === 'string' ? attrs.scope : undefined,
      redirectUrl: attrs.redirectUrl,
      settings: attrs.redirectToSettings === true || action === 'manageAuthenticators'
    })
    // A key tracked again names the new action only.
    const previous = this.actions.get(record.idempotencyKey)
    if (previous !== undefined) this.actionsByUser.set(previous.userId, this.actionsOf(previous.userId).filter(r => r !== previous))
    this.actions.set(record.idempotencyKey, record)
    const own = this.actionsByUser.get(userId) ?? []
    own.push(record)
    this.actionsByUser.set(userId, own)
    return record
  }

  /** The user's actions, oldest first. */
  actionsOf (userId: string): readonly ActionRecord[] {
    return this.actionsByUser.get(userId) ?? []
  }

  // The action succeeded, by this authenticator when one is named: the action records which one, and the
  // authenticator's lastVerifiedAt moves (reported as an update, unless this very challenge enrols it).
  succeed (record: ActionRecord, authenticator: UserAuthenticator | undefined, verificationMethod = authenticator?.verificationMethod as string): void {
    const at = now()
    record.state = 'CHALLENGE_SUCCEEDED'
    record.stateUpdatedAt = at
    record.verificationMethod = verificationMethod
    record.verifiedByAuthenticatorId = authenticator?.userAuthenticatorId
    this.failures.delete(record.idempotencyKey)
    if (authenticator === undefined) return
    const enrolling = authenticator.verifiedAt === undefined
    authenticator.lastVerifiedAt = at
    if (enrolling) authenticator.verifiedAt = at
    else this.emit('authenticator.updated', authenticator)
  }

  // Counts a wrong code against the action: Authsignal's failure reason for this attempt.
  fail (record: ActionRecord): 'CODE_INVALID_OR_EXPIRED' | 'MAX_ATTEMPTS_EXCEEDED' {
    const attempts = (this.failures.get(record.idempotencyKey) ?? 0) + 1
    this.failures.set(record.idempotencyKey, attempts)
    return attempts < MAX_ATTEMPTS ? 'CODE_INVALID_OR_EXPIRED' : 'MAX_ATTEMPTS_EXCEEDED'
  }

  // Track's rule outcome: the newest matching rule's state, else ALLOW (Authsignal with no rules).
  outcome (userId: string, action: string): string {
    const rule = [...this.rules].reverse().find((r) => (r.userId === undefined || r.userId === userId) && (r.action === undefined || r.action === action))
    return rule?.state ?? 'ALLOW'
  }

  // Like Authsignal: a token may enrol a user's first authenticator; adding another needs
  // the add:authenticators scope or a challenge completed with this token's action.
  mayEnrol (record: ActionRecord): boolean {
    const scopes = (record.scope ?? '').split(' ')
    return this.list(record.userId).length === 0 || scopes.includes(ADD_SCOPE) || record.state === 'CHALLENGE_SUCCEEDED'
  }

  reset (): void {
    for (const map of [this.users, this.passkeys, this.totps, this.actions, this.actionsByUser, this.otps, this.failures, this.webauthn, this.totpEnrolments]) map.clear()
    this.sentOtps.length = 0
    this.rules.length = 0
  }

  private emit (type: AuthenticatorChange['type'], authenticator: UserAuthenticator): void {
    this.events.emit('authenticatorChange', { type, time: now(), authenticator: structuredClone(authenticator) })
  }
}
