// The browser demo's script: a plain ES module served by dev/demo.ts (no build step).
// Sign in (cognito-local through the dev-only POST /dev/login, or a pasted token); enrol an email OTP, a
// passkey or an authenticator app with @authsignal/browser against Authsignal's client API (the emulator in
// dev); open the pre-built UI; list authenticators, and remove one with a step-up challenge completed with
// another factor; after a passkey is removed, tell the browser with the WebAuthn Signal API.
/* global document, fetch, location, PublicKeyCredential */
import { Authsignal } from '/demo/authsignal-browser.js'

const $ = (id) => document.getElementById(id)
const config = await (await fetch('/demo/config.json')).json()
const routes = config.prefix
// baseUrl: Authsignal's API URL (the emulator in dev); the SDK calls `${baseUrl}/client/...` with the token.
const authsignal = new Authsignal({ tenantId: config.authsignal.tenantId, baseUrl: config.authsignal.baseUrl })
let accessToken
// The authenticator this page added last: highlighted in the list.
let added

function log (text, ok) {
  const li = document.createElement('li')
  li.textContent = text
  li.className = ok ? 'ok' : 'error'
  $('log').append(li)
}

function show (id, text, ok) {
  $(id).textContent = text
  $(id).className = `status ${ok ? 'ok' : 'error'}`
}

