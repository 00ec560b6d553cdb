// A configured issuer that does not match the tokens (a trailing '/', the other issuer form, a typo) makes
// every request a 401 that says only "wrong issuer": the log says more, never the answer. Bounded per time
// window, not once per issuer for ever: the value comes from unverified tokens, so junk issuers could otherwise
// use up the log's budget for good and a real misconfiguration made later would never be logged. Each window
// logs each issuer once, at most PER_WINDOW of them; the refusals it left out are counted in the next window's
// first line.
import type { FastifyBaseLogger } from 'fastify'
import { TokenIssuerError } from '../errors.js'
import { scrub } from '../logging.js'
import { issuerOf } from './bearer-token.js'

export const WINDOW_MS = 60_000
export const PER_WINDOW = 10

export class IssuerMismatchLog {
  private readonly logged = new Set<string>()
  private windowStart = -Infinity
  private leftOut = 0

  /** `now` is the clock (a test's own). */
  constructor (private readonly configuredIssuers: string[], private readonly now: () => number = Date.now) {}

  explain (err: unknown, token: string | undefined, log: FastifyBaseLogger): void {
    if (!(err instanceof TokenIssuerError) || token === undefined) return
    const now = this.now()
    if (now - this.windowStart >= WINDOW_MS) this.nextWindow(now, log)
    // A TokenIssuerError means the payload was decoded (to choose a pool, or before the signature check): this cannot throw.
    const iss = issuerOf(token)
    const tokenIssuer = typeof iss === 'string' ? scrub(iss.slice(0, 200)) : `(${typeof iss})`
    if (this.logged.has(tokenIssuer)) return
    if (this.logged.size >= PER_WINDOW) {
      this.leftOut += 1
      return
    }
    this.logged.add(tokenIssuer)
    log.warn({ tokenIssuer, configuredIssuers: this.configuredIssuers }, 'fastify-authsignal-cognito: a token was refused because its issuer is not a configured one ' +
      `(each issuer logged once a minute, at most ${PER_WINDOW}): if your users' tokens carry it, fix cognito.issuer or cognito.userPoolId`)
  }

  private nextWindow (now: number, log: FastifyBaseLogger): void {
    if (this.leftOut > 0) {
      log.warn({ leftOut: this.leftOut }, `fastify-authsignal-cognito: ${this.leftOut} more tokens were refused for issuers not logged in the last window (over ${PER_WINDOW} issuers)`)
    }
    this.windowStart = now
    this.logged.clear()
    this.leftOut = 0
  }
}
