// `app.authenticatorsStatus()`: what a health check needs to know, read from memory (no request goes
// upstream per probe): whether every pool holds keys to judge tokens, each pool's last JWKS fetch, and the
// outcome of the last call to Authsignal.
import type { AuthsignalApi, LastCall } from './authsignal/api.js'
import type { CognitoVerifier, PoolStatus } from './cognito/verifier.js'

export interface AuthenticatorsStatus {
  /** True when every configured pool holds at least one signing key: tokens can be judged. */
  ready: boolean
  pools: PoolStatus[]
  authsignal: { lastCall: LastCall | undefined }
}

export function statusOf (verifier: CognitoVerifier, api: AuthsignalApi): () => AuthenticatorsStatus {
  return () => {
    const pools = verifier.status()
    return { ready: pools.every(pool => pool.keys > 0), pools, authsignal: { lastCall: api.lastCall } }
  }
}