// A call to this app with the Cognito access token; every call is listed in the Requests panel (never a token).
async function api (method, path, body, extraHeaders = {}) {
  const headers = { ...extraHeaders }
  if (accessToken !== undefined) headers.authorization = `Bearer ${accessToken}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  const data = text === '' ? undefined : JSON.parse(text)
  log(`${method} ${path} → ${res.status}${data?.code ? ` ${data.code}` : ''}`, res.ok)
  return { status: res.status, ok: res.ok, data }
}

// A call of @authsignal/browser, listed in the Requests panel: its answer, or what the browser threw (a
// WebAuthn refusal, say). `ok` when it neither failed nor was refused; `why` says why not.
async function sdk (label, call, done) {
  const result = await call().catch((err) => ({ error: `${err.name}: ${err.message}` }))
  const why = result.error ?? (result.data?.isVerified === false ? result.data.failureReason : undefined)
  log(`${label} → ${why ?? done}`, why === undefined)
  return { ...result, ok: why === undefined, why }
}

function describe (result) {
  return `${result.status} ${result.data?.code ?? ''}: ${result.data?.message ?? ''}`
}

// An Authsignal token that may enrol `what` for the signed-in user, or undefined. POST /authenticators/token
// answers `challengeRequired` when the sign-in is older than the plugin's freshSignInSec and the user has an
// authenticator: the user first completes a challenge with one of them (the panel under "Your authenticators"),
// and the token its verify answers is the one that may enrol.
async function enrolmentToken (statusId, what) {
  const token = await api('POST', `${routes}/token`)
  if (!token.ok) {
    show(statusId, `No Authsignal token: ${describe(token)}`, false)
    return undefined
  }
  if (!token.data.challengeRequired) return token.data.authsignalToken
  show(statusId, 'challengeRequired: your sign-in is not recent, so prove it is you with a factor you already have first (below).', true)
  const verified = await new Promise((resolve) => openChallenge(token.data.authsignalToken, `Add ${what}: prove it is you with a factor you already have.`, resolve))
  if (verified === undefined) show(statusId, 'Not enrolled: the challenge was not completed.', false)
  return verified
}

// Dev only: the code the emulator "sent" (GET /dev/last-otp), shown in the box `id`.
async function showDevOtp (id, codeId, email) {
  if (!config.devOtp) return
  const otp = await api('GET', '/dev/last-otp')
  const box = $(id)
  box.hidden = false
  box.innerHTML = ''
  box.append('Dev only (the emulator\'s "sent" email, from GET /dev/last-otp; also printed in the npm run dev console): code ')
  const code = document.createElement('code')
  code.id = codeId
  code.textContent = otp.ok ? otp.data.otp : '?'
  box.append(code, ` for ${otp.ok ? otp.data.email : email}`)
}

async function signedIn (token) {
  accessToken = token
  const me = await api('GET', '/me')
  if (!me.ok) {
    accessToken = undefined
    return show('signin-status', `Not signed in: ${describe(me)}`, false)
  }
  show('signin-status', `Signed in as ${me.data.username} (sub ${me.data.sub})`, true)
  for (const id of ['step-enrol', 'step-passkey', 'step-totp', 'step-prebuilt', 'step-list']) $(id).disabled = false
  await refresh()
  await showProfile()
}

// 1. Sign in
if (config.login) {
  const form = $('login-form')
  form.hidden = false
  form.username.value = config.login.username
  form.password.value = config.login.password
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const result = await api('POST', '/dev/login', { username: form.username.value, password: form.password.value })
    if (!result.ok) return show('signin-status', `Sign-in failed: ${describe(result)}`, false)
    await signedIn(result.data.accessToken)
  })
} else {
  const form = $('paste-form')
  form.hidden = false
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    await signedIn(form.token.value.trim())
  })
}

// 2. Enrol an email OTP authenticator (Custom UI flow)
$('enrol-form').email.value = config.email
$('enrol-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const email = $('enrol-form').email.value
  const token = await enrolmentToken('enrol-status', 'an email OTP authenticator')
  if (token === undefined) return
  authsignal.setToken(token)
  const enrolled = await sdk('authsignal.email.enroll({ email })', () => authsignal.email.enroll({ email }), 'code sent')
  if (!enrolled.ok) return show('enrol-status', `Enrolment refused: ${enrolled.why}`, false)
  show('enrol-status', `A code was sent to ${email}. Enter it and press Verify.`, true)
  await showDevOtp('dev-otp', 'dev-otp-code', email)
  $('verify-form').code.focus()
})

// The code form of an enrolment (email OTP, authenticator app): verifies the code, then lists the new authenticator.
function onEnrolmentCode (formId, statusId, label, verify, done) {
  $(formId).addEventListener('submit', async (event) => {
    event.preventDefault()
    const code = $(formId).code.value.trim()
    const verified = await sdk(label, () => verify(code), 'verified')
    if (!verified.ok) return show(statusId, `Not verified: ${verified.why}`, false)
    added = verified.data.userAuthenticator
    show(statusId, `Verified: new ${added.verificationMethod} authenticator ${added.userAuthenticatorId}`, true)
    awaitWebhook(added.userAuthenticatorId, 'added')
    $(formId).code.value = ''
    done()
    await refresh()
  })
}

onEnrolmentCode('verify-form', 'enrol-status', 'authsignal.email.verify({ code })', (code) => authsignal.email.verify({ code }), () => {
  $('dev-otp').hidden = true
})

// 3. Enrol a passkey. WebAuthn refuses an IP address as the RP id: the page must be opened on a domain.
if (/^[\d.]+$|^\[/.test(location.hostname)) {
  show('passkey-status', `Passkeys need a domain: open this page at http://localhost:${location.port}/`, false)
}
$('create-passkey').addEventListener('click', async () => {
  const token = await enrolmentToken('passkey-status', 'a passkey')
  if (token === undefined) return
  const created = await sdk('authsignal.passkey.signUp({ token })', () => authsignal.passkey.signUp({ token }), 'passkey created')
  if (!created.ok) return show('passkey-status', `No passkey: ${created.why}`, false)
  added = created.data.userAuthenticator
  show('passkey-status', `Created: new PASSKEY authenticator ${added.userAuthenticatorId}`, true)
  await refresh()
})

// 4. Enrol an authenticator app: the secret (and its otpauth URI) to add to the app, then a code from it.
$('enrol-totp').addEventListener('click', async () => {
  const token = await enrolmentToken('totp-status', 'an authenticator app')
  if (token === undefined) return
  authsignal.setToken(token)
  const enrolled = await sdk('authsignal.totp.enroll()', () => authsignal.totp.enroll(), 'secret issued')
  if (!enrolled.ok) return show('totp-status', `Enrolment refused: ${enrolled.why}`, false)
  $('totp-secret').textContent = enrolled.data.secret
  $('totp-uri').textContent = enrolled.data.uri
  $('totp-setup').hidden = false
  $('totp-form').hidden = false
  show('totp-status', 'Add the secret to your authenticator app, then enter the code it shows and press Verify.', true)
  $('totp-form').code.focus()
})

