import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import type { Authsignal } from '@authsignal/node'
import { describe, expect, test } from 'tstyche'
import authenticatorsPlugin, {
  authenticatorsPlugin as named, memoryLock, removalWorstCaseMs, type AuthenticateName, type AuthenticatorChangeEvent, type AuthenticatorsPluginOptions,
  type AuthenticatorSummary, type CognitoClaims, type PasskeySignal, type PasskeySummary, type UserName
} from '../../index.js'
import type { SupportActor, SupportRouteOptions } from '../../index.js'
import { startAuthsignalEmulator, startCognitoIssuer, type AuthsignalEmulator, type CognitoIssuer, type EmulatorRule } from '../../lib/testing/index.js'

describe('fastify-authsignal-cognito types', () => {
  test('default and named exports are the same plugin', () => {
    expect(named).type.toBe<typeof authenticatorsPlugin>()
  })

  test('removalWorstCaseMs takes the options register takes and gives ms', () => {
    expect(removalWorstCaseMs({ cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'c' }, authsignal: { apiSecretKey: 's' } })).type.toBe<number>()
    expect(removalWorstCaseMs).type.not.toBeCallableWith({ cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'c' } })
  })

  test('register takes the documented options', () => {
    const app = Fastify()
    expect(app.register(authenticatorsPlugin, {
      cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'c' },
      authsignal: { apiSecretKey: 's' }
    })).type.not.toRaiseError()
    expect<AuthenticatorsPluginOptions>().type.not.toBeAssignableFrom({ cognito: { userPoolId: 'x' }, authsignal: {} })
    expect<AuthenticatorsPluginOptions>().type.not.toBeAssignableFrom({
      cognito: { userPoolId: 'x', clientId: 'c', tokenUse: 'refresh' }, authsignal: {}
    })
    expect<AuthenticatorsPluginOptions>().type.toBeAssignableFrom({
      cognito: { userPoolId: 'x', clientId: ['a', 'b'], tokenUse: 'id' as const, userIdClaim: 'username' as const },
      authsignal: { apiSecretKey: 's', timeoutMs: 1000 },
      routes: { token: false as const, remove: { protectLast: true, requireChallenge: true } }
    })
  })

  test('routes take the passkey RP id and the challenge token route', () => {
    const required = { cognito: { userPoolId: 'x', clientId: 'c' }, authsignal: {} }
    expect<AuthenticatorsPluginOptions>().type.toBeAssignableFrom({
      ...required,
      routes: { list: { passkeyRpId: 'example.com' }, remove: { requireChallenge: true }, challengeToken: { path: '/step-up' } }
    })
    expect<AuthenticatorsPluginOptions>().type.toBeAssignableFrom({ ...required, routes: { challengeToken: false } })
    expect<AuthenticatorsPluginOptions>().type.not.toBeAssignableFrom({ ...required, routes: { list: { passkeyRpId: true } } })
    expect<AuthenticatorsPluginOptions>().type.toBeAssignableFrom({ ...required, routes: { token: { freshSignInSec: 0, maxAuthAgeSec: 3600 } } })
    expect<AuthenticatorsPluginOptions>().type.not.toBeAssignableFrom({ ...required, routes: { token: { freshSignInSec: '600' } } })
    expect<AuthenticatorSummary['passkey']>().type.toBe<PasskeySummary | undefined>()
    expect<PasskeySignal>().type.toBe<{ rpId: string, userId: string, allAcceptedCredentialIds: string[] }>()
  })

  test('decorators takes the names of the hook and of the claims', () => {
    const required = { cognito: { userPoolId: 'x', clientId: 'c' }, authsignal: {} }
    expect<AuthenticatorsPluginOptions>().type.toBeAssignableFrom({ ...required, decorators: { authenticate: 'cognitoAuthenticate', user: 'cognitoUser' } })
    expect<AuthenticatorsPluginOptions>().type.not.toBeAssignableFrom({ ...required, decorators: { user: 42 } })
  })

  test('without DecoratorNames, the types use the default names', () => {
    expect<AuthenticateName>().type.toBe<'authenticate'>()
    expect<UserName>().type.toBe<'user'>()
  })

  test('the instance is decorated with authsignal and authenticate', () => {
    const app = Fastify()
    expect(app.authsignal).type.toBe<Authsignal>()
    expect(app.authenticate).type.toBe<(request: FastifyRequest, reply: FastifyReply, done?: (err?: Error) => void) => Promise<void> | undefined>()
    expect(app.get('/x', { onRequest: app.authenticate }, async () => 'ok')).type.not.toRaiseError()
    expect(app.get('/x', { preHandler: [app.authenticate] }, async () => 'ok')).type.not.toRaiseError()
  })

  test('request.user is the verified Cognito claims', () => {
    const app = Fastify()
    app.get('/me', { onRequest: app.authenticate }, async (request) => {
      expect(request.user).type.toBe<CognitoClaims>()
      expect(request.user.sub).type.toBe<string>()
      expect(request.user['cognito:groups']).type.toBe<string[] | undefined>()
      return {}
    })
  })

  test('the events options: the webhook route, the hook and its event, cognitoSync, revokeSessionsOnRemove', () => {
    const required = { cognito: { userPoolId: 'x', clientId: 'c' }, authsignal: {} }
    const client = { send: async (_command: object, _options?: { abortSignal?: AbortSignal }) => ({}) }
    expect<AuthenticatorsPluginOptions>().type.toBeAssignableFrom({
      ...required,
      routes: { webhook: { path: '/webhook', toleranceSec: 300, bodyLimit: 65536, store: memoryLock(), dedupeWindowSec: 86400 } },
      onAuthenticatorChange: async (change: AuthenticatorChangeEvent) => { expect(change.type).type.toBe<'added' | 'removed' | 'updated'>() },
      onAuthenticatorChangeTimeoutMs: 1000,
      cognitoSync: { client, attributes: ['email' as const], onRemove: 'keep' as const },
      revokeSessionsOnRemove: { authsignal: true, cognito: client }
    })
    expect<AuthenticatorsPluginOptions>().type.toBeAssignableFrom({ ...required, routes: { webhook: true } })
    expect<AuthenticatorsPluginOptions>().type.not.toBeAssignableFrom({ ...required, cognitoSync: { client, attributes: ['name'] } })
    expect<AuthenticatorsPluginOptions>().type.not.toBeAssignableFrom({ ...required, onAuthenticatorChange: 'notify' })
    expect<AuthenticatorChangeEvent['source']>().type.toBe<'route' | 'webhook' | 'support'>()
  })

  test('routes.support: requiredGroups is required; the hook\'s event names the actor', () => {
    const required = { cognito: { userPoolId: 'x', clientId: 'c' }, authsignal: {} }
    expect<AuthenticatorsPluginOptions>().type.toBeAssignableFrom({ ...required, routes: { support: { requiredGroups: ['support'], requireChallenge: false, path: '/staff' } } })
    expect<AuthenticatorsPluginOptions>().type.toBeAssignableFrom({ ...required, routes: { support: false as const } })
    expect<AuthenticatorsPluginOptions>().type.not.toBeAssignableFrom({ ...required, routes: { support: { requireChallenge: true } } })
    expect<AuthenticatorsPluginOptions>().type.not.toBeAssignableFrom({ ...required, routes: { support: true } })
    expect<SupportRouteOptions['requiredGroups']>().type.toBe<string[]>()
    expect<AuthenticatorChangeEvent['actor']>().type.toBe<SupportActor | undefined>()
    expect<SupportActor>().type.toBe<{ userId: string, reason: string }>()
  })

  test('the testing helpers are typed', () => {
    expect(startCognitoIssuer()).type.toBe<Promise<CognitoIssuer>>()
    expect(startAuthsignalEmulator()).type.toBe<Promise<AuthsignalEmulator>>()
    expect<AuthsignalEmulator['setRule']>().type.toBe<(rule: EmulatorRule) => () => void>()
    expect<EmulatorRule>().type.not.toBeAssignableFrom({ state: 'DENY' })
  })
})
