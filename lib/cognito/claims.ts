// The claim checks, made after the signature is verified: `nbf` and `exp` with the clock tolerance (as the
// JWT libraries judge them: at the edge, a token is still valid), then the Cognito-specific ones
// (aws-jwt-verify's rules: exact `iss`, `token_use` as configured, `client_id` or `aud` allowed, `exp` required).
import {
  TokenClaimsError, TokenClientError, TokenExpiredError, TokenIssuerError, TokenMalformedError, TokenNotYetValidError, TokenUseError
} from '../errors.js'
import type { ResolvedPool, TokenUse } from '../options/types.js'

/**
 * The verified claims of a Cognito access or ID token (`request.user`): frozen, shared by the requests that
 * present the same token. Cognito's `jti`, `origin_jti` and `event_id` are not kept (lib/cognito/user.ts).
 */
export interface CognitoClaims {
  /** Not a claim: the user pool that verified the token (hidden from JSON). */
  readonly userPoolId: string
  sub: string
  iss: string
  token_use: TokenUse
  exp: number
  iat?: number
  auth_time?: number
  /** Access tokens: the app client. */
  client_id?: string
  /** ID tokens: the app client. */
  aud?: string
  /** Access tokens: space-separated scopes. */
  scope?: string
  username?: string
  'cognito:username'?: string
  'cognito:groups'?: string[]
  email?: string
  [claim: string]: unknown
}

const TOKEN_NAMES: Record<string, string> = { access: 'access', id: 'id' }

function describeUse (use: unknown): string {
  return typeof use === 'string' && TOKEN_NAMES[use] !== undefined ? `an ${TOKEN_NAMES[use]} token` : 'a token without a valid token_use'
}

/** A NumericDate claim, when present, is one number (a list is a malformed token, as fast-jwt judged it). */
function dateClaim (payload: Record<string, unknown>, name: 'nbf' | 'exp'): number | undefined {
  const value = payload[name]
  if (value === undefined) return undefined
  if (Array.isArray(value)) throw new TokenMalformedError(`${name} is a list`)
  if (typeof value !== 'number') throw new TokenClaimsError(`${name} must be a number`)
  return value
}

/** Checks the claims of a token whose signature is verified: returns the payload, whose claims are now known to be as `CognitoClaims` says. */
export function assertCognitoClaims (payload: Record<string, unknown>, options: ResolvedPool, now = Date.now()): Record<string, unknown> {
  const nbf = dateClaim(payload, 'nbf')
  if (nbf !== undefined && now < nbf * 1000 - options.clockToleranceMs) throw new TokenNotYetValidError('nbf is in the future')
  const exp = dateClaim(payload, 'exp')
  if (exp !== undefined && now > exp * 1000 + options.clockToleranceMs) throw new TokenExpiredError()
  if (typeof payload.iss !== 'string' || !options.issuers.includes(payload.iss)) throw new TokenIssuerError()
  if (typeof payload.exp !== 'number') throw new TokenClaimsError('exp is required')
  if (payload.iat !== undefined && typeof payload.iat !== 'number') throw new TokenClaimsError('iat must be a number')
  if (typeof payload.iat === 'number' && payload.iat * 1000 > now + options.clockToleranceMs) throw new TokenNotYetValidError('issued in the future')
  if (payload.token_use !== options.tokenUse) throw new TokenUseError(options.tokenUse, describeUse(payload.token_use))
  const client = options.tokenUse === 'access' ? payload.client_id : payload.aud
  if (typeof client !== 'string' || !options.clientIds.includes(client)) {
    throw new TokenClientError(options.tokenUse === 'access' ? 'client_id' : 'aud')
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') throw new TokenClaimsError('sub must be a non-empty string')
  const groups = payload['cognito:groups']
  if (groups !== undefined && (!Array.isArray(groups) || !groups.every(g => typeof g === 'string'))) {
    throw new TokenClaimsError('cognito:groups must be an array of strings')
  }
  if (payload.scope !== undefined && typeof payload.scope !== 'string') throw new TokenClaimsError('scope must be a string')
  if (payload.auth_time !== undefined && typeof payload.auth_time !== 'number') throw new TokenClaimsError('auth_time must be a number')
  return payload
}
