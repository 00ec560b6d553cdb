// The optional gates after verification: required groups and scopes (403 when one is missing).
import type { CognitoClaims } from './claims.js'
import { MissingGroupError, MissingScopeError, withChallenge } from '../errors.js'

export interface Gates { requiredGroups: string[], requiredScopes: string[] }

export function hasGates (gates: Gates): boolean {
  return gates.requiredGroups.length > 0 || gates.requiredScopes.length > 0
}

export function checkGates (claims: CognitoClaims, gates: Gates): void {
  const groups = claims['cognito:groups'] ?? []
  const group = gates.requiredGroups.find(required => !groups.includes(required))
  if (group !== undefined) throw new MissingGroupError(group)
  const scopes = (claims.scope ?? '').split(' ')
  const scope = gates.requiredScopes.find(required => !scopes.includes(required))
  if (scope !== undefined) throw withChallenge(new MissingScopeError(scope))
}
