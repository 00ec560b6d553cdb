// The Authsignal server SDK (`app.authsignal`) and the bounded way the plugin calls it.
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
import { AsyncLocalStorage } from 'node:async_hooks'
import { Authsignal } from '@authsignal/node'
import type { FastifyError } from '@fastify/error'
import {
  UpstreamBadResponseError, UpstreamError, UpstreamRateLimitedError, UpstreamTimeoutError, UpstreamUnreachableError
} from './errors.js'
import type { ResolvedAuthsignalOptions } from './options.js'

/** Larger Authsignal answers are refused: a user's authenticator list is a few KiB. */
export const MAX_UPSTREAM_BYTES = 1024 * 1024

const BAD_BODY = 'authsignal-cognito: unexpected upstream body'
const callSignal = new AsyncLocalStorage<AbortSignal>()

interface UpstreamFailure { message?: unknown, axiosError?: { response?: { status?: number } } }

/** Builds our own SDK instance, whose every request carries the current call's signal and no retries. */
export function createAuthsignalClient (options: ResolvedAuthsignalOptions): Authsignal {
  const client = new Authsignal({ apiSecretKey: options.apiSecretKey as string, apiUrl: options.apiUrl, retries: 0 })
  // `getRequestConfig` is the SDK's one place where every axios config is made (private in its types only).
  const sdk = client as unknown as { getRequestConfig: () => Record<string, unknown> }
  const baseConfig = sdk.getRequestConfig.bind(client)
  sdk.getRequestConfig = () => ({
    ...baseConfig(),
    signal: callSignal.getStore(),
    maxRedirects: 0,
    maxContentLength: MAX_UPSTREAM_BYTES,
    // Another Authsignal instance of the host's may have put axios-retry on the global axios: not for our calls.
    'axios-retry': { retries: 0 },
    // A 2xx must be JSON: axios would otherwise hand the SDK an HTML page as a string.
    transformResponse: [parseJsonBody]
  })
  return client
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

export class AuthsignalCaller {
  constructor (readonly client: Authsignal, private readonly timeoutMs: number) {}

  /** Runs one SDK call under the deadline and maps its failure to a 502/503/504 error. */
  async call<T> (operation: string, fn: (client: Authsignal) => Promise<T>): Promise<T> {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), this.timeoutMs)
    timer.unref()
    // Rejects when the timer aborts; the catch below turns any failure after an abort into the 504.
    const deadline = new Promise<never>((_resolve, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true })
    })
    try {
      return await Promise.race([callSignal.run(controller.signal, () => fn(this.client)), deadline]).catch((err: unknown) => {
        throw controller.signal.aborted ? new UpstreamTimeoutError(operation, this.timeoutMs) : toUpstreamError(err, operation)
      })
    } finally {
      // Settled: nothing is left in flight (on a timeout the abort already ended the request), so no abort
      // here; aborting a settled call would only build a DOMException per call.
      clearTimeout(timer)
    }
  }
}

/** An SDK failure as one of our errors. Deliberately drops the SDK error: it carries the API secret. */
export function toUpstreamError (thrown: unknown, operation: string): FastifyError {
  // The SDK rejects with an AuthsignalError; a host-supplied client may reject with anything.
  const err: UpstreamFailure = typeof thrown === 'object' && thrown !== null ? thrown : {}
  const message = typeof err.message === 'string' ? err.message : ''
  const status = err.axiosError?.response?.status ?? statusFromMessage(message)
  if (status === 429) return new UpstreamRateLimitedError()
  if (status !== undefined) return new UpstreamError(`${operation}: HTTP ${status}`)
  if (message.includes(BAD_BODY)) return new UpstreamBadResponseError(`${operation}: not JSON`)
  if (message.includes('maxContentLength')) return new UpstreamBadResponseError(`${operation}: larger than ${MAX_UPSTREAM_BYTES} bytes`)
  return new UpstreamUnreachableError(operation)
}

// With an empty error body the SDK keeps only axios's message, "Request failed with status code 429".
function statusFromMessage (message: string): number | undefined {
  const match = /status code (\d{3})/.exec(message)
  return match === null ? undefined : Number(match[1])
}

/** Checks an upstream answer's shape; an unexpected one is a 502, never a 500 further down. */
export function expectShape<T> (value: unknown, operation: string, isValid: (value: unknown) => value is T): T {
  if (!isValid(value)) throw new UpstreamBadResponseError(`${operation}: unexpected shape`)
  return value
}
