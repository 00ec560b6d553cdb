// JSON schemas shared by the routes: validation and fast serialisation, and a correct OpenAPI document
// for hosts that register @fastify/swagger.
import type { FastifyReply, FastifyRequest, FastifySchema, HookHandlerDoneFunction } from 'fastify'
import type { ResolvedOpenApi } from '../options/index.js'

const TAGS = ['authenticators']

/**
 * Route schemas carry OpenAPI's summary, description and tags, which @fastify/swagger reads, and a security
 * requirement on the bearer scheme `openapi.securityScheme` (declared in the document by ./openapi.ts when the
 * host's own options do not).
 */
export function routeSchema (openapi: ResolvedOpenApi, schema: FastifySchema & Record<string, unknown>): FastifySchema {
  const documented: FastifySchema & Record<string, unknown> = { tags: TAGS, security: [{ [openapi.securityScheme]: [] }], ...schema }
  return documented
}

/**
 * A route's `preValidation` when its JSON body is optional: Fastify would validate a missing body as `undefined`
 * against `type: 'object'`. Synchronous: no promise per request.
 */
export function optionalBody (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  request.body ??= {}
  done()
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
  403: errorResponse('Valid token without a required group or scope, a machine-to-machine token, or an action Authsignal\'s rules refused (FST_AUTHSIGNAL_ACTION_BLOCKED)'),
  502: errorResponse('Authsignal answered with an error or an unexpected body, or could not be reached'),
  503: errorResponse('The user pool\'s keys cannot be fetched, or Authsignal is rate limiting'),
  504: errorResponse('Authsignal did not answer in time')
} as const

export const badRequest = errorResponse('The request is malformed (see the code)')

/** The answer of the routes that hand out an Authsignal token for a client SDK. */
export function authsignalTokenAnswer (description: string) {
  return { type: 'object', required: ['authsignalToken'], properties: { authsignalToken: { type: 'string', description } } } as const
}

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
    displayName: { type: 'string', description: 'Masked like an email address when it is one, unless the list route shows contact details' },
    passkey: {
      type: 'object',
      additionalProperties: false,
      required: ['credentialId'],
      description: 'Passkeys and security keys (authenticators with a WebAuthn credential)',
      properties: {
        credentialId: { type: 'string', description: 'The WebAuthn credential id (base64url), as the browser\'s PublicKeyCredential.id' },
        name: { type: 'string', description: 'The provider Authsignal names from the AAGUID (e.g. "iCloud Keychain"), else the credential\'s name' },
        backedUp: { type: 'boolean', description: 'True when the provider syncs the passkey (backed up), false when it stays on one device' }
      }
    }
  }
} as const

export const passkeySignalSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rpId', 'userId', 'allAcceptedCredentialIds'],
  description: 'The options of PublicKeyCredential.signalAllAcceptedCredentials: the browser may drop the user\'s other passkeys of this RP',
  properties: {
    rpId: { type: 'string', description: 'The WebAuthn RP id (routes.list.passkeyRpId)' },
    userId: { type: 'string', description: 'The WebAuthn user handle (base64url of the UTF-8 Authsignal user id)' },
    allAcceptedCredentialIds: { type: 'array', items: { type: 'string' }, description: 'Every credential id of the user\'s passkeys and security keys (base64url)' }
  }
} as const
