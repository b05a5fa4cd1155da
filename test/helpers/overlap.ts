import pg from 'pg';

/**
 * Runs `fn` and returns the text of every query sent to a connection that was still running
 * another one (pg queues it, and deprecates that: it will throw in pg 9). A transaction is one
 * connection, so whatever runs inside one must await each query before the next.
 */
export async function queriesQueuedOnABusyConnection(fn: () => Promise<unknown>): Promise<string[]> {
  const queued: string[] = [];
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: { _activeQuery: unknown; _queryQueue: unknown[] }, ...args: unknown[]) {
    if (this._activeQuery || this._queryQueue.length > 0) {
      const q = args[0] as string | { text?: string };
      queued.push(typeof q === 'string' ? q : (q.text ?? '?'));
    }
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    proto.query = original;
  }
  return queued;
}
