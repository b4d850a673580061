import { fsyncPath } from "./sys.ts";

/**
 * Group commit for directory fsyncs. Many deliveries into one Maildir, or
 * many messages a listener queues at once, each need "an fsync of new/ (or
 * todo/) that started after my link". One fsync serves every caller that
 * asked while the one before it ran: a caller that finds an fsync of the
 * directory under way waits for the next one, which starts when that one
 * ends and covers everyone who asked meanwhile. The guarantee to each caller
 * is the same as a fsync of its own; only the count changes (one per journal
 * commit instead of one per message).
 */
export class GroupSync {
  readonly #sync: (dir: string) => Promise<void>;
  readonly #dirs = new Map<string, { running: Promise<void> | null; next: Promise<void> | null }>();
  constructor(sync: (dir: string) => Promise<void> = (dir) => fsyncPath(dir, { directory: true })) {
    this.#sync = sync;
  }

  /** Resolves after an fsync of `dir` that started after this call; rejects with that fsync's error. */
  dir(dir: string): Promise<void> {
    let s = this.#dirs.get(dir);
    if (!s) this.#dirs.set(dir, (s = { running: null, next: null }));
    if (s.next) return s.next;
    if (!s.running) return this.#start(dir, s);
    const slot = s;
    slot.next = s.running.then(
      () => this.#follow(dir, slot),
      () => this.#follow(dir, slot),
    );
    return slot.next;
  }

  /** How many directories have an fsync under way or waiting (a test's view). */
  get busy(): number {
    return this.#dirs.size;
  }

  #follow(dir: string, s: { running: Promise<void> | null; next: Promise<void> | null }): Promise<void> {
    s.next = null;
    return this.#start(dir, s);
  }

  #start(dir: string, s: { running: Promise<void> | null; next: Promise<void> | null }): Promise<void> {
    let p: Promise<void>;
    try {
      p = this.#sync(dir);
    } catch (err) {
      p = Promise.reject(err);
    }
    const running = p.finally(() => {
      if (s.running === running) s.running = null;
      if (!s.running && !s.next) this.#dirs.delete(dir);
    });
    s.running = running;
    return running;
  }
}

/** The process's one GroupSync: every pooled directory fsync of a long-running part goes through it. */
export const groupSync = new GroupSync();
