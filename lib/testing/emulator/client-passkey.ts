// Client API routes for passkeys, as @authsignal/browser's passkey.signUp and passkey.signIn call them:
// registration options then add authenticator; (challenge, with an action and no token) authentication
// options then verify. Attestations and assertions are verified by @simplewebauthn/server.
import { randomUUID } from 'node:crypto'
import { compact, errorReply, isRecord, type Reply } from './http.js'
import { now, type ActionRecord, type PasskeySecret, type PendingWebauthn } from './store.js'
import { forbidden, withToken, type ClientContext, type ClientRoute } from './client-api.js'
import { simpleWebAuthn, userHandle, type AuthenticationResponseJSON, type RegistrationResponseJSON } from './webauthn.js'
import { aaguidMapping, credentialName, parseUserAgent } from './passkey-metadata.js'
import type { UserAuthenticator, WebauthnCredential } from './types.js'

// The action a passkey sign-in with neither token nor action creates: Authsignal documents none, its docs'
// example action is this one. Action codes as the docs validate them.
const SIGN_IN_ACTION = 'signInWithPasskey'
const ACTION_CODE = /^[a-zA-Z0-9_-]{1,64}$/

function invalidCredential (description: string): Reply {
  return errorReply(400, 'invalid_credential', description)
}

// Runs a @simplewebauthn/server verification: its result when verified, else the refusal to answer.
async function verified<T extends { verified: boolean }> (verify: () => Promise<T>): Promise<T | Reply> {
  try {
    const result = await verify()
    return result.verified ? result : invalidCredential('The passkey\'s signature is not valid')
  } catch (err) {
    return invalidCredential((err as Error).message)
  }
}

