// GET {prefix}: the user's authenticators, with a whitelisted set of fields; contact details masked. With
// `passkeyRpId`, also what the browser's WebAuthn Signal API needs to drop passkeys removed elsewhere.
import type { FastifyInstance } from 'fastify'
import { OPTIONAL_STRINGS, type UpstreamAuthenticator, type UpstreamWebauthnCredential } from '../authsignal/api.js'
import type { ResolvedRoutes } from '../options/index.js'
import type { RouteContext } from './context.js'
import { maskEmail, maskPhoneNumber } from './mask.js'
import { authenticatorSchema, commonErrors, passkeySignalSchema, routeSchema } from './schemas.js'

type ListRoute = Exclude<ResolvedRoutes['list'], false>

export interface PasskeySummary {
  credentialId: string
  name?: string
  backedUp?: boolean
}

export interface AuthenticatorSummary {
  userAuthenticatorId: string
  verificationMethod: string
  createdAt: string
  verifiedAt?: string
  lastVerifiedAt?: string
  email?: string
  phoneNumber?: string
  displayName?: string
  passkey?: PasskeySummary
}

/** The options of `PublicKeyCredential.signalAllAcceptedCredentials`, as the browser takes them. */
export interface PasskeySignal {
  rpId: string
  userId: string
  allAcceptedCredentialIds: string[]
}

// Authsignal does not document the WebAuthn user handle (user.id) it registers passkeys under. This is the
// common choice (@simplewebauthn/server's, the emulator's): the UTF-8 bytes of the user id, base64url. If it
// is not Authsignal's, the browser finds no passkey of that handle and the signal changes nothing.
function userHandle (userId: string): string {
  return Buffer.from(userId, 'utf8').toString('base64url')
}

function passkeyOf (credential: UpstreamWebauthnCredential): PasskeySummary {
  // The provider Authsignal names from the AAGUID ("iCloud Keychain"), else the credential's own name.
  const name = [credential.aaguidMapping?.name, credential.name].find(n => typeof n === 'string' && n !== '')
  return {
    credentialId: credential.credentialId,
    ...(typeof name === 'string' && { name }),
    ...(typeof credential.credentialBackedUp === 'boolean' && { backedUp: credential.credentialBackedUp })
  }
}

/** What a list answers of one authenticator: whitelisted fields, contact details masked unless shown. */
export function summarise (a: UpstreamAuthenticator, showContactDetails: boolean): AuthenticatorSummary {
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
    // A passkey's display name is often the user's email address (what the page passed at sign-up).
    if (summary.displayName?.includes('@') === true) summary.displayName = maskEmail(summary.displayName)
  }
  if (a.webauthnCredential != null) summary.passkey = passkeyOf(a.webauthnCredential)
  return summary
}

export function listRoute (fastify: FastifyInstance, route: ListRoute, { api, authenticate, userIdOf, options }: RouteContext): void {
  const { passkeyRpId } = route
  fastify.get(route.path, {
    onRequest: authenticate,
    schema: routeSchema(options.openapi, {
      summary: 'List the user\'s authenticators',
      ...(passkeyRpId !== undefined && { description: 'With `passkeySignal`: pass it to `PublicKeyCredential.signalAllAcceptedCredentials` after a passkey is removed (or after sign-in).' }),
      response: {
        200: {
          type: 'object',
          required: ['authenticators'],
          properties: {
            authenticators: { type: 'array', items: authenticatorSchema },
            ...(passkeyRpId !== undefined && { passkeySignal: passkeySignalSchema })
          }
        },
        ...commonErrors
      }
    })
  }, async (request) => {
    const userId = userIdOf(request)
    const list = await api.listAuthenticators(userId)
    const authenticators = list.map(a => summarise(a, route.showContactDetails))
    if (passkeyRpId === undefined) return { authenticators }
    // Every WebAuthn credential the user still has (passkeys and security keys): the browser may drop any other.
    const allAcceptedCredentialIds = authenticators.flatMap(a => a.passkey === undefined ? [] : [a.passkey.credentialId])
    const passkeySignal: PasskeySignal = { rpId: passkeyRpId, userId: userHandle(userId), allAcceptedCredentialIds }
    return { authenticators, passkeySignal }
  })
}