onEnrolmentCode('totp-form', 'totp-status', 'authsignal.totp.verify({ code })', (code) => authsignal.totp.verify({ code }), () => {
  $('totp-setup').hidden = true
  $('totp-form').hidden = true
})

// 5. Pre-built UI
$('get-prebuilt').addEventListener('click', async () => {
  const result = await api('POST', `${routes}/prebuilt-ui`)
  const link = $('prebuilt-link')
  link.hidden = !result.ok
  if (result.ok) link.href = result.data.prebuiltUiUrl
})

// 6. List and remove
function detail (a) {
  if (a.passkey !== undefined) {
    const kept = a.passkey.backedUp === undefined ? '' : ` · ${a.passkey.backedUp ? 'synced' : 'this device only'}`
    return `${a.passkey.name ?? 'Passkey'}${kept}`
  }
  return a.email ?? a.phoneNumber ?? a.displayName ?? ''
}

const when = (iso) => iso === undefined ? '' : iso.slice(0, 19).replace('T', ' ')
let listed = []

async function refresh () {
  const result = await api('GET', routes)
  const body = $('authenticators')
  body.innerHTML = ''
  if (!result.ok) return show('remove-status', `List failed: ${describe(result)}`, false)
  listed = result.data.authenticators
  for (const a of listed) {
    const row = document.createElement('tr')
    row.dataset.id = a.userAuthenticatorId
    row.dataset.method = a.verificationMethod
    if (a.userAuthenticatorId === added?.userAuthenticatorId) row.className = 'new'
    const cells = [a.verificationMethod, detail(a), a.userAuthenticatorId.slice(0, 8) + '…', when(a.createdAt), when(a.lastVerifiedAt)]
    for (const text of cells) {
      const td = document.createElement('td')
      td.textContent = text
      row.append(td)
    }
    const button = document.createElement('button')
    button.className = 'danger'
    button.textContent = 'Remove'
    button.addEventListener('click', () => startRemoval(a))
    const td = document.createElement('td')
    td.append(button)
    row.append(td)
    body.append(row)
  }
  return result.data
}

// The challenge under way (a removal's step-up, or the one an enrolment needs first): its token, the factor
// picked to complete it, and what to do with the token its verify answers (undefined: cancelled).
let challenge

function closeStepUp () {
  challenge = undefined
  $('stepup').hidden = true
  $('stepup-dev-otp').hidden = true
  $('stepup-form').hidden = true
  $('stepup-form').code.value = ''
  show('stepup-status', '', true)
}

function openChallenge (token, title, done) {
  closeStepUp()
  challenge = { token, done }
  authsignal.setToken(token)
  const methods = new Set(listed.map((x) => x.verificationMethod))
  $('stepup-email').hidden = !methods.has('EMAIL_OTP')
  $('stepup-totp').hidden = !methods.has('AUTHENTICATOR_APP')
  $('stepup-passkey').hidden = !methods.has('PASSKEY')
  $('stepup-title').textContent = title
  show('stepup-status', 'Pick the factor to complete the challenge with.', true)
  $('stepup').hidden = false
  $('stepup').scrollIntoView({ block: 'center' })
}

// The token the verify answered goes to whoever opened the challenge.
async function challengeDone (verifiedToken) {
  const { done } = challenge
  closeStepUp()
  await done(verifiedToken)
}

async function startRemoval (a) {
  closeStepUp()
  const stepUp = await api('POST', `${routes}/challenge-token`)
  if (!stepUp.ok) return show('remove-status', `No step-up token: ${describe(stepUp)}`, false)
  openChallenge(stepUp.data.authsignalToken, `Remove ${a.verificationMethod} ${detail(a)}: prove it is you with another factor.`,
    async (verifiedToken) => { if (verifiedToken !== undefined) await finishRemoval(a, verifiedToken) })
}

$('stepup-cancel').addEventListener('click', () => challengeDone(undefined))

$('stepup-email').addEventListener('click', async () => {
  const sent = await sdk('authsignal.email.challenge()', () => authsignal.email.challenge(), 'code sent')
  if (!sent.ok) return show('stepup-status', `No code sent: ${sent.why}`, false)
  challenge.verify = (code) => authsignal.email.verify({ code })
  challenge.label = 'authsignal.email.verify({ code })'
  show('stepup-status', 'A code was sent to your email address: enter it.', true)
  await showDevOtp('stepup-dev-otp', 'stepup-otp-code', 'your address')
  $('stepup-form').hidden = false
  $('stepup-form').code.focus()
})

