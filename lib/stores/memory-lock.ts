// Runs one task at a time per user within this process, so that two concurrent removals cannot both
// see "two authenticators left" and both delete. Hand-written: a promise chain per key is all it takes.
export class UserLock {
  private readonly tails = new Map<string, Promise<unknown>>()

  async run<T> (userId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(userId) ?? Promise.resolve()
    const current = previous.then(task)
    const tail = current.catch(() => {})
    this.tails.set(userId, tail)
    try {
      return await current
    } finally {
      // The last task of a chain removes it, so the map holds only users with work under way.
      if (this.tails.get(userId) === tail) this.tails.delete(userId)
    }
  }

  get size (): number {
    return this.tails.size
  }
}
