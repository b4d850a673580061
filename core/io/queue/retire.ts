import { existsSync } from "node:fs";
import { join } from "node:path";
import { splitPath } from "../../lib/queue/layout.ts";
import { errText } from "../base/errno.ts";
import { clearMark } from "./hold.ts";
import { removeStatus } from "./status.ts";
import { finishPaths, unlinkLater } from "./store.ts";

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

/** For files a message seldom has (dsn/, a status record, a hold mark, intd/ after release): a lookup costs less than a failed unlink's error. */
async function unlinkIfExists(path: string): Promise<void> {
  if (existsSync(path)) await unlinkLater(path);
}

/** The status record and the hold mark (durably, when there was one: hold.ts's clearMark). */
export async function clearMarkLater(queue: string, id: number): Promise<void> {
  if (existsSync(join(queue, splitPath("defer", id)))) removeStatus(queue, id);
  if (!existsSync(join(queue, splitPath("hold", id)))) return;
  const r = await clearMark(queue, id);
  if (r.kind !== "ok") throw new Error(r.reason);
}

/** A finished message's files, in store.ts's order (finishPaths). */
export async function finishMessageLater(queue: string, id: number): Promise<void> {
  const f = finishPaths(queue, id);
  for (const path of f.seldom) await unlinkIfExists(path);
  for (const path of f.always) await unlinkLater(path);
}