export function passkeyRoutes ({ store, tokens, rp }: ClientContext): Record<string, ClientRoute> {
  // A ceremony's challenge is good once, for the action (or the token-less sign-in) that asked for it.
  function takeCeremony (challengeId: unknown, ceremony: PendingWebauthn['ceremony'], record: ActionRecord | undefined): PendingWebauthn | undefined {
    const pending = typeof challengeId === 'string' ? store.webauthn.get(challengeId) : undefined
    if (pending?.challenge === undefined || pending.ceremony !== ceremony || pending.idempotencyKey !== record?.idempotencyKey) return undefined
    store.webauthn.delete(challengeId as string)
    return pending
  }

  // What an answer must show, whatever the ceremony: this challenge, an allowed origin, this RP id.
  // User verification is asked for ('preferred') but not required, as the options say.
  function expecting<T extends { response: { clientDataJSON: string } }> (pending: PendingWebauthn, response: T): {
    response: T, expectedChallenge: string, expectedOrigin: string[], expectedRPID: string, requireUserVerification: false
  } {
    return { response, expectedChallenge: pending.challenge as string, expectedOrigin: rp.expectedOrigin(response), expectedRPID: rp.rpId, requireUserVerification: false }
  }

  // The user's passkeys as WebAuthn credential descriptors (to exclude at registration, allow at sign-in).
  function passkeysOf (userId: string): Array<{ id: string, transports?: string[] }> {
    return store.list(userId).filter((a) => a.webauthnCredential !== undefined).map((a) => compact({
      id: (a.webauthnCredential as WebauthnCredential).credentialId,
      transports: (store.passkeys.get(a.userAuthenticatorId) as PasskeySecret).transports
    }))
  }

  return {
    'user-authenticators/passkey/registration-options': withToken(async (record, body) => {
      if (!store.mayEnrol(record)) return forbidden()
      const username = typeof body.username === 'string' ? body.username : store.list(record.userId).find((a) => a.email !== undefined)?.email ?? record.userId
      const displayName = typeof body.displayName === 'string' ? body.displayName : username
      const attachment = body.authenticatorAttachment === 'platform' || body.authenticatorAttachment === 'cross-platform' ? body.authenticatorAttachment as AuthenticatorAttachment : undefined
      const options = await (await simpleWebAuthn()).generateRegistrationOptions({
        rpName: rp.rpName,
        rpID: rp.rpId,
        userName: username,
        userDisplayName: displayName,
        userID: Buffer.from(userHandle(record.userId), 'base64url'),
        attestationType: 'none',
        excludeCredentials: passkeysOf(record.userId),
        authenticatorSelection: compact({
          residentKey: 'required' as const,
          requireResidentKey: true,
          userVerification: 'preferred' as const,
          authenticatorAttachment: attachment
        }),
        supportedAlgorithmIDs: [-7, -257] // ES256, RS256
      })
      const challengeId = randomUUID()
      store.webauthn.set(challengeId, { ceremony: 'registration', challenge: options.challenge, idempotencyKey: record.idempotencyKey, username, displayName })
      return { status: 200, body: { challengeId, options } }
    }),

    'user-authenticators/passkey': withToken(async (record, body, { userAgent }) => {
      const pending = takeCeremony(body.challengeId, 'registration', record)
      if (pending === undefined) return errorReply(400, 'invalid_request', 'Unknown or spent passkey challengeId')
      if (!store.mayEnrol(record)) return forbidden()
      const response = (isRecord(body.registrationCredential) ? body.registrationCredential : {}) as unknown as RegistrationResponseJSON
      const { verifyRegistrationResponse } = await simpleWebAuthn()
      const verification = await verified(async () => await verifyRegistrationResponse(expecting(pending, response)))
      if (!('verified' in verification)) return verification
      const { credential, aaguid, credentialBackedUp, credentialDeviceType } = verification.registrationInfo as NonNullable<typeof verification.registrationInfo>
      const agent = parseUserAgent(userAgent)
      const authenticator: UserAuthenticator = {
        userId: record.userId,
        userAuthenticatorId: randomUUID(),
        verificationMethod: 'PASSKEY',
        createdAt: now(),
        username: pending.username as string,
        displayName: pending.displayName as string,
        webauthnCredential: compact({
          credentialId: credential.id,
          deviceId: randomUUID(),
          name: credentialName(aaguid, agent),
          aaguid,
          aaguidMapping: aaguidMapping(aaguid),
          credentialBackedUp,
          credentialDeviceType,
          authenticatorAttachment: response.authenticatorAttachment,
          parsedUserAgent: agent
        })
      }
      store.succeed(record, authenticator)
      store.passkeys.set(authenticator.userAuthenticatorId, compact({ publicKey: credential.publicKey, counter: credential.counter, transports: credential.transports }))
      const userAuthenticator = store.enrol(authenticator)
      return {
        status: 200,
        body: { isVerified: true, accessToken: tokens.issue(record), userAuthenticatorId: authenticator.userAuthenticatorId, userId: record.userId, userAuthenticator }
      }
    }),

    // Passkey sign-in with an action and no token: the first step, naming the action to create.
    challenge: {
      tenant: true,
      handle: ({ body }) => {
        if (typeof body.action !== 'string' || !ACTION_CODE.test(body.action)) return errorReply(400, 'invalid_request', 'action is required, matching ^[a-zA-Z0-9_-]{1,64}$')
        const challengeId = randomUUID()
        store.webauthn.set(challengeId, { ceremony: 'authentication', action: body.action })
        return { status: 200, body: { challengeId } }
      }
    },

    'user-authenticators/passkey/authentication-options': {
      tenant: true,
      handle: async ({ record, body }) => {
        let challengeId: string = randomUUID()
        let pending: PendingWebauthn = { ceremony: 'authentication', idempotencyKey: record?.idempotencyKey }
        if (record === undefined && typeof body.challengeId === 'string') {
          const started = store.webauthn.get(body.challengeId)
          if (started?.action === undefined || started.challenge !== undefined) return errorReply(400, 'invalid_request', 'Unknown or spent challengeId')
          challengeId = body.challengeId
          pending = started
        }
        // Under a token the user is known: offer only their passkeys. Without one, any discoverable passkey.
        const options = await (await simpleWebAuthn()).generateAuthenticationOptions({
          rpID: rp.rpId,
          allowCredentials: record === undefined ? [] : passkeysOf(record.userId),
          userVerification: 'preferred'
        })
        store.webauthn.set(challengeId, { ...pending, challenge: options.challenge })
        return { status: 200, body: { challengeId, options } }
      }
    },

    'verify/passkey': {
      tenant: true,
      handle: async ({ record, body }) => {
        const pending = takeCeremony(body.challengeId, 'authentication', record)
        if (pending === undefined) return errorReply(400, 'invalid_request', 'Unknown or spent passkey challengeId')
        const response = (isRecord(body.authenticationCredential) ? body.authenticationCredential : {}) as unknown as AuthenticationResponseJSON
        const found = store.findPasskey(response.id)
        if (found === undefined || (record !== undefined && found.authenticator.userId !== record.userId)) {
          return errorReply(400, 'unknown_credential', 'This passkey is not registered for the user')
        }
        const { authenticator, secret } = found
        const { verifyAuthenticationResponse } = await simpleWebAuthn()
        const verification = await verified(async () => await verifyAuthenticationResponse({
          ...expecting(pending, response),
          credential: { id: response.id, publicKey: secret.publicKey as Uint8Array<ArrayBuffer>, counter: secret.counter, transports: secret.transports as never }
        }))
        if (!('verified' in verification)) return verification
        const handle = response.response.userHandle
        if (handle !== undefined && handle !== userHandle(authenticator.userId)) return invalidCredential('The user handle does not match the passkey\'s user')
        secret.counter = verification.authenticationInfo.newCounter
        ;(authenticator.webauthnCredential as WebauthnCredential).credentialBackedUp = verification.authenticationInfo.credentialBackedUp
        const action = record ?? store.createAction(authenticator.userId, pending.action ?? SIGN_IN_ACTION, {}, 'CHALLENGE_REQUIRED')
        store.succeed(action, authenticator)
        return {
          status: 200,
          body: compact({
            isVerified: true,
            accessToken: tokens.issue(action),
            userId: authenticator.userId,
            userAuthenticatorId: authenticator.userAuthenticatorId,
            username: authenticator.username,
            userDisplayName: authenticator.displayName
          })
        }
      }
    }
  }
}
