// The Authsignal server SDK instance (`app.authsignal`) and the deadline every plugin call runs under.
//
// @authsignal/node has no request timeout, installs axios-retry on the *global* axios once per instance
// (which also re-sends POSTs such as `track` after a connection reset), and its errors carry the axios
// request config, whose `auth.username` is the API secret. So:
// - we build our client with `retries: 0`: nothing is installed on the host's axios, however often the
//   plugin is registered, and no `track` is ever sent twice;
// - every call runs under a deadline: an AbortSignal that really ends the request (passed to axios through
//   the SDK's per-request config) plus a race, so even a host-supplied client cannot hang a request;
// - SDK errors are turned into our own errors, which carry a status and a reason but never the SDK error
//   (nor its config, nor the upstream body).
// The SDK offers no supported way to pass a timeout or an axios instance: the deadline reaches axios through
// its private `getRequestConfig`, so the SDK is pinned to the tested minor version (package.json) and
// test/authsignal-client.test.ts fails, naming the SDK version, if that hook or its error messages change.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Authsignal } from '@authsignal/node'
import type { FastifyError } from '@fastify/error'
import {
  AuthenticatorNotFoundError, ChallengeTokenRejectedError, UpstreamBadResponseError, UpstreamError, UpstreamRateLimitedError,
  UpstreamTimeoutError, UpstreamUnreachableError
} from '../errors.js'
import { withTimeout } from '../deadline.js'
import { describeNetworkFailure } from '../network-failure.js'

/** Larger Authsignal answers are refused: a user's authenticator list is a few KiB. */
export const MAX_UPSTREAM_BYTES = 1024 * 1024

/** The installed @authsignal/node version (its package.json is not in its exports: read beside its entry). */
export function sdkVersion (): string {
  const entry = createRequire(import.meta.url).resolve('@authsignal/node')
  return JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')).version
}

const BAD_BODY = 'authsignal-cognito: unexpected upstream body'
/**
 * The signal of the call being made. Set only while `withDeadline` calls the SDK method, which builds its axios
 * config (`getRequestConfig`) synchronously, before its first `await`: a plain slot rather than an
 * AsyncLocalStorage, whose first `run` turns on promise hooks that tax every promise of the host's process
 * (bench/README.md, row 11).
 */
let callSignal: AbortSignal | undefined

interface UpstreamFailure { message?: unknown, code?: unknown, cause?: unknown, axiosError?: { response?: { status?: number } } }
type SdkInternals = { getRequestConfig?: () => Record<string, unknown> }

/** Builds our own SDK instance, whose every request carries the current call's signal and no retries. */
export function createAuthsignalClient (options: { apiSecretKey: string, apiUrl: string }): Authsignal {
  const client = new Authsignal({ apiSecretKey: options.apiSecretKey, apiUrl: options.apiUrl, retries: 0 })
  hookRequestConfig(client)
  return client
}

/** Wraps the SDK's `getRequestConfig`, its one place where every axios config is made (private in its types only). */
export function hookRequestConfig (client: object): void {
  const sdk = client as SdkInternals
  if (typeof sdk.getRequestConfig !== 'function') {
    throw new Error(`@authsignal/node ${sdkVersion()} has no getRequestConfig: fastify-authsignal-cognito needs the version its package.json pins`)
  }
  const baseConfig = sdk.getRequestConfig.bind(client)
  sdk.getRequestConfig = () => ({
    ...baseConfig(),
    signal: callSignal,
    maxRedirects: 0,
    maxContentLength: MAX_UPSTREAM_BYTES,
    // Another Authsignal instance of the host's may have put axios-retry on the global axios: not for our calls.
    'axios-retry': { retries: 0 },
    // A 2xx must be JSON: axios would otherwise hand the SDK an HTML page as a string.
    transformResponse: [parseJsonBody]
  })
}

function parseJsonBody (data: unknown, headers: { get?: (name: string) => unknown }, status?: number): unknown {
  if (typeof data !== 'string' || data === '') return data
  const ok = status !== undefined && status >= 200 && status < 300
  let parsed: unknown
  try {
    parsed = JSON.parse(data)
  } catch {
    if (ok) throw new Error(BAD_BODY)
    return data
  }
  if (ok && !String(headers.get?.('content-type') ?? '').includes('json')) throw new Error(BAD_BODY)
  return parsed
}

