// The one place the plugin calls Authsignal. Each method owns the path encoding (the SDK puts ids into URL
// paths unencoded), the deadline, the expected answer shape (anything else is a 502, never a 500 further
// down) and the error mapping. Routes call these methods and nothing below them.
import { UserActionState, type Authsignal } from '@authsignal/node'
import type { FastifyError } from '@fastify/error'
import { UpstreamBadResponseError } from '../errors.js'
import { withDeadline } from './client.js'
import { verifyWebhook } from './webhook-signature.js'

/** An authenticator as Authsignal lists it, its known fields type-checked (the rest kept as received). */
export interface UpstreamAuthenticator extends Record<string, unknown> {
  userAuthenticatorId: string
  verificationMethod: string
  createdAt: string
  /** Passkeys and security keys only. */
  webauthnCredential?: UpstreamWebauthnCredential | null
}

/** The part of a WebAuthn credential the plugin reads, type-checked (the rest, such as the user agent, is never read). */
export interface UpstreamWebauthnCredential {
  /** base64url, as the browser's PublicKeyCredential.id */
  credentialId: string
  name?: string | null
  /** True when the passkey is synced (backed up) by its provider. */
  credentialBackedUp?: boolean | null
  /** The provider Authsignal names from the credential's AAGUID. */
  aaguidMapping?: { name?: string | null } | null
}

/** What `queryUserActions` says of one of the user's actions: the plugin reads who completed its challenge. */
export interface UserAction {
  idempotencyKey: string
  verificationMethod?: string | null
  /** The authenticator that completed the challenge, where Authsignal says. */
  verifiedByAuthenticatorId?: string | null
}

/** What `validateChallenge` says of a challenge token (the SDK renames Authsignal's `actionCode` to `action`). */
export interface ChallengeResult {
  isValid: boolean
  state?: string
  userId?: string
  action?: string
  idempotencyKey?: string
  verificationMethod?: string
  /** When the challenge reached its state (ISO 8601): how old the step-up is. */
  stateUpdatedAt?: string
}

/** Request context passed on to Authsignal's risk rules with each tracked action (the guide's app may add the user's email and phone). */
export interface TrackContext { ipAddress: string, userAgent: string | undefined, email?: string, phoneNumber?: string }

/** The string fields of an authenticator the plugin reads (each may be absent or null). */
export const OPTIONAL_STRINGS = ['verifiedAt', 'lastVerifiedAt', 'email', 'phoneNumber', 'displayName'] as const

export function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== ''

/** An optional field: absent, null (as Authsignal sends some), or of the expected type. */
function absentOr (value: unknown, type: 'string' | 'boolean'): boolean {
  // eslint-disable-next-line valid-typeof -- `type` is one of the two literals above
  return value === undefined || value === null || typeof value === type
}

function isWebauthnCredential (c: unknown): c is UpstreamWebauthnCredential {
  return isRecord(c) && nonEmpty(c.credentialId) && absentOr(c.name, 'string') && absentOr(c.credentialBackedUp, 'boolean') &&
    (c.aaguidMapping === undefined || c.aaguidMapping === null || (isRecord(c.aaguidMapping) && absentOr(c.aaguidMapping.name, 'string')))
}

function isAuthenticator (a: unknown): a is UpstreamAuthenticator {
  return isRecord(a) && typeof a.userAuthenticatorId === 'string' && typeof a.verificationMethod === 'string' &&
    typeof a.createdAt === 'string' && OPTIONAL_STRINGS.every(field => absentOr(a[field], 'string')) &&
    (a.webauthnCredential === undefined || a.webauthnCredential === null || isWebauthnCredential(a.webauthnCredential))
}

function isUserAction (a: unknown): a is UserAction {
  return isRecord(a) && typeof a.idempotencyKey === 'string' && absentOr(a.verificationMethod, 'string') && absentOr(a.verifiedByAuthenticatorId, 'string')
}

function expect<T> (value: unknown, operation: string, isValid: (value: unknown) => value is T): T {
  if (!isValid(value)) throw new UpstreamBadResponseError(`${operation}: unexpected shape`)
  return value
}

/** Authsignal decodes each path segment: encode ours, so an id can never step into another user's path. */
function segment (id: string): string {
  return encodeURIComponent(id)
}

