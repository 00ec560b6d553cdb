// The emulator's stand-in for Authsignal's pre-built UI: one small HTML page that enrols or
// challenges an email OTP authenticator through the emulator's own client API.

export interface PageAuthenticator {
  userAuthenticatorId: string
  verificationMethod: string
  createdAt: string
  email?: string
  phoneNumber?: string
  displayName?: string
}

export interface PrebuiltPageInput {
  token: string
  userId: string
  action: string
  state: string
  settings: boolean // "manage authenticators" mode: lists them and offers to add one
  authenticators: PageAuthenticator[]
  doneHref: string | undefined
  nonce: string
}

export function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

// Only http(s) targets: a `javascript:` redirectUrl must not become a clickable link.
// Like Authsignal, the token is appended so the host can validate the outcome.
export function doneHref (redirectUrl: unknown, token: string): string | undefined {
  if (typeof redirectUrl !== 'string' || !URL.canParse(redirectUrl)) return undefined
  const url = new URL(redirectUrl)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  url.searchParams.set('token', token)
  return url.href
}

const SCRIPT = `
const cfg = JSON.parse(document.getElementById('cfg').textContent)
const out = document.getElementById('out')
async function call (path, body) {
  const res = await fetch('/v1/client/' + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + cfg.token },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return res.json()
}
function show (r) { out.textContent = r.errorDescription || r.failureReason || (r.isVerified ? 'Verified.' : 'Code sent.') }
for (const form of document.querySelectorAll('form[data-flow]')) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    const flow = form.dataset.flow
    const code = form.querySelector('[name=code]')
    if (code.hidden) {
      const r = flow === 'enroll'
        ? await call('user-authenticators/email-otp', { email: form.querySelector('[name=email]').value })
        : await call('challenge/email-otp')
      show(r)
      if (!r.error) code.hidden = false
    } else {
      const r = await call('verify/email-otp', { verificationCode: code.value })
      show(r)
      if (r.isVerified) setTimeout(() => location.reload(), 500)
    }
  })
}
`

export function renderPrebuiltPage (input: PrebuiltPageInput): string {
  const hasEmail = input.authenticators.some((a) => a.verificationMethod === 'EMAIL_OTP')
  const list = input.authenticators.map((a) => {
    const detail = [a.email, a.phoneNumber, a.displayName].filter(Boolean).join(' · ')
    return `<li data-id="${escapeHtml(a.userAuthenticatorId)}">${escapeHtml(a.verificationMethod)} ${escapeHtml(detail)} (added ${escapeHtml(a.createdAt)})</li>`
  }).join('')
  const cfg = JSON.stringify({ token: input.token }).replace(/</g, '\\u003c')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authsignal emulator</title></head>
<body>
<h1>Authsignal emulator: ${input.settings ? 'manage authenticators' : 'verify'}</h1>
<p>User <code>${escapeHtml(input.userId)}</code>, action <code>${escapeHtml(input.action)}</code>, state <strong id="state">${escapeHtml(input.state)}</strong></p>
${input.settings ? `<h2>Your authenticators</h2><ul id="authenticators">${list}</ul>` : ''}
${hasEmail ? '<form data-flow="challenge"><h2>Verify with your email code</h2><input name="code" placeholder="6-digit code" hidden><button>Continue</button></form>' : ''}
${input.settings || !hasEmail ? '<form data-flow="enroll"><h2>Add email OTP</h2><input name="email" type="email" placeholder="you@example.com"><input name="code" placeholder="6-digit code" hidden><button>Continue</button></form>' : ''}
<p id="out" role="status"></p>
${input.doneHref === undefined ? '<p>You can close this window.</p>' : `<a id="done" href="${escapeHtml(input.doneHref)}">Done</a>`}
<script id="cfg" type="application/json">${cfg}</script>
<script nonce="${input.nonce}">${SCRIPT}</script>
</body></html>
`
}

export function renderInvalidTokenPage (): string {
  return '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Authsignal emulator</title></head><body><h1>Invalid or expired token</h1></body></html>\n'
}
