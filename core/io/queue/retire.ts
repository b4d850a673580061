import { existsSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { flatPath, splitPath, SPLIT } from "../../lib/queue/layout.ts";
import { errText, isMissing } from "../base/errno.ts";
import { fsyncPath } from "../base/sys.ts";

// qm send's removals of a finished message's files (docs/queue.md §7), run
// in the thread pool so the queue manager's loop never waits on the file
// system's journal for them. Only what comes after the last checkpoint: the
// channel files are removed at once (a killed qm send must not deliver a
// recipient again), so a removal lost with a killed qm send leaves an info
// file without channel files, which the next start finishes. Each message's
// removals run one after another, in the order they were asked for. The id
// is busy until its chain ends: the inode number may be handed to a new
// message once mess/ is gone, and no new todo/<id> may be taken in while an
// unlink of the old id is pending.

interface Chain {
  p: Promise<void>;
  broken: boolean;
  readonly idle: (() => void)[];
}

export class Retirer {
  readonly #chains = new Map<number, Chain>();
  readonly #warn: (text: string) => void;

  /** warn: one line for a removal that failed (the id's later removals are then not done: a duplicate at worst, never a lost message). */
  constructor(warn: (text: string) => void) {
    this.#warn = warn;
  }

  /** Runs `step` after the id's earlier steps; a step that throws stops the id's chain. */
  add(id: number, what: string, step: () => Promise<void>): void {
    let c = this.#chains.get(id);
    if (!c) {
      c = { p: Promise.resolve(), broken: false, idle: [] };
      this.#chains.set(id, c);
    }
    const chain = c;
    const p = chain.p.then(async () => {
      if (chain.broken) return;
      try {
        await step();
      } catch (err) {
        chain.broken = true;
        this.#warn(`unable to remove ${what} of ${id}: ${errText(err)}; its later files stay, and the next start sees them`);
      }
    });
    chain.p = p;
    void p.then(() => {
      if (chain.p !== p) return;
      this.#chains.delete(id);
      for (const f of chain.idle.splice(0)) f();
    });
  }

  busy(id: number): boolean {
    return this.#chains.has(id);
  }

  /** Calls f once the id's chain has ended (at once when it has none). */
  whenIdle(id: number, f: () => void): void {
    const c = this.#chains.get(id);
    if (c) c.idle.push(f);
    else f();
  }

  /** Settles when every chain of these ids (all ids when none are given) has ended. */
  async settled(ids?: readonly number[]): Promise<void> {
    const want = ids ? ids.flatMap((id) => this.#chains.get(id)?.p ?? []) : [...this.#chains.values()].map((c) => c.p);
    await Promise.all(want);
    if (!ids && this.#chains.size > 0) await this.settled();
  }
}

/** unlink in the thread pool; a missing file is fine. */
export async function unlinkIfThere(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isMissing(err) && (err as { code?: string }).code !== "ENOTDIR") throw err;
  }
}

/** For files a message seldom has (dsn/, a status record, a hold mark, intd/ after release): a lookup costs less than a failed unlink's error. */
async function unlinkIfExists(path: string): Promise<void> {
  if (existsSync(path)) await unlinkIfThere(path);
}

/** The status record and the hold mark (durably, when there was one). */
export async function clearMarkLater(queue: string, id: number): Promise<void> {
  await unlinkIfExists(join(queue, splitPath("defer", id))).catch(() => {}); // advisory: a leftover is recognised by its birth
  if (!existsSync(join(queue, splitPath("hold", id)))) return;
  try {
    await unlink(join(queue, splitPath("hold", id)));
  } catch (err) {
    if (isMissing(err) || (err as { code?: string }).code === "ENOTDIR") return;
    throw err;
  }
  await fsyncPath(join(queue, "hold", String(id % SPLIT)), { directory: true });
}

/**
 * The message is done: dsn/ and intd/ while mess/ still holds the inode (no
 * new message can have this id yet), then mess/, and info/ last. A crash in
 * between leaves an info file without channel files, which the next start
 * finishes.
 */
export async function finishMessageLater(queue: string, id: number): Promise<void> {
  const dsn = join(queue, splitPath("dsn", id));
  for (const f of [dsn, `${dsn}.tmp`, join(queue, flatPath("intd", id))]) await unlinkIfExists(f);
  for (const f of [join(queue, splitPath("mess", id)), join(queue, splitPath("info", id))]) await unlinkIfThere(f);
}
