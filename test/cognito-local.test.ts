import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  AdminCreateUserCommand,
  CreateUserPoolCommand,
  InvalidParameterException
} from '@aws-sdk/client-cognito-identity-provider'
import {
  cognitoClient,
  demoDefaults,
  ensureDemoSetup,
  probePort,
  signIn,
  startCognitoLocal
} from '../dev/cognito-local.js'

const decode = (jwt: string, part = 1): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[part] as string, 'base64url').toString('utf8'))

// The emulator dies asynchronously after SIGTERM / stdin EOF; poll until its port can be bound again.
async function portFreed (port: number, withinMs = 5000): Promise<boolean> {
  const until = Date.now() + withinMs
  while (Date.now() < until) {
    if (await probePort(port).then(() => true, () => false)) return true
    await sleep(50)
  }
  return false
}

t.test('start, seed idempotently, sign in, restart on the same data', async (t) => {
  const dir = t.testdir()
  const dataDir = join(dir, 'data-not-yet-created')
  const cl = await startCognitoLocal({ dataDir })
  t.teardown(() => cl.stop())
  t.equal(cl.endpoint, `http://127.0.0.1:${cl.port}`)
  t.ok(cl.port > 0)

  const first = await ensureDemoSetup({ endpoint: cl.endpoint, groups: ['admins', 'staff'] })
  t.match(first.userPoolId, /^local_\w+$/)
  t.equal(first.issuer, cl.issuerFor(first.userPoolId))
  t.equal(first.issuer, `http://127.0.0.1:${cl.port}/${first.userPoolId}`)
  t.equal(first.username, demoDefaults.username)
  t.equal(first.password, demoDefaults.password)
  const second = await ensureDemoSetup({ endpoint: cl.endpoint, groups: ['admins', 'staff'] })
  t.same(second, first, 'second call finds the same pool, client and user')

  const tokens = await signIn({ endpoint: cl.endpoint, clientId: first.clientId, username: first.username, password: first.password })
  t.type(tokens.refreshToken, 'string')
  t.same(decode(tokens.accessToken, 0), { alg: 'RS256', typ: 'JWT', kid: 'CognitoLocal' })
  const access = decode(tokens.accessToken)
  t.equal(access.iss, cl.issuerFor(first.userPoolId))
  t.equal(access.token_use, 'access')
  t.equal(access.client_id, first.clientId)
  t.equal(access.username, 'demo')
  t.equal(access.scope, 'aws.cognito.signin.user.admin')
  t.same(access['cognito:groups'], ['admins', 'staff'])
  t.notOk('aud' in access, 'access tokens have no aud')
  t.equal(Number(access.exp) - Number(access.iat), 3600)
  const id = decode(tokens.idToken)
  t.equal(id.token_use, 'id')
  t.equal(id.aud, first.clientId)
  t.equal(id['cognito:username'], 'demo')
  t.equal(id.email, demoDefaults.email)
  t.equal(id.sub, access.sub)

  const jwks = await (await fetch(`${cl.issuerFor(first.userPoolId)}/.well-known/jwks.json`)).json() as { keys: Array<{ kid: string }> }
  t.same(jwks.keys.map((k) => k.kid), ['CognitoLocal'])

  // Short-lived tokens for expiry tests: same client, validity updated in place.
  const short = await ensureDemoSetup({ endpoint: cl.endpoint, accessTokenValiditySec: 1 })
  t.same(short, first)
  const shortTokens = await signIn({ endpoint: cl.endpoint, clientId: short.clientId, username: short.username, password: short.password })
  for (const jwt of [shortTokens.accessToken, shortTokens.idToken]) {
    const claims = decode(jwt)
    t.equal(Number(claims.exp) - Number(claims.iat), 1)
  }

  await t.rejects(startCognitoLocal({ port: cl.port, dataDir: join(dir, 'other') }),
    { message: new RegExp(`127\\.0\\.0\\.1:${cl.port}.*EADDRINUSE`) }, 'a port in use is named')

  await cl.stop()
  await cl.stop()
  t.equal(await probePort(cl.port), cl.port, 'port is free once stop() resolves')

  // Restart on the same data (as `npm run dev` does): same ids, issuer follows the new port.
  const again = await startCognitoLocal({ dataDir })
  t.teardown(() => again.stop())
  t.not(again.port, cl.port)
  const restarted = await ensureDemoSetup({ endpoint: again.endpoint, password: 'Another-passw0rd!' })
  t.equal(restarted.userPoolId, first.userPoolId)
  t.equal(restarted.clientId, first.clientId)
  t.equal(restarted.issuer, again.issuerFor(first.userPoolId))
  const afterRestart = await signIn({ endpoint: again.endpoint, clientId: restarted.clientId, username: 'demo', password: 'Another-passw0rd!' })
  t.equal(decode(afterRestart.accessToken).iss, `http://127.0.0.1:${again.port}/${first.userPoolId}`)
  await t.rejects(signIn({ endpoint: again.endpoint, clientId: restarted.clientId, username: 'demo', password: demoDefaults.password }),
    { name: 'InvalidPasswordException' }, 'the password was reset to the requested one')
})

