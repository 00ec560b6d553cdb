// The step-up a removal needs (`x-authsignal-token`): what a completed Authsignal challenge proves, and that it
// proves it once. Three separate judgements, so a route that acts on someone else's factors (support: the agent
// proves themselves) takes the ones that apply to it:
// - `verify(userId, token)`: the challenge is valid, this user's, of the configured action, succeeded, and was
//   completed at most `maxChallengeAgeSec` ago (Authsignal's `stateUpdatedAt`): the proof, or a 403 saying why.
// - `refusalFor(proof, target, owned, claims)`: for a user removing their own factor, the challenge proves another
//   factor than the target, and not one enrolled after the sign-in that is newer than the target (a stolen
//   session could have enrolled it: it must not vouch for removing what the owner had before).
// - `consume(proof)`: one removal per challenge, across every instance sharing the lock store.
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { AuthsignalApi, UpstreamAuthenticator } from './authsignal/api.js'
import type { VerifiedUser } from './cognito/user.js'
import { ChallengeRequiredError, LockUnavailableError, retryLater } from './errors.js'
import { LEASE_MARGIN_MS, storeCall, type LockStore } from './stores/lock-store.js'

export const CHALLENGE_HEADER = 'x-authsignal-token'

/** What a valid, recent challenge proves: who completed it, with what, when. */
export interface StepUpProof {
  userId: string
  /** Authsignal's key of the completed action: what `consume` records. */
  idempotencyKey: string
  /** When it was completed (epoch ms, from `stateUpdatedAt`). */
  completedAt: number
  /** The authenticator that completed it, where Authsignal says. */
  verifiedBy: string | undefined
  /** Its verification method (EMAIL_OTP, PASSKEY...), where Authsignal says. */
  method: string | undefined
}

export interface StepUpOptions {
  /** The action the challenge must be for (`routes.remove.challengeAction`). */
  action: string
  /** A challenge completed longer ago is refused. */
  maxAgeSec: number
  /** Where consumed challenges are recorded (`routes.remove.lock`). */
  store: LockStore
  /**
   * Look up which authenticator completed the challenge (one more Authsignal call, `queryUserActions`): needed by
   * `refusalFor`, for a user removing their own factor; not for a support agent, whose factors are not the target's.
   */
  identifyFactor: boolean
}

const refuse = (why: string): Error => new ChallengeRequiredError(why)

export class StepUp {
  constructor (private readonly api: AuthsignalApi, private readonly options: StepUpOptions) {}

  /** The proof `token` carries for `userId`, or a 403 ChallengeRequiredError saying why not. */
  async verify (userId: string, token: string | undefined): Promise<StepUpProof> {
    const { action, maxAgeSec } = this.options
    if (token === undefined || token === '') {
      throw refuse(`send the token of a "${action}" challenge completed with another factor in ${CHALLENGE_HEADER}`)
    }
    const result = await this.api.validateChallenge(userId, token, action)
    if (!result.isValid || result.state !== 'CHALLENGE_SUCCEEDED' || result.userId !== userId || result.action !== action) {
      throw refuse('the challenge token is not valid for this user and action')
    }
    // Without its key it could not be recorded as used, without its time not judged fresh: refused, not trusted.
    if ((result.idempotencyKey ?? '') === '') throw refuse('Authsignal did not name the challenge')
    const completedAt = Date.parse(result.stateUpdatedAt ?? '')
    if (Number.isNaN(completedAt)) throw refuse('Authsignal did not say when the challenge was completed')
    if (Date.now() - completedAt > maxAgeSec * 1000) throw refuse(`it was completed more than ${maxAgeSec} s ago: complete a new one`)
    // validateChallenge names the method but not the authenticator; the user's actions name it (when Authsignal knows).
    const idempotencyKey = result.idempotencyKey as string
    const done = this.options.identifyFactor ? await this.api.findAction(userId, action, idempotencyKey) : undefined
    return {
      userId,
      idempotencyKey,
      completedAt,
      verifiedBy: done?.verifiedByAuthenticatorId ?? undefined,
      method: done?.verificationMethod ?? result.verificationMethod
    }
  }

