// DELETE {prefix}/:userAuthenticatorId: removes one of the user's own authenticators, safely.
// Order matters (DESIGN.md): id shape (400, no upstream call) → ownership (404, no delete) →
// last one (409) → step-up challenge (403) → delete (204). The id must be checked before any call
// because the SDK puts it into the URL path unencoded: `../../bob/authenticators/x` would reach Bob.
// The ownership list and the delete run under the user's lock (lib/stores/user-lock.ts), shared by the
// fleet when the host gives a shared store; the challenge is validated, and who completed it looked up,
// before the lock is taken (lib/step-up.ts), so the lock is held for two upstream calls only, and its answer
// is applied in the order above; it is recorded as used (one removal per challenge) just before the delete.
import type { FastifyInstance } from 'fastify'
import type { AuthsignalApi, UpstreamAuthenticator } from '../authsignal/api.js'
import { outcomeUnknown } from '../authsignal/client.js'
import { audit } from '../audit.js'
import {
  AuthenticatorNotFoundError, ChallengeRequiredError, InvalidAuthenticatorIdError, LastAuthenticatorError
} from '../errors.js'
import type { ResolvedRoutes } from '../options/index.js'
import { UserLock, type Lease } from '../stores/user-lock.js'
import { removalFollowUp } from '../events/after-removal.js'
import { CHALLENGE_HEADER, refusalFor, StepUp, type StepUpProof } from '../step-up.js'
import type { RouteContext } from './context.js'
import { AUTHENTICATOR_ID_PATTERN, badRequest, commonErrors, errorSchema, routeSchema } from './schemas.js'

type RemoveRoute = Exclude<ResolvedRoutes['remove'], false>

/** Recovery codes only help a user back to a factor: they are never the factor a removal must leave. */
const RECOVERY_CODE = 'RECOVERY_CODE'

/** A factor the user can sign in with: verified (an enrolment started and never finished has no verifiedAt), not recovery codes. */
function usable (a: UpstreamAuthenticator): boolean {
  return a.verificationMethod !== RECOVERY_CODE && typeof a.verifiedAt === 'string' && a.verifiedAt !== ''
}

/**
 * The delete a removal ends with, under the user's lock (the user's own removal and a support agent's): a delete
 * that got no answer may still land, so the lock is kept to its lease's end and the next removal cannot judge the
 * last-one rule on the list before it.
 */
export async function deleteUnderLease (api: AuthsignalApi, lease: Lease, userId: string, userAuthenticatorId: string): Promise<void> {
  lease.assertTime()
  await api.deleteAuthenticator(userId, userAuthenticatorId).catch((err: unknown) => {
    if (outcomeUnknown(err)) lease.keepToEnd()
    throw err
  })
}

/** The step-up's proof, or its refusal: applied under the lock, after ownership and the last-one rule (DESIGN.md's order). */
type Challenge = { refusal: Error } | { proof: StepUpProof }

async function judge (stepUp: StepUp, userId: string, token: string | undefined): Promise<Challenge> {
  return await stepUp.verify(userId, token).then(proof => ({ proof }), (err: unknown) => {
    if (err instanceof ChallengeRequiredError) return { refusal: err }
    throw err
  })
}

export function removeRoute (fastify: FastifyInstance, route: RemoveRoute, { api, authenticate, userIdOf, claimsOf, options }: RouteContext): void {
  const lock = new UserLock({ store: route.lock, leaseMs: route.leaseMs, waitMs: route.lockWaitMs, callMs: options.authsignal.timeoutMs })
  const followUp = removalFollowUp(api, options)
  const stepUp = new StepUp(api, { action: route.challengeAction, maxAgeSec: route.maxChallengeAgeSec, store: route.lock, identifyFactor: true })

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
          403: { ...errorSchema, description: 'A required group or scope is missing, or the step-up challenge is missing, not valid, too old, already used, or was completed with the authenticator being removed or with one enrolled after the sign-in' }
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
    const claims = claimsOf(request)
    const facts = { userId, route: request.routeOptions.url as string, userAuthenticatorId: id }
    const challenge = route.requireChallenge ? await judge(stepUp, userId, request.headers[CHALLENGE_HEADER]) : undefined
    const { removed, proof } = await lock.run(`remove:${userId}`, request.log, async (lease) => {
      lease.assertTime()
      const owned = await api.listAuthenticators(userId)
      const target = owned.find(a => a.userAuthenticatorId === id)
      if (target === undefined) throw new AuthenticatorNotFoundError()
      if (route.protectLast && !owned.some(a => a !== target && usable(a))) throw new LastAuthenticatorError()
      let proof: StepUpProof | undefined
      if (challenge !== undefined) {
        const stepUpFacts = { ...facts, verificationMethod: target.verificationMethod }
        const refused = (err: Error): Error => {
          audit(request.log, 'warn', 'stepup.refused', { ...stepUpFacts, reason: err.message })
          return err
        }
        if ('refusal' in challenge) throw refused(challenge.refusal)
        proof = challenge.proof
        const refusal = refusalFor(proof, target, owned, claims)
        if (refusal !== undefined) throw refused(refusal)
        // Only now, when nothing but the delete is left: a 404, 409 or refusal above leaves the challenge usable.
        await stepUp.consume(proof, request.log).catch((err: unknown) => { throw refused(err as Error) })
        audit(request.log, 'info', 'stepup.accepted', { ...stepUpFacts, stepUpMethod: proof.method })
      }
      await deleteUnderLease(api, lease, userId, id)
      return { removed: target, proof }
    })
    audit(request.log, 'info', 'authenticator.removed', { ...facts, verificationMethod: removed.verificationMethod, stepUpMethod: proof?.method })
    // Sessions revoked and the host's hook told, each bounded; none of it can undo the removal.
    await followUp(request, reply, userId, removed, claims, proof?.method)
    return reply.code(204).send()
  })
}
