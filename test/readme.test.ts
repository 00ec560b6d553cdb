// The README as a newcomer follows it: the quick start's file runs exactly as written (so it cannot rot), its
// install lines name the package's repository, and the SAM template's Lambda `Timeout` is removalWorstCaseMs()'s.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { removalWorstCaseMs } from '../index.js'
import { childEnv, ROOT } from './fixtures/children.js'

const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string, repository: { url: string } }

/** The text of a `## ` section of the README, up to the next one. */
function section (title: string): string {
  const start = README.indexOf(`\n## ${title}\n`)
  if (start === -1) throw new Error(`README has no section "${title}"`)
  const end = README.indexOf('\n## ', start + 1)
  return README.slice(start, end === -1 ? undefined : end)
}

/** The fenced code blocks of `text` in the given language, in order. */
function codeBlocks (text: string, language: string): string[] {
  return [...text.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map(match => match[1] ?? '')
}

const quickStart = section('Quick start')

t.test('the quick start comes right after the introduction: the clone\'s two commands, then the install line', async t => {
  t.equal(README.indexOf('\n## '), README.indexOf('\n## Quick start\n'), 'the first section')
  const [clone, install] = codeBlocks(quickStart, 'sh')
  t.match(clone, /^npm install$/m)
  t.match(clone, /^npm run dev$/m)
  const repository = PACKAGE.repository.url.replace(/^git\+/, '')
  t.match(clone, `git clone ${repository}`, 'clones package.json\'s repository')
  t.match(install, `git+${repository}`, 'installs from package.json\'s repository')
  t.match(section('Install'), `npm install git+${repository}#`, 'so does the Install section')
})

t.test('the quick start\'s host file runs as written: one request answered, everything closed, the process ends', async t => {
  const [file] = codeBlocks(quickStart, 'js')
  t.ok(file, 'a js block')
  // A scratch project outside the repo: `fastify` from the repo's install, the package itself from its source
  // (tsx's tsconfig paths), so the file is run as written against the code under test, not a stale build.
  const project = mkdtempSync(join(tmpdir(), 'authsignal-quickstart-'))
  t.teardown(() => rmSync(project, { recursive: true, force: true }))
  mkdirSync(join(project, 'node_modules'))
  symlinkSync(join(ROOT, 'node_modules', 'fastify'), join(project, 'node_modules', 'fastify'), 'dir')
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { paths: { [PACKAGE.name]: [join(ROOT, 'index.ts')], [`${PACKAGE.name}/testing`]: [join(ROOT, 'lib/testing/index.ts')] } }
  }))
  writeFileSync(join(project, 'quickstart.mjs'), file ?? '')
  const run = await new Promise<{ code: number | null, signal: string | null, stdout: string, stderr: string }>(resolve => {
    const child = execFile(join(ROOT, 'node_modules/.bin/tsx'), ['quickstart.mjs'], { cwd: project, env: childEnv(), timeout: 90_000 }, (_err, stdout, stderr) => {
      resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr })
    })
  })
  t.equal(run.signal, null, 'ended on its own: the app and both stand-ins were closed')
  t.equal(run.code, 0, run.stderr)
  const [status, body] = [run.stdout.slice(0, 4), run.stdout.slice(4)]
  t.equal(status, '200 ')
  const listed = JSON.parse(body) as { authenticators: Array<{ verificationMethod: string, email?: string }> }
  t.match(listed.authenticators, [{ verificationMethod: 'EMAIL_OTP', email: /^a•+@example\.com$/ }], 'the seeded authenticator, masked')
  t.notMatch(run.stdout, 'ada@example.com', 'the address never in full')
  t.match(quickStart, '"verificationMethod":"EMAIL_OTP"', 'the README shows what it prints')
  t.match(quickStart, `"email":"${listed.authenticators[0]?.email ?? ''}"`, 'with the masked address as printed')
})

t.test('the SAM template\'s Lambda Timeout is removalWorstCaseMs() of the example\'s options with the step-up, plus 1 s', async t => {
  const lambda = section('AWS Lambda behind API Gateway')
  const stated = /Timeout: (\d+) +# removalWorstCaseMs\(options\): (\d+) s with the step-up, \+ 1 s/.exec(lambda)
  t.ok(stated, 'the Timeout line says where it comes from')
  // examples/lambda.ts registers the defaults with its pool, client and secret (its shared lock changes no bound).
  const worstMs = removalWorstCaseMs({
    cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'client' },
    authsignal: { apiSecretKey: 'secret' },
    routes: { remove: { requireChallenge: true } }
  })
  t.equal(Number(stated?.[2]), worstMs / 1000, 'the worst case it states')
  t.equal(Number(stated?.[1]), Math.ceil(worstMs / 1000) + 1, 'the Timeout')
  t.match(lambda, `: ${worstMs / 1000} s; the template adds 1 s`, 'the text below the template states it too')
})
