// GET {prefix}: the user's authenticators, with a whitelisted set of fields; contact details masked.
import type { FastifyInstance } from 'fastify'
import { expectShape, type AuthsignalCaller } from '../authsignal-client.js'
import { maskEmail, maskPhoneNumber } from '../mask.js'
import type { ResolvedRoutes } from '../options.js'
import { pathSegment, userIdOf } from '../user-id.js'
import { isRecord, type RouteContext } from './context.js'
import { authenticatorSchema, commonErrors, routeSchema, SECURITY, TAGS } from './schemas.js'

type ListRoute = Exclude<ResolvedRoutes['list'], false>

export interface AuthenticatorSummary {
  userAuthenticatorId: string
  verificationMethod: string
  createdAt: string
  verifiedAt?: string
  lastVerifiedAt?: string
  email?: string
  phoneNumber?: string
  displayName?: string
}

const OPTIONAL_FIELDS = ['verifiedAt', 'lastVerifiedAt', 'email', 'phoneNumber', 'displayName'] as const

function isAuthenticatorList (value: unknown): value is Array<Record<string, unknown> & { userAuthenticatorId: string }> {
  return Array.isArray(value) && value.every(a => isRecord(a) &&
    typeof a.userAuthenticatorId === 'string' && typeof a.verificationMethod === 'string' && typeof a.createdAt === 'string' &&
    OPTIONAL_FIELDS.every(field => a[field] === undefined || a[field] === null || typeof a[field] === 'string'))
}

/** The user's authenticators as Authsignal lists them (shape checked: anything else is a 502). */
export async function fetchAuthenticators (caller: AuthsignalCaller, userId: string) {
  const answer = await caller.call('getAuthenticators', client => client.getAuthenticators({ userId: pathSegment(userId) }))
  return expectShape(answer, 'getAuthenticators', isAuthenticatorList)
}

function summarise (a: Record<string, unknown>, showContactDetails: boolean): AuthenticatorSummary {
  const summary: AuthenticatorSummary = {
    userAuthenticatorId: a.userAuthenticatorId as string,
    verificationMethod: a.verificationMethod as string,
    createdAt: a.createdAt as string
  }
  for (const field of OPTIONAL_FIELDS) {
    const value = a[field]
    if (typeof value === 'string') summary[field] = value
  }
  if (!showContactDetails) {
    if (summary.email !== undefined) summary.email = maskEmail(summary.email)
    if (summary.phoneNumber !== undefined) summary.phoneNumber = maskPhoneNumber(summary.phoneNumber)
  }
  return summary
}

export function listRoute (fastify: FastifyInstance, route: ListRoute, { caller, authenticate, options }: RouteContext): void {
  fastify.get(route.path, {
    onRequest: authenticate,
    schema: routeSchema({
      summary: 'List the user\'s authenticators',
      tags: TAGS,
      security: SECURITY,
      response: {
        200: {
          type: 'object',
          required: ['authenticators'],
          properties: { authenticators: { type: 'array', items: authenticatorSchema } }
        },
        ...commonErrors
      }
    })
  }, async (request) => {
    const userId = userIdOf(request, options.cognito.userIdClaim)
    const list = await fetchAuthenticators(caller, userId)
    return { authenticators: list.map(a => summarise(a, route.showContactDetails)) }
  })
}
