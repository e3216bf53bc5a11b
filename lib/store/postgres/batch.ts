/**
 * Several requests' statements as one: the PostgreSQL store's group commit
 * (local logouts, ./logout-batch.ts) and grouped reads (session lookups,
 * ./session-reads.ts).
 *
 * Under load most of a statement's cost is per statement, not per row:
 * sending it (a third of the process's CPU in a profile of logouts), and
 * PostgreSQL's parse, bind, execute and, for a write, its commit and WAL
 * flush. So while `maxInFlight` statements of a kind run, what arrives
 * waits for one of them to finish and then goes together, up to `maxBatch`
 * a statement. Nothing waits on a timer: below that concurrency each goes
 * at once, alone, as it would without this.
 *
 * What waits is sent in a later statement than any running one: a request
 * never joins a statement already sent, so a read that arrives after a
 * logout's commit is sent after it too, and sees it (SPEC §7).
 */

/** A session's key, as the table's: user id, then session id (a NUL joins them: neither holds one). */
export const sessionKey = (s: { userId: string, id: string }) => `${s.userId}\u0000${s.id}`

/** Statements of one kind running at once, per instance: the pool's other connections serve everything else. */
export const MAX_IN_FLIGHT = 2
/** Requests per statement at most. */
export const MAX_BATCH = 64

export interface BatchOptions {
  maxInFlight?: number
  maxBatch?: number
}

/** One request in a batch, and how to answer it. */
export interface Waiting<I, O> {
  item: I
  resolve: (o: O) => void
  reject: (err: unknown) => void
}

/**
 * `send` runs one batch and answers each of its requests; if it throws,
 * every request of the batch not yet answered fails with that error.
 * `once`, if given, keys what may be in a batch at most once: a second
 * request with the same key waits for the next batch.
 */
export function createBatcher<I, O> (
  send: (batch: Array<Waiting<I, O>>) => Promise<void>,
  opts: BatchOptions & { once?: (item: I) => string } = {}
) {
  const maxInFlight = opts.maxInFlight ?? MAX_IN_FLIGHT
  const maxBatch = opts.maxBatch ?? MAX_BATCH
  const once = opts.once
  let waiting: Array<Waiting<I, O>> = []
  let inFlight = 0

  /** The next batch, in arrival order; what does not fit keeps waiting. */
  function take (): Array<Waiting<I, O>> {
    if (once === undefined) return waiting.splice(0, maxBatch)
    const batch: Array<Waiting<I, O>> = []
    const rest: Array<Waiting<I, O>> = []
    const keys = new Set<string>()
    for (const w of waiting) {
      const key = once(w.item)
      if (batch.length < maxBatch && !keys.has(key)) {
        keys.add(key)
        batch.push(w)
      } else {
        rest.push(w)
      }
    }
    waiting = rest
    return batch
  }

  function pump (): void {
    while (inFlight < maxInFlight && waiting.length > 0) {
      inFlight++
      const batch = take()
      // A request already answered ignores the second answer: a promise settles once.
      send(batch).catch((err: unknown) => { for (const w of batch) w.reject(err) }).finally(() => {
        inFlight--
        pump()
      })
    }
  }

  return {
    add (item: I): Promise<O> {
      return new Promise((resolve, reject) => {
        waiting.push({ item, resolve, reject })
        pump()
      })
    }
  }
}
