// The small checks every option goes through. Each failure is an InvalidOptionError naming the option.
import { closest, distance } from 'fastest-levenshtein'
import { InvalidOptionError } from '../errors.js'

export function fail (name: string, expected: string): never {
  throw new InvalidOptionError(name, expected)
}

export { isRecord as isObject } from '../guards.js'

/**
 * Refuses keys that are not options: a misspelt gate (`requiredGroup`) must not silently turn it off.
 * The message names the key and, when one is close, the option that was probably meant.
 */
export function knownKeys (value: Record<string, unknown>, name: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue
    const nearest = closest(key, allowed as string[])
    const hint = distance(key, nearest) <= Math.max(2, Math.floor(key.length / 3)) ? `did you mean ${nearest}?` : `expected one of ${allowed.join(', ')}`
    fail(name === '' ? key : `${name}.${key}`, `unknown option (${hint})`)
  }
}

export function nonEmptyString (value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') fail(name, 'expected a non-empty string')
  return value
}

export function optionalString (value: unknown, name: string): string | undefined {
  return value === undefined ? undefined : nonEmptyString(value, name)
}

export function stringList (value: unknown, name: string, { allowSingle = false, allowEmpty = true } = {}): string[] {
  if (allowSingle && typeof value === 'string') return [nonEmptyString(value, name)]
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0)) {
    fail(name, allowSingle ? 'expected a non-empty string or a non-empty array of strings' : 'expected an array of strings')
  }
  return value.map((item, i) => nonEmptyString(item, `${name}[${i}]`))
}

export function integer (value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(name, `expected an integer from ${min} to ${max}`)
  }
  return value
}

export function oneOf<T extends string> (value: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (!allowed.includes(value as T)) fail(name, `expected one of ${allowed.map(a => `'${a}'`).join(', ')}`)
  return value as T
}

export function boolean (value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') fail(name, 'expected a boolean')
  return value
}

export function httpUrl (value: unknown, name: string): string {
  const text = nonEmptyString(value, name)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    fail(name, 'expected an absolute http(s) URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(name, 'expected an absolute http(s) URL')
  return text
}

export function routePath (value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  const path = nonEmptyString(value, name)
  if (!path.startsWith('/')) fail(name, 'expected a path starting with "/"')
  return path
}