t.test('errors from the emulator surface', async (t) => {
  const cl = await startCognitoLocal({ dataDir: t.testdir() })
  t.teardown(() => cl.stop())
  const client = cognitoClient(cl.endpoint)
  t.teardown(() => client.destroy())

  // A pool created elsewhere with email usernames refuses a plain username.
  await client.send(new CreateUserPoolCommand({ PoolName: 'email-usernames', UsernameAttributes: ['email'] }))
  await t.rejects(ensureDemoSetup({ endpoint: cl.endpoint, poolName: 'email-usernames' }), InvalidParameterException)

  // A user without a permanent password gets a challenge, not tokens.
  const demo = await ensureDemoSetup({ endpoint: cl.endpoint })
  await client.send(new AdminCreateUserCommand({ UserPoolId: demo.userPoolId, Username: 'fresh', TemporaryPassword: 'Temp-passw0rd!', MessageAction: 'SUPPRESS' }))
  await t.rejects(signIn({ endpoint: cl.endpoint, clientId: demo.clientId, username: 'fresh', password: 'Temp-passw0rd!' }),
    { message: /challenge NEW_PASSWORD_REQUIRED/ })
})

t.test('an emulator that dies while starting rejects with its output', async (t) => {
  const dataDir = t.testdir({ '.cognito': { db: { 'clients.json': '{ not json' } } })
  const port = await probePort(0)
  // Its output is forwarded where asked, here into a capture rather than the test run's stderr.
  const forwarded: Buffer[] = []
  await t.rejects(startCognitoLocal({ dataDir, port, output: { write: (chunk) => forwarded.push(chunk) } }),
    { message: new RegExp(`port ${port} exited \\(code 1, signal null\\) before it was ready:\\n[^]*StormDB`) })
  t.match(Buffer.concat(forwarded).toString(), /StormDB/, 'the emulator\'s own output was forwarded')
  t.ok(await portFreed(port))
})

t.test('an emulator that is not ready in time is killed', async (t) => {
  const port = await probePort(0)
  await t.rejects(startCognitoLocal({ dataDir: t.testdir(), port, readyTimeoutMs: 1 }),
    { message: `cognito-local on port ${port} was not ready within 1 ms:\n` })
  t.ok(await portFreed(port))
})

t.test('the emulator does not outlive its parent process', async (t) => {
  const dir = t.testdir()
  const moduleUrl = pathToFileURL(fileURLToPath(new URL('../dev/cognito-local.ts', import.meta.url))).href
  const script = join(dir, 'parent.mts')
  writeFileSync(script, [
    `import { startCognitoLocal } from ${JSON.stringify(moduleUrl)}`,
    'const cl = await startCognitoLocal({ dataDir: process.argv[2] })',
    'console.log(cl.port)',
    "if (process.argv[3] === 'exit') process.exit(0)",
    'setInterval(() => {}, 1000)'
  ].join('\n'))
  // Keep the parents out of this run's coverage: they load the module through tsx, not tap's loader,
  // and their line mapping would not match.
  // tap's spawn hook puts its variables back on every child; an explicit _TAPJS_PROCESSINFO_COVERAGE_=0 stays and turns coverage off.
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NODE_OPTIONS|NODE_V8_COVERAGE|_TAPJS_)/.test(k))), _TAPJS_PROCESSINFO_COVERAGE_: '0' }

  for (const how of ['exit', 'SIGKILL']) {
    const dataDir = join(dir, how)
    mkdirSync(dataDir)
    const parent = spawn(process.execPath, ['--import', 'tsx', script, dataDir, how], { env, stdio: ['ignore', 'pipe', 'inherit'] })
    const [line] = await once(parent.stdout, 'data') as [Buffer]
    const port = Number(line.toString().trim())
    t.ok(port > 0, `${how}: emulator started on ${port}`)
    if (how === 'SIGKILL') parent.kill('SIGKILL')
    await once(parent, 'close')
    t.ok(await portFreed(port), `${how}: emulator gone after its parent ended`)
  }
})
