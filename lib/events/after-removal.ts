// What follows a removal by the plugin's DELETE route, once the authenticator is gone: the sessions the host
// asked to end (`revokeSessionsOnRemove`: the user's Authsignal sessions, and a Cognito global sign-out), and
// `onAuthenticatorChange`. They run side by side, each under its bound, and none of them can undo or fail the
// removal: a revocation that fails is logged and said in the `x-sessions-revoked` header of the 204
// (`authsignal=false`), so the client knows the removal stands and the sessions may not have ended.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuthsignalApi, UpstreamAuthenticator } from '../authsignal/api.js'
import { CognitoAdmin } from '../cognito-admin/admin.js'
import type { VerifiedUser } from '../cognito/user.js'
import { poolOf } from '../cognito/user.js'
import { reasonOf } from '../errors.js'
import type { ResolvedOptions } from '../options/index.js'
import { notifyChange } from './change.js'

export const REVOKED_HEADER = 'x-sessions-revoked'

export type RemovalFollowUp = (request: FastifyRequest, reply: FastifyReply, userId: string, removed: UpstreamAuthenticator, claims: VerifiedUser) => Promise<void>

/** The Cognito user whose sessions end: read from the caller's claims, or looked up for a support agent's target. */
export type CognitoUserOf = () => Promise<{ userPoolId: string, username: string | undefined } | undefined>

/** Ends the user's sessions as `revokeSessionsOnRemove` says; answers `name=ok` for each kind, never throws. */
export type SessionRevoker = (request: FastifyRequest, userId: string, cognitoUser: CognitoUserOf) => Promise<string[]>

export function sessionRevoker (api: AuthsignalApi, options: ResolvedOptions): SessionRevoker {
  const { revoke } = options.events
  const cognito = revoke.cognito === undefined ? undefined : new CognitoAdmin(revoke.cognito, options.authsignal.timeoutMs)
  const revocations: Array<[string, (userId: string, cognitoUser: CognitoUserOf) => Promise<unknown>]> = []
  if (revoke.authsignal) revocations.push(['authsignal', async (userId) => await api.revokeUserSessions(userId)])
  if (cognito !== undefined) {
    revocations.push(['cognito', async (_userId, cognitoUser) => {
      const user = await cognitoUser()
      if (user === undefined) throw new Error('no Cognito user has this Authsignal user id')
      return await cognito.send('AdminUserGlobalSignOut', c => new c.AdminUserGlobalSignOutCommand({ UserPoolId: user.userPoolId, Username: user.username }))
    }])
  }
  return async (request, userId, cognitoUser) => await Promise.all(revocations.map(async ([name, revokeFor]) => {
    const ok = await revokeFor(userId, cognitoUser).then(() => true, (err: unknown) => {
      request.log.error({ revocation: name, reason: reasonOf(err) }, 'fastify-authsignal-cognito: the authenticator was removed but the sessions were not revoked')
      return false
    })
    return `${name}=${ok}`
  }))
}

/** Says in the answer which revocations held (`authsignal=true, cognito=false`), when any was asked for. */
export function sayRevoked (reply: FastifyReply, results: string[]): void {
  if (results.length > 0) reply.header(REVOKED_HEADER, results.join(', '))
}

export function removalFollowUp (api: AuthsignalApi, options: ResolvedOptions): RemovalFollowUp {
  const { onChange, hookTimeoutMs } = options.events
  const revokeSessions = sessionRevoker(api, options)

  return async (request, reply, userId, removed, claims) => {
    const [results] = await Promise.all([revokeSessions(request, userId, async () => ({
      userPoolId: poolOf(claims).userPoolId,
      // An access token's `username`, an ID token's `cognito:username`: the same Cognito username.
      username: claims.username ?? claims['cognito:username']
    })), notifyChange(onChange, {
      type: 'removed',
      userId,
      verificationMethod: removed.verificationMethod,
      userAuthenticatorId: removed.userAuthenticatorId,
      at: new Date().toISOString(),
      source: 'route',
      requestId: request.id
    }, request.log, hookTimeoutMs)])
    sayRevoked(reply, results)
  }
}
