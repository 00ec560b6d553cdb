// What the emulator lists about a passkey beyond its key: the provider named by its AAGUID, and the
// user agent it was registered from, in the shape Authsignal's GET authenticators gives them.
//
// Checked against Authsignal's docs (server API "Get authenticators", client API "Get authenticators")
// and @authsignal/node's types: a PASSKEY authenticator carries username, displayName, verifiedAt,
// lastVerifiedAt and webauthnCredential { credentialId, deviceId, name, aaguid, aaguidMapping { name,
// svgIconLight, svgIconDark }, credentialBackedUp, credentialDeviceType ('multiDevice' in the docs'
// example), authenticatorAttachment, parsedUserAgent { ua, browser, device, engine, os, cpu } }; the
// docs' example names the credential after its provider ("iCloud Keychain"), and Authsignal's own SDK
// tests expect aaguidMapping.name "Google Password Manager" and parsedUserAgent.browser.name "Chrome"
// for passkeys made in Chrome. Best guesses, not documented: an AAGUID Authsignal cannot map (Chromium's
// DevTools virtual authenticator reports 01020304-0506-0708-0102-030405060708; Firefox and some others
// send all zeroes) gets no aaguidMapping and a name from the user agent ("Chrome on Linux"), else "Passkey"; the icons here are placeholders (Authsignal
// serves the providers' own); the user agent parser is a small stand-in for the library Authsignal uses.
import type { ParsedUserAgent } from './types.js'

// Provider names as in the community AAGUID registry (passkeydeveloper/passkey-authenticator-aaguids).
const PROVIDERS: Record<string, string> = {
  'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4': 'Google Password Manager',
  'adce0002-35bc-c60a-648b-0b25f1f05503': 'Chrome on Mac',
  'fbfc3007-154e-4ecc-8c0b-6e020557d7bd': 'iCloud Keychain',
  'dd4ec289-e01d-41c9-bb89-70fa845d4bf2': 'iCloud Keychain (Managed)',
  '08987058-cadc-4b81-b6e1-30de50dcbe96': 'Windows Hello',
  '9ddd1817-af5a-4672-a2b9-3e3dd95000a9': 'Windows Hello',
  '6028b017-b1d4-4c02-b4b3-afcdafc96bb2': 'Windows Hello',
  'bada5566-a7aa-401f-bd96-45619a55120d': '1Password',
  'd548826e-79b4-db40-a3d8-11116f7e8349': 'Bitwarden',
  '531126d6-e717-415c-9320-3d9aa6981239': 'Dashlane',
  'b84e4048-15dc-4dd0-8640-f4f60813c8af': 'NordPass',
  '0ea242b4-43c4-4a1b-8b17-dd6d0b6baec6': 'Keeper',
  '53414d53-554e-4700-0000-000000000000': 'Samsung Pass'
}

function placeholderIcon (name: string, colour: string): string {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><circle cx="12" cy="12" r="11" fill="${colour}"/><text x="12" y="17" font-size="14" text-anchor="middle" fill="#888">${name.charAt(0)}</text></svg>`
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`
}

export function aaguidMapping (aaguid: string): { name: string, svgIconLight: string, svgIconDark: string } | undefined {
  const name = PROVIDERS[aaguid.toLowerCase()]
  return name === undefined ? undefined : { name, svgIconLight: placeholderIcon(name, '#fff'), svgIconDark: placeholderIcon(name, '#222') }
}

const BROWSERS: Array<[string, RegExp]> = [
  ['Edge', /Edg\/([\d.]+)/],
  ['Chrome Headless', /HeadlessChrome\/([\d.]+)/],
  ['Chrome', /Chrome\/([\d.]+)/],
  ['Firefox', /Firefox\/([\d.]+)/],
  ['Safari', /Version\/([\d.]+).*Safari\//]
]
const SYSTEMS: Array<[string, RegExp]> = [
  ['Windows', /Windows NT ([\d.]+)/],
  ['iOS', /iPhone OS ([\d_]+)/],
  ['Mac OS', /Mac OS X ([\d_.]+)/],
  ['Android', /Android ([\d.]+)/],
  ['Linux', /Linux()/]
]

function first (ua: string, table: Array<[string, RegExp]>): { name?: string, version?: string } {
  for (const [name, pattern] of table) {
    const found = pattern.exec(ua)
    if (found !== null) return found[1] === '' ? { name } : { name, version: (found[1] as string).replace(/_/g, '.') }
  }
  return {}
}

export function parseUserAgent (ua: string | undefined): ParsedUserAgent | undefined {
  if (ua === undefined) return undefined
  const browser = first(ua, BROWSERS)
  const engine = /Gecko\/\d/.test(ua) ? 'Gecko' : /Chrome\//.test(ua) ? 'Blink' : /AppleWebKit\//.test(ua) ? 'WebKit' : undefined
  return {
    ua,
    browser: browser.version === undefined ? browser : { ...browser, major: browser.version.split('.')[0] as string },
    device: {},
    engine: engine === undefined ? {} : { name: engine },
    os: first(ua, SYSTEMS),
    cpu: /x86_64|Win64|x64/.test(ua) ? { architecture: 'amd64' } : {}
  }
}

// The credential's name: its provider when the AAGUID is known, else where it was made.
export function credentialName (aaguid: string, agent: ParsedUserAgent | undefined): string {
  const provider = PROVIDERS[aaguid.toLowerCase()]
  if (provider !== undefined) return provider
  const browser = agent?.browser.name?.replace(' Headless', '')
  const os = agent?.os.name
  return browser !== undefined && os !== undefined ? `${browser} on ${os}` : 'Passkey'
}
