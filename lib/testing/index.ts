// `fastify-authsignal-cognito/testing`: real local stand-ins for hosts' own tests — a Cognito-like token
// issuer with a JWKS over HTTP, and an Authsignal emulator for the server SDK and the web SDK.
export {
  generateSigningKey, signJwt, startCognitoIssuer,
  type CognitoIssuer, type CognitoIssuerOptions, type JwksFault, type MintOptions
} from './cognito-issuer.js'
export {
  startAuthsignalEmulator,
  type AuthsignalEmulator, type AuthsignalEmulatorOptions, type EmulatorFault, type RecordedRequest,
  type SeedAuthenticator, type SentOtp, type UserAuthenticator
} from './authsignal-emulator.js'
