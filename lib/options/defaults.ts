// Every default of the plugin's options, in this one place.
export const DEFAULTS = {
  tokenUse: 'access',
  userIdClaim: 'sub',
  clockToleranceSec: 5,
  jwksTimeoutMs: 3000,
  jwksPenaltyMs: 10_000,
  tokenCacheSize: 10_000,
  apiUrl: 'https://api.authsignal.com/v1',
  timeoutMs: 5000,
  prefix: '/authenticators',
  securityScheme: 'cognito',
  token: { path: '/token', action: 'addAuthenticator', scope: 'add:authenticators', freshSignInSec: 600 },
  prebuiltUi: { path: '/prebuilt-ui', action: 'manageAuthenticators' },
  list: { path: '/', showContactDetails: false },
  remove: { path: '/:userAuthenticatorId', protectLast: true, requireChallenge: false, challengeAction: 'removeAuthenticator', lockWaitMs: 3000 },
  challengeToken: { path: '/challenge-token' },
  support: { path: '/support/users', requireChallenge: true },
  webhook: { path: '/webhook', toleranceSec: 300, bodyLimit: 65_536, dedupeWindowSec: 86_400 },
  onAuthenticatorChangeTimeoutMs: 1000,
  cognitoSync: { attributes: ['email', 'phone_number'], onRemove: 'unverify' }
} as const

/** aws-jwt-verify's shape for a Cognito pool id: the region, an underscore, the id. */
export const USER_POOL_ID = /^(?<region>[a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$/
