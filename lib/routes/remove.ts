// DELETE {prefix}/:userAuthenticatorId: removes one of the user's own authenticators, safely.
// Order matters (DESIGN.md): id shape (400, no upstream call) → ownership (404, no delete) →
// last one (409) → step-up challenge (403) → delete (204). The id must be checked before any call
// because the SDK puts it into the URL path unencoded: `../../bob/authenticators/x` would reach Bob.
// The ownership list and the delete run under the user's lock (lib/stores/user-lock.ts), shared by the
// fleet when the host gives a shared store; the challenge is validated before the lock is taken, so the
// lock is held for two upstream calls only, and its answer is applied in the order above.
import type { FastifyInstance } from 'fastify'
import type { AuthsignalApi, UpstreamAuthenticator } from '../authsignal/api.js'
import {
  AuthenticatorNotFoundError, ChallengeRequiredError, InvalidAuthenticatorIdError, LastAuthenticatorError
} from '../errors.js'
import type { ResolvedRoutes } from '../options/index.js'
import { UserLock } from '../stores/user-lock.js'
import { removalFollowUp } from '../events/after-removal.js'
import type { RouteContext } from './context.js'
import { AUTHENTICATOR_ID_PATTERN, badRequest, commonErrors, errorSchema, routeSchema } from './schemas.js'

type RemoveRoute = Exclude<ResolvedRoutes['remove'], false>

export const CHALLENGE_HEADER = 'x-authsignal-token'

/** Why the request's challenge does not allow the removal, or undefined when it does. */
async function challengeRefusal (api: AuthsignalApi, route: RemoveRoute, token: string | undefined, userId: string): Promise<Error | undefined> {
  if (token === undefined || token === '') return new ChallengeRequiredError(`send the token of a completed "${route.challengeAction}" challenge in ${CHALLENGE_HEADER}`)
  const result = await api.validateChallenge(userId, token, route.challengeAction)
  if (!result.isValid || result.state !== 'CHALLENGE_SUCCEEDED' || result.userId !== userId || result.action !== route.challengeAction) {
    return new ChallengeRequiredError('the challenge token is not valid for this user and action')
  }
  return undefined
}

export function removeRoute (fastify: FastifyInstance, route: RemoveRoute, { api, authenticate, userIdOf, claimsOf, options }: RouteContext): void {
  const lock = new UserLock({ store: route.lock, leaseMs: route.leaseMs, waitMs: route.lockWaitMs, callMs: options.authsignal.timeoutMs })
  const followUp = removalFollowUp(api, options)

  fastify.delete<{ Params: { userAuthenticatorId: string }, Headers: Record<string, string | undefined> }>(route.path, {
    onRequest: authenticate,
    // Validation errors are turned into our own stable code below rather than Fastify's generic one.
    attachValidation: true,
    schema: routeSchema(options.openapi, {
      summary: 'Remove one of the user\'s authenticators',
      description: `Only an authenticator of the token's user.${route.protectLast ? ' The last one cannot be removed.' : ''}${route.requireChallenge ? ` Needs the token of a completed \`${route.challengeAction}\` challenge in \`${CHALLENGE_HEADER}\`.` : ''}`,
      params: {
        type: 'object',
        required: ['userAuthenticatorId'],
        properties: { userAuthenticatorId: { type: 'string', pattern: AUTHENTICATOR_ID_PATTERN } }
      },
      headers: {
        type: 'object',
        properties: { [CHALLENGE_HEADER]: { type: 'string', maxLength: 8192, description: 'Authsignal token of a completed challenge (when required)' } }
      },
      response: {
        204: { type: 'null', description: 'Removed' },
        400: badRequest,
        404: { ...errorSchema, description: 'Not one of this user\'s authenticators' },
        409: { ...errorSchema, description: 'The last authenticator cannot be removed' },
        ...commonErrors,
        503: { ...errorSchema, description: 'The user pool\'s keys cannot be fetched, Authsignal is rate limiting, or the user\'s lock cannot be had (nothing was removed)' }
      }
    })
  }, async (request, reply) => {
    if (request.validationError !== undefined) {
      throw request.validationError.validationContext === 'params' ? new InvalidAuthenticatorIdError() : request.validationError
    }
    const userId = userIdOf(request)
    const id = request.params.userAuthenticatorId
    const refusal = route.requireChallenge ? await challengeRefusal(api, route, request.headers[CHALLENGE_HEADER], userId) : undefined
    const removed = await lock.run(`remove:${userId}`, request.log, async (lease) => {
      lease.assertTime()
      const owned = await api.listAuthenticators(userId)
      if (!owned.some(a => a.userAuthenticatorId === id)) throw new AuthenticatorNotFoundError()
      if (route.protectLast && owned.length <= 1) throw new LastAuthenticatorError()
      if (refusal !== undefined) throw refusal
      lease.assertTime()
      await api.deleteAuthenticator(userId, id)
      return owned.find(a => a.userAuthenticatorId === id) as UpstreamAuthenticator
    })
    // Sessions revoked and the host's hook told, each bounded; none of it can undo the removal.
    await followUp(request, reply, userId, removed, claimsOf(request))
    return reply.code(204).send()
  })
}
