// What every route needs: the bounded Authsignal caller, the verifier's hook, the resolved options.
import type { AuthsignalCaller } from '../authsignal-client.js'
import type { AuthenticateHook } from '../cognito-verifier.js'
import type { ResolvedOptions } from '../options.js'

export interface RouteContext {
  caller: AuthsignalCaller
  authenticate: AuthenticateHook
  options: ResolvedOptions
}

export function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}