/** The outcome of the last call to Authsignal, for health checks: they read it instead of calling upstream. */
export interface LastCall { at: string, operation: string, ok: boolean, code?: string }

export class AuthsignalApi {
  private last: LastCall | undefined

  constructor (readonly client: Authsignal, private readonly timeoutMs: number) {}

  get lastCall (): LastCall | undefined {
    return this.last
  }

  private async call<T> (operation: string, fn: (client: Authsignal) => Promise<T>): Promise<T> {
    try {
      const answer = await withDeadline(this.client, this.timeoutMs, operation, fn)
      this.last = { at: new Date().toISOString(), operation, ok: true }
      return answer
    } catch (err) {
      this.last = { at: new Date().toISOString(), operation, ok: false, code: (err as FastifyError).code }
      throw err
    }
  }

  /** Tracks `action` with the `add:authenticators`-style scope: the token lets a client SDK enrol an authenticator. */
  async enrolmentToken (userId: string, action: string, scope: string, context: TrackContext): Promise<string> {
    return await this.trackedToken(userId, action, { scope, ...context })
  }

  /** Tracks `action` with no scope: the token lets a client SDK complete a challenge for that action (step-up). */
  async challengeToken (userId: string, action: string, context: TrackContext): Promise<string> {
    return await this.trackedToken(userId, action, { ...context })
  }

  private async trackedToken (userId: string, action: string, attributes: Record<string, unknown>): Promise<string> {
    const answer = await this.call('track', client => client.track({ userId: segment(userId), action, attributes }))
    return expect(answer, 'track', (a): a is { token: string } => isRecord(a) && nonEmpty(a.token)).token
  }

  /** Tracks `action` in settings mode: the URL opens Authsignal's pre-built UI to manage authenticators. */
  async prebuiltUiUrl (userId: string, action: string, redirectUrl: string | undefined, context: TrackContext): Promise<string> {
    const attributes = { redirectToSettings: true, ...(redirectUrl !== undefined && { redirectUrl }), ...context }
    const answer = await this.call('track', client => client.track({ userId: segment(userId), action, attributes }))
    return expect(answer, 'track', (a): a is { url: string } => isRecord(a) && nonEmpty(a.url)).url
  }

  async listAuthenticators (userId: string): Promise<UpstreamAuthenticator[]> {
    const answer = await this.call('getAuthenticators', client => client.getAuthenticators({ userId: segment(userId) }))
    return expect(answer, 'getAuthenticators', (a): a is UpstreamAuthenticator[] => Array.isArray(a) && a.every(isAuthenticator))
  }

  async deleteAuthenticator (userId: string, userAuthenticatorId: string): Promise<void> {
    await this.call('deleteAuthenticator', client => client.deleteAuthenticator({ userId: segment(userId), userAuthenticatorId: segment(userAuthenticatorId) }))
  }

  /** The user id and action travel in the JSON body here, not the path: no encoding. */
  async validateChallenge (userId: string, token: string, action: string): Promise<ChallengeResult> {
    const answer = await this.call('validateChallenge', client => client.validateChallenge({ token, userId, action }))
    return expect(answer, 'validateChallenge', (a): a is ChallengeResult => isRecord(a) && typeof a.isValid === 'boolean')
  }

  /** The user's succeeded action of this code and idempotency key, if Authsignal lists it (newest first, recent ones only). */
  async findAction (userId: string, action: string, idempotencyKey: string): Promise<UserAction | undefined> {
    const query = { userId: segment(userId), actionCodes: [action], state: UserActionState.CHALLENGE_SUCCEEDED }
    const answer = await this.call('queryUserActions', client => client.queryUserActions(query))
    return expect(answer, 'queryUserActions', (a): a is UserAction[] => Array.isArray(a) && a.every(isUserAction))
      .find(a => a.idempotencyKey === idempotencyKey)
  }

  /** A webhook delivery's event, verified with the SDK's verifier and what it lacks (lib/authsignal/webhook-signature.ts). */
  webhookEvent (raw: Buffer, signature: string | undefined, toleranceSec: number): unknown {
    return verifyWebhook(this.client.webhook, raw, signature, toleranceSec)
  }

  /** Ends every Authsignal session of the user. The user id travels in the JSON body here, not the path: no encoding. */
  async revokeUserSessions (userId: string): Promise<void> {
    await this.call('revokeUserSessions', client => client.revokeUserSessions({ userId }))
  }
}
