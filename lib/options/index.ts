// The plugin's options: validated at registration, so a wrong option fails `register` with a message that
// names it (and an unknown key, such as a misspelt gate, is refused with the option it probably meant).
import type { Authsignal } from '@authsignal/node'
import { resolveDecorators } from '../decorators.js'
import { fail, httpUrl, integer, isObject, knownKeys, optionalString, routePath } from './check.js'
import { resolvePools } from './cognito.js'
import { DEFAULTS } from './defaults.js'
import { assertWebhookVerifier, EVENT_KEYS, resolveEvents } from './events.js'
import { resolveRoutes } from './routes.js'
import type { ResolvedAuthsignalOptions, ResolvedOpenApi, ResolvedOptions } from './types.js'

export type * from './types.js'
export { DEFAULTS } from './defaults.js'

const TOP_KEYS = ['cognito', 'authsignal', 'prefix', 'openapi', 'routes', 'decorators', ...EVENT_KEYS]
const AUTHSIGNAL_KEYS = ['apiSecretKey', 'apiUrl', 'timeoutMs', 'client']

function resolveAuthsignal (value: unknown): ResolvedAuthsignalOptions {
  if (!isObject(value)) fail('authsignal', 'expected an object with apiSecretKey (or client)')
  knownKeys(value, 'authsignal', AUTHSIGNAL_KEYS)
  const client = value.client
  if (client !== undefined && (!isObject(client) || typeof client.getAuthenticators !== 'function')) {
    fail('authsignal.client', 'expected an Authsignal instance from @authsignal/node')
  }
  const apiSecretKey = optionalString(value.apiSecretKey, 'authsignal.apiSecretKey')
  if (client === undefined && apiSecretKey === undefined) fail('authsignal.apiSecretKey', 'required unless authsignal.client is given')
  return {
    apiSecretKey,
    apiUrl: value.apiUrl === undefined ? DEFAULTS.apiUrl : httpUrl(value.apiUrl, 'authsignal.apiUrl').replace(/\/+$/, ''),
    timeoutMs: integer(value.timeoutMs, 'authsignal.timeoutMs', DEFAULTS.timeoutMs, 1, 120_000),
    client: client as Authsignal | undefined
  }
}

function resolveOpenApi (value: unknown): ResolvedOpenApi {
  if (value === undefined) return { securityScheme: DEFAULTS.securityScheme }
  if (!isObject(value)) fail('openapi', 'expected an object')
  knownKeys(value, 'openapi', ['securityScheme'])
  return { securityScheme: optionalString(value.securityScheme, 'openapi.securityScheme') ?? DEFAULTS.securityScheme }
}

export function resolveOptions (options: unknown): ResolvedOptions {
  if (!isObject(options)) fail('options', 'expected an object with cognito and authsignal')
  knownKeys(options, '', TOP_KEYS)
  const pools = resolvePools(options.cognito)
  const authsignal = resolveAuthsignal(options.authsignal)
  const routes = resolveRoutes(options.routes, authsignal.timeoutMs)
  assertWebhookVerifier(authsignal.client, routes.webhook)
  return {
    pools,
    authsignal,
    openapi: resolveOpenApi(options.openapi),
    prefix: options.prefix === undefined ? DEFAULTS.prefix : routePath(options.prefix, 'prefix', DEFAULTS.prefix).replace(/\/+$/, ''),
    routes,
    decorators: resolveDecorators(options.decorators),
    events: resolveEvents(options, routes.webhook)
  }
}
