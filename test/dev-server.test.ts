// `npm run dev` (dev/server.ts and dev/*.ts): the environment it reads, what it prints,
// that the printed curl lines work, that it stops cleanly, and the CLI's messages and exit codes.
import t, { type Test } from 'tap'
import { execFile, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import { startAuthsignalEmulator } from '../lib/testing/authsignal-emulator.js'
import { Redis } from 'ioredis'
import { redisLock } from '../index.js'
import { startDevServer } from '../dev/server.js'
import { startRedis } from './fixtures/redis-server.js'
import { cliEntry, isMain, runCli, type CliProcess, type StartDevServer } from '../dev/cli.js'
import { DEFAULT_DATA_DIR, DevServerError, readDevConfig, type Env } from '../dev/config.js'
import { devOutput } from '../dev/output.js'
import { registerDemo } from '../dev/demo.js'
import { assertPortFree, portError } from '../dev/ports.js'
import { payloadOf } from './helpers.js'

const SERVER_TS = fileURLToPath(new URL('../dev/server.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function occupy (t: Test): Promise<number> {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return (server.address() as { port: number }).port
}

async function isFree (port: number, withinMs = 5000): Promise<boolean> {
  const until = Date.now() + withinMs
  for (;;) {
    if (await assertPortFree({ port, part: 'test', envName: 'X' }).then(() => true, () => false)) return true
    if (Date.now() > until) return false
    await sleep(50)
  }
}

// ---------------------------------------------------------------------------------------------------
// The environment (pure)

t.test('readDevConfig: no variables means both emulators on the default ports', async (t) => {
  t.same(readDevConfig({}), {
    appPort: 3000,
    cognito: { kind: 'local', port: 9229, dataDir: DEFAULT_DATA_DIR },
    authsignal: { kind: 'emulator', port: 4010 }
  })
  t.equal(DEFAULT_DATA_DIR, join(ROOT, '.dev', 'cognito-local'), 'in the git-ignored .dev/ folder')
  const blank = { COGNITO_USER_POOL_ID: '', COGNITO_CLIENT_ID: ' ', AWS_REGION: '', AUTHSIGNAL_SECRET: '', AUTHSIGNAL_API_URL: '', PORT: '' }
  t.same(readDevConfig(blank), readDevConfig({}), 'blank values (a copied .env.example) count as unset')
  t.same(readDevConfig({ AWS_REGION: 'eu-west-1' }), readDevConfig({}), 'AWS_REGION alone does not mean real Cognito')
})

t.test('readDevConfig: ports and the data folder from the environment, ports from code win', async (t) => {
  const env = { PORT: '3100', COGNITO_LOCAL_PORT: '9300', AUTHSIGNAL_EMULATOR_PORT: '0', COGNITO_LOCAL_DATA_DIR: 'tmp/data' }
  t.same(readDevConfig(env, {}, '/work'), {
    appPort: 3100,
    cognito: { kind: 'local', port: 9300, dataDir: '/work/tmp/data' },
    authsignal: { kind: 'emulator', port: 0 }
  })
  t.same(readDevConfig({ ...env, COGNITO_LOCAL_DATA_DIR: '/abs' }, { app: 1, cognito: 2, authsignal: 3 }), {
    appPort: 1,
    cognito: { kind: 'local', port: 2, dataDir: '/abs' },
    authsignal: { kind: 'emulator', port: 3 }
  })
  for (const bad of ['abc', '-1', '65536', '30.5']) {
    t.throws(() => readDevConfig({ COGNITO_LOCAL_PORT: bad }), new DevServerError(`COGNITO_LOCAL_PORT=${bad} is not a port number (0 to 65535; 0 picks a free port). See .env.example.`))
  }
})

t.test('readDevConfig: real Cognito needs both of its variables, consistent with AWS_REGION', async (t) => {
  const real = { COGNITO_USER_POOL_ID: 'eu-west-1_AbCdEf123', COGNITO_CLIENT_ID: '4pq1abc' }
  t.same(readDevConfig(real).cognito, { kind: 'aws', userPoolId: 'eu-west-1_AbCdEf123', clientId: '4pq1abc', region: 'eu-west-1' })
  t.same(readDevConfig({ ...real, AWS_REGION: 'eu-west-1', COGNITO_LOCAL_PORT: 'ignored' }).cognito.kind, 'aws')
  t.same(readDevConfig(real).authsignal, { kind: 'emulator', port: 4010 }, 'each side on its own')

  t.throws(() => readDevConfig({ COGNITO_USER_POOL_ID: real.COGNITO_USER_POOL_ID }), {
    name: 'DevServerError',
    message: 'COGNITO_USER_POOL_ID is set but COGNITO_CLIENT_ID is not. To use a real Cognito user pool set both (COGNITO_USER_POOL_ID such as eu-west-1_AbCdEf123 and the app client id COGNITO_CLIENT_ID); to use the local cognito-local emulator unset both. See .env.example.'
  })
  t.throws(() => readDevConfig({ COGNITO_CLIENT_ID: real.COGNITO_CLIENT_ID }), { message: /^COGNITO_CLIENT_ID is set but COGNITO_USER_POOL_ID is not\./ })
  t.throws(() => readDevConfig({ ...real, COGNITO_USER_POOL_ID: 'AbCdEf123' }), {
    message: 'COGNITO_USER_POOL_ID=AbCdEf123 is not a Cognito user pool id: expected "<region>_<id>" such as eu-west-1_AbCdEf123 (the "User pool ID" on the pool\'s overview page in the AWS console). See .env.example.'
  })
  t.throws(() => readDevConfig({ ...real, AWS_REGION: 'us-east-1' }), {
    message: 'AWS_REGION=us-east-1 does not match the region of COGNITO_USER_POOL_ID=eu-west-1_AbCdEf123 (eu-west-1). A user pool lives in one region: set AWS_REGION=eu-west-1 or leave it unset. See .env.example.'
  })
})

t.test('readDevConfig: real Authsignal needs its secret; the URL defaults to the plugin\'s', async (t) => {
  t.same(readDevConfig({ AUTHSIGNAL_SECRET: 's3cret' }).authsignal, { kind: 'authsignal', apiSecretKey: 's3cret', apiUrl: 'https://api.authsignal.com/v1' })
  t.same(readDevConfig({ AUTHSIGNAL_SECRET: 's3cret', AUTHSIGNAL_API_URL: 'https://au.api.authsignal.com/v1' }).authsignal,
    { kind: 'authsignal', apiSecretKey: 's3cret', apiUrl: 'https://au.api.authsignal.com/v1' })
  t.equal(readDevConfig({ AUTHSIGNAL_SECRET: 's3cret' }).cognito.kind, 'local', 'each side on its own')
  t.throws(() => readDevConfig({ AUTHSIGNAL_API_URL: 'https://au.api.authsignal.com/v1' }), {
    name: 'DevServerError',
    message: 'AUTHSIGNAL_API_URL is set but AUTHSIGNAL_SECRET is not. To use the real Authsignal set both (the secret key and your region\'s API URL, from the Authsignal portal\'s API keys page); to use the local Authsignal emulator unset both. See .env.example.'
  })
  t.throws(() => readDevConfig({ AUTHSIGNAL_SECRET: 's3cret', AUTHSIGNAL_API_URL: 'au.api.authsignal.com' }), {
    message: 'AUTHSIGNAL_API_URL=au.api.authsignal.com is not an http(s) URL: expected your region\'s API URL such as https://api.authsignal.com/v1 or https://au.api.authsignal.com/v1. See .env.example.'
  })
})

t.test('readDevConfig: REDIS_URL shares the rate limit and the removal lock; it must be a Redis URL', async (t) => {
  t.equal(readDevConfig({}).redisUrl, undefined, 'unset: both stay in the process')
  t.equal(readDevConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl, 'redis://127.0.0.1:6379')
  t.throws(() => readDevConfig({ REDIS_URL: '127.0.0.1:6379' }), {
    name: 'DevServerError',
    message: 'REDIS_URL=127.0.0.1:6379 is not a Redis URL: expected redis://host:port (or rediss:// for TLS). See .env.example.'
  })
})

t.test('readDevConfig: FRESH_SIGN_IN_SEC sets the token route\'s freshSignInSec; it must be 0 to 86400 seconds', async (t) => {
  t.equal(readDevConfig({}).freshSignInSec, undefined, 'unset: the plugin\'s default')
  t.equal(readDevConfig({ FRESH_SIGN_IN_SEC: '0' }).freshSignInSec, 0)
  for (const bad of ['-1', '1.5', 'ten', '86401']) {
    t.throws(() => readDevConfig({ FRESH_SIGN_IN_SEC: bad }), { message: `FRESH_SIGN_IN_SEC=${bad} is not a number of seconds from 0 to 86400. See .env.example.` })
  }
})

t.test('npm run dev with REDIS_URL: the rate limit and the removal lock live in that Redis; an outage is one log line per outage; an unreachable one is named; the password is in no message', async (t) => {
  const password = 'the-dev-redis-password'
  const redisServer = await startRedis(t, { password })
  const redisUrl = `redis://:${password}@127.0.0.1:${redisServer.port}`
  const shown = `redis://:***@127.0.0.1:${redisServer.port}`
  const lines: string[] = []
  const server = await startDevServer({
    env: { COGNITO_LOCAL_DATA_DIR: t.testdir(), REDIS_URL: redisUrl },
    ports: { app: 0, cognito: 0, authsignal: 0 },
    log: (line) => { lines.push(line) }
  })
  t.teardown(() => server.stop())
  const redis = new Redis(redisUrl)
  redis.on('error', () => {}) // the test stops this Redis below: ioredis reports each refused reconnect as an event
  t.teardown(() => redis.disconnect())
  const list = await fetch(`${server.urls.app}/authenticators`, { headers: { authorization: `Bearer ${server.token as string}` } })
  t.equal(list.status, 200)
  t.ok((await redis.keys('authenticators-rate-limit:*')).length > 0, 'the rate limit counts in Redis')
  const [first] = (await list.json()).authenticators as Array<{ userAuthenticatorId: string }>
  const lockStore = redisLock({ client: redis })
  // Someone else holds the demo user's lock: the removal waits, then answers 503 (the lock is in Redis).
  const sub = payloadOf(server.token as string).sub as string
  await lockStore.acquire(`remove:${sub}`, 'another-instance', 60_000, new AbortController().signal)
  const held = await fetch(`${server.urls.app}/authenticators/${first?.userAuthenticatorId}`, { method: 'DELETE', headers: { authorization: `Bearer ${server.token as string}` } })
  t.equal(held.status, 503)
  t.equal((await held.json()).code, 'FST_AUTHSIGNAL_LOCK_BUSY')

  // Redis goes away twice while the server runs: one line each time, however many reconnects fail.
  const outages = (): string[] => lines.filter(line => line.startsWith('[redis] '))
  const untilOutages = async (count: number): Promise<void> => { while (outages().length < count) await sleep(20) }
  await redisServer.stop()
  await untilOutages(1)
  // Meanwhile: the rate limit lets requests through (no 500 with the store's error), removals fail closed.
  const auth = { authorization: `Bearer ${server.token as string}` }
  t.equal((await fetch(`${server.urls.app}/authenticators`, { headers: auth })).status, 200, 'the list still answers')
  const refused = await fetch(`${server.urls.app}/authenticators/${first?.userAuthenticatorId}`, { method: 'DELETE', headers: auth })
  t.equal(refused.status, 503)
  t.equal((await refused.json()).code, 'FST_AUTHSIGNAL_LOCK_UNAVAILABLE')
  await redisServer.start()
  await redis.ping() // our own client is back: so is the server's, which reconnects on the same schedule
  while (!(await fetch(`${server.urls.app}/authenticators`, { headers: { authorization: `Bearer ${server.token as string}` } })).ok) await sleep(100)
  await redisServer.stop()
  await untilOutages(2)
  t.match(outages(), [new RegExp(`^\\[redis\\] ${shown.replace(/[*]/g, '\\*')} unreachable \\(.+\\): the rate limit is skipped and removals answer 503 until it is back$`), /^\[redis\] /])
  t.equal(outages().length, 2, 'one line per outage')
  await server.stop()

  await t.rejects(startDevServer({ env: { COGNITO_LOCAL_DATA_DIR: t.testdir(), REDIS_URL: redisUrl }, ports: { app: 0, cognito: 0, authsignal: 0 }, log: () => {} }), {
    name: 'DevServerError',
    message: new RegExp(`^REDIS_URL=redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redisServer.port} cannot be reached \\(.*\\): start Redis or unset REDIS_URL`)
  })
  t.same(lines.filter(line => line.includes(password)), [], 'the password is in no line')
  t.throws(() => readDevConfig({ REDIS_URL: `http://:${password}@host` }), { message: /^REDIS_URL=http:\/\/:\*\*\*@host is not a Redis URL/ })
})

t.test('portError names the port, the part and the variable; other errors pass through', async (t) => {
  const use = { port: 4010, part: 'the Authsignal emulator', envName: 'AUTHSIGNAL_EMULATOR_PORT' }
  t.same(portError(new Error('listen EADDRINUSE: address already in use 127.0.0.1:4010'), use), new DevServerError(
    'Port 4010 on 127.0.0.1 is already in use, so the Authsignal emulator cannot listen there. Stop whatever holds it ' +
    '(an earlier `npm run dev`? `lsof -i :4010` shows it) or pick another port with AUTHSIGNAL_EMULATOR_PORT=<port>.'))
  const other = new Error('EACCES')
  t.equal(portError(other, use), other)
  const taken = await occupy(t)
  await t.rejects(assertPortFree({ ...use, port: taken }), { name: 'DevServerError', message: new RegExp(`^Port ${taken} on 127\\.0\\.0\\.1 is already in use`) })
})

t.test('devOutput without the emulators: a token recipe and a placeholder id, no enrolment lines', async (t) => {
  const out = devOutput({
    appUrl: 'http://127.0.0.1:3000',
    demoUrl: 'http://localhost:3000/',
    prefix: '/authenticators',
    cognito: { kind: 'aws', userPoolId: 'eu-west-1_AbC', clientId: 'cid', region: 'eu-west-1' },
    authsignal: { kind: 'authsignal', apiUrl: 'https://au.api.authsignal.com/v1' },
    token: undefined,
    email: 'demo@example.com',
    seeded: []
  })
  t.equal(out.curlLines[0], 'TOKEN=$(aws cognito-idp initiate-auth --region eu-west-1 --client-id cid --auth-flow USER_PASSWORD_AUTH ' +
    '--auth-parameters USERNAME=<user>,PASSWORD=<password> --query AuthenticationResult.AccessToken --output text)')
  t.equal(out.curlLines[5], 'STEP_UP=$(curl -sS -X POST http://127.0.0.1:3000/authenticators/challenge-token -H "Authorization: Bearer $TOKEN" | ' +
    'sed -E \'s/.*"authsignalToken":"([^"]*)".*/\\1/\')')
  t.equal(out.curlLines[6], 'curl -sS -o /dev/null -w \'%{http_code}\\n\' -X DELETE http://127.0.0.1:3000/authenticators/$AUTHENTICATOR_ID ' +
    '-H "Authorization: Bearer $TOKEN" -H "x-authsignal-token: $STEP_UP"')
  t.same(out.enrolLines, [])
  t.same(out.stepUpLines, [], 'a client SDK completes the challenge with the real Authsignal')
  t.match(out.banner, '# 2. complete its challenge with a client SDK and another factor (the demo page does), STEP_UP=<the token it returns>')
  t.match(out.banner, 'cognito     https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC   your user pool, client cid')
  t.match(out.banner, 'authsignal  https://au.api.authsignal.com/v1   Authsignal (AUTHSIGNAL_SECRET)')
  t.match(out.banner, '# set AUTHENTICATOR_ID to a userAuthenticatorId from the list first')
  t.notMatch(out.banner, 'Enrol an email OTP')
  t.same(out.supportLines, [], 'no support agent without cognito-local')
  t.notMatch(out.banner, 'A lost phone')
})

// ---------------------------------------------------------------------------------------------------
// The dev server in this process, on free ports

const hasCurl = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v curl'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

/** Runs printed shell lines (curl when present). Without curl the lines are replayed with fetch. */
async function sh (script: string, withCurl = hasCurl): Promise<string> {
  if (withCurl) {
    return await new Promise((resolve, reject) => execFile('sh', ['-c', script], (err, stdout, stderr) => err === null ? resolve(stdout) : reject(new Error(`${err.message}\n${stderr}`))))
  }
  return await replay(script)
}

// A minimal reading of exactly the shapes devOutput prints (VAR='x', VAR=x, VAR=$(curl ... | sed ...), curl ...)
// and the tests add (echo "$VAR").
async function replay (script: string): Promise<string> {
  const vars: Record<string, string> = {}
  let out = ''
  const expand = (s: string): string => s.replace(/\$(\w+)/g, (_, name: string) => vars[name] ?? '')
  const curl = async (line: string): Promise<string> => {
    const url = /(https?:\/\/\S+)/.exec(line)?.[1] as string
    const method = /-X (\w+)/.exec(line)?.[1] ?? 'GET'
    const headers = Object.fromEntries([...line.matchAll(/-H ["']([^:]+): ([^"']+)["']/g)].map((m) => [m[1] as string, expand(m[2] as string)]))
    const data = /-d '([^']*)'/.exec(line)?.[1] ?? /-d "((?:[^"\\]|\\.)*)"/.exec(line)?.[1]?.replace(/\\"/g, '"')
    const res = await fetch(expand(url), { method, headers, body: data === undefined ? undefined : expand(data) })
    const text = await res.text()
    return line.includes('%{http_code}') ? `${res.status}\n` : line.includes("-w '\\n'") ? `${text}\n` : text
  }
  for (const line of script.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'))) {
    const assign = /^(\w+)=(.*)$/.exec(line)
    if (line.startsWith('echo ')) {
      out += `${expand(line.slice(5).replace(/"/g, ''))}\n`
    } else if (assign === null) {
      out += await curl(line)
    } else if (assign[2]?.startsWith('$(')) {
      const field = /"(\w+)":"\(\[/.exec(assign[2])?.[1] as string
      vars[assign[1] as string] = new RegExp(`"${field}":"([^"]*)"`).exec(await curl(assign[2]))?.[1] as string
    } else {
      vars[assign[1] as string] = (assign[2] as string).replace(/^'|'$/g, '')
    }
  }
  return out
}

