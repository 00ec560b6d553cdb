// The emulator's state: users' authenticators, actions and pending codes, and the rules that change them.
import { randomUUID } from 'node:crypto'
import { compact } from './http.js'
import type { SeedAuthenticator, SentOtp, UserAuthenticator } from './types.js'

export interface ActionRecord {
  userId: string
  action: string
  idempotencyKey: string
  state: string
  createdAt: string
  stateUpdatedAt: string
  verificationMethod?: string
  scope?: string
  redirectUrl?: unknown
  settings: boolean
}

export interface PendingOtp {
  code: string
  email: string
  authenticator: UserAuthenticator
  enrol: boolean // true: verifying the code adds the authenticator; false: a challenge of an existing one
  attempts: number
}

export const ADD_SCOPE = 'add:authenticators'

export function now (): string {
  return new Date().toISOString()
}

export class EmulatorStore {
  readonly users = new Map<string, UserAuthenticator[]>()
  readonly actions = new Map<string, ActionRecord>()
  readonly otps = new Map<string, PendingOtp>() // by action idempotencyKey
  readonly sentOtps: SentOtp[] = []

  list (userId: string): UserAuthenticator[] {
    let found = this.users.get(userId)
    if (found === undefined) {
      found = []
      this.users.set(userId, found)
    }
    return found
  }

  addAuthenticator (userId: string, a: SeedAuthenticator): UserAuthenticator {
    const createdAt = a.createdAt ?? now()
    const record = compact<UserAuthenticator>({
      userId,
      userAuthenticatorId: a.userAuthenticatorId ?? randomUUID(),
      verificationMethod: a.verificationMethod,
      createdAt,
      verifiedAt: a.verifiedAt ?? createdAt,
      email: a.email,
      phoneNumber: a.phoneNumber,
      displayName: a.displayName
    })
    this.list(userId).push(record)
    return { ...record }
  }

  removeAuthenticator (userId: string, userAuthenticatorId: string): boolean {
    const own = this.list(userId)
    const index = own.findIndex((a) => a.userAuthenticatorId === userAuthenticatorId)
    if (index === -1) return false
    own.splice(index, 1)
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
    this.actions.set(record.idempotencyKey, record)
    return record
  }

  succeed (record: ActionRecord, verificationMethod: string): void {
    record.state = 'CHALLENGE_SUCCEEDED'
    record.stateUpdatedAt = now()
    record.verificationMethod = verificationMethod
  }

  // Like Authsignal: a token may enrol a user's first authenticator; adding another needs
  // the add:authenticators scope or a challenge completed with this token's action.
  mayEnrol (record: ActionRecord): boolean {
    const scopes = (record.scope ?? '').split(' ')
    return this.list(record.userId).length === 0 || scopes.includes(ADD_SCOPE) || record.state === 'CHALLENGE_SUCCEEDED'
  }

  reset (): void {
    this.users.clear()
    this.actions.clear()
    this.otps.clear()
    this.sentOtps.length = 0
  }
}
