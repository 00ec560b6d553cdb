// Bounds on time, one implementation for every call the plugin makes to something that may not answer
// (Authsignal, Cognito's admin API, the JWKS, a lock store) and for the waits it will not prolong (the JWKS
// prewarm at start-up, the host's onAuthenticatorChange hook). A timer of our own, not AbortSignal.timeout():
// a timeout signal referenced only through AbortSignal.any() can be garbage-collected before it fires on some
// Node.js versions.

/** What `withTimeout` aborts: an AbortController, or a lighter stand-in for a caller that knows what reads it. */
export interface Abortable { readonly signal: AbortSignal, abort: () => void }

/**
 * `fn` given a signal that aborts after `ms`. Rejects with `onTimeout()` once the time is up, whether or not `fn`
 * heeds its signal; any failure of `fn` after that is the timeout too (a promise settles once). The timeout error
 * is built once. A throw of `fn` before it returns a promise rejects the same way.
 */
export async function withTimeout<T> (ms: number, fn: (signal: AbortSignal) => Promise<T>, onTimeout: () => Error, controller: Abortable = new AbortController()): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await new Promise<T>((resolve, reject) => {
      timer = setTimeout(() => {
        reject(onTimeout())
        controller.abort()
      }, ms)
      fn(controller.signal).then(resolve, reject)
    })
  } finally {
    // Settled: nothing is left in flight (on a timeout the abort already ended the call), so no abort here.
    clearTimeout(timer)
  }
}

/** Waits for `work` at most `ms`: true when it settled in time. `work` goes on either way and must not reject. */
export async function settledWithin (work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>(resolve => {
    timer = setTimeout(resolve, ms, false)
  })
  const settled = await Promise.race([work.then(() => true), late])
  clearTimeout(timer)
  return settled
}