t.test('npm run dev offline: starts, answers every printed curl line, runs the enrolment flow, stops', async (t) => {
  const lines: string[] = []
  const dataDir = t.testdir()
  const server = await startDevServer({
    env: { COGNITO_LOCAL_DATA_DIR: dataDir },
    ports: { app: 0, cognito: 0, authsignal: 0 },
    log: (line) => lines.push(line)
  })
  t.teardown(() => server.stop())
  const ports = [server.urls.app, server.urls.cognito as string, server.urls.authsignal].map((url) => Number(new URL(url).port))
  t.match(server.urls, { app: /^http:\/\/127\.0\.0\.1:\d+$/, cognito: /^http:\/\/127\.0\.0\.1:\d+$/, authsignal: /^http:\/\/127\.0\.0\.1:\d+\/v1$/ })
  t.match(server.token, /^eyJ/)
  t.equal(server.curlLines[0], `TOKEN='${server.token}'`)
  for (const line of [...server.curlLines, ...server.enrolLines, ...server.stepUpLines]) t.ok(server.banner.includes(line), 'the banner prints every line')
  t.match(server.banner, 'cognito-local: pool local_')
  t.match(server.banner, `data in ${dataDir}`)
  t.match(server.banner, 'demo user seeded with EMAIL_OTP and SMS')
  t.equal(server.urls.demo, `http://localhost:${new URL(server.urls.app).port}/`, 'the demo page on localhost: passkeys need a domain')
  t.match(server.banner, `demo page   ${server.urls.demo}   the whole flow in a browser`)
  t.match(server.banner, `openapi     ${server.urls.app}/documentation   Swagger UI (the document itself: ${server.urls.app}/documentation/json)`)

  // The browser demo's configuration and its dev-only helpers (the page itself: test/browser-demo.test.ts).
  const appGet = (path: string, token?: string): Promise<Response> =>
    fetch(`${server.urls.app}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
  t.same(await (await appGet('/demo/config.json')).json(), {
    prefix: '/authenticators',
    email: 'demo@example.com',
    authsignal: { baseUrl: server.urls.authsignal, tenantId: 'emulator-tenant' },
    login: { username: 'demo', password: 'Demo-passw0rd!' },
    devOtp: true,
    cognitoProfile: true
  })
  const page = await appGet('/')
  t.match(page.headers.get('content-type'), /^text\/html/)
  t.match(page.headers.get('content-security-policy'), `connect-src 'self' ${new URL(server.urls.authsignal).origin};`)
  t.match(await page.text(), '<script type="module" src="/demo/app.js"></script>')
  const sdk = await appGet('/demo/authsignal-browser.js')
  t.match(sdk.headers.get('content-type'), /^text\/javascript/)
  t.match(await sdk.text(), /\nexport \{ Authsignal, /, 'the SDK\'s ES module build')
  const login = (body: unknown): Promise<Response> => fetch(`${server.urls.app}/dev/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const signedIn = await login({ username: 'demo', password: 'Demo-passw0rd!' })
  t.equal(signedIn.status, 200)
  const pageToken = (await signedIn.json() as { accessToken: string }).accessToken
  t.match(await (await appGet('/me', pageToken)).json(), { username: 'demo' }, 'POST /dev/login gives a working access token')
  const refused = await login({ username: 'demo', password: 'wrong-passw0rd!' })
  t.equal(refused.status, 401)
  t.match(await refused.json(), { statusCode: 401, code: 'DEV_LOGIN_FAILED', message: /^cognito-local refused the sign-in: / })
  t.equal((await login({ username: 'demo' })).status, 400, 'the body is checked')
  t.equal((await appGet('/dev/last-otp')).status, 401, 'GET /dev/last-otp needs the user\'s token')
  const none = await appGet('/dev/last-otp', pageToken)
  t.equal(none.status, 404)
  t.match(await none.json(), { code: 'DEV_NO_OTP' })
  const openapi = await (await appGet('/documentation/json')).json() as { paths: Record<string, unknown> }
  t.same(Object.keys(openapi.paths).sort(), ['/authenticators/', '/authenticators/challenge-token', '/authenticators/prebuilt-ui',
    '/authenticators/support/users/{userId}/authenticators', '/authenticators/support/users/{userId}/authenticators/{userAuthenticatorId}',
    '/authenticators/token', '/authenticators/{userAuthenticatorId}', '/me'],
  'Swagger UI documents the host\'s routes, not the demo\'s')

  const [tokenLine, me, token, prebuilt, list, challengeToken, remove] = server.curlLines as [string, string, string, string, string, string, string]
  const run = (line: string, extra = ''): Promise<string> => sh(`${tokenLine}\n${extra}${line}`)
  const sub = payloadOf(server.token as string).sub
  t.same(JSON.parse(await run(me)), { sub, username: 'demo' })
  t.same(JSON.parse(await sh(`${tokenLine}\n${me}`, false)), { sub, username: 'demo' }, 'the fetch replay (for machines without curl) reads the lines alike')
  t.match(JSON.parse(await run(token)), { authsignalToken: /^[\w-]+\.[\w-]+\.[\w-]+$/ })
  t.match(JSON.parse(await run(prebuilt)), { prebuiltUiUrl: `${new URL(server.urls.authsignal).origin}/prebuilt?token=` })
  const seeded = JSON.parse(await run(list)).authenticators
  t.match(seeded, [{ verificationMethod: 'EMAIL_OTP' }, { verificationMethod: 'SMS' }])
  t.ok(remove.endsWith(`/authenticators/${seeded[1].userAuthenticatorId} -H "Authorization: Bearer $TOKEN" -H "x-authsignal-token: $STEP_UP"`), 'the delete line names the seeded SMS')
  t.equal(await run(remove), '403\n', 'not without a step-up')

  // The step-up exactly as printed, in two steps as a developer runs it: up to the code in the dev console, then on.
  const [challengeEmail, verifyEmail] = server.stepUpLines as [string, string]
  const [challenge, challenged] = (await run(`${challengeToken}\necho "$STEP_UP"\n${challengeEmail}`)).split('\n') as [string, string]
  t.match(challenge, /^[\w-]+\.[\w-]+\.[\w-]+$/)
  t.match(JSON.parse(challenged), { challengeId: String })
  const stepUpCode = (lines.at(-1) as string).slice(-6)
  t.match(lines.at(-1), /^\[authsignal emulator\] email OTP code for demo@example\.com: \d{6}$/, 'the code is printed')
  const [stepUp, removed] = (await run(`${verifyEmail}\necho "$STEP_UP"\n${remove}`, `STEP_UP='${challenge}'\nCODE=${stepUpCode}\n`)).split('\n') as [string, string]
  t.not(stepUp, challenge, 'the verified token')
  t.equal(removed, '204', 'removed with the step-up')
  t.equal(await run(remove, `STEP_UP='${stepUp}'\n`), '404\n', 'it is gone')

  // The email OTP enrolment exactly as printed, in two steps as a developer runs it: up to the code,
  // which appears in the dev console, then on; CODE and NEW_ID are what the developer reads off.
  const [asToken, enrol, verify, listAgain, removeNew] = server.enrolLines as [string, string, string, string, string]
  const before = lines.length
  const [asTokenValue, started] = (await sh(`${tokenLine}\n${asToken}\necho "$AS_TOKEN"\n${enrol}`)).split('\n') as [string, string]
  t.match(JSON.parse(started), { userId: sub, userAuthenticatorId: String })
  t.equal(lines.length, before + 1, 'one line printed')
  const otpLine = lines.at(-1) as string
  t.match(otpLine, /^\[authsignal emulator\] email OTP code for demo@example\.com: \d{6}$/, 'the code is printed')
  t.same(await (await appGet('/dev/last-otp', pageToken)).json(), { devOnly: true, email: 'demo@example.com', otp: otpLine.slice(-6) },
    'the demo page reads the same code')
  const verified = JSON.parse(await sh(`AS_TOKEN='${asTokenValue}'\nCODE=${otpLine.slice(-6)}\n${verify}`))
  t.match(verified, { isVerified: true, userAuthenticator: { verificationMethod: 'EMAIL_OTP', email: 'demo@example.com' } })
  const newId = verified.userAuthenticator.userAuthenticatorId as string
  const after = JSON.parse(await run(listAgain)).authenticators as Array<{ userAuthenticatorId: string, verificationMethod: string }>
  t.same(after.map((a) => a.verificationMethod), ['EMAIL_OTP', 'EMAIL_OTP'], 'the list shows the new EMAIL_OTP')
  t.equal(after[1]?.userAuthenticatorId, newId)
  t.equal(await run(removeNew, `NEW_ID=${newId}\n`), '403\n', 'not without a step-up')
  t.equal(await run(removeNew, `NEW_ID=${newId}\nSTEP_UP='${stepUp}'\n`), '204\n', 'the step-up token of the seeded email OTP removes another authenticator')

  // The lost-phone reset exactly as printed, in two steps: up to the agent's code in the dev console, then on.
  const [agentLine, userLine, supportList, agentChallenge, agentEmail, agentVerify, reset] = server.supportLines as [string, string, string, string, string, string, string]
  for (const line of server.supportLines) t.ok(server.banner.includes(line), 'the banner prints every support line')
  const agent = `${agentLine}\n${userLine}\n`
  t.same(JSON.parse(await sh(`${agent}${supportList}`)).authenticators.map((a: { verificationMethod: string }) => a.verificationMethod), ['EMAIL_OTP'], 'the agent lists the demo user\'s factors (the seeded email OTP is left)')
  const [agentTicket, agentChallenged] = (await sh(`${agent}${agentChallenge}\necho "$AGENT_STEP_UP"\n${agentEmail}`)).split('\n') as [string, string]
  t.match(JSON.parse(agentChallenged), { challengeId: String })
  t.match(lines.at(-1), /^\[authsignal emulator\] email OTP code for agent@example\.com: \d{6}$/, 'the agent\'s code is printed')
  t.same(JSON.parse(await sh(`${agent}AGENT_STEP_UP='${agentTicket}'\nCODE=${(lines.at(-1) as string).slice(-6)}\n${agentVerify}\n${reset}`)), { removed: 1 }, 'the reset removes the last one')
  t.same(JSON.parse(await run(list)).authenticators, [], 'the demo user has none left')

  await server.stop()
  await server.stop()
  for (const port of ports) t.ok(await isFree(port), `port ${port} is free after stop()`)
})

t.test('with the real services\' variables it starts neither emulator (each side on its own)', async (t) => {
  // A stand-in for the real Authsignal: an emulator this test owns, reached only through the variables.
  const upstream = await startAuthsignalEmulator({ secret: 'real-secret' })
  t.teardown(() => upstream.close())
  const cognitoPort = await freePort()
  const local = await startDevServer({
    env: { AUTHSIGNAL_SECRET: 'real-secret', AUTHSIGNAL_API_URL: upstream.apiUrl, COGNITO_LOCAL_DATA_DIR: t.testdir() },
    ports: { app: 0, cognito: cognitoPort, authsignal: 0 },
    log: () => {}
  })
  t.teardown(() => local.stop())
  t.equal(local.urls.authsignal, upstream.apiUrl)
  t.equal(local.urls.cognito, `http://127.0.0.1:${cognitoPort}`)
  t.same(local.enrolLines, [], 'no enrolment recipe against the real Authsignal')
  t.equal(local.supportLines.length, 5, 'the agent completes their challenge with a client SDK')
  t.match(local.banner, '# 3. complete it with a client SDK as the agent, AGENT_STEP_UP=<the token it returns>')
  t.match(local.banner, `authsignal  ${upstream.apiUrl}   Authsignal (AUTHSIGNAL_SECRET)`)
  const [tokenLine, , , , list, , remove] = local.curlLines as [string, string, string, string, string, string, string]
  t.same(JSON.parse(await sh(`${tokenLine}\n${list}`)), { authenticators: [] }, 'nothing is seeded in a real Authsignal')
  t.ok(remove.includes('/authenticators/$AUTHENTICATOR_ID '))
  t.ok(upstream.requests.length > 0 && upstream.requests.every((r) => r.authorized), 'the app called the given URL with the given secret')
  t.match(await (await fetch(`${local.urls.app}/demo/config.json`)).json(), {
    authsignal: { baseUrl: upstream.apiUrl, tenantId: 'unused-with-a-token' },
    login: { username: 'demo' },
    devOtp: false
  }, 'the demo page signs in to cognito-local and uses the real Authsignal\'s client API')
  t.equal((await fetch(`${local.urls.app}/dev/last-otp`)).status, 404, 'no dev-only code route: the real Authsignal sends real emails')
  await local.stop()

  const emulatorPort = await freePort()
  const aws = await startDevServer({
    env: { COGNITO_USER_POOL_ID: 'eu-west-1_AbCdEf123', COGNITO_CLIENT_ID: 'client123', AWS_REGION: 'eu-west-1' },
    ports: { app: 0, cognito: cognitoPort, authsignal: emulatorPort },
    log: () => {}
  })
  t.teardown(() => aws.stop())
  t.equal(aws.urls.cognito, undefined)
  t.equal(aws.token, undefined)
  t.ok(await isFree(cognitoPort, 0), 'no cognito-local')
  t.equal(aws.urls.authsignal, `http://127.0.0.1:${emulatorPort}/v1`, 'the emulator still runs for the Authsignal side')
  t.match(aws.banner, 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123   your user pool, client client123')
  t.match(aws.curlLines[0], /^TOKEN=\$\(aws cognito-idp initiate-auth --region eu-west-1 --client-id client123 /)
  const res = await fetch(`${aws.urls.app}/authenticators`)
  t.equal(res.status, 401, 'the routes are protected (a token would be checked against the pool\'s keys on AWS)')
  t.equal((await res.json() as { code: string }).code, 'FST_COGNITO_NO_TOKEN')
  t.match(await (await fetch(`${aws.urls.app}/demo/config.json`)).json(), { login: null, devOtp: true }, 'the demo page asks for a pasted token')
  t.match(await (await fetch(`${aws.urls.app}/demo/config.json`)).json(), { cognitoProfile: false }, 'no Cognito profile panel: the app cannot read a real pool')
  t.equal((await fetch(`${aws.urls.app}/dev/login`, { method: 'POST' })).status, 404, 'no dev-only login route for a real user pool')
  await aws.stop()
  t.ok(await isFree(emulatorPort))
})

t.test('a port in use is named, and whatever had started is stopped', async (t) => {
  const taken = await occupy(t)
  await t.rejects(startDevServer({ ports: { app: taken } }), {
    name: 'DevServerError',
    message: new RegExp(`^Port ${taken} on 127\\.0\\.0\\.1 is already in use, so the example app cannot listen there\\. .* PORT=<port>\\.$`)
  }, 'the app port is checked first (and process.env is the default environment)')

  const emulatorPort = await freePort()
  await t.rejects(startDevServer({ env: {}, ports: { app: 0, authsignal: taken }, log: () => {} }), {
    message: new RegExp(`^Port ${taken} .* so the Authsignal emulator cannot .* AUTHSIGNAL_EMULATOR_PORT=<port>\\.$`)
  })
  await t.rejects(startDevServer({ env: { COGNITO_LOCAL_DATA_DIR: t.testdir() }, ports: { app: 0, cognito: taken, authsignal: emulatorPort }, log: () => {} }), {
    message: new RegExp(`^Port ${taken} .* so cognito-local cannot .* COGNITO_LOCAL_PORT=<port>\\.$`)
  })
  t.ok(await isFree(emulatorPort), 'the emulator started before cognito-local failed is closed')

  // Any other failure keeps its own message (here cognito-local cannot create its data folder).
  const file = join(t.testdir({ file: 'x' }), 'file')
  await t.rejects(startDevServer({ env: { COGNITO_LOCAL_DATA_DIR: join(file, 'data') }, ports: { app: 0, cognito: 0, authsignal: emulatorPort }, log: () => {} }),
    { code: 'ENOTDIR' })
  t.ok(await isFree(emulatorPort))
})

t.test('POST /dev/login: cognito-local not answering is a 502, not a refused sign-in', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  registerDemo(app, {
    prefix: '/authenticators',
    email: 'demo@example.com',
    authsignal: { baseUrl: 'http://127.0.0.1:1/v1', tenantId: 't' },
    login: { username: 'demo', password: 'p', signIn: async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:9229') } }
  })
  const res = await app.inject({ method: 'POST', url: '/dev/login', payload: { username: 'demo', password: 'p' } })
  t.equal(res.statusCode, 502)
  t.same(res.json(), { statusCode: 502, code: 'DEV_LOGIN_UNAVAILABLE', error: 'Bad Gateway', message: 'cognito-local did not answer the sign-in: connect ECONNREFUSED 127.0.0.1:9229' })
})

// ---------------------------------------------------------------------------------------------------
// The command line, in-process with a stand-in process

class FakeProcess implements CliProcess {
  argv = ['node', SERVER_TS]
  out = ''
  err = ''
  exits: number[] = []
  exited: Promise<number>
  private resolveExit!: (code: number) => void
  private listeners: Array<{ event: string, listener: (signal: NodeJS.Signals) => void }> = []
  constructor (public env: Env = {}) {
    this.exited = new Promise<number>((resolve) => { this.resolveExit = resolve })
  }

  stdout = { write: (text: string) => { this.out += text } }
  stderr = { write: (text: string) => { this.err += text } }
  on (event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): this {
    this.listeners.push({ event, listener })
    return this
  }

  signal (signal: NodeJS.Signals): void {
    for (const { event, listener } of this.listeners) if (event === signal) listener(signal)
  }

  exit (code: number): void {
    this.exits.push(code)
    this.resolveExit(code)
  }
}

t.test('CLI: a failure to start is one paragraph on stderr and exit code 1', async (t) => {
  const config = new FakeProcess({ COGNITO_USER_POOL_ID: 'eu-west-1_AbCdEf123' })
  await runCli(startDevServer, config)
  t.equal(config.err, `${(() => { try { readDevConfig(config.env) } catch (err) { return (err as Error).message } })()}\n`)
  t.same(config.exits, [1])
  t.equal(config.out, '')

  const broken = new FakeProcess()
  await runCli(async () => { throw new Error('boom') }, broken)
  t.equal(broken.err, 'The dev server could not start: boom\n')
  t.same(broken.exits, [1])
})

t.test('CLI: prints the banner; SIGINT or SIGTERM stops everything and exits 0, a second signal exits at once', async (t) => {
  let stops = 0
  let finish!: () => void
  const start: StartDevServer = async (options) => {
    options.log('a line from the server')
    return { banner: 'BANNER', stop: () => { stops++; return new Promise<void>((resolve) => { finish = resolve }) } }
  }
  const proc = new FakeProcess()
  await runCli(start, proc)
  t.equal(proc.out, 'a line from the server\nBANNER\n')
  proc.signal('SIGTERM')
  proc.signal('SIGINT')
  t.equal(stops, 1)
  t.same(proc.exits, [1], 'the second signal does not wait')
  t.equal(proc.err, 'SIGINT again: exiting without waiting.\n')
  finish()
  await sleep(10)
  t.same(proc.exits, [1, 0])
  t.match(proc.out, 'SIGTERM: stopping the app, the Authsignal emulator and cognito-local...\nStopped.\n')

  const failing = new FakeProcess()
  await runCli(async () => ({ banner: '', stop: async () => { throw new Error('stuck') } }), failing)
  failing.signal('SIGINT')
  t.equal(await failing.exited, 1)
  t.equal(failing.err, 'Stopping failed: stuck\n')
})

t.test('CLI: the real dev server in-process, stopped by SIGINT', async (t) => {
  const [app, cognito, authsignal] = [await freePort(), await freePort(), await freePort()]
  const proc = new FakeProcess({ PORT: String(app), COGNITO_LOCAL_PORT: String(cognito), AUTHSIGNAL_EMULATOR_PORT: String(authsignal), COGNITO_LOCAL_DATA_DIR: t.testdir() })
  await cliEntry(pathToFileURL(SERVER_TS).href, startDevServer, proc)
  t.match(proc.out, `app         http://127.0.0.1:${app}`)
  t.match(proc.out, `cognito     http://127.0.0.1:${cognito}`)
  t.match(proc.out, `authsignal  http://127.0.0.1:${authsignal}/v1`)
  t.match(proc.out, /"msg":"Server listening at http:\/\/127\.0\.0\.1:\d+"/, 'the app logs to the same output')
  const me = await fetch(`http://127.0.0.1:${app}/me`)
  t.equal(me.status, 401)
  proc.signal('SIGINT')
  t.equal(await proc.exited, 0)
  for (const port of [app, cognito, authsignal]) t.ok(await isFree(port), `port ${port} freed`)
})

t.test('CLI: runs only when dev/server.ts is the script node started', async (t) => {
  const url = pathToFileURL(SERVER_TS).href
  t.ok(isMain(url, SERVER_TS))
  t.ok(isMain(url, join(ROOT, 'dev', '..', 'dev', 'server.ts')))
  t.notOk(isMain(url, join(ROOT, 'index.ts')))
  t.notOk(isMain(url, undefined))
  t.notOk(isMain(url, '/no/such/file'))
  let started = 0
  const proc = new FakeProcess()
  proc.argv = ['node', join(ROOT, 'test', 'dev-server.test.ts')]
  await cliEntry(url, async () => { started++; return { banner: '', stop: async () => {} } }, proc)
  t.equal(started, 0)
})

// ---------------------------------------------------------------------------------------------------
// The command line as a developer runs it (a child process: not part of this run's coverage)

// tsx children must not record coverage: their line mapping (tsx's transform) would not match this run's.
// Removing tap's variables is not enough, because tap's process-on-spawn hook adds its loader and
// variables back to every child; an explicit _TAPJS_PROCESSINFO_COVERAGE_=0 is kept and turns it off.
const childEnv = (extra: Env): Env => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NODE_OPTIONS|NODE_V8_COVERAGE|_TAPJS_)/.test(k))),
  _TAPJS_PROCESSINFO_COVERAGE_: '0',
  ...extra
})

