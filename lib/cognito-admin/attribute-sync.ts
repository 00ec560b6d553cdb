// `cognitoSync`: keeps the user's Cognito `email` / `phone_number` and `email_verified` /
// `phone_number_verified` in step with the addresses their Authsignal authenticators have verified (an email
// OTP or magic link authenticator proves the address, an SMS one the number), as Authsignal's
// cognito-lambdas example does after an enrolment, but driven by the webhook events.
//
// The events may come in any order, late (Authsignal retries) and side by side, so an event only says which
// user and which kind of address to look at: what is written comes from the user's authenticators as
// Authsignal lists them now, and from nothing else, so whichever event is acted on last leaves the same
// attributes. The address of the most recently verified authenticator carrying one is the candidate (a new or
// just-used authenticator is the most recent). Fill-only by default: it is written, and marked verified, only
// where the user's Cognito attribute is empty, unverified, or already that address. A verified address is never
// replaced by a newly enrolled authenticator's: whoever can enrol a factor (a stolen session) would otherwise make
// their address the one Cognito sends password resets to. `replaceVerified: true` replaces it (the host's choice).
// When no authenticator carries the address the user's Cognito attribute holds any more (its carrier removed),
// and it is marked verified, `_verified` becomes false (`onRemove: 'unverify'`): the proof Cognito's flag stood
// on is gone. The address itself stays, since a pool may require it, and Cognito's own verification can prove it again.
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
    await this.sync(event.userId, [attribute], event, log)
  }

  /** `routes.verify`: every synced attribute of the user, from their authenticators now (no removal to account for). */
  async syncUser (userId: string, log: FastifyBaseLogger): Promise<void> {
    await this.sync(userId, this.options.attributes, undefined, log)
  }

  private async sync (userId: string, attributes: readonly SyncedAttribute[], event: AuthenticatorEventData | undefined, log: FastifyBaseLogger): Promise<void> {
    try {
      const user = await findCognitoUser(this.admin, this.pools, userId)
      if (user === undefined) return this.noUser(event, log)
      const listed = await this.api.listAuthenticators(userId)
      for (const attribute of attributes) await this.bringInStep(user, attribute, listed, event, log)
    } catch (err) {
      if ((err as CognitoFailure).awsName !== 'UserNotFoundException') throw err
      this.noUser(event, log)
    }
  }

  private noUser (event: AuthenticatorEventData | undefined, log: FastifyBaseLogger): void {
    log.warn({ userAuthenticatorId: event?.userAuthenticatorId }, 'fastify-authsignal-cognito: no Cognito user has this Authsignal user id; nothing synced')
  }

  private async bringInStep (user: CognitoUser, attribute: SyncedAttribute, listed: readonly UpstreamAuthenticator[],
    event: AuthenticatorEventData | undefined, log: FastifyBaseLogger): Promise<void> {
    const { methods, field, verified } = CARRIERS[attribute]
    const carrying = listed
      .filter(a => (methods as readonly string[]).includes(a.verificationMethod) && typeof a[field] === 'string' && a[field] !== '')
    const chosen = carrying.sort((a, b) => verifiedAt(b).localeCompare(verifiedAt(a)) || a.userAuthenticatorId.localeCompare(b.userAuthenticatorId))[0]
    // Read at most once, and only when a rule needs it (a `sub` pool's lookup already read them).
    let current = user.attributes
    const attributes = async (): Promise<Record<string, string>> => (current ??= await this.read(user))
    if (chosen !== undefined) {
      const address = chosen[field] as string
      const now = this.options.replaceVerified ? undefined : await attributes()
      // An empty attribute is never marked verified: "not verified" covers it.
      if (now === undefined || now[verified] !== 'true' || now[attribute] === address) {
        return await this.write(user, { [attribute]: address, [verified]: 'true' })
      }
      log.info({ attribute, userAuthenticatorId: chosen.userAuthenticatorId }, 'fastify-authsignal-cognito: the user\'s verified Cognito attribute is kept (cognitoSync.replaceVerified is off)')
    }
    const removed = event?.[field]
    if (this.options.onRemove === 'keep' || removed === undefined || carrying.some(a => a[field] === removed)) return
    const now = await attributes()
    // The address goes with its flag: cognito-local requires it, and Cognito takes the same value as no change.
    if (now[attribute] === removed && now[verified] === 'true') await this.write(user, { [attribute]: removed, [verified]: 'false' })
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
