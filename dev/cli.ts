// The command-line side of `npm run dev`: start, print, stop everything on Ctrl-C or SIGTERM, and turn a
// failure to start into one readable paragraph and exit code 1. The process is passed in, so the
// tests drive it in-process with a stand-in.
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { FastifyServerOptions } from 'fastify'
import { DevServerError, type Env } from './config.js'

interface Startable {
  banner: string
  stop (): Promise<void>
}

export type StartDevServer = (options: { env: Env, log: (line: string) => void, logger: Exclude<FastifyServerOptions['logger'], boolean> }) => Promise<Startable>

export interface CliProcess {
  argv: string[]
  env: Env
  stdout: { write (text: string): unknown }
  stderr: { write (text: string): unknown }
  on (event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): unknown
  exit (code: number): void
}

/** True when `moduleUrl` is the script node was started with (`tsx dev/server.ts`). */
export function isMain (moduleUrl: string, script: string | undefined): boolean {
  if (script === undefined) return false
  try {
    return realpathSync(fileURLToPath(moduleUrl)) === realpathSync(script)
  } catch {
    return false
  }
}

export async function runCli (start: StartDevServer, proc: CliProcess): Promise<void> {
  let server: Startable
  try {
    server = await start({
      env: proc.env,
      log: (line) => proc.stdout.write(`${line}\n`),
      logger: { level: 'info', stream: proc.stdout }
    })
  } catch (err) {
    const message = (err as Error).message
    proc.stderr.write(`${err instanceof DevServerError ? message : `The dev server could not start: ${message}`}\n`)
    proc.exit(1)
    return
  }
  proc.stdout.write(`${server.banner}\n`)

  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second Ctrl-C does not wait; cognito-local still exits because its stdin (this process) closes.
      proc.stderr.write(`${signal} again: exiting without waiting.\n`)
      proc.exit(1)
      return
    }
    stopping = true
    proc.stdout.write(`\n${signal}: stopping the app, the Authsignal emulator and cognito-local...\n`)
    server.stop().then(() => {
      proc.stdout.write('Stopped.\n')
      proc.exit(0)
    }, (err: unknown) => {
      proc.stderr.write(`Stopping failed: ${(err as Error).message}\n`)
      proc.exit(1)
    })
  }
  proc.on('SIGINT', onSignal)
  proc.on('SIGTERM', onSignal)
}

/** Runs the CLI when `moduleUrl` is the script node was started with; does nothing when imported. */
export async function cliEntry (moduleUrl: string, start: StartDevServer, proc: CliProcess = process): Promise<void> {
  if (isMain(moduleUrl, proc.argv[1])) await runCli(start, proc)
}
