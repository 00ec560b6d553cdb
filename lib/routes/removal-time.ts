// The longest a removal (DELETE {prefix}/:userAuthenticatorId) can take, from its options: what a host's request
// timeout (a Lambda `Timeout`, a load balancer's idle timeout) must cover so that it never cuts a removal short
// and leaves its outcome unseen. One place, from the same bounds the route runs under; the README's SAM
// template states it and a test holds the two together.
import { resolveOptions, type AuthenticatorsPluginOptions } from '../options/index.js'
import { CALLS_UNDER_LOCK, STORE_TIMEOUT_MS } from '../stores/lock-store.js'

/**
 * The worst case of one removal with its follow-ups, in ms, for the options given to `register` (validated the
 * same way; 0 when the remove route is off). Each step at its bound, one after the other:
 * verifying the token (a JWKS fetch), the step-up's two calls (when `requireChallenge`), the wait for the user's
 * lock and its last acquire, the two calls under the lock, the release, then the follow-ups (session revocations
 * and `onAuthenticatorChange`, side by side).
 */
export function removalWorstCaseMs (options: AuthenticatorsPluginOptions): number {
  const { pools, authsignal: { timeoutMs }, routes: { remove }, events } = resolveOptions(options)
  if (remove === false) return 0
  const verification = Math.max(...pools.map(pool => pool.jwksTimeoutMs))
  const stepUp = remove.requireChallenge ? 2 * timeoutMs : 0
  const underLock = remove.lockWaitMs + STORE_TIMEOUT_MS + CALLS_UNDER_LOCK * timeoutMs + STORE_TIMEOUT_MS
  const followUps = Math.max(timeoutMs, events.hookTimeoutMs)
  return verification + stepUp + underLock + followUps
}
