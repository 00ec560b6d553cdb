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

/** `stepUpMethod`: the method of the challenge that allowed the removal, where known. */
export type RemovalFollowUp = (request: FastifyRequest, reply: FastifyReply, userId: string, removed: UpstreamAuthenticator, claims: VerifiedUser,
  stepUpMethod?: string) => Promise<void>

export function removalFollowUp (api: AuthsignalApi, options: ResolvedOptions): RemovalFollowUp {
  const { revoke, onChange, hookTimeoutMs } = options.events
  const cognito = revoke.cognito === undefined ? undefined : new CognitoAdmin(revoke.cognito, options.authsignal.timeoutMs)
  const revocations: Array<[string, (userId: string, claims: VerifiedUser) => Promise<unknown>]> = []
  if (revoke.authsignal) revocations.push(['authsignal', async (userId) => await api.revokeUserSessions(userId)])
  if (cognito !== undefined) {
    revocations.push(['cognito', async (_userId, claims) => await cognito.send('AdminUserGlobalSignOut', c => new c.AdminUserGlobalSignOutCommand({
      UserPoolId: poolOf(claims).userPoolId,
      // An access token's `username`, an ID token's `cognito:username`: the same Cognito username.
      Username: claims.username ?? claims['cognito:username']
    }))])
  }

  return async (request, reply, userId, removed, claims, stepUpMethod) => {
    const revoking = revocations.map(async ([name, revokeFor]) => {
      const ok = await revokeFor(userId, claims).then(() => true, (err: unknown) => {
        request.log.error({ revocation: name, reason: reasonOf(err) }, 'fastify-authsignal-cognito: the authenticator was removed but the sessions were not revoked')
        return false
      })
      return `${name}=${ok}`
    })
    const [results] = await Promise.all([Promise.all(revoking), notifyChange(onChange, {
      type: 'removed',
      userId,
      verificationMethod: removed.verificationMethod,
      userAuthenticatorId: removed.userAuthenticatorId,
      at: new Date().toISOString(),
      source: 'route',
      requestId: request.id,
      ipAddress: request.ip,
      ...(stepUpMethod !== undefined && { stepUpMethod })
    }, request.log, hookTimeoutMs)])
    if (results.length > 0) reply.header(REVOKED_HEADER, results.join(', '))
  }
}