/**
 * The signal axios gets for one call: all axios reads of it is `aborted` and one 'abort' listener, added when the
 * request is sent and removed when it ends. A Node.js AbortController per call costs about 15 µs of EventTarget
 * machinery (bench/README.md, row 11); this costs an object.
 */
export class AxiosDeadline {
  aborted = false
  private listener: (() => void) | undefined

  get signal (): AbortSignal {
    return this as unknown as AbortSignal
  }

  addEventListener (_type: 'abort', listener: () => void): void {
    this.listener = listener
  }

  removeEventListener (): void {
    this.listener = undefined
  }

  /** Ends the request in flight; before it is sent, axios sees `aborted` and does not send it. */
  abort (): void {
    this.aborted = true
    this.listener?.()
  }
}

/** Runs one SDK call under the deadline and maps its failure to a 502/503/504 error. */
export async function withDeadline<T> (client: Authsignal, timeoutMs: number, operation: string, fn: (client: Authsignal) => Promise<T>): Promise<T> {
  const timedOut = (): Error => new UpstreamTimeoutError(operation, timeoutMs)
  return await withTimeout(timeoutMs, signal => {
    callSignal = signal
    try {
      return fn(client)
    } finally {
      callSignal = undefined
    }
  }, timedOut, new AxiosDeadline()).catch((err: unknown) => {
    throw err instanceof UpstreamTimeoutError ? err : toUpstreamError(err, operation)
  })
}

/**
 * True when a failed call may still have been carried out by Authsignal: no answer came (our deadline, or the
 * connection failed), so a delete may land later. An error answer is Authsignal's word that it did nothing.
 */
export function outcomeUnknown (err: unknown): boolean {
  return err instanceof UpstreamTimeoutError || err instanceof UpstreamUnreachableError
}

/**
 * Authsignal statuses whose cause lies with what the request sent, per operation: a 4xx for the client, not a
 * 502 that pages the on-call. Any other status stays a 5xx. 401 and 403 are never listed: Authsignal answers
 * them for our secret or tenant, which is ours to fix, and the status alone cannot say whose fault it is.
 */
const REQUEST_FAULTS: Record<string, (status: number) => FastifyError | undefined> = {
  // The token is the client's own x-authsignal-token: a malformed or unknown one is refused for what it is.
  validateChallenge: status => [400, 404, 422].includes(status) ? new ChallengeTokenRejectedError(status) : undefined,
  // The id was in the user's list an instant before: gone since (removed elsewhere), as the 404 says.
  deleteAuthenticator: status => status === 404 ? new AuthenticatorNotFoundError() : undefined
}

/** An SDK failure as one of our errors. Deliberately drops the SDK error: it carries the API secret. */
export function toUpstreamError (thrown: unknown, operation: string): FastifyError {
  // The SDK rejects with an AuthsignalError; a host-supplied client may reject with anything.
  const err: UpstreamFailure = typeof thrown === 'object' && thrown !== null ? thrown : {}
  const message = typeof err.message === 'string' ? err.message : ''
  const status = err.axiosError?.response?.status ?? statusFromMessage(message)
  if (status === 429) return new UpstreamRateLimitedError()
  const requestFault = status === undefined ? undefined : REQUEST_FAULTS[operation]?.(status)
  if (requestFault !== undefined) return requestFault
  if (status !== undefined) return new UpstreamError(`${operation}: HTTP ${status}`)
  if (message.includes(BAD_BODY)) return new UpstreamBadResponseError(`${operation}: not JSON`)
  if (message.includes('maxContentLength')) return new UpstreamBadResponseError(`${operation}: larger than ${MAX_UPSTREAM_BYTES} bytes`)
  // No answer at all: the log line and authenticatorsStatus() name why (refused, DNS, TLS, reset).
  return new UpstreamUnreachableError(`${operation}: ${describeNetworkFailure(err)}`)
}

// With an empty error body the SDK keeps only axios's message, "Request failed with status code 429".
function statusFromMessage (message: string): number | undefined {
  const match = /status code (\d{3})/.exec(message)
  return match === null ? undefined : Number(match[1])
}
