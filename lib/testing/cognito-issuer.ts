// A local Cognito-like token issuer for tests: RSA keys, a JWKS served over HTTP on 127.0.0.1, and
// `mint` for access and ID tokens with Cognito's claim shapes. Exported so hosts can test their own routes.
import { createHmac, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export type JwksFault =
  | { kind: 'hang' }
  | { kind: 'latency', ms: number }
  | { kind: 'status', status: number }
  | { kind: 'invalidJson' }
  | { kind: 'emptyKeys' }

export interface CognitoIssuerOptions {
  /** Default `eu-west-1_LocalPool1`. */
  userPoolId?: string
  /** Default app client id `local-client`. */
  clientId?: string
  /** The `iss` of minted tokens. Default `http://127.0.0.1:<port>/<userPoolId>` (served here). */
  issuer?: string
  port?: number
}

export interface MintOptions {
  tokenUse?: 'access' | 'id'
  sub?: string
  username?: string
  clientId?: string
  scope?: string
  groups?: string[]
  email?: string
  /** Seconds since the epoch. Default: now. */
  iat?: number
  authTime?: number
  /** Lifetime in seconds from `iat`. Default 3600. */
  expiresInSec?: number
  /** Extra or overriding claims; `undefined` removes a claim. */
  claims?: Record<string, unknown>
  /** Extra or overriding header fields; `undefined` removes one. */
  header?: Record<string, unknown>
  /** Sign with this private key instead of the issuer's current one. */
  privateKey?: KeyObject
}

export interface CognitoIssuer {
  url: string
  issuer: string
  jwksUri: string
  userPoolId: string
  clientId: string
  /** The kid of the key `mint` signs with. */
  kid: string
  /** How many times the JWKS was requested. */
  jwksRequests: number
  mint (options?: MintOptions): string
  /** Publishes a new key and signs with it from now on (the old one stays published). Returns its kid. */
  rotate (): string
  /** Stops publishing a key. */
  unpublish (kid: string): void
  setFault (fault: JwksFault | null): void
  close (): Promise<void>
}

interface SigningKey { kid: string, privateKey: KeyObject, jwk: Record<string, unknown> }

function base64url (value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

function withOverrides (base: Record<string, unknown>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const out = { ...base, ...overrides }
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete out[name]
  return out
}

/** Signs header and payload as given: RS256 with an RSA key, HS256 with a secret, nothing for `none`. */
export function signJwt (header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject | Buffer | string): string {
  const input = `${base64url(header)}.${base64url(payload)}`
  if (header.alg === 'none') return `${input}.`
  const signature = header.alg === 'HS256'
    ? createHmac('sha256', key as Buffer | string).update(input).digest()
    : sign('sha256', Buffer.from(input), key as KeyObject)
  return `${input}.${signature.toString('base64url')}`
}

export function generateSigningKey (kid: string = randomUUID()): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } }
}

export async function startCognitoIssuer (options: CognitoIssuerOptions = {}): Promise<CognitoIssuer> {
  const userPoolId = options.userPoolId ?? 'eu-west-1_LocalPool1'
  const clientId = options.clientId ?? 'local-client'
  const keys: SigningKey[] = [generateSigningKey()]
  let fault: JwksFault | null = null
  const hung = new Set<ServerResponse>()

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url !== `/${userPoolId}/.well-known/jwks.json`) {
      res.writeHead(404).end()
      return
    }
    issuer.jwksRequests++
    const answer = (): void => {
      if (fault?.kind === 'status') {
        res.writeHead(fault.status, { 'content-type': 'application/json' }).end('{"message":"unavailable"}')
      } else if (fault?.kind === 'invalidJson') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not json</html>')
      } else {
        const published = fault?.kind === 'emptyKeys' ? [] : keys.map(k => k.jwk)
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }))
      }
    }
    if (fault?.kind === 'hang') {
      hung.add(res)
    } else if (fault?.kind === 'latency') {
      setTimeout(answer, fault.ms).unref()
    } else {
      answer()
    }
  })
  await new Promise<void>(resolve => server.listen(options.port ?? 0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const current = (): SigningKey => keys[keys.length - 1] as SigningKey

  const issuer: CognitoIssuer = {
    url,
    issuer: options.issuer ?? `${url}/${userPoolId}`,
    jwksUri: `${url}/${userPoolId}/.well-known/jwks.json`,
    userPoolId,
    clientId,
    get kid () { return current().kid },
    jwksRequests: 0,
    mint (mint: MintOptions = {}) {
      const tokenUse = mint.tokenUse ?? 'access'
      const iat = mint.iat ?? Math.floor(Date.now() / 1000)
      const sub = mint.sub ?? 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee'
      const username = mint.username ?? sub
      const common = {
        sub,
        iss: issuer.issuer,
        token_use: tokenUse,
        auth_time: mint.authTime ?? iat,
        iat,
        exp: iat + (mint.expiresInSec ?? 3600),
        jti: randomUUID(),
        origin_jti: randomUUID(),
        event_id: randomUUID(),
        ...(mint.groups !== undefined && { 'cognito:groups': mint.groups })
      }
      const shaped = tokenUse === 'access'
        ? { ...common, client_id: mint.clientId ?? clientId, scope: mint.scope ?? 'aws.cognito.signin.user.admin', username }
        : { ...common, aud: mint.clientId ?? clientId, 'cognito:username': username, email: mint.email ?? 'user@example.com', email_verified: true }
      const header = withOverrides({ kid: current().kid, alg: 'RS256' }, mint.header)
      return signJwt(header, withOverrides(shaped, mint.claims), mint.privateKey ?? current().privateKey)
    },
    rotate () {
      keys.push(generateSigningKey())
      return current().kid
    },
    unpublish (kid: string) {
      const index = keys.findIndex(k => k.kid === kid)
      if (index >= 0) keys.splice(index, 1)
    },
    setFault (next: JwksFault | null) {
      fault = next
    },
    async close () {
      for (const res of hung) res.destroy()
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
  return issuer
}
