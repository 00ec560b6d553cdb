// Child processes for the apps under test, so the load generator (autocannon, in the parent) never
// shares an event loop with them. A tiny request/response protocol over the IPC channel.
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

interface Reply { id: number, result?: unknown, error?: string }
type Handler = (args: unknown) => unknown

export interface Child<Ready> {
  ready: Ready
  call<T>(op: string, args?: unknown): Promise<T>
  close(): Promise<void>
}

/**
 * Forks `bench/<file>` (TypeScript: the parent's tsx loader flags are inherited) and waits for its ready message.
 * An absolute path to a bundled .cjs file runs under plain node, without tsx (row 9).
 */
export async function spawnChild<Ready> (file: string, args: string[] = [], extraExecArgv: string[] = []): Promise<Child<Ready>> {
  const bundled = file.endsWith('.cjs')
  const child: ChildProcess = fork(bundled ? file : fileURLToPath(new URL(file, import.meta.url)), args, {
    execArgv: [...(bundled ? [] : process.execArgv), ...extraExecArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  let nextId = 1
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before it was ready`)))
    child.once('message', (msg) => resolve((msg as { ready: Ready }).ready))
  })
  child.on('message', (msg) => {
    const reply = msg as Reply
    const waiter = pending.get(reply.id)
    if (waiter === undefined) return
    pending.delete(reply.id)
    if (reply.error !== undefined) waiter.reject(new Error(`${file}: ${reply.error}`))
    else waiter.resolve(reply.result)
  })
  child.once('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${file} exited with ${code}`))
    pending.clear()
  })
  return {
    ready,
    call<T>(op: string, callArgs?: unknown): Promise<T> {
      const id = nextId++
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
        child.send({ id, op, args: callArgs })
      })
    },
    async close () {
      if (child.exitCode !== null || child.signalCode !== null) return
      if (child.connected) child.send({ id: 0, op: 'close' })
      // A child that does not leave on its own within 5 s is ended (it is ours, by its pid).
      const timer = setTimeout(() => child.kill('SIGTERM'), 5000)
      await exited
      clearTimeout(timer)
    }
  }
}

/** Child side: answers the parent's calls; `close` runs `onClose` and then lets the process end. */
export function serveParent (ready: unknown, handlers: Record<string, Handler>, onClose: () => Promise<void>): void {
  let closing = false
  const shutdown = async (): Promise<void> => {
    if (closing) return
    closing = true
    await onClose().catch(() => {})
    if (process.connected) process.disconnect()
  }
  process.on('message', (msg) => {
    const { id, op, args } = msg as { id: number, op: string, args: unknown }
    if (op === 'close') {
      shutdown().catch(() => {})
      return
    }
    const handler = handlers[op]
    Promise.resolve()
      .then(() => {
        if (handler === undefined) throw new Error(`unknown op ${op}`)
        return handler(args)
      })
      .then(
        (result) => process.send?.({ id, result }),
        (err: Error) => process.send?.({ id, error: err.stack ?? err.message })
      )
  })
  // The parent went away (crash, Ctrl-C): do not outlive it.
  process.once('disconnect', () => { shutdown().catch(() => {}) })
  process.send?.({ ready })
}