$('stepup-totp').addEventListener('click', () => {
  challenge.verify = (code) => authsignal.totp.verify({ code })
  challenge.label = 'authsignal.totp.verify({ code })'
  show('stepup-status', 'Enter the code your authenticator app shows.', true)
  $('stepup-dev-otp').hidden = true
  $('stepup-form').hidden = false
  $('stepup-form').code.focus()
})

$('stepup-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const code = $('stepup-form').code.value.trim()
  const verified = await sdk(challenge.label, () => challenge.verify(code), 'verified')
  if (!verified.ok) return show('stepup-status', `Not verified: ${verified.why}`, false)
  await challengeDone(verified.data.token)
})

$('stepup-passkey').addEventListener('click', async () => {
  const { token } = challenge
  const signedIn = await sdk('authsignal.passkey.signIn({ token })', () => authsignal.passkey.signIn({ token }), 'verified')
  if (!signedIn.ok) return show('stepup-status', `Not verified: ${signedIn.why}`, false)
  await challengeDone(signedIn.data.token)
})

// The DELETE with the completed challenge's token; after a passkey, the browser is told which ones remain.
async function finishRemoval (a, token) {
  const result = await api('DELETE', `${routes}/${encodeURIComponent(a.userAuthenticatorId)}`, undefined, { 'x-authsignal-token': token })
  if (result.status === 204) show('remove-status', `204: removed ${a.verificationMethod} ${a.userAuthenticatorId}`, true)
  else show('remove-status', `${describe(result)}`, false)
  if (result.status === 204) awaitWebhook(a.userAuthenticatorId, 'removed')
  const list = await refresh()
  if (result.status === 204 && a.passkey !== undefined) await signalPasskeys(list?.passkeySignal)
}

// The WebAuthn Signal API: the passkey provider may drop this user's passkeys of this RP that are not listed.
async function signalPasskeys (signal) {
  const call = 'PublicKeyCredential.signalAllAcceptedCredentials(passkeySignal)'
  if (signal === undefined) return log(`${call}: the list has no passkeySignal (routes.list.passkeyRpId is not set)`, true)
  if (typeof PublicKeyCredential === 'undefined' || typeof PublicKeyCredential.signalAllAcceptedCredentials !== 'function') {
    return log(`${call}: not supported by this browser`, true)
  }
  try {
    await PublicKeyCredential.signalAllAcceptedCredentials(signal)
    log(`${call} → ${signal.allAcceptedCredentialIds.length} passkey(s) kept for ${signal.rpId}`, true)
  } catch (err) {
    log(`${call} → ${err.name}: ${err.message}`, false)
  }
}

$('refresh').addEventListener('click', () => refresh())

// 5. Cognito profile (dev only): what the plugin's cognitoSync wrote to cognito-local when Authsignal's webhook
// (here the emulator's) arrived. Read without the Requests log: the page polls it while a webhook is on its way.
async function readProfile () {
  const res = await fetch('/dev/cognito-profile', { headers: { authorization: `Bearer ${accessToken}` } })
  return res.ok ? await res.json() : undefined
}

async function showProfile () {
  if (!config.cognitoProfile) return undefined
  const profile = await readProfile()
  if (profile === undefined) return undefined
  $('profile-panel').hidden = false
  for (const name of ['email', 'email_verified', 'phone_number', 'phone_number_verified']) $(`profile-${name}`).textContent = profile.attributes[name] ?? '—'
  const e = profile.lastEvent
  const panel = $('profile-panel')
  panel.dataset.eventId = e?.userAuthenticatorId ?? ''
  panel.dataset.eventType = e?.type ?? ''
  $('profile-event').textContent = e ? `Last webhook acted on: ${e.type} ${e.verificationMethod} ${e.userAuthenticatorId}` : 'No webhook acted on yet'
  return e
}

// Waits (up to 15 s) for the webhook about this change to be acted on, then shows the profile it left.
async function awaitWebhook (userAuthenticatorId, type) {
  const until = Date.now() + 15_000
  for (;;) {
    const e = await showProfile()
    if ((e?.userAuthenticatorId === userAuthenticatorId && e?.type === type) || Date.now() > until) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
