// Every failure the plugin can answer with, one stable `code` per cause (the README's error table).
// Messages never carry a token, a secret or an upstream body: they say what was wrong, not what was sent.
import createError, { type FastifyError } from '@fastify/error'

// Registration: a bad option fails `register` with a message naming it.
export const InvalidOptionError = createError<[string, string]>('FST_AUTHSIGNAL_COGNITO_INVALID_OPTION', 'Invalid option %s: %s')

// 401: the bearer token cannot be trusted.
export const NoTokenError = createError('FST_COGNITO_NO_TOKEN', 'Missing Authorization header with a Bearer token', 401)
export const BadAuthorizationHeaderError = createError<[string]>('FST_COGNITO_BAD_AUTHORIZATION_HEADER', 'Authorization header must be exactly one "Bearer <token>": %s', 401)
export const TokenMalformedError = createError<[string]>('FST_COGNITO_TOKEN_MALFORMED', 'Token is not a well-formed JWT: %s', 401)
export const TokenAlgorithmError = createError('FST_COGNITO_TOKEN_ALGORITHM', 'Token must be signed with RS256', 401)
export const TokenUnknownKeyError = createError<[string]>('FST_COGNITO_TOKEN_UNKNOWN_KEY', 'Token key is not one of the user pool\'s keys: %s', 401)
export const TokenSignatureError = createError('FST_COGNITO_TOKEN_SIGNATURE', 'Token signature is invalid', 401)
export const TokenExpiredError = createError('FST_COGNITO_TOKEN_EXPIRED', 'Token has expired', 401)
export const TokenNotYetValidError = createError<[string]>('FST_COGNITO_TOKEN_NOT_YET_VALID', 'Token is not valid yet: %s', 401)
export const TokenIssuerError = createError('FST_COGNITO_TOKEN_ISSUER', 'Token was not issued by the configured user pool', 401)
export const TokenUseError = createError<[string, string]>('FST_COGNITO_TOKEN_USE', 'Expected an %s token, got %s', 401)
export const TokenClientError = createError<[string]>('FST_COGNITO_TOKEN_CLIENT', 'Token was issued to an app client that is not allowed (%s)', 401)
export const TokenClaimsError = createError<[string]>('FST_COGNITO_TOKEN_CLAIMS', 'Token claims are invalid: %s', 401)
// RFC 9470: the user must sign in again because the last sign-in is too old for this operation.
export const AuthTooOldError = createError<[number]>('FST_COGNITO_AUTH_TOO_OLD', 'Sign-in is too old for this operation: sign in again (max age %d s)', 401)

// 403: a valid token that is not allowed here.
export const MissingGroupError = createError<[string]>('FST_COGNITO_MISSING_GROUP', 'Token lacks a required group: %s', 403)
export const MissingScopeError = createError<[string]>('FST_COGNITO_MISSING_SCOPE', 'Token lacks a required scope: %s', 403)
export const MachineTokenError = createError('FST_COGNITO_MACHINE_TOKEN', 'A machine-to-machine token cannot act for a user', 403)
export const ChallengeRequiredError = createError<[string]>('FST_AUTHSIGNAL_CHALLENGE_REQUIRED', 'A completed Authsignal challenge is required: %s', 403)
// Authsignal's rules answered BLOCK or REVIEW_REQUIRED for the tracked action: no token, no URL.
export const ActionBlockedError = createError<[string]>('FST_AUTHSIGNAL_ACTION_BLOCKED', 'Authsignal\'s rules refused this action (%s)', 403)
export const SupportOwnUserError = createError('FST_AUTHSIGNAL_SUPPORT_OWN_USER', 'The support routes act on other users: use your own authenticator routes', 403)

// 503: the user pool's keys cannot be had, so no token can be judged.
export const JwksUnavailableError = createError<[string]>('FST_COGNITO_JWKS_UNAVAILABLE', 'The user pool\'s signing keys are unavailable: %s', 503)

// Route input.
export const InvalidAuthenticatorIdError = createError('FST_AUTHSIGNAL_INVALID_AUTHENTICATOR_ID', 'userAuthenticatorId must be 1 to 100 characters of A-Z a-z 0-9 _ -', 400)
export const InvalidUserIdError = createError('FST_AUTHSIGNAL_INVALID_USER_ID', 'userId must be 1 to 128 characters of A-Z a-z 0-9 . _ @ : + - (not . or .. alone)', 400)
export const InvalidReasonError = createError('FST_AUTHSIGNAL_INVALID_REASON', 'The body must be { "reason": a string of 1 to 500 characters }', 400)
export const RedirectNotAllowedError = createError('FST_AUTHSIGNAL_REDIRECT_NOT_ALLOWED', 'redirectUrl is not one of the allowed redirect URLs', 400)
export const AuthenticatorNotFoundError = createError('FST_AUTHSIGNAL_AUTHENTICATOR_NOT_FOUND', 'No such authenticator for this user', 404)
export const LastAuthenticatorError = createError('FST_AUTHSIGNAL_LAST_AUTHENTICATOR', 'The last authenticator cannot be removed (recovery codes do not count as one, nor an enrolment never verified)', 409)

