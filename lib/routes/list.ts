// GET {prefix}: the user's authenticators, with a whitelisted set of fields; contact details masked.
import type { FastifyInstance } from 'fastify'
import { OPTIONAL_STRINGS, type UpstreamAuthenticator } from '../authsignal/api.js'
import type { ResolvedRoutes } from '../options/index.js'
import type { RouteContext } from './context.js'
import { maskEmail, maskPhoneNumber } from './mask.js'
import { authenticatorSchema, commonErrors, routeSchema } from './schemas.js'

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

function summarise (a: UpstreamAuthenticator, showContactDetails: boolean): AuthenticatorSummary {
  const summary: AuthenticatorSummary = {
    userAuthenticatorId: a.userAuthenticatorId,
    verificationMethod: a.verificationMethod,
    createdAt: a.createdAt
  }
  for (const field of OPTIONAL_STRINGS) {
    const value = a[field]
    if (typeof value === 'string') summary[field] = value
  }
  if (!showContactDetails) {
    if (summary.email !== undefined) summary.email = maskEmail(summary.email)
    if (summary.phoneNumber !== undefined) summary.phoneNumber = maskPhoneNumber(summary.phoneNumber)
  }
  return summary
}

export function listRoute (fastify: FastifyInstance, route: ListRoute, { api, authenticate, userIdOf, options }: RouteContext): void {
  fastify.get(route.path, {
    onRequest: authenticate,
    schema: routeSchema(options.openapi, {
      summary: 'List the user\'s authenticators',
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
    const list = await api.listAuthenticators(userIdOf(request))
    return { authenticators: list.map(a => summarise(a, route.showContactDetails)) }
  })
}