  /**
   * Records `proof` as used, or a 403 when it already was (here or on any instance sharing the store); a 503
   * when the store cannot say. Kept for the whole window in which `verify` would still accept the challenge
   * (`maxChallengeAgeSec`, plus the margin for clocks): after it, the age check refuses a replay on its own, so
   * the record need not outlive it, whatever the token's own life. Never released: a removal that fails after
   * this (its delete timed out or was refused) burns the challenge, since a delete that timed out may still
   * land, and a new challenge costs the user one code where a given-back one could remove twice.
   */
  async consume (proof: StepUpProof, log: FastifyBaseLogger): Promise<void> {
    const { store, maxAgeSec } = this.options
    const leaseMs = maxAgeSec * 1000 + LEASE_MARGIN_MS
    const first = await storeCall(store, 'consume step-up', log, 'fastify-authsignal-cognito: the lock store failed; nothing was removed',
      async signal => await store.acquire(`stepup:${proof.idempotencyKey}`, randomUUID(), leaseMs, signal))
      .catch(() => { throw retryLater(new LockUnavailableError(`the ${store.kind} store failed`)) })
    if (!first) throw refuse('this challenge has already allowed a removal: complete a new one')
  }
}

/** The authenticators of `owned` that may have completed the challenge: the one Authsignal names, else those of its method. */
function completedBy (proof: StepUpProof, owned: readonly UpstreamAuthenticator[]): UpstreamAuthenticator[] {
  return proof.verifiedBy !== undefined
    ? owned.filter(a => a.userAuthenticatorId === proof.verifiedBy)
    : owned.filter(a => a.verificationMethod === proof.method)
}

/**
 * Why `proof` does not allow its user to remove their own `target`, or undefined when it does. `owned` is the
 * user's list (with `target` in it), `claims` the caller's verified token (its `auth_time`).
 */
export function refusalFor (proof: StepUpProof, target: UpstreamAuthenticator, owned: readonly UpstreamAuthenticator[], claims: VerifiedUser): Error | undefined {
  const { verifiedBy, method } = proof
  if (verifiedBy !== undefined && verifiedBy === target.userAuthenticatorId) {
    return refuse('it was completed with the authenticator being removed: complete it with another factor')
  }
  // Removed since (by this route, the pre-built UI or the portal): its age can no longer be judged, and a factor
  // a stolen session enrolled, used, then removed must not leave its challenge behind to remove an older one.
  if (verifiedBy !== undefined && !owned.some(a => a.userAuthenticatorId === verifiedBy)) {
    return refuse('it was completed with an authenticator that has since been removed: complete a new one')
  }
  if (verifiedBy === undefined) {
    // Authsignal did not say which authenticator completed it: no authenticator of its method may go on its strength.
    if (method === undefined) return refuse('Authsignal did not say which factor completed it')
    if (method === target.verificationMethod) {
      return refuse(`it was completed with ${method}, the method of the authenticator being removed: complete it with another factor`)
    }
  }
  // auth_time has whole seconds: a factor enrolled within the sign-in's second counts as enrolled before it.
  // NaN (no auth_time, or an unreadable date) compares false both ways: such a factor counts as newer, fail closed.
  const signedIn = claims.auth_time ?? NaN
  const targetSince = Date.parse(target.createdAt)
  const newer = completedBy(proof, owned).some(by => {
    const since = Date.parse(by.createdAt)
    return !(Math.floor(since / 1000) <= signedIn) && !(targetSince >= since)
  })
  return newer
    ? refuse('it was completed with a factor enrolled after this sign-in, newer than the one being removed: sign in again, or complete it with an older factor')
    : undefined
}
