// Runs the `cognito-local` emulator as a child process and seeds it with a demo pool, app client and
// user, for the dev server and the end-to-end tests. Everything stays on 127.0.0.1.
import { spawn } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import {
  AdminCreateUserCommand,
  AdminAddUserToGroupCommand,
  AdminListGroupsForUserCommand,
  AdminSetUserPasswordCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InitiateAuthCommand,
  ListGroupsCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
  UpdateUserPoolClientCommand,
  UsernameExistsException,
  type CreateUserPoolClientCommandInput
} from '@aws-sdk/client-cognito-identity-provider'
import { HOST } from './ports.js'

// Printed by cognito-local once its HTTP server is listening.
const READY_LINE = 'Cognito Local running on'
const TAIL_CHARS = 4096

export interface CognitoLocalOptions {
  /** 0 or absent: pick a free port. */
  port?: number
  /** cognito-local's cwd; it keeps its data in `<dataDir>/.cognito`. Created if missing. */
  dataDir: string
  /** Where the emulator's own output is forwarded (e.g. process.stderr); by default it is only kept to explain a failure. */
  output?: { write: (chunk: Buffer) => unknown }
  /** How long to wait for the ready line (default 15 000 ms). */
  readyTimeoutMs?: number
}

export interface CognitoLocal {
  /** http://127.0.0.1:PORT */
  endpoint: string
  port: number
  /** The `iss` of every token of that pool (also the base of `<issuer>/.well-known/jwks.json`). */
  issuerFor (userPoolId: string): string
  /** Kills the child and waits for it to exit; idempotent. */
  stop (): Promise<void>
}

const binPath = createRequire(import.meta.url).resolve('cognito-local/lib/bin/start.js')

// The child exits when its stdin closes, i.e. when this process dies in any way (even SIGKILL,
// where no 'exit' handler runs), so an emulator never outlives the dev server or a test run.
const childScript = 'process.stdin.on("end", () => process.exit(0)).resume(); require(process.argv[1])'

/** Binds `port` (0 = any) on 127.0.0.1, releases it and returns the port; rejects naming the port if it is taken. */
export async function probePort (port: number): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cognito-local: cannot listen on ${HOST}:${port}: ${err.message}`)))
    server.listen(port, HOST, resolve)
  })
  const bound = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return bound
}

// cognito-local merges `.cognito/config.json` over its defaults. We pin the issuer and listen address
// to the chosen port (a config left by an earlier run on another port must not win), and default to
// plain usernames (the emulator's own default makes usernames emails and replaces them by the sub).
async function writeConfig (dataDir: string, port: number): Promise<void> {
  const dir = join(dataDir, '.cognito')
  await mkdir(dir, { recursive: true })
  const file = join(dir, 'config.json')
  const existing = JSON.parse(await readFile(file, 'utf8').catch(() => '{}'))
  const config = {
    ...existing,
    UserPoolDefaults: { UsernameAttributes: [], ...existing.UserPoolDefaults },
    TokenConfig: { ...existing.TokenConfig, IssuerDomain: `http://${HOST}:${port}` },
    ServerConfig: { ...existing.ServerConfig, hostname: HOST, port, https: false }
  }
  await writeFile(file, JSON.stringify(config, null, 2) + '\n')
}

export async function startCognitoLocal (opts: CognitoLocalOptions): Promise<CognitoLocal> {
  const port = await probePort(opts.port ?? 0)
  const endpoint = `http://${HOST}:${port}`
  const readyTimeoutMs = opts.readyTimeoutMs ?? 15_000
  await writeConfig(opts.dataDir, port)

  const child = spawn(process.execPath, ['-e', childScript, binPath], {
    cwd: opts.dataDir,
    env: { ...process.env, HOST, PORT: String(port), AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1' },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  // 'close' (not 'exit'): it also follows a failed spawn, and comes after the output is drained.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  // Synchronous, so it also works from a process 'exit' handler.
  const kill = (): void => { child.kill('SIGTERM') }
  process.on('exit', kill)

  // Both streams are always drained (a full pipe would stall the emulator); the tail explains failures.
  let tail = ''
  const onOutput = (chunk: Buffer): void => {
    opts.output?.write(chunk)
    tail = (tail + stripVTControlCharacters(chunk.toString('utf8'))).slice(-TAIL_CHARS)
  }
  child.stdout.on('data', onOutput)
  child.stderr.on('data', onOutput)

  await new Promise<void>((resolve, reject) => {
    const fail = (why: unknown): void => {
      clearTimeout(timer)
      process.off('exit', kill)
      kill()
      exited.then(() => reject(new Error(`cognito-local on port ${port} ${why}\n${tail.trim()}`)))
    }
    const onClose = (code: number | null, signal: string | null): void =>
      fail(`exited (code ${code}, signal ${signal}) before it was ready:`)
    const onReadyCheck = (): void => {
      if (!tail.includes(READY_LINE)) return
      clearTimeout(timer)
      child.off('close', onClose)
      child.stdout.off('data', onReadyCheck)
      resolve()
    }
    const timer = setTimeout(() => fail(`was not ready within ${readyTimeoutMs} ms:`), readyTimeoutMs)
    child.once('close', onClose)
    // Spawn or kill failures; kept for the child's lifetime so they never crash this process.
    child.on('error', fail)
    child.stdout.on('data', onReadyCheck)
  })

  let stopping: Promise<void> | undefined
  return {
    endpoint,
    port,
    issuerFor: (userPoolId) => `${endpoint}/${userPoolId}`,
    stop () {
      stopping ??= (async () => {
        process.off('exit', kill)
        kill()
        await exited
      })()
      return stopping
    }
  }
}

/** An SDK client that only ever talks to the emulator: fixed fake region and credentials, and every
 * setting the SDK would otherwise look up in the environment or ~/.aws given explicitly. */
export function cognitoClient (endpoint: string): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    defaultsMode: 'standard',
    retryMode: 'standard',
    maxAttempts: 2,
    useFipsEndpoint: false,
    useDualstackEndpoint: false
  })
}

