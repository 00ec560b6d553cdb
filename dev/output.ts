// What `npm run dev` prints: where each part listens, the demo user's token and copy-paste curl lines
// (POSIX shell) that work as printed. Pure text from what was started, so tests can run the lines.

export type CognitoInfo =
  | { kind: 'local', endpoint: string, userPoolId: string, clientId: string, issuer: string, dataDir: string, username: string, password: string }
  | { kind: 'aws', userPoolId: string, clientId: string, region: string }

export type AuthsignalInfo =
  | { kind: 'emulator', url: string, apiUrl: string, secret: string }
  | { kind: 'authsignal', apiUrl: string }

export interface OutputInput {
  appUrl: string
  /** The demo page on localhost: WebAuthn refuses an IP address as the RP id, so passkeys work there only. */
  demoUrl: string
  /** Where the plugin's routes are mounted. */
  prefix: string
  cognito: CognitoInfo
  authsignal: AuthsignalInfo
  /** The demo user's access token (cognito-local only). */
  token: string | undefined
  /** The demo user's email (the email OTP enrolment uses it). */
  email: string
  /** The authenticators seeded for the demo user in the emulator: the delete line removes the last. */
  seeded: Array<{ userAuthenticatorId: string, verificationMethod: string }>
  /** The token route's freshSignInSec when the dev server sets one (FRESH_SIGN_IN_SEC); else the plugin's default. */
  freshSignInSec?: number
  /** The support agent (cognito-local only): their access token, and the demo user's Authsignal id they help. */
  agent?: { token: string, email: string, userId: string }
}

export interface DevOutput {
  /** `TOKEN=...` then one curl line each for GET /me, POST token, POST prebuilt-ui, GET list, POST challenge-token (STEP_UP=), DELETE. */
  curlLines: string[]
  /**
   * The email OTP enrolment through the emulator's client API (empty with the real Authsignal): the token, the
   * enrolment, its verify, the list, the delete; then the challenge and its verify that come first when the
   * token's answer says challengeRequired (printed between the token and the enrolment).
   */
  enrolLines: string[]
  /** The removal's step-up challenge completed with the email OTP through the emulator's client API (empty with the real Authsignal). */
  stepUpLines: string[]
  /**
   * The lost-phone reset by the support agent (cognito-local only): AGENT_TOKEN=, USER_ID=, the support list, the agent's
   * challenge token (AGENT_STEP_UP=), its email OTP challenge and verify (emulator only), then the reset.
   */
  supportLines: string[]
  /** Everything above, with headings, as printed. */
  banner: string
}

const AUTH = '-H "Authorization: Bearer $TOKEN"'
// JSON answers get a newline so the prompt does not stick to them; the delete answers 204 and no body.
const JSON_OUT = "curl -sS -w '\\n'"
const STATUS_OUT = "curl -sS -o /dev/null -w '%{http_code}\\n'"
const JSON_BODY = "-H 'Content-Type: application/json'"
// The removal requires a step-up challenge (routes.remove.requireChallenge): its token goes with the delete.
const STEP_UP = '-H "x-authsignal-token: $STEP_UP"'
const CODE_BODY = '-d "{\\"verificationCode\\":\\"$CODE\\"}"'

// VAR=$(curl ... | sed ...): the one string field of a JSON answer, in a shell variable.
function assign (variable: string, curl: string, field: string): string {
  return `${variable}=$(${curl} | sed -E 's/.*"${field}":"([^"]*)".*/\\1/')`
}

function tokenLine (input: OutputInput): { line: string, notes: string[] } {
  if (input.token !== undefined) return { line: `TOKEN='${input.token}'`, notes: ['Access token of the demo user (valid for an hour; restart `npm run dev` for a fresh one):'] }
  const c = input.cognito as Extract<CognitoInfo, { kind: 'aws' }>
  return {
    line: `TOKEN=$(aws cognito-idp initiate-auth --region ${c.region} --client-id ${c.clientId} --auth-flow USER_PASSWORD_AUTH ` +
      '--auth-parameters USERNAME=<user>,PASSWORD=<password> --query AuthenticationResult.AccessToken --output text)',
    notes: [
      'Get an access token of a user of your pool, e.g. with the AWS CLI (the app client must allow',
      'USER_PASSWORD_AUTH and have no client secret), or from your front end after sign-in:'
    ]
  }
}

