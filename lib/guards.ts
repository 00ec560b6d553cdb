// The one guard for untrusted JSON (options, Authsignal's answers, webhook bodies, the emulator's requests):
// an object with string keys, not null and not an array.

export function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