export interface DemoSetupOptions {
  endpoint: string
  poolName?: string
  clientName?: string
  username?: string
  password?: string
  email?: string
  groups?: string[]
  /** Access and ID token lifetime; default 3600 (Cognito's default). 1 gives a token that expires within a second. */
  accessTokenValiditySec?: number
}

export interface DemoSetup {
  userPoolId: string
  clientId: string
  /** Issuer of the pool's tokens (the emulator's IssuerDomain is pinned to its endpoint). */
  issuer: string
  username: string
  password: string
}

/** The support agent of `npm run dev`: in the same pool, in the example app's support group. */
export const agentDefaults = { username: 'agent', email: 'agent@example.com' } as const

export const demoDefaults = {
  poolName: 'fastify-authsignal-cognito-demo',
  clientName: 'demo-web',
  username: 'demo',
  password: 'Demo-passw0rd!',
  email: 'demo@example.com'
} as const

/**
 * Finds or creates (by name) the pool, the app client (USER_PASSWORD_AUTH) and the user, and brings them
 * to the requested state: password, email, token validity, groups. Safe to call on every start.
 */
export async function ensureDemoSetup (opts: DemoSetupOptions): Promise<DemoSetup> {
  const poolName = opts.poolName ?? demoDefaults.poolName
  const clientName = opts.clientName ?? demoDefaults.clientName
  const username = opts.username ?? demoDefaults.username
  const password = opts.password ?? demoDefaults.password
  const email = opts.email ?? demoDefaults.email
  const validity = opts.accessTokenValiditySec ?? 3600
  const client = cognitoClient(opts.endpoint)
  try {
    // cognito-local returns every pool/client in one page (it ignores MaxResults and NextToken).
    const pools = await client.send(new ListUserPoolsCommand({ MaxResults: 60 }))
    const userPoolId = pools.UserPools!.find((p) => p.Name === poolName)?.Id ??
      (await client.send(new CreateUserPoolCommand({ PoolName: poolName }))).UserPool!.Id!

    const tokenSettings: Pick<CreateUserPoolClientCommandInput, 'ExplicitAuthFlows' | 'AccessTokenValidity' | 'IdTokenValidity' | 'TokenValidityUnits'> = {
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      AccessTokenValidity: validity,
      IdTokenValidity: validity,
      TokenValidityUnits: { AccessToken: 'seconds', IdToken: 'seconds' }
    }
    const clients = await client.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60 }))
    const existingClientId = clients.UserPoolClients!.find((c) => c.ClientName === clientName)?.ClientId
    const clientId = existingClientId === undefined
      ? (await client.send(new CreateUserPoolClientCommand({ UserPoolId: userPoolId, ClientName: clientName, ...tokenSettings }))).UserPoolClient!.ClientId!
      : (await client.send(new UpdateUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: existingClientId, ...tokenSettings }))).UserPoolClient!.ClientId!

    const attributes = [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }]
    try {
      await client.send(new AdminCreateUserCommand({ UserPoolId: userPoolId, Username: username, UserAttributes: attributes, MessageAction: 'SUPPRESS' }))
    } catch (err) {
      if (!(err instanceof UsernameExistsException)) throw err
      await client.send(new AdminUpdateUserAttributesCommand({ UserPoolId: userPoolId, Username: username, UserAttributes: attributes }))
    }
    // Permanent: the user signs in straight away, no NEW_PASSWORD_REQUIRED challenge.
    await client.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: username, Password: password, Permanent: true }))

    const groups = opts.groups ?? []
    const poolGroups = new Set((await client.send(new ListGroupsCommand({ UserPoolId: userPoolId }))).Groups!.map((g) => g.GroupName))
    for (const groupName of groups.filter((g) => !poolGroups.has(g))) {
      await client.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: groupName }))
    }
    const userGroups = new Set((await client.send(new AdminListGroupsForUserCommand({ UserPoolId: userPoolId, Username: username }))).Groups!.map((g) => g.GroupName))
    for (const groupName of groups.filter((g) => !userGroups.has(g))) {
      await client.send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: username, GroupName: groupName }))
    }

    return { userPoolId, clientId, issuer: `${opts.endpoint}/${userPoolId}`, username, password }
  } finally {
    client.destroy()
  }
}

export interface SignInOptions { endpoint: string, clientId: string, username: string, password: string }
export interface SignInResult { accessToken: string, idToken: string, refreshToken?: string }

/** InitiateAuth USER_PASSWORD_AUTH; rejects if the emulator answers with a challenge instead of tokens. */
export async function signIn (opts: SignInOptions): Promise<SignInResult> {
  const client = cognitoClient(opts.endpoint)
  try {
    const res = await client.send(new InitiateAuthCommand({
      ClientId: opts.clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: opts.username, PASSWORD: opts.password }
    }))
    const result = res.AuthenticationResult
    if (result === undefined) throw new Error(`signIn: cognito-local answered with challenge ${res.ChallengeName} instead of tokens`)
    return { accessToken: result.AccessToken!, idToken: result.IdToken!, refreshToken: result.RefreshToken }
  } finally {
    client.destroy()
  }
}
