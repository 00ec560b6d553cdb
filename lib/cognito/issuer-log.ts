// A configured issuer that does not match the tokens (a trailing '/', the other issuer form, a typo) makes
// every request a 401 that says only "wrong issuer": the log says more, once per distinct token issuer (at
// most 20 of them, since the value comes from unverified tokens), never the answer.
import type { FastifyBaseLogger } from 'fastify'
import { TokenIssuerError } from '../errors.js'
import { scrub } from '../logging.js'
import { issuerOf } from './bearer-token.js'

const MAX_LOGGED = 20

export class IssuerMismatchLog {
  private readonly seen = new Set<string>()

  constructor (private readonly configuredIssuers: string[]) {}

  explain (err: unknown, token: string | undefined, log: FastifyBaseLogger): void {
    if (!(err instanceof TokenIssuerError) || token === undefined || this.seen.size >= MAX_LOGGED) return
    // A TokenIssuerError means the payload was decoded (to choose a pool, or before the signature check): this cannot throw.
    const iss = issuerOf(token)
    const tokenIssuer = typeof iss === 'string' ? scrub(iss.slice(0, 200)) : `(${typeof iss})`
    if (this.seen.has(tokenIssuer)) return
    this.seen.add(tokenIssuer)
    log.warn({ tokenIssuer, configuredIssuers: this.configuredIssuers }, 'fastify-authsignal-cognito: a token was refused because its issuer is not a configured one ' +
      '(logged once per issuer): if your users\' tokens carry it, fix cognito.issuer or cognito.userPoolId')
  }
}
