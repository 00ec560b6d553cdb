// The browser demo's script: a plain ES module served by dev/demo.ts (no build step).
// Sign in (cognito-local through the dev-only POST /dev/login, or a pasted token), enrol an email OTP
// authenticator with @authsignal/browser against Authsignal's client API (the emulator in dev), open
// the pre-built UI, list and remove authenticators through the plugin's routes.
/* global document, fetch */
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

// A call to this app with the Cognito access token; every call is listed in the Requests panel.
async function api (method, path, body) {
  const headers = {}
  if (accessToken !== undefined) headers.authorization = `Bearer ${accessToken}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  const data = text === '' ? undefined : JSON.parse(text)
  log(`${method} ${path} → ${res.status}${data?.code ? ` ${data.code}` : ''}`, res.ok)
  return { status: res.status, ok: res.ok, data }
}

function describe (result) {
  return `${result.status} ${result.data?.code ?? ''}: ${result.data?.message ?? ''}`
}

async function signedIn (token) {
  accessToken = token
  const me = await api('GET', '/me')
  if (!me.ok) {
    accessToken = undefined
    return show('signin-status', `Not signed in: ${describe(me)}`, false)
  }
  show('signin-status', `Signed in as ${me.data.username} (sub ${me.data.sub})`, true)
  for (const id of ['step-enrol', 'step-prebuilt', 'step-list']) $(id).disabled = false
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
  const token = await api('POST', `${routes}/token`)
  if (!token.ok) return show('enrol-status', `No Authsignal token: ${describe(token)}`, false)
  authsignal.setToken(token.data.authsignalToken)
  const enrolled = await authsignal.email.enroll({ email })
  log(`authsignal.email.enroll({ email }) → ${enrolled.error ?? 'code sent'}`, !enrolled.error)
  if (enrolled.error) return show('enrol-status', `Enrolment refused: ${enrolled.error}`, false)
  show('enrol-status', `A code was sent to ${email}. Enter it and press Verify.`, true)
  if (config.devOtp) {
    const otp = await api('GET', '/dev/last-otp')
    const box = $('dev-otp')
    box.hidden = false
    box.innerHTML = ''
    box.append('Dev only (the emulator\'s "sent" email, from GET /dev/last-otp; also printed in the npm run dev console): code ')
    const code = document.createElement('code')
    code.id = 'dev-otp-code'
    code.textContent = otp.ok ? otp.data.otp : '?'
    box.append(code, ` for ${otp.ok ? otp.data.email : email}`)
  }
  $('verify-form').code.focus()
})

$('verify-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const verified = await authsignal.email.verify({ code: $('verify-form').code.value.trim() })
  const ok = verified.data?.isVerified === true
  log(`authsignal.email.verify({ code }) → ${ok ? 'verified' : (verified.error ?? verified.data?.failureReason)}`, ok)
  if (!ok) return show('enrol-status', `Not verified: ${verified.error ?? verified.data?.failureReason}`, false)
  added = verified.data.userAuthenticator
  show('enrol-status', `Verified: new ${added.verificationMethod} authenticator ${added.userAuthenticatorId}`, true)
  awaitWebhook(added.userAuthenticatorId, 'added')
  $('dev-otp').hidden = true
  $('verify-form').code.value = ''
  await refresh()
})

// 3. Pre-built UI
$('get-prebuilt').addEventListener('click', async () => {
  const result = await api('POST', `${routes}/prebuilt-ui`)
  const link = $('prebuilt-link')
  link.hidden = !result.ok
  if (result.ok) link.href = result.data.prebuiltUiUrl
})

// 4. List and remove
async function refresh () {
  const result = await api('GET', routes)
  const body = $('authenticators')
  body.innerHTML = ''
  if (!result.ok) return show('remove-status', `List failed: ${describe(result)}`, false)
  for (const a of result.data.authenticators) {
    const row = document.createElement('tr')
    row.dataset.id = a.userAuthenticatorId
    row.dataset.method = a.verificationMethod
    if (a.userAuthenticatorId === added?.userAuthenticatorId) row.className = 'new'
    const cells = [a.verificationMethod, a.email ?? a.phoneNumber ?? a.displayName ?? '', a.userAuthenticatorId.slice(0, 8) + '…', a.createdAt.slice(0, 19).replace('T', ' ')]
    for (const text of cells) {
      const td = document.createElement('td')
      td.textContent = text
      row.append(td)
    }
    const button = document.createElement('button')
    button.className = 'danger'
    button.textContent = 'Remove'
    button.addEventListener('click', () => remove(a))
    const td = document.createElement('td')
    td.append(button)
    row.append(td)
    body.append(row)
  }
}

async function remove (a) {
  const result = await api('DELETE', `${routes}/${encodeURIComponent(a.userAuthenticatorId)}`)
  if (result.status === 204) show('remove-status', `204: removed ${a.verificationMethod} ${a.userAuthenticatorId}`, true)
  else show('remove-status', `${describe(result)}`, false)
  if (result.status === 204) awaitWebhook(a.userAuthenticatorId, 'removed')
  await refresh()
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