function enrol (routes: string, clientApi: string, email: string): string[] {
  return [
    assign('AS_TOKEN', `curl -sS -X POST ${routes}/token ${AUTH}`, 'authsignalToken'),
    `${JSON_OUT} -X POST ${clientApi}/user-authenticators/email-otp -H "Authorization: Bearer $AS_TOKEN" ${JSON_BODY} -d '{"email":"${email}"}'`,
    `${JSON_OUT} -X POST ${clientApi}/verify/email-otp -H "Authorization: Bearer $AS_TOKEN" ${JSON_BODY} ${CODE_BODY}`,
    `${JSON_OUT} ${routes} ${AUTH}`,
    `${STATUS_OUT} -X DELETE ${routes}/$NEW_ID ${AUTH} ${STEP_UP}`,
    // challengeRequired: the challenge of the user's email OTP; its verify answers the token that may enrol.
    `${JSON_OUT} -X POST ${clientApi}/challenge/email-otp -H "Authorization: Bearer $AS_TOKEN"`,
    assign('AS_TOKEN', `curl -sS -X POST ${clientApi}/verify/email-otp -H "Authorization: Bearer $AS_TOKEN" ${JSON_BODY} ${CODE_BODY}`, 'accessToken')
  ]
}

// The step-up challenge with the user's email OTP, as @authsignal/browser's email.challenge() and verify() call it.
function stepUp (clientApi: string, variable = 'STEP_UP'): string[] {
  return [
    `${JSON_OUT} -X POST ${clientApi}/challenge/email-otp -H "Authorization: Bearer $${variable}"`,
    assign(variable, `curl -sS -X POST ${clientApi}/verify/email-otp -H "Authorization: Bearer $${variable}" ${JSON_BODY} ${CODE_BODY}`, 'accessToken')
  ]
}

// The lost-phone reset: the agent lists the user's factors, completes a challenge of their own, then removes them all.
function support (routes: string, clientApi: string | undefined, agent: NonNullable<OutputInput['agent']>): string[] {
  const auth = '-H "Authorization: Bearer $AGENT_TOKEN"'
  return [
    `AGENT_TOKEN='${agent.token}'`,
    `USER_ID='${agent.userId}'`,
    `${JSON_OUT} ${routes}/support/users/$USER_ID/authenticators ${auth}`,
    assign('AGENT_STEP_UP', `curl -sS -X POST ${routes}/challenge-token ${auth}`, 'authsignalToken'),
    ...(clientApi === undefined ? [] : stepUp(clientApi, 'AGENT_STEP_UP')),
    `${JSON_OUT} -X DELETE ${routes}/support/users/$USER_ID/authenticators ${auth} -H "x-authsignal-token: $AGENT_STEP_UP" ${JSON_BODY} ` +
      '-d \'{"reason":"lost phone; identity checked on a video call"}\''
  ]
}

function supportBanner (lines: string[], agent: NonNullable<OutputInput['agent']>, emulated: boolean): string[] {
  return [
    '',
    `A lost phone: the support agent (${agent.email}, in the example app's support group) resets the demo user's authenticators:`,
    '',
    lines[0] as string,
    lines[1] as string,
    '# 1. the user\'s factors, masked as the user sees them',
    lines[2] as string,
    '# 2. a challenge token for the agent: the agent completes a challenge of their own',
    lines[3] as string,
    ...(emulated
      ? ['# 3. challenge the agent\'s email OTP: the code appears in this console', lines[4] as string,
          '# 4. CODE=<the 6 digits printed here>, then verify: AGENT_STEP_UP becomes the verified token', lines[5] as string]
      : ['# 3. complete it with a client SDK as the agent, AGENT_STEP_UP=<the token it returns>']),
    '# then reset: every factor of the user goes, each logged with the agent and the reason ({"removed":n})',
    lines.at(-1) as string
  ]
}

