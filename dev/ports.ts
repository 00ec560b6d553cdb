// Ports of the dev server's parts: a taken port is a DevServerError naming the port, the part and the
// variable that moves it, instead of a bare EADDRINUSE stack trace.
import { createServer } from 'node:net'
import { DevServerError } from './config.js'

export const HOST = '127.0.0.1'

export interface PortUse {
  port: number
  /** What wanted it, e.g. "the example app". */
  part: string
  /** The environment variable that chooses another port. */
  envName: string
}

/** `err` as a DevServerError if it says the port is taken; any other failure is returned unchanged. */
export function portError (err: unknown, use: PortUse): unknown {
  if (!/EADDRINUSE/.test(String((err as Error).message))) return err
  return new DevServerError(`Port ${use.port} on ${HOST} is already in use, so ${use.part} cannot listen there. ` +
    `Stop whatever holds it (an earlier \`npm run dev\`? \`lsof -i :${use.port}\` shows it) or pick another port with ${use.envName}=<port>.`)
}

/** Binds and releases the port, so a taken one is reported before anything else starts. */
export async function assertPortFree (use: PortUse): Promise<void> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(portError(err, use)))
    server.listen(use.port, HOST, () => server.close(() => resolve()))
  })
}