// The last-authenticator guard's lock (503 with Retry-After: nothing was deleted; retry later).
export const LockBusyError = createError<[number]>('FST_AUTHSIGNAL_LOCK_BUSY', 'Another removal for this user is under way: retry later (waited %d ms)', 503)
export const LockUnavailableError = createError<[string]>('FST_AUTHSIGNAL_LOCK_UNAVAILABLE', 'The lock cannot be had (%s): nothing was removed, retry later', 503)

/** An error's name and the first line of its message, bounded: all a log line says of a failure (a client's error may carry its configuration). */
export function reasonOf (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${(err.message.split('\n')[0] as string).slice(0, 200)}` : String(err).slice(0, 200)
}

/** A 503 the client may simply retry: Fastify's error handler sends `err.headers` with it. */
export function retryLater<E extends FastifyError> (err: E, seconds = 1): E {
  (err as E & { headers?: Record<string, string> }).headers = { 'retry-after': String(seconds) }
  return err
}

// Authsignal upstream.
export const UpstreamError = createError<[string]>('FST_AUTHSIGNAL_UPSTREAM_ERROR', 'Authsignal answered with an error (%s)', 502)
export const UpstreamBadResponseError = createError<[string]>('FST_AUTHSIGNAL_BAD_RESPONSE', 'Authsignal answered with an unexpected body (%s)', 502)
export const UpstreamUnreachableError = createError<[string]>('FST_AUTHSIGNAL_UNREACHABLE', 'Authsignal could not be reached (%s)', 502)
export const UpstreamRateLimitedError = createError('FST_AUTHSIGNAL_RATE_LIMITED', 'Authsignal is rate limiting requests: retry later', 503)
export const UpstreamTimeoutError = createError<[string, number]>('FST_AUTHSIGNAL_TIMEOUT', 'Authsignal did not answer %s within %d ms', 504)
// A 4xx from Authsignal caused by what the request sent (not by our secret or configuration): the client's to fix.
export const ChallengeTokenRejectedError = createError<[number]>('FST_AUTHSIGNAL_CHALLENGE_TOKEN_REJECTED', 'Authsignal refused the x-authsignal-token (HTTP %d): send the token of a completed challenge as the client SDK gave it', 400)

// The webhook route (Authsignal's signed events). Refusals say what was wrong, never what was sent: no body,
// no signature in a message. Every non-2xx makes Authsignal deliver the event again later.
export const WebhookNoSignatureError = createError('FST_AUTHSIGNAL_WEBHOOK_NO_SIGNATURE', 'Missing X-Signature-V2 header', 400)
export const WebhookMalformedSignatureError = createError('FST_AUTHSIGNAL_WEBHOOK_MALFORMED_SIGNATURE', 'X-Signature-V2 is not "t=<unix seconds>,v2=<signature>"', 400)
export const WebhookTimestampError = createError<[number]>('FST_AUTHSIGNAL_WEBHOOK_TIMESTAMP', 'The signature timestamp is more than %d s away from now', 403)
export const WebhookBadSignatureError = createError('FST_AUTHSIGNAL_WEBHOOK_BAD_SIGNATURE', 'The signature does not match the body', 403)
export const WebhookNotJsonError = createError('FST_AUTHSIGNAL_WEBHOOK_NOT_JSON', 'The body is not JSON', 400)
export const WebhookBadEventError = createError<[string]>('FST_AUTHSIGNAL_WEBHOOK_BAD_EVENT', 'The body is not an Authsignal event: %s', 400)
export const WebhookInProgressError = createError('FST_AUTHSIGNAL_WEBHOOK_IN_PROGRESS', 'This event is being acted on by another request: deliver it again later', 409)
export const WebhookStoreUnavailableError = createError<[string]>('FST_AUTHSIGNAL_WEBHOOK_STORE_UNAVAILABLE', 'The event store cannot be used (%s): nothing was done, deliver it again later', 503)

// Amazon Cognito's admin API (the attribute sync and the sign-out after a removal).
export const CognitoAdminError = createError<[string, string]>('FST_COGNITO_ADMIN_ERROR', 'Cognito refused %s (%s)', 502)
export const CognitoAdminTimeoutError = createError<[string, number]>('FST_COGNITO_ADMIN_TIMEOUT', 'Cognito did not answer %s within %d ms', 504)

/**
 * RFC 6750 / RFC 9470 `WWW-Authenticate` for the errors that ask the client to authenticate differently,
 * set as `err.headers`: Fastify's error handler sends them with the error answer, and only with it (an
 * `@fastify/auth` strategy that accepts the request after ours refused it answers without them).
 */
export function withChallenge<E extends FastifyError> (err: E): E {
  const challenge = challengeOf(err)
  if (challenge !== undefined) (err as E & { headers?: Record<string, string> }).headers = { 'www-authenticate': challenge }
  return err
}

// error_description is a quoted-string: our messages may quote, so quotes and backslashes become '.
function description (err: Error): string {
  return err.message.replace(/["\\]/g, "'")
}

function challengeOf (err: FastifyError): string | undefined {
  if (err instanceof NoTokenError) return 'Bearer'
  if (err instanceof AuthTooOldError) return `Bearer error="insufficient_user_authentication", error_description="${description(err)}"`
  if (err instanceof MissingScopeError) return 'Bearer error="insufficient_scope"'
  if (err.statusCode === 401) return `Bearer error="invalid_token", error_description="${description(err)}"`
  return undefined
}
