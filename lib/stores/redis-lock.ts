// A lock store on Redis through an ioredis client (the one @fastify/redis decorates as `app.redis` works):
// `SET key token PX lease NX` takes the lock, and a script deletes it only while it still holds our token,
// so a removal can never free a lock that has passed to someone else. One Redis primary, not Redlock.
import { InvalidOptionError } from '../errors.js'
import { checkLease, type LockStore } from './lock-store.js'

/** The part of an ioredis client the store uses. */
export interface RedisLockClient {
  set (key: string, value: string, px: 'PX', milliseconds: number, nx: 'NX'): Promise<'OK' | null>
  eval (script: string, numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>
}

export interface RedisLockOptions {
  client: RedisLockClient
  /** Put before every key. Default `'fastify-authsignal-cognito:lock:'`. */
  prefix?: string
  /** How long a lock is held at most, in ms. Default: derived from authsignal.timeoutMs (lib/stores/lock-store.ts). */
  leaseMs?: number
}

const RELEASE = 'if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end'
// A key whose lease ran out is gone (its PX expiry), so GET no longer returns the token: nothing to extend.
const EXTEND = 'if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end'

export function redisLock (options: RedisLockOptions): LockStore {
  const client = options?.client as Partial<RedisLockClient> | undefined
  if (typeof client?.set !== 'function' || typeof client.eval !== 'function') {
    throw new InvalidOptionError('redisLock({ client })', 'expected an ioredis client (new Redis(…), or app.redis of @fastify/redis)')
  }
  const prefix = options.prefix ?? 'fastify-authsignal-cognito:lock:'
  if (typeof prefix !== 'string') throw new InvalidOptionError('redisLock({ prefix })', 'expected a string')
  const redis = client as RedisLockClient
  return {
    kind: 'redis',
    leaseMs: checkLease(options.leaseMs, 'redisLock'),
    async acquire (key, token, leaseMs) {
      return (await redis.set(prefix + key, token, 'PX', leaseMs, 'NX')) === 'OK'
    },
    async release (key, token) {
      await redis.eval(RELEASE, 1, prefix + key, token)
    },
    async extend (key, token, leaseMs) {
      return (await redis.eval(EXTEND, 1, prefix + key, token, leaseMs)) === 1
    }
  }
}
