// The names of the plugin's decorators, `app.authenticate` and `request.user` unless the host renames them
// (as @fastify/jwt's `decoratorName`): so the plugin can sit beside another auth plugin that holds one.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { InvalidOptionError } from './errors.js'
import { isObject, knownKeys } from './options/check.js'

/**
 * The names this program gives the plugin's decorators when `decorators` renames them at registration:
 * say the same names here so the types follow, e.g. beside @fastify/jwt:
 *
 *     declare module 'fastify-authsignal-cognito' {
 *       interface DecoratorNames { authenticate: 'cognitoAuthenticate', user: 'cognitoUser' }
 *     }
 */
export interface DecoratorNames {}

/**
 * Usable as an `onRequest`/`preHandler` hook (Fastify passes `done`) or awaited by hand
 * (`await app.authenticate(request, reply)`, no `done`: then it always returns a promise).
 * Here, beside the decorator it types, so that the options (which resolve the decorators' names) do not
 * import the verifier, which imports the options.
 */
export type AuthenticateHook = (request: FastifyRequest, reply: FastifyReply, done?: (err?: Error) => void) => Promise<void> | undefined
/** `app.<this>` is the plugin's hook: `'authenticate'` unless `DecoratorNames` says otherwise. */
export type AuthenticateName = DecoratorNames extends { authenticate: infer N extends string } ? N : 'authenticate'
/** `request.<this>` holds the verified claims: `'user'` unless `DecoratorNames` says otherwise. */
export type UserName = DecoratorNames extends { user: infer N extends string } ? N : 'user'

/** Say the names in `DecoratorNames` too, so the types follow. */
export interface DecoratorOptions {
  /** Name of the verifying hook on the instance. Default `'authenticate'`. */
  authenticate?: string
  /** Name of the request property that holds the verified claims. Default `'user'`. */
  user?: string
}

export interface ResolvedDecorators {
  authenticate: string
  user: string
}

// `request.user` is the name every auth plugin writes to, and @fastify/jwt (like @fastify/passport) decorates
// it unconditionally: the plugin shares it, so a host may register those before or after this one.
export const SHARED_USER = 'user'
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/

function decoratorName (value: unknown, option: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    throw new InvalidOptionError(option, 'expected a JavaScript identifier (letters, digits, _ or $, not starting with a digit, at most 64)')
  }
  return value
}

export function resolveDecorators (value: unknown): ResolvedDecorators {
  if (value === undefined) return { authenticate: 'authenticate', user: SHARED_USER }
  if (!isObject(value)) throw new InvalidOptionError('decorators', 'expected an object')
  knownKeys(value, 'decorators', ['authenticate', 'user'])
  const { authenticate, user } = value
  return {
    authenticate: decoratorName(authenticate, 'decorators.authenticate', 'authenticate'),
    user: decoratorName(user, 'decorators.user', SHARED_USER)
  }
}

/**
 * Decorates the hook and, under a name of the host's, the claims slot. A name already taken fails
 * registration saying what to set, rather than Fastify's bare FST_ERR_DEC_ALREADY_PRESENT.
 */
export function decorateAuthentication (fastify: FastifyInstance, names: ResolvedDecorators, authenticate: AuthenticateHook): void {
  if (fastify.hasDecorator(names.authenticate)) {
    throw new InvalidOptionError('decorators.authenticate', `app.${names.authenticate} is already decorated (@fastify/jwt's README pattern?): ` +
      'give this plugin\'s hook another name with decorators.authenticate, e.g. \'cognitoAuthenticate\'')
  }
  if (names.user !== SHARED_USER) {
    if (fastify.hasRequestDecorator(names.user)) {
      throw new InvalidOptionError('decorators.user', `request.${names.user} is already decorated: ` +
        'give the verified claims another name with decorators.user, e.g. \'cognitoUser\'')
    }
    fastify.decorateRequest(names.user, null)
  }
  fastify.decorate(names.authenticate, authenticate)
}
