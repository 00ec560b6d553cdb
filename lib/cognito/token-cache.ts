// Verified tokens, kept until their `exp` so a client that repeats its token pays a string comparison (on the
// same connection) or a digest and a map lookup, not an RSA verification. Bounded in entries (lru-cache evicts
// the least recently used) and light: an entry is the frozen, shared user object of lib/cognito/user.ts (about
// 300 bytes) under a 32-byte key.
import { hash } from 'node:crypto'
import { Socket } from 'node:net'
import { LRUCache } from 'lru-cache'
import type { VerifiedUser } from './user.js'

interface LastToken { token: string, user: VerifiedUser }

export class VerifiedTokenCache {
  private readonly cache: LRUCache<string, VerifiedUser> | undefined
  /**
   * Each connection's last verified token: a client that repeats its token on a kept-alive connection hits
   * here with one string comparison, before any digest. Bounded by the open connections (one token each,
   * gone with its socket), and exact: only the very same string hits.
   */
  private readonly lastByConnection = new WeakMap<Socket, LastToken>()

  constructor (maxEntries: number) {
    this.cache = maxEntries > 0 ? new LRUCache<string, VerifiedUser>({ max: maxEntries }) : undefined
  }

  /**
   * The key of a token: its SHA-256 digest, as a 32-character string. A hit is therefore only ever the very
   * token that was verified (any other byte, in the header, payload or signature, is another key), and the
   * key is fixed-size: keys taken from the token itself (a slice of the signature) were cheaper to compute
   * but let a token with a cached signature and another header or payload hit.
   * Undefined when the cache is off: nothing is computed then.
   */
  keyOf (token: string): string | undefined {
    return this.cache === undefined ? undefined : hash('sha256', token, 'binary')
  }

  /** The connection's last token's user, when `token` is that very token and has not expired. */
  onConnection (connection: unknown, token: string): VerifiedUser | undefined {
    if (!(connection instanceof Socket)) return undefined
    const last = this.lastByConnection.get(connection)
    return last !== undefined && last.token === token && last.user.exp * 1000 > Date.now() ? last.user : undefined
  }

  /** Remembers a cached user as its connection's last token (light-my-request's mock sockets are not kept). */
  remember (connection: unknown, token: string, user: VerifiedUser): void {
    if (this.cache !== undefined && connection instanceof Socket) this.lastByConnection.set(connection, { token, user })
  }

  get (key: string | undefined): VerifiedUser | undefined {
    if (key === undefined) return undefined
    const user = this.cache?.get(key)
    // Expired entries are not purged eagerly: the `exp` check here makes them misses, the LRU bound evicts them.
    return user !== undefined && user.exp * 1000 > Date.now() ? user : undefined
  }

  set (key: string | undefined, user: VerifiedUser): void {
    if (key !== undefined && user.exp * 1000 > Date.now()) this.cache?.set(key, user)
  }

  get size (): number {
    return this.cache?.size ?? 0
  }
}