export function devOutput (input: OutputInput): DevOutput {
  const routes = `${input.appUrl}${input.prefix}`
  const removable = input.seeded.at(-1)
  const token = tokenLine(input)
  const curlLines = [
    token.line,
    `${JSON_OUT} ${input.appUrl}/me ${AUTH}`,
    `${JSON_OUT} -X POST ${routes}/token ${AUTH}`,
    `${JSON_OUT} -X POST ${routes}/prebuilt-ui ${AUTH}`,
    `${JSON_OUT} ${routes} ${AUTH}`,
    assign('STEP_UP', `curl -sS -X POST ${routes}/challenge-token ${AUTH}`, 'authsignalToken'),
    `${STATUS_OUT} -X DELETE ${routes}/${removable?.userAuthenticatorId ?? '$AUTHENTICATOR_ID'} ${AUTH} ${STEP_UP}`
  ]

  const emulated = input.authsignal.kind === 'emulator'
  const enrolLines = emulated ? enrol(routes, `${input.authsignal.apiUrl}/client`, input.email) : []
  const stepUpLines = emulated ? stepUp(`${input.authsignal.apiUrl}/client`) : []
  const supportLines = input.agent === undefined ? [] : support(routes, emulated ? `${input.authsignal.apiUrl}/client` : undefined, input.agent)

  const c = input.cognito
  const a = input.authsignal
  const parts = [
    `  app         ${input.appUrl}   routes under ${input.prefix}, host route GET /me`,
    `  demo page   ${input.demoUrl}   the whole flow in a browser: sign in, enrol an email OTP, a passkey or an authenticator app, pre-built UI, list,\n` +
    '              remove with a step-up challenge (on localhost, not 127.0.0.1: passkeys need a domain)',
    `  openapi     ${input.appUrl}/documentation   Swagger UI (the document itself: ${input.appUrl}/documentation/json)`,
    c.kind === 'local'
      ? `  cognito     ${c.endpoint}   cognito-local: pool ${c.userPoolId}, client ${c.clientId}, data in ${c.dataDir}\n` +
        `              demo user ${c.username} / ${c.password}`
      : `  cognito     https://cognito-idp.${c.region}.amazonaws.com/${c.userPoolId}   your user pool, client ${c.clientId}`,
    a.kind === 'emulator'
      ? `  authsignal  ${a.apiUrl}   Authsignal emulator (secret ${a.secret})` +
        (input.seeded.length === 0 ? '' : `, demo user seeded with ${input.seeded.map((s) => s.verificationMethod).join(' and ')}`)
      : `  authsignal  ${a.apiUrl}   Authsignal (AUTHSIGNAL_SECRET)`
  ]
  const deleteNote = removable === undefined
    ? ['# set AUTHENTICATOR_ID to a userAuthenticatorId from the list first (the last one cannot be removed: 409)']
    : []
  // Emulator: the challenge completed with the user's email OTP (the removed SMS is another factor). Real Authsignal: a client SDK completes it.
  const stepUpNotes = stepUpLines.length > 0
    ? ['# 2. challenge the user\'s email OTP: the code appears in this console', stepUpLines[0] as string,
        '# 3. CODE=<the 6 digits printed here>, then verify: STEP_UP becomes the verified token', stepUpLines[1] as string, '# 4. remove']
    : ['# 2. complete its challenge with a client SDK and another factor (the demo page does), STEP_UP=<the token it returns>; 3. remove']
  const lines = [
    'fastify-authsignal-cognito dev server',
    '',
    ...parts,
    '',
    ...token.notes,
    '',
    curlLines[0] as string,
    '',
    'The host route and the routes (each prints its answer; the delete prints 204):',
    '',
    ...curlLines.slice(1, 5),
    '',
    'The delete needs a step-up (routes.remove.requireChallenge): the token of a removeAuthenticator challenge completed with another factor.',
    '# 1. a challenge token for the user, from the plugin',
    curlLines[5] as string,
    ...stepUpNotes,
    ...deleteNote,
    curlLines[6] as string
  ]
  if (enrolLines.length > 0) {
    const fresh = input.freshSignInSec === undefined ? '600 s by default' : `${input.freshSignInSec} s here (FRESH_SIGN_IN_SEC)`
    lines.push(
      '',
      'Enrol an email OTP authenticator as @authsignal/browser would (the guide\'s custom UI flow):',
      '',
      '# 1. an Authsignal token for the user, from the plugin (the POST /token line above prints the whole answer)',
      enrolLines[0] as string,
      `# 2. only if that answer says "challengeRequired":true (a sign-in older than routes.token.freshSignInSec, ${fresh}, and the user has`,
      '#    an authenticator): complete a challenge with an existing factor first, the user\'s email OTP; the code appears in this console,',
      '#    then CODE=<the 6 digits>, and verify: AS_TOKEN becomes the token the verify answers, which may enrol',
      enrolLines[5] as string,
      enrolLines[6] as string,
      '# 3. start the enrolment with the emulator\'s client API: the code appears in this console',
      enrolLines[1] as string,
      '# 4. CODE=<the 6 digits printed here>, then verify: the answer carries the new userAuthenticatorId',
      enrolLines[2] as string,
      '# 5. the list shows the new EMAIL_OTP; NEW_ID=<its userAuthenticatorId>, then delete it (with the STEP_UP token above)',
      enrolLines[3] as string,
      enrolLines[4] as string
    )
  }
  if (input.agent !== undefined) lines.push(...supportBanner(supportLines, input.agent, emulated))
  lines.push('', 'Ctrl-C stops everything.')
  return { curlLines, enrolLines, stepUpLines, supportLines, banner: lines.join('\n') }
}
