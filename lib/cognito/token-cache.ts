// Verified tokens, kept until their `exp` so a client that repeats its token pays a map lookup,
// not an RSA verification. Bounded in entries (lru-cache evicts the least recently used).
import { LRUCache } from 'lru-cache'
import type { CognitoClaims } from './claims.js'

interface Entry { token: string, claims: CognitoClaims }

// Keyed by the end of the signature rather than the whole 1 KiB token: hashing a fresh header string
// of that size on every request costs more than the rest of a cache hit. The entry keeps the whole
// token and a hit compares it, so a shared tail can only cost a miss, never a wrong answer.
const KEY_LENGTH = 32

export class VerifiedTokenCache {
  private readonly cache: LRUCache<string, Entry> | undefined

  constructor (maxEntries: number) {
    this.cache = maxEntries > 0 ? new LRUCache<string, Entry>({ max: maxEntries }) : undefined
  }

  get (token: string): CognitoClaims | undefined {
    const entry = this.cache?.get(token.slice(-KEY_LENGTH))
    // Expired entries are not purged eagerly: the `exp` check here makes them misses, the LRU bound evicts them.
    return entry !== undefined && entry.token === token && entry.claims.exp * 1000 > Date.now() ? entry.claims : undefined
  }

  set (token: string, claims: CognitoClaims): void {
    if (claims.exp * 1000 > Date.now()) this.cache?.set(token.slice(-KEY_LENGTH), { token, claims })
  }

  get size (): number {
    return this.cache?.size ?? 0
  }
}
