// The `cognito` option: one user pool or several, each resolved to its exact issuers and JWKS; several
// pools must not be able to map two different people to one Authsignal user id.
import { fail, httpUrl, integer, isObject, knownKeys, nonEmptyString, oneOf, stringList } from './check.js'
import { DEFAULTS, USER_POOL_ID } from './defaults.js'
import type { ResolvedPool } from './types.js'

const POOL_KEYS = ['userPoolId', 'clientId', 'tokenUse', 'issuer', 'jwksUri', 'userIdClaim', 'userIdPrefix', 'clockToleranceSec',
  'requiredGroups', 'requiredScopes', 'jwksTimeoutMs', 'jwksPenaltyMs', 'tokenCacheSize'] as const

// A Cognito `sub` is a UUID: an id made of a prefix with any other character can never equal one.
const UUID_CHARACTERS = /^[0-9a-f-]*$/

function resolvePool (value: unknown, name: string): ResolvedPool {
  if (!isObject(value)) fail(name, 'expected an object with userPoolId and clientId')
  knownKeys(value, name, POOL_KEYS)
  const userPoolId = nonEmptyString(value.userPoolId, `${name}.userPoolId`)
  const region = USER_POOL_ID.exec(userPoolId)?.groups?.region
  let issuers: string[]
  if (value.issuer === undefined) {
    if (region === undefined) fail(`${name}.userPoolId`, 'expected "<region>_<id>" such as "eu-west-1_AbCdEf123" (or give issuer)')
    issuers = [
      `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`,
      `https://issuer-cognito-idp.${region}.amazonaws.com/${userPoolId}`
    ]
  } else {
    issuers = stringList(value.issuer, `${name}.issuer`, { allowSingle: true, allowEmpty: false })
    issuers.forEach((issuer, i) => httpUrl(issuer, `${name}.issuer[${i}]`))
  }
  const prefix = value.userIdPrefix ?? ''
  if (typeof prefix !== 'string' || prefix.length > 64) fail(`${name}.userIdPrefix`, 'expected a string of at most 64 characters')
  return {
    userPoolId,
    clientIds: stringList(value.clientId, `${name}.clientId`, { allowSingle: true, allowEmpty: false }),
    tokenUse: oneOf(value.tokenUse, `${name}.tokenUse`, ['access', 'id'], DEFAULTS.tokenUse),
    issuers,
    jwksUri: value.jwksUri === undefined
      ? `${(issuers[0] as string).replace(/\/+$/, '')}/.well-known/jwks.json`
      : httpUrl(value.jwksUri, `${name}.jwksUri`),
    userIdClaim: oneOf(value.userIdClaim, `${name}.userIdClaim`, ['sub', 'username', 'cognito:username'], DEFAULTS.userIdClaim),
    userIdPrefix: prefix,
    clockToleranceMs: integer(value.clockToleranceSec, `${name}.clockToleranceSec`, DEFAULTS.clockToleranceSec, 0, 300) * 1000,
    requiredGroups: value.requiredGroups === undefined ? [] : stringList(value.requiredGroups, `${name}.requiredGroups`),
    requiredScopes: value.requiredScopes === undefined ? [] : stringList(value.requiredScopes, `${name}.requiredScopes`),
    jwksTimeoutMs: integer(value.jwksTimeoutMs, `${name}.jwksTimeoutMs`, DEFAULTS.jwksTimeoutMs, 1, 60_000),
    jwksPenaltyMs: integer(value.jwksPenaltyMs, `${name}.jwksPenaltyMs`, DEFAULTS.jwksPenaltyMs, 0, 3_600_000),
    tokenCacheSize: integer(value.tokenCacheSize, `${name}.tokenCacheSize`, DEFAULTS.tokenCacheSize, 0, 1_000_000),
    uuidUserIds: false
  }
}

/**
 * Two pools could give two people one Authsignal user id unless every id of one can be told from every id
 * of the other: so no prefix may begin another, unless the pool with the shorter prefix uses `sub` (a UUID)
 * and the rest of the longer prefix has a character no UUID has (so a pool already in use without a prefix
 * can keep its Authsignal users when a second pool is added). Such a pool's subs must then be UUIDs.
 */
function assertDistinctUserIds (pools: ResolvedPool[]): void {
  pools.forEach((pool, i) => {
    pools.forEach((other, j) => {
      if (j <= i) return
      const shared = pool.issuers.find(issuer => other.issuers.includes(issuer))
      if (shared !== undefined) fail(`cognito[${j}].issuer`, `${shared} is already the issuer of cognito[${i}]: a token's issuer must name one pool`)
      for (const [a, b, k] of [[pool, other, j], [other, pool, i]] as const) {
        if (!b.userIdPrefix.startsWith(a.userIdPrefix)) continue
        // a's ids are a's prefix + a UUID; b's are a's prefix + the rest of b's prefix + anything: apart if that rest has a non-UUID character.
        if (a.userIdClaim === 'sub' && !UUID_CHARACTERS.test(b.userIdPrefix.slice(a.userIdPrefix.length))) {
          a.uuidUserIds = true
          continue
        }
        fail(`cognito[${k}].userIdPrefix`, `with several pools, no userIdPrefix may begin another ('${pool.userIdPrefix}' and '${other.userIdPrefix}' ` +
          'could map different people of two pools to one Authsignal user id): give each pool its own, e.g. \'poolA:\' and \'poolB:\'')
      }
    })
  })
}

export function resolvePools (value: unknown): ResolvedPool[] {
  if (!Array.isArray(value)) return [resolvePool(value, 'cognito')]
  if (value.length === 0) fail('cognito', 'expected a user pool or a non-empty array of user pools')
  const pools = value.map((pool, i) => resolvePool(pool, `cognito[${i}]`))
  assertDistinctUserIds(pools)
  return pools
}
