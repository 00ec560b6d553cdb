// Verifying a delivery of Authsignal's webhooks. Authsignal signs `${t}.${body}` with HMAC-SHA256 under the
// server API secret and sends `X-Signature-V2: t=<unix seconds>,v2=<base64 signature without its '=' padding>`
// (docs.authsignal.com, "Verify webhook requests"). We go through the SDK's own verifier (@authsignal/node's
// `Webhook`: its header format and its event parsing), and add what it lacks:
// - a tolerance in both directions: the SDK refuses a timestamp only when it is too old, so a signature dated
//   in the future (a signer's clock far ahead, or one made to be replayed later) would pass;
// - a timing-safe comparison: the SDK compares with `===`, whose time depends on how many leading characters
//   match, which lets someone who can time our answers forge a signature character by character. Ours runs
//   first, with crypto.timingSafeEqual, so the SDK's `===` only ever compares a signature that has already
//   matched, and its timing tells nothing;
// - an HMAC over the raw bytes received (the SDK's is over the string decoded from them: the same bytes
//   for UTF-8, which is what Authsignal sends; anything else fails the SDK's check too);
// - a timestamp that is a whole number (the SDK's parseInt makes `t=abc` NaN, which passes its age check).
// The SDK is called with a tolerance of 0, which turns its own age check off: ours is the one that counts.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Webhook } from '@authsignal/node'
import {
  WebhookBadSignatureError, WebhookMalformedSignatureError, WebhookNoSignatureError, WebhookNotJsonError, WebhookTimestampError
} from '../errors.js'

/** The header Authsignal signs its webhook deliveries in (Node lowercases header names). */
export const SIGNATURE_HEADER = 'x-signature-v2'

/** The `v2` signature of `raw` at `timestamp`: base64 HMAC-SHA256 of `${timestamp}.${raw}`, without padding. */
export function webhookSignature (secret: string, timestamp: number, raw: Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(raw).digest('base64').replace(/=+$/, '')
}

function matches (given: string, expected: Buffer): boolean {
  const candidate = Buffer.from(given)
  // Lengths differ only for a signature that cannot match; a SHA-256 signature's length is public.
  return candidate.length === expected.length && timingSafeEqual(candidate, expected)
}

/** The event of a verified delivery (parsed JSON, not yet checked to be an event), or one of our 4xx errors. */
export function verifyWebhook (verifier: Webhook, raw: Buffer, header: string | undefined, toleranceSec: number): unknown {
  if (header === undefined || header === '') throw new WebhookNoSignatureError()
  let parsed: { timestamp: number, signatures: string[] }
  try {
    parsed = verifier.parseSignature(header)
  } catch {
    throw new WebhookMalformedSignatureError()
  }
  const { timestamp, signatures } = parsed
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new WebhookMalformedSignatureError()
  if (Math.abs(Date.now() / 1000 - timestamp) > toleranceSec) throw new WebhookTimestampError(toleranceSec)
  const expected = Buffer.from(webhookSignature(verifier.apiSecretKey, timestamp, raw))
  // Every signature is compared (no early exit): the time taken does not say which one matched.
  if (!signatures.map(signature => matches(signature, expected)).includes(true)) throw new WebhookBadSignatureError()
  try {
    return verifier.constructEvent(raw.toString('utf8'), header, 0)
  } catch (err) {
    throw err instanceof SyntaxError ? new WebhookNotJsonError() : new WebhookBadSignatureError()
  }
}
