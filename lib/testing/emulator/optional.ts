// Lazy imports of the packages only some emulator routes need (@simplewebauthn/server, otpauth): a host
// that emulates email OTP alone installs neither, and a route that needs one names it when it is missing.

export class MissingPackageError extends Error {
  constructor (readonly packageName: string, cause: unknown) {
    super(`The Authsignal emulator needs the optional package ${packageName} for this route: npm install --save-dev ${packageName}`, { cause })
    this.name = 'MissingPackageError'
  }
}

export async function importOptional<T> (packageName: string): Promise<T> {
  try {
    return await import(packageName) as T
  } catch (err) {
    throw new MissingPackageError(packageName, err)
  }
}
