// The package as a host gets it. The working tree is copied out of the repo, as a git checkout, and installed
// into a scratch host project in a temporary directory, the way npm installs a git dependency; then a real
// request goes through it from plain ESM and from require(), and strict TypeScript hosts (alone, beside
// @fastify/jwt in both import orders, CommonJS) type-check against the installed declarations with
// skipLibCheck: false.
//
// How it installs without the network: `npm install --install-links <dir>` packs the directory with the same
// code that npm uses for a git dependency (pacote's DirFetcher: it runs `prepare`, never `prepack`, then packs
// `files`), so the build runs as it does for `npm install git+<url>`, but with no clone and no install of our
// devDependencies (the copy's node_modules links to the repo's, which the build needs). The other packages
// (the package's dependencies; fastify, @fastify/jwt, @fastify/auth, @types/node at the repo's installed versions) come
// from npm's cache with --prefer-offline: `npm ci` has put them there, so nothing is fetched in CI, and a
// cold cache still works, only slower. TypeScript is the repo's own compiler, run on the host's tsconfig.
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PACKAGE = 'fastify-authsignal-cognito'

// Children are plain Node, npm and tsc: without tap's loader and coverage (NODE_OPTIONS, _TAPJS_*; tap's spawn
// hook puts its variables back, an explicit _TAPJS_PROCESSINFO_COVERAGE_=0 stays) and without the variables an
// enclosing `npm test` sets for its own package (npm_package_*, npm_lifecycle_*, npm_config_local_prefix).
const childEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) =>
    !/^(NODE_OPTIONS|NODE_V8_COVERAGE|_TAPJS_|INIT_CWD$|npm_(package|lifecycle)_|npm_config_local_prefix$)/.test(key))),
  _TAPJS_PROCESSINFO_COVERAGE_: '0'
}

interface Run { code: number, stdout: string, stderr: string }

