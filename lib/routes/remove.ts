// DELETE {prefix}/:userAuthenticatorId: removes one of the user's own authenticators, safely.
// Order matters (DESIGN.md): id shape (400, no upstream call) → ownership (404, no delete) →
// last one (409) → step-up challenge (403) → delete (204). The id must be checked before any call
// because the SDK puts it into the URL path unencoded: `../../bob/authenticators/x` would reach Bob.
// The ownership list and the delete run under the user's lock (lib/stores/user-lock.ts), shared by the
// fleet when the host gives a shared store; the challenge is validated, and who completed it looked up,
// before the lock is taken, so the lock is held for two upstream calls only, and its answer is applied in
// the order above.
import type { FastifyInstance } from 'fastify'
import type { AuthsignalApi, UpstreamAuthenticator } from '../authsignal/api.js'
import { outcomeUnknown } from '../authsignal/client.js'
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

/** Recovery codes only help a user back to a factor: they are never the factor a removal must leave. */
const RECOVERY_CODE = 'RECOVERY_CODE'

/** A factor the user can sign in with: verified (an enrolment started and never finished has no verifiedAt), not recovery codes. */
function usable (a: UpstreamAuthenticator): boolean {
  return a.verificationMethod !== RECOVERY_CODE && typeof a.verifiedAt === 'string' && a.verifiedAt !== ''
}

/** What the request's challenge proves: nothing (the refusal), or a factor: the authenticator or the method that completed it. */
type Challenge = { refusal: Error } | { verifiedBy: string | undefined, method: string | undefined }

async function judgeChallenge (api: AuthsignalApi, route: RemoveRoute, token: string | undefined, userId: string): Promise<Challenge> {
  if (token === undefined || token === '') {
    return { refusal: new ChallengeRequiredError(`send the token of a "${route.challengeAction}" challenge completed with another factor in ${CHALLENGE_HEADER}`) }
  }
  const result = await api.validateChallenge(userId, token, route.challengeAction)
  if (!result.isValid || result.state !== 'CHALLENGE_SUCCEEDED' || result.userId !== userId || result.action !== route.challengeAction) {
    return { refusal: new ChallengeRequiredError('the challenge token is not valid for this user and action') }
  }
  // validateChallenge names the method but not the authenticator; the user's actions name it (when Authsignal knows).
  const action = result.idempotencyKey === undefined ? undefined : await api.findAction(userId, route.challengeAction, result.idempotencyKey)
  return { verifiedBy: action?.verifiedByAuthenticatorId ?? undefined, method: action?.verificationMethod ?? result.verificationMethod }
}

/** Why the challenge does not allow removing `target`, or undefined when it does: it must prove another factor. */
function challengeRefusal (challenge: Challenge, target: UpstreamAuthenticator): Error | undefined {
  if ('refusal' in challenge) return challenge.refusal
  const { verifiedBy, method } = challenge
  if (verifiedBy !== undefined) {
    return verifiedBy === target.userAuthenticatorId
      ? new ChallengeRequiredError('it was completed with the authenticator being removed: complete it with another factor')
      : undefined
  }
  // Authsignal did not say which authenticator completed it: no authenticator of its method may go on its strength.
  if (method === undefined) return new ChallengeRequiredError('Authsignal did not say which factor completed it')
  return method === target.verificationMethod
    ? new ChallengeRequiredError(`it was completed with ${method}, the method of the authenticator being removed: complete it with another factor`)
    : undefined
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
      description: `Only an authenticator of the token's user.${route.protectLast ? ' The last one cannot be removed (recovery codes and enrolments never verified do not count as one).' : ''}` +
        (route.requireChallenge ? ` Needs the token of a \`${route.challengeAction}\` challenge completed with another factor than the one removed, in \`${CHALLENGE_HEADER}\`.` : ''),
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
        409: { ...errorSchema, description: 'The last authenticator cannot be removed (recovery codes and enrolments never verified do not count as one)' },
        ...commonErrors,
        ...(route.requireChallenge && {
          403: { ...errorSchema, description: 'A required group or scope is missing, or the step-up challenge is missing, not valid, or was completed with the authenticator being removed' }
        }),
        503: { ...errorSchema, description: 'The user pool\'s keys cannot be fetched, Authsignal is rate limiting, or the user\'s lock cannot be had (nothing was removed)' }
      }
    })
  }, async (request, reply) => {
    if (request.validationError !== undefined) {
      throw request.validationError.validationContext === 'params' ? new InvalidAuthenticatorIdError() : request.validationError
    }
    const userId = userIdOf(request)
    const id = request.params.userAuthenticatorId
    const challenge = route.requireChallenge ? await judgeChallenge(api, route, request.headers[CHALLENGE_HEADER], userId) : undefined
    const removed = await lock.run(`remove:${userId}`, request.log, async (lease) => {
      lease.assertTime()
      const owned = await api.listAuthenticators(userId)
      const target = owned.find(a => a.userAuthenticatorId === id)
      if (target === undefined) throw new AuthenticatorNotFoundError()
      if (route.protectLast && !owned.some(a => a !== target && usable(a))) throw new LastAuthenticatorError()
      const refusal = challenge === undefined ? undefined : challengeRefusal(challenge, target)
      if (refusal !== undefined) throw refusal
      lease.assertTime()
      await api.deleteAuthenticator(userId, id).catch((err: unknown) => {
        // It may still land: the next removal must not judge the last-one rule on the list before it.
        if (outcomeUnknown(err)) lease.keepToEnd()
        throw err
      })
      return target
    })
    // Sessions revoked and the host's hook told, each bounded; none of it can undo the removal.
    await followUp(request, reply, userId, removed, claimsOf(request))
    return reply.code(204).send()
  })
}
