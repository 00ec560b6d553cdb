// A host that emulates email OTP only installs neither @simplewebauthn/server nor otpauth: this process
// hides both (a module resolution hook, as if they were not in node_modules). The emulator still starts
// and serves email OTP, and each passkey or authenticator app route names the package to install.
import t from 'tap'
import { register } from 'node:module'
import { Authsignal } from '@authsignal/node'
import { startAuthsignalEmulator } from '../lib/testing/authsignal-emulator.js'

const HIDDEN = ['@simplewebauthn/server', 'otpauth']
const hook = `export async function resolve (specifier, context, next) {
  if (${JSON.stringify(HIDDEN)}.includes(specifier)) {
    throw Object.assign(new Error('Cannot find package ' + specifier), { code: 'ERR_MODULE_NOT_FOUND' })
  }
  return next(specifier, context)
}`
register(`data:text/javascript,${encodeURIComponent(hook)}`)

t.test('without the optional packages: email OTP works, passkey and TOTP routes answer 501 naming the package', async (t) => {
  for (const name of HIDDEN) await t.rejects(import(name), { code: 'ERR_MODULE_NOT_FOUND' }, `${name} is hidden`)
  const emu = await startAuthsignalEmulator()
  t.teardown(() => emu.close())
  const sdk = new Authsignal({ apiSecretKey: emu.secret, apiUrl: emu.apiUrl, retries: 0 })
  const { token } = await sdk.track({ userId: 'u1', action: 'addAuthenticator' })
  const post = async (path: string, body?: unknown): Promise<{ status: number, json: Record<string, unknown> }> => {
    const res = await fetch(`${emu.apiUrl}/client/${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) })
    return { status: res.status, json: await res.json() as Record<string, unknown> }
  }
  for (const [path, name] of [
    ['user-authenticators/passkey/registration-options', '@simplewebauthn/server'],
    ['user-authenticators/passkey/authentication-options', '@simplewebauthn/server'],
    ['user-authenticators/totp', 'otpauth']
  ] as const) {
    const { status, json } = await post(path)
    t.equal(status, 501, path)
    t.match(json, { errorCode: 'missing_dependency', errorDescription: `The Authsignal emulator needs the optional package ${name} for this route: npm install --save-dev ${name}` })
  }
  t.equal((await post('user-authenticators/email-otp', { email: 'a@example.com' })).status, 200)
  t.match((await post('verify/email-otp', { verificationCode: emu.sentOtps.at(-1)?.code })).json, { isVerified: true })
})
