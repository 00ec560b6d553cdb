// What follows a support agent's removals (routes.support), once the authenticators are gone: one `info` audit
// line per removal (agent, target, authenticator, method, reason: never contact details or tokens), the target
// user's sessions ended as `revokeSessionsOnRemove` says (the target's Cognito username is looked up from the
// Authsignal id: the agent's token does not carry it), `onAuthenticatorChange` told `source: 'support'` with the
// actor, and with `cognitoSync` the attributes brought in step as the webhook event of the removal would.
// Like the user's own removal's follow-up, none of it can undo or fail the removal: failures are logged.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuthsignalApi, UpstreamAuthenticator } from '../authsignal/api.js'
import { CognitoAdmin } from '../cognito-admin/admin.js'
import { AttributeSync } from '../cognito-admin/attribute-sync.js'
import { findCognitoUser } from '../cognito-admin/users.js'
import { reasonOf } from '../errors.js'
import type { ResolvedOptions } from '../options/index.js'
import { maskEmail } from '../routes/mask.js'
import { sayRevoked, sessionRevoker } from './after-removal.js'
import { notifyChange, type SupportActor } from './change.js'

export type SupportFollowUp = (request: FastifyRequest, reply: FastifyReply, userId: string, removed: UpstreamAuthenticator[], actor: SupportActor) => Promise<void>

// An agent may type the user's address or number into the reason: the log line keeps neither.
const EMAIL = /[^\s@]+@[^\s@]+/g
const NUMBER = /\+?\d[\d\s().-]{4,}\d/g

/** The reason as the audit line writes it: email addresses masked, runs of digits (phone numbers) replaced. */
export function auditReason (reason: string): string {
  return reason.replace(EMAIL, maskEmail).replace(NUMBER, '[number]')
}

function optional (value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

export function supportFollowUp (api: AuthsignalApi, options: ResolvedOptions): SupportFollowUp {
  const { onChange, hookTimeoutMs, cognitoSync, revoke } = options.events
  const timeoutMs = options.authsignal.timeoutMs
  const revokeSessions = sessionRevoker(api, options)
  const lookup = revoke.cognito === undefined ? undefined : new CognitoAdmin(revoke.cognito, timeoutMs)
  const sync = cognitoSync === undefined ? undefined : new AttributeSync(api, new CognitoAdmin(cognitoSync.client, timeoutMs), options.pools, cognitoSync)

  return async (request, reply, userId, removed, actor) => {
    const at = new Date().toISOString()
    for (const a of removed) {
      request.log.info({
        support: { agent: actor.userId, user: userId, userAuthenticatorId: a.userAuthenticatorId, verificationMethod: a.verificationMethod, reason: auditReason(actor.reason) }
      }, 'fastify-authsignal-cognito: a support agent removed an authenticator')
    }
    const cognitoUser = async (): Promise<{ userPoolId: string, username: string } | undefined> => {
      const user = await findCognitoUser(lookup as CognitoAdmin, options.pools, userId)
      return user === undefined ? undefined : { userPoolId: user.pool.userPoolId, username: user.username }
    }
    // One after another: each reads the user's authenticators as they are now, so the last one leaves the same attributes.
    const syncing = async (): Promise<void> => {
      for (const a of removed) {
        const event = {
          change: 'removed' as const,
          userId,
          userAuthenticatorId: a.userAuthenticatorId,
          verificationMethod: a.verificationMethod,
          at,
          email: optional(a.email),
          phoneNumber: optional(a.phoneNumber)
        }
        await sync?.apply(event, request.log).catch((err: unknown) => {
          request.log.error({ userAuthenticatorId: a.userAuthenticatorId, reason: reasonOf(err) }, 'fastify-authsignal-cognito: the authenticator was removed but Cognito\'s attributes were not synced')
        })
      }
    }
    const [results] = await Promise.all([
      removed.length === 0 ? [] : revokeSessions(request, userId, cognitoUser),
      syncing(),
      ...removed.map(async a => await notifyChange(onChange, {
        type: 'removed',
        userId,
        verificationMethod: a.verificationMethod,
        userAuthenticatorId: a.userAuthenticatorId,
        at,
        source: 'support',
        requestId: request.id,
        actor
      }, request.log, hookTimeoutMs))
    ])
    sayRevoked(reply, results)
  }
}
