// `cognitoSync`: keeps the user's Cognito `email` / `phone_number` and `email_verified` /
// `phone_number_verified` in step with the addresses their Authsignal authenticators have verified (an email
// OTP or magic link authenticator proves the address, an SMS one the number), as Authsignal's
// cognito-lambdas example does after an enrolment, but driven by the webhook events.
//
// The events may come in any order, late (Authsignal retries) and side by side, so an event only says which
// user and which kind of address to look at: what is written comes from the user's authenticators as
// Authsignal lists them now, and from nothing else, so whichever event is acted on last leaves the same
// attributes. The address of the most recently verified authenticator carrying one is set and marked verified
// (a new or just-used authenticator is the most recent). When none carries one any more, and the user's Cognito
// attribute still holds the address the removed authenticator carried, `_verified` becomes false (`onRemove:
// 'unverify'`): the proof Cognito's flag stood on is gone. The address itself stays, since a pool may require
// it, and Cognito's own verification can prove it again.
import type { FastifyBaseLogger } from 'fastify'
import type { AuthsignalApi, UpstreamAuthenticator } from '../authsignal/api.js'
import type { AuthenticatorEventData } from '../events/webhook-event.js'
import type { ResolvedCognitoSync, ResolvedPool, SyncedAttribute } from '../options/index.js'
import type { CognitoAdmin, CognitoFailure } from './admin.js'
import { attributesOf, findCognitoUser, type CognitoUser } from './users.js'

const CARRIERS = {
  email: { methods: ['EMAIL_OTP', 'EMAIL_MAGIC_LINK'], field: 'email', verified: 'email_verified' },
  phone_number: { methods: ['SMS'], field: 'phoneNumber', verified: 'phone_number_verified' }
} as const satisfies Record<SyncedAttribute, { methods: readonly string[], field: 'email' | 'phoneNumber', verified: string }>

/** Calls Cognito makes at most per event (a lookup, then one write). */
export const COGNITO_CALLS_PER_EVENT = 2

// Authsignal lists verified authenticators only: enrolled (createdAt) then perhaps used since (lastVerifiedAt).
function verifiedAt (a: UpstreamAuthenticator): string {
  return String(a.lastVerifiedAt ?? a.createdAt)
}

export class AttributeSync {
  constructor (private readonly api: AuthsignalApi, private readonly admin: CognitoAdmin,
    private readonly pools: readonly ResolvedPool[], private readonly options: ResolvedCognitoSync) {}

  /** Brings the attribute the event is about in step; rejects (so the delivery answers 5xx) when a call fails. */
  async apply (event: AuthenticatorEventData, log: FastifyBaseLogger): Promise<void> {
    const attribute = this.options.attributes.find(a => (CARRIERS[a].methods as readonly string[]).includes(event.verificationMethod))
    if (attribute === undefined) return
    try {
      const user = await findCognitoUser(this.admin, this.pools, event.userId)
      if (user === undefined) return this.noUser(event, log)
      await this.bringInStep(user, attribute, event)
    } catch (err) {
      if ((err as CognitoFailure).awsName !== 'UserNotFoundException') throw err
      this.noUser(event, log)
    }
  }

  private noUser (event: AuthenticatorEventData, log: FastifyBaseLogger): void {
    log.warn({ userAuthenticatorId: event.userAuthenticatorId }, 'fastify-authsignal-cognito: no Cognito user has this Authsignal user id; nothing synced')
  }

  private async bringInStep (user: CognitoUser, attribute: SyncedAttribute, event: AuthenticatorEventData): Promise<void> {
    const { methods, field, verified } = CARRIERS[attribute]
    const carrying = (await this.api.listAuthenticators(event.userId))
      .filter(a => (methods as readonly string[]).includes(a.verificationMethod) && typeof a[field] === 'string' && a[field] !== '')
    const chosen = carrying.sort((a, b) => verifiedAt(b).localeCompare(verifiedAt(a)) || a.userAuthenticatorId.localeCompare(b.userAuthenticatorId))[0]
    if (chosen !== undefined) return await this.write(user, { [attribute]: chosen[field] as string, [verified]: 'true' })
    const removed = event[field]
    if (this.options.onRemove === 'keep' || removed === undefined) return
    const attributes = user.attributes ?? await this.read(user)
    // The address goes with its flag: cognito-local requires it, and Cognito takes the same value as no change.
    if (attributes[attribute] === removed && attributes[verified] === 'true') await this.write(user, { [attribute]: removed, [verified]: 'false' })
  }

  private async read (user: CognitoUser): Promise<Record<string, string>> {
    const answer = await this.admin.send<{ UserAttributes?: Array<{ Name?: string, Value?: string }> }>('AdminGetUser',
      c => new c.AdminGetUserCommand({ UserPoolId: user.pool.userPoolId, Username: user.username }))
    return attributesOf(answer.UserAttributes)
  }

  private async write (user: CognitoUser, attributes: Record<string, string>): Promise<void> {
    await this.admin.send('AdminUpdateUserAttributes', c => new c.AdminUpdateUserAttributesCommand({
      UserPoolId: user.pool.userPoolId,
      Username: user.username,
      UserAttributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value }))
    }))
  }
}
