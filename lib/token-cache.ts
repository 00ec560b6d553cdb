// Verified tokens, kept until their `exp` so a client that repeats its token pays a map lookup,
// not an RSA verification. Bounded in entries (lru-cache evicts the least recently used).
import { LRUCache } from 'lru-cache'
import type { CognitoClaims } from './cognito-claims.js'

export class VerifiedTokenCache {
  private readonly cache: LRUCache<string, CognitoClaims> | undefined

  constructor (maxEntries: number) {
    this.cache = maxEntries > 0 ? new LRUCache<string, CognitoClaims>({ max: maxEntries, ttlAutopurge: false }) : undefined
  }

  get (token: string): CognitoClaims | undefined {
    const claims = this.cache?.get(token)
    // lru-cache's ttl is on its own clock: check `exp` on the wall clock too.
    return claims !== undefined && claims.exp * 1000 > Date.now() ? claims : undefined
  }

  set (token: string, claims: CognitoClaims): void {
    const ttl = claims.exp * 1000 - Date.now()
    if (ttl > 0) this.cache?.set(token, claims, { ttl })
  }

  get size (): number {
    return this.cache?.size ?? 0
  }
}
