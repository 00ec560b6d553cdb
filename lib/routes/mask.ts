// Masks contact details in listings: enough for a person to recognise them, too little to harvest
// with a stolen access token.
const DOT = '\u2022'

export function maskEmail (email: string): string {
  const at = email.lastIndexOf('@')
  if (at < 1) return DOT.repeat(3)
  return `${email.slice(0, 1)}${DOT.repeat(3)}${email.slice(at)}`
}

export function maskPhoneNumber (phone: string): string {
  const digits = phone.replace(/\D/g, '')
  return digits.length < 6 ? DOT.repeat(4) : `${DOT.repeat(4)} ${digits.slice(-4)}`
}