function run (command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise(resolve => {
    execFile(command, args, { cwd, env: childEnv, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

function installedVersion (name: string): string {
  return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version
}

const work = mkdtempSync(join(tmpdir(), 'authsignal-consumer-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))

// The working tree as a fresh clone would have it: tracked files and new ones git does not ignore.
const source = join(work, 'source')
const files = (await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT)).stdout.split('\0')
for (const file of files.filter(file => file !== '' && existsSync(join(ROOT, file)))) {
  mkdirSync(dirname(join(source, file)), { recursive: true })
  cpSync(join(ROOT, file), join(source, file))
}
symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'), 'dir')

const host = join(work, 'host')
mkdirSync(host)
writeFileSync(join(host, 'package.json'), JSON.stringify({ name: 'consumer-host', private: true, type: 'module' }))
const install = await run('npm', [
  'install', '--install-links', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error',
  source, ...['fastify', '@fastify/jwt', '@fastify/auth', '@types/node'].map(name => `${name}@${installedVersion(name)}`)
], host)
const installed = join(host, 'node_modules', PACKAGE)

t.test('installed the way npm installs a git dependency, the package holds its build (prepare ran) and ships only dist and the changelog', async t => {
  t.equal(install.code, 0, install.stderr)
  t.same(readdirSync(installed).sort(), ['CHANGELOG.md', 'LICENSE', 'README.md', 'dist', 'package.json'])
  for (const file of ['dist/index.js', 'dist/index.d.ts', 'dist/lib/testing/index.js', 'dist/lib/testing/index.d.ts']) {
    t.ok(existsSync(join(installed, file)), file)
  }
})

// One host app, loaded either way: the Cognito-like issuer and the Authsignal emulator of the package's own
// `/testing` export, the plugin, a request over HTTP to its list route and to a host route.
const HOST_APP = `
async function main ({ Fastify, authenticatorsPlugin, startCognitoIssuer, startAuthsignalEmulator }) {
  const issuer = await startCognitoIssuer()
  const emulator = await startAuthsignalEmulator()
  const app = Fastify()
  try {
    await app.register(authenticatorsPlugin, {
      cognito: { userPoolId: issuer.userPoolId, clientId: issuer.clientId, issuer: issuer.issuer, jwksUri: issuer.jwksUri },
      authsignal: { apiSecretKey: emulator.secret, apiUrl: emulator.apiUrl }
    })
    app.get('/me', { onRequest: app.authenticate }, async (request) => ({ sub: request.user.sub }))
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    emulator.seedAuthenticator('user-1', { verificationMethod: 'EMAIL_OTP', email: 'user@example.com' })
    const headers = { authorization: 'Bearer ' + issuer.mint({ sub: 'user-1' }) }
    const list = await fetch(url + '/authenticators', { headers })
    const me = await fetch(url + '/me', { headers })
    return { list: [list.status, await list.json()], me: [me.status, await me.json()] }
  } finally {
    await app.close()
    await Promise.all([issuer.close(), emulator.close()])
  }
}
`

const LOADERS: Record<string, [file: string, code: string]> = {
  'plain ESM (import)': ['esm.mjs', `import Fastify from 'fastify'
import authenticatorsPlugin from '${PACKAGE}'
import { startAuthsignalEmulator, startCognitoIssuer } from '${PACKAGE}/testing'
${HOST_APP}
console.log(JSON.stringify(await main({ Fastify, authenticatorsPlugin, startCognitoIssuer, startAuthsignalEmulator })))
`],
  'CommonJS (require)': ['cjs.cjs', `const Fastify = require('fastify')
const { authenticatorsPlugin } = require('${PACKAGE}')
const { startAuthsignalEmulator, startCognitoIssuer } = require('${PACKAGE}/testing')
const { version } = require('${PACKAGE}/package.json')
${HOST_APP}
main({ Fastify, authenticatorsPlugin, startCognitoIssuer, startAuthsignalEmulator })
  .then(result => console.log(JSON.stringify({ ...result, version })), err => { console.error(err); process.exitCode = 1 })
`]
}

for (const [how, [file, code]] of Object.entries(LOADERS)) {
  t.test(`from ${how}, a request goes through the installed plugin`, async t => {
    writeFileSync(join(host, file), code)
    const result = await run(process.execPath, [file], host)

    t.equal(result.code, 0, result.stderr)
    const answer = JSON.parse(result.stdout)
    t.match(answer.list, [200, { authenticators: [{ verificationMethod: 'EMAIL_OTP' }] }], 'GET /authenticators')
    t.same(answer.me, [200, { sub: 'user-1' }], 'a host route behind app.authenticate')
    if (file.endsWith('.cjs')) t.equal(answer.version, JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version, './package.json is exported')
  })
}

// Strict TypeScript hosts, each its own program (augmentations reach a whole program), skipLibCheck: false.
const ISSUER_OPTIONS = "{ cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'client' }, authsignal: { apiSecretKey: 'secret' } }"
// The README's set-up beside @fastify/jwt and @fastify/auth (test/beside-jwt/app.ts) against the installed
// package, with @fastify/jwt imported before the plugin, as app.ts has it, and after it.
const besideJwt = readFileSync(join(ROOT, 'test', 'beside-jwt', 'app.ts'), 'utf8').replaceAll("'../../index.js'", `'${PACKAGE}'`)
const pluginImport = `import authenticatorsPlugin, { type AuthenticatorsPluginOptions } from '${PACKAGE}'\n`
if (!besideJwt.includes(pluginImport)) throw new Error(`test/beside-jwt/app.ts no longer has the line ${pluginImport}`)

const TS_HOSTS: Record<string, { module: string, files: Record<string, string> }> = {
  'module nodenext, require() in a .cts': {
    module: 'nodenext',
    files: {
      'required.cts': `import Fastify = require('fastify')
import authenticators = require('${PACKAGE}')

const app = Fastify()
app.register(authenticators.authenticatorsPlugin, ${ISSUER_OPTIONS})
app.get('/me', { onRequest: app.authenticate }, async (request) => ({ sub: request.user.sub }))
`
    }
  },
  'module nodenext, beside @fastify/jwt imported first': {
    module: 'nodenext',
    files: { 'jwt-first.ts': besideJwt }
  },
  'module nodenext, beside @fastify/jwt imported last': {
    module: 'nodenext',
    files: { 'jwt-last.ts': pluginImport + besideJwt.replace(pluginImport, '') }
  },
  'module node16, ESM alone and a .cts through import()': {
    module: 'node16',
    files: {
      'alone.ts': `import Fastify from 'fastify'
import authenticatorsPlugin, { type CognitoClaims } from '${PACKAGE}'
import { startCognitoIssuer, type CognitoIssuer } from '${PACKAGE}/testing'

const issuer: CognitoIssuer = await startCognitoIssuer()
const app = Fastify()
await app.register(authenticatorsPlugin, { cognito: { userPoolId: issuer.userPoolId, clientId: issuer.clientId, issuer: issuer.issuer }, authsignal: { apiSecretKey: 'secret' } })
app.get('/me', { onRequest: app.authenticate }, async (request) => {
  const claims: CognitoClaims = request.user
  return { sub: claims.sub, groups: request.user['cognito:groups'] ?? [] }
})
`,
      'imported.cts': `import Fastify = require('fastify')
import type { CognitoClaims } from '${PACKAGE}' with { 'resolution-mode': 'import' }

export async function build (): Promise<ReturnType<typeof Fastify>> {
  const { default: authenticatorsPlugin } = await import('${PACKAGE}')
  const app = Fastify()
  await app.register(authenticatorsPlugin, ${ISSUER_OPTIONS})
  app.get('/me', { onRequest: app.authenticate }, async (request) => {
    const claims: CognitoClaims = request.user
    return { sub: claims.sub }
  })
  return app
}
`
    }
  }
}

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

t.test('strict TypeScript hosts type-check against the installed declarations with skipLibCheck: false', async t => {
  const checks = Object.entries(TS_HOSTS).map(([name, { module, files }], i) => {
    for (const [file, code] of Object.entries(files)) writeFileSync(join(host, file), code)
    const tsconfig = `tsconfig.${i}.json`
    writeFileSync(join(host, tsconfig), JSON.stringify({
      // lib without the DOM (a server's): a third less to check, and TypeScript's own libs are not what is tested.
      compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, module, target: 'es2022', lib: ['es2022'], types: ['node'] },
      files: Object.keys(files)
    }))
    return { name, args: [TSC, '-p', tsconfig] }
  })
  // Two at a time: the machines that run this have two cores.
  const results: Run[] = []
  for (let i = 0; i < checks.length; i += 2) {
    results.push(...await Promise.all(checks.slice(i, i + 2).map(check => run(process.execPath, check.args, host))))
  }
  checks.forEach((check, i) => t.equal(results[i]?.code, 0, `${check.name}${results[i]?.stdout === '' ? '' : `\n${results[i]?.stdout}`}`))
})
