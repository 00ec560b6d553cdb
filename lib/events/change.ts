// `onAuthenticatorChange`: the host's hook, told of each authenticator the plugin removes and of each verified
// webhook event about one. It runs after the work it reports is done and under a bound: a hook that throws,
// rejects or hangs is logged, and never fails nor holds up the request (the user's DELETE or Authsignal's
// delivery) for longer than `onAuthenticatorChangeTimeoutMs`.
import type { FastifyBaseLogger } from 'fastify'
import { settledWithin } from '../deadline.js'
import { reasonOf } from '../errors.js'

/** What changed, as `onAuthenticatorChange` is told it. */
export interface AuthenticatorChangeEvent {
  type: 'added' | 'removed' | 'updated'
  /** The Authsignal user id (the pool's `userIdPrefix` + its claim). */
  userId: string
  /** EMAIL_OTP, SMS, PASSKEY, AUTHENTICATOR_APP, ... */
  verificationMethod: string
  userAuthenticatorId: string
  /** When the change happened (ISO 8601): the removal, or the event's `createdAt` / `updatedAt` / `deletedAt`. */
  at: string
  /** `'route'`: this plugin's DELETE removed it; `'webhook'`: Authsignal reported it; `'support'`: a support agent removed it. */
  source: 'route' | 'webhook' | 'support'
  /** The id of the request that carried it (Fastify's `request.id`). */
  requestId: string
  /** The webhook event's id (source `'webhook'` only): the same for every delivery of one event. */
  eventId?: string
  /** Who acted and why (source `'support'` only): the agent's Authsignal user id and the reason they gave. */
  actor?: SupportActor
}

export interface SupportActor { userId: string, reason: string }

export type AuthenticatorChangeHook = (change: AuthenticatorChangeEvent) => void | Promise<void>

/** Calls the hook, waiting for it at most `timeoutMs`; whatever it does is logged, never thrown. */
export async function notifyChange (hook: AuthenticatorChangeHook | undefined, change: AuthenticatorChangeEvent,
  log: FastifyBaseLogger, timeoutMs: number): Promise<void> {
  if (hook === undefined) return
  const facts = { change: { type: change.type, source: change.source, userAuthenticatorId: change.userAuthenticatorId } }
  const done = Promise.resolve()
    .then(() => hook(change))
    .catch((err: unknown) => {
      // Only the error's name and first line: a host's error may carry anything.
      log.error({ ...facts, reason: reasonOf(err) }, 'fastify-authsignal-cognito: onAuthenticatorChange failed')
    })
  if (!(await settledWithin(done, timeoutMs))) log.warn({ ...facts, timeoutMs }, 'fastify-authsignal-cognito: onAuthenticatorChange is still running; not waiting for it')
}
