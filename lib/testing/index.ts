// `fastify-authsignal-cognito/testing`: real local stand-ins for hosts' own tests — a Cognito-like token
// issuer with a JWKS over HTTP, and an Authsignal emulator for the server SDK and the web SDK (email OTP,
// passkeys, authenticator apps).
export {
  generateSigningKey, signJwt, startCognitoIssuer,
  type CognitoIssuer, type CognitoIssuerOptions, type JwksFault, type MintOptions
} from './cognito-issuer.js'
export {
  AUTHSIGNAL_RETRY_DELAYS_MS, signWebhook, startAuthsignalEmulator,
  type AuthenticatorChange, type AuthsignalEmulator, type AuthsignalEmulatorOptions, type EmulatorFault, type EmulatorRule,
  type ParsedUserAgent, type RecordedRequest, type SeedAuthenticator, type SentOtp, type UserAuthenticator,
  type WebauthnCredential, type WebauthnOptions, type WebhookDelivery, type WebhookOptions
} from './authsignal-emulator.js'
