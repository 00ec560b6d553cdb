// JSON schemas shared by the routes: validation and fast serialisation, and a correct OpenAPI document
// for hosts that register @fastify/swagger.
import type { FastifySchema } from 'fastify'
import type { ResolvedOpenApi } from '../options/index.js'

const TAGS = ['authenticators']

/**
 * Route schemas carry OpenAPI's summary, description and tags, which @fastify/swagger reads, and a security
 * requirement only when the host names its bearer scheme (`openapi.securityScheme`): @fastify/swagger looks
 * every requirement up in the host's `components.securitySchemes`, and a name the host never declared breaks
 * its whole document.
 */
export function routeSchema (openapi: ResolvedOpenApi, schema: FastifySchema & Record<string, unknown>): FastifySchema {
  const documented: FastifySchema & Record<string, unknown> = { tags: TAGS, ...(openapi.securityScheme !== undefined && { security: [{ [openapi.securityScheme]: [] }] }), ...schema }
  return documented
}

export const AUTHENTICATOR_ID_PATTERN = '^[A-Za-z0-9_-]{1,100}$'

export const errorSchema = {
  type: 'object',
  required: ['statusCode', 'code', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' }
  }
} as const

function errorResponse (description: string) {
  return { ...errorSchema, description }
}

/** The error answers every route shares; each route adds its own. */
export const commonErrors = {
  401: errorResponse('Missing, malformed, expired or untrusted Cognito token (see the code)'),
  403: errorResponse('Valid token without a required group or scope, or a machine-to-machine token'),
  502: errorResponse('Authsignal answered with an error or an unexpected body, or could not be reached'),
  503: errorResponse('The user pool\'s keys cannot be fetched, or Authsignal is rate limiting'),
  504: errorResponse('Authsignal did not answer in time')
} as const

export const badRequest = errorResponse('The request is malformed (see the code)')

export const authenticatorSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['userAuthenticatorId', 'verificationMethod', 'createdAt'],
  properties: {
    userAuthenticatorId: { type: 'string' },
    verificationMethod: { type: 'string', description: 'EMAIL_OTP, SMS, PASSKEY, AUTHENTICATOR_APP, ...' },
    createdAt: { type: 'string' },
    verifiedAt: { type: 'string' },
    lastVerifiedAt: { type: 'string' },
    email: { type: 'string', description: 'Masked unless the list route shows contact details' },
    phoneNumber: { type: 'string', description: 'Masked unless the list route shows contact details' },
    displayName: { type: 'string' }
  }
} as const
