// The one place the plugin calls Authsignal. Each method owns the path encoding (the SDK puts ids into URL
// paths unencoded), the deadline, the expected answer shape (anything else is a 502, never a 500 further
// down) and the error mapping. Routes call these methods and nothing below them.
import { UserActionState, type Authsignal } from '@authsignal/node'
import type { FastifyError } from '@fastify/error'
import { ActionBlockedError, UpstreamBadResponseError } from '../errors.js'
import { isRecord } from '../guards.js'
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

/** What a track answer must hold: a token, a URL, whether the user has an authenticator, and one of the outcomes track gives. */
interface TrackAnswer { token: string, url: string, isEnrolled: boolean, state: string }

// Track's rule outcomes; CHALLENGE_SUCCEEDED and the review results belong to later states of an action.
const TRACK_STATES: readonly string[] = [UserActionState.ALLOW, UserActionState.CHALLENGE_REQUIRED, UserActionState.BLOCK, UserActionState.REVIEW_REQUIRED]

/** Why an enrolment token carries the scope or not: the audit line says it. */
export type EnrolmentReason = 'fresh sign-in' | 'first enrolment' | 'enrolled, sign-in not fresh' | 'rule CHALLENGE_REQUIRED'

export interface EnrolmentToken { token: string, scoped: boolean, challengeRequired: boolean, reason: EnrolmentReason }

/** Request context passed on to Authsignal's risk rules with each tracked action (the guide's app may add the user's email and phone). */
export interface TrackContext { ipAddress: string, userAgent: string | undefined, email?: string, phoneNumber?: string }

/** The string fields of an authenticator the plugin reads (each may be absent or null). */
export const OPTIONAL_STRINGS = ['verifiedAt', 'lastVerifiedAt', 'email', 'phoneNumber', 'displayName'] as const

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

function isTrackAnswer (a: unknown): a is TrackAnswer {
  return isRecord(a) && nonEmpty(a.token) && nonEmpty(a.url) && typeof a.isEnrolled === 'boolean' && typeof a.state === 'string' && TRACK_STATES.includes(a.state)
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
export interface LastCall { at: string, operation: string, ok: boolean, code?: string, error?: string }

export class AuthsignalApi {
  /** The last call's outcome; its time kept as a number and formatted when read (every call sets it). */
  private last: (Omit<LastCall, 'at'> & { at: number }) | undefined

  constructor (readonly client: Authsignal, private readonly timeoutMs: number) {}

  get lastCall (): LastCall | undefined {
    return this.last === undefined ? undefined : { ...this.last, at: new Date(this.last.at).toISOString() }
  }

  private async call<T> (operation: string, fn: (client: Authsignal) => Promise<T>): Promise<T> {
    try {
      const answer = await withDeadline(this.client, this.timeoutMs, operation, fn)
      this.last = { at: Date.now(), operation, ok: true }
      return answer
    } catch (err) {
      // Our own error (withDeadline maps every failure): its message names the cause and never carries a secret.
      this.last = { at: Date.now(), operation, ok: false, code: (err as FastifyError).code, error: (err as FastifyError).message }
      throw err
    }
  }

  /**
   * Strong binding (DESIGN.md "Binding"): the token that lets a client SDK enrol an authenticator. A `fresh`
   * sign-in tracks `action` with `scope`; an older one tracks it without, and the client must first complete a
   * challenge with one of the user's authenticators when the user has any. One track call: its answer says
   * `isEnrolled`, so no user lookup is needed first, and a token without the scope still enrols a user's first
   * authenticator (Authsignal's rule), so the unscoped track is right before we know. A second track only when
   * Authsignal's rules answer CHALLENGE_REQUIRED to the scoped one (rare): that token must not reach the client.
   */
  async enrolmentToken (userId: string, action: string, scope: string, fresh: boolean, context: TrackContext): Promise<EnrolmentToken> {
    if (fresh) {
      const scoped = await this.track(userId, action, { scope, ...context })
      if (scoped.state !== UserActionState.CHALLENGE_REQUIRED) return { token: scoped.token, scoped: true, challengeRequired: false, reason: 'fresh sign-in' }
    }
    const plain = await this.track(userId, action, { ...context })
    if (plain.state === UserActionState.CHALLENGE_REQUIRED) return { token: plain.token, scoped: false, challengeRequired: true, reason: 'rule CHALLENGE_REQUIRED' }
    return { token: plain.token, scoped: false, challengeRequired: plain.isEnrolled, reason: plain.isEnrolled ? 'enrolled, sign-in not fresh' : 'first enrolment' }
  }

  /** Tracks `action` with no scope: the token lets a client SDK complete a challenge for that action (step-up). */
  async challengeToken (userId: string, action: string, context: TrackContext): Promise<string> {
    return (await this.track(userId, action, { ...context })).token
  }

  /** Tracks `action` in settings mode: the URL opens Authsignal's pre-built UI to manage authenticators. */
  async prebuiltUiUrl (userId: string, action: string, redirectUrl: string | undefined, context: TrackContext): Promise<string> {
    const attributes = { redirectToSettings: true, ...(redirectUrl !== undefined && { redirectUrl }), ...context }
    return (await this.track(userId, action, attributes)).url
  }

  /** Every track answer carries a rule outcome: BLOCK and REVIEW_REQUIRED are a 403, never a token or a URL. */
  private async track (userId: string, action: string, attributes: Record<string, unknown>): Promise<TrackAnswer> {
    const answer = await this.call('track', client => client.track({ userId: segment(userId), action, attributes }))
    const tracked = expect(answer, 'track', isTrackAnswer)
    if (tracked.state === UserActionState.BLOCK || tracked.state === UserActionState.REVIEW_REQUIRED) throw new ActionBlockedError(tracked.state)
    return tracked
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
