// What a verified webhook body must be: Authsignal's envelope `{ version, id, source, time, tenantId, type,
// data }` (docs.authsignal.com, "Event types"). The authenticator events' `data` carries `userId`,
// `userAuthenticatorId`, `verificationMethod`, one of `createdAt` / `updatedAt` / `deletedAt`, and `email` or
// `phoneNumber` for email and SMS authenticators. Other event types are acknowledged and ignored.
import { WebhookBadEventError } from '../errors.js'
import { isRecord } from '../guards.js'
import type { AuthenticatorChangeEvent } from './change.js'

const CHANGES = {
  'authenticator.created': 'added',
  'authenticator.updated': 'updated',
  'authenticator.deleted': 'removed'
} as const satisfies Record<string, AuthenticatorChangeEvent['type']>

export type AuthenticatorEventType = keyof typeof CHANGES

/** The fields of an authenticator event's `data` the plugin reads. */
export interface AuthenticatorEventData {
  change: AuthenticatorChangeEvent['type']
  userId: string
  userAuthenticatorId: string
  verificationMethod: string
  /** When the change happened: `deletedAt`, `updatedAt` or `createdAt` for its type, else the envelope's `time`. */
  at: string
  email?: string
  phoneNumber?: string
}

export interface WebhookEvent {
  id: string
  type: string
  /** Set for the authenticator events; other types are acknowledged and ignored. */
  authenticator?: AuthenticatorEventData
}

const MAX_ID = 256
const WHEN = { added: 'createdAt', updated: 'updatedAt', removed: 'deletedAt' } as const

const text = (value: unknown): value is string => typeof value === 'string' && value !== ''
const optionalText = (value: unknown): string | undefined => text(value) ? value : undefined

export function parseWebhookEvent (body: unknown): WebhookEvent {
  if (!isRecord(body)) throw new WebhookBadEventError('not an object')
  const { id, type, data, time } = body
  if (!text(id) || id.length > MAX_ID) throw new WebhookBadEventError(`id must be a string of 1 to ${MAX_ID} characters`)
  if (!text(type)) throw new WebhookBadEventError('type must be a string')
  if (!Object.hasOwn(CHANGES, type)) return { id, type }
  const change = CHANGES[type as AuthenticatorEventType]
  if (!isRecord(data) || !text(data.userId) || !text(data.userAuthenticatorId) || !text(data.verificationMethod)) {
    throw new WebhookBadEventError(`${type} needs data.userId, data.userAuthenticatorId and data.verificationMethod`)
  }
  return {
    id,
    type,
    authenticator: {
      change,
      userId: data.userId,
      userAuthenticatorId: data.userAuthenticatorId,
      verificationMethod: data.verificationMethod,
      at: optionalText(data[WHEN[change]]) ?? optionalText(time) ?? new Date().toISOString(),
      email: optionalText(data.email),
      phoneNumber: optionalText(data.phoneNumber)
    }
  }
}