function runDev (env: Env) {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER_TS], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const closed = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as string | null }))
  return { child, closed, out: () => out, err: () => err }
}

t.test('`tsx dev/server.ts`: bad variables and a taken port end with a message and exit code 1', async (t) => {
  const bad = runDev({ COGNITO_CLIENT_ID: 'abc' })
  t.same(await bad.closed, { code: 1, signal: null })
  t.match(bad.err(), /^COGNITO_CLIENT_ID is set but COGNITO_USER_POOL_ID is not\. .* See \.env\.example\.\n$/m)
  t.notMatch(bad.err(), /\n\s+at /, 'no stack trace')

  const taken = await occupy(t)
  const busy = runDev({ PORT: String(taken) })
  t.same(await busy.closed, { code: 1, signal: null })
  t.match(busy.err(), `Port ${taken} on 127.0.0.1 is already in use, so the example app cannot listen there.`)
  t.notMatch(busy.err(), /\n\s+at /)
})

t.test('`tsx dev/server.ts`: SIGINT stops the app, the emulator and cognito-local', async (t) => {
  const [app, cognito, authsignal] = [await freePort(), await freePort(), await freePort()]
  const dev = runDev({ PORT: String(app), COGNITO_LOCAL_PORT: String(cognito), AUTHSIGNAL_EMULATOR_PORT: String(authsignal), COGNITO_LOCAL_DATA_DIR: t.testdir() })
  t.teardown(() => { dev.child.kill('SIGKILL') })
  const until = Date.now() + 30_000
  while (!dev.out().includes('Ctrl-C stops everything.') && Date.now() < until) await sleep(50)
  const tokenLine = dev.out().split('\n').find((line) => line.startsWith('TOKEN=')) as string
  const meLine = dev.out().split('\n').find((line) => line.includes('/me ')) as string
  t.match(JSON.parse(await sh(`${tokenLine}\n${meLine}`)), { username: 'demo' }, 'a printed line works')
  dev.child.kill('SIGINT')
  t.same(await dev.closed, { code: 0, signal: null })
  t.match(dev.out(), 'SIGINT: stopping the app, the Authsignal emulator and cognito-local...\nStopped.\n')
  for (const port of [app, cognito, authsignal]) t.ok(await isFree(port), `port ${port} freed`)
})

t.test('.env.example, sourced as it says, documents every variable and changes nothing', async (t) => {
  const text = readFileSync(join(ROOT, '.env.example'), 'utf8')
  for (const name of ['COGNITO_USER_POOL_ID', 'COGNITO_CLIENT_ID', 'AWS_REGION', 'AUTHSIGNAL_SECRET', 'AUTHSIGNAL_API_URL', 'PORT', 'COGNITO_LOCAL_PORT', 'AUTHSIGNAL_EMULATOR_PORT', 'COGNITO_LOCAL_DATA_DIR', 'FRESH_SIGN_IN_SEC']) {
    t.match(text, new RegExp(`^(# )?${name}=`, 'm'), name)
  }
  t.match(text, 'set -a; . ./.env; set +a')
  const sourced = execFileSync('sh', ['-c', 'set -a; . ./.env.example; set +a; env'], { cwd: ROOT, env: {}, encoding: 'utf8' })
  const env = Object.fromEntries(sourced.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  t.same(readDevConfig(env), readDevConfig({}), 'both emulators, default ports')
})
