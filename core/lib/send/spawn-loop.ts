/**
 * The loop both spawners run (qmail's spawn.c, shared by qmail-lspawn and
 * qmail-rspawn): read send's commands, refuse the malformed ones at once,
 * start the rest, write one report per command as each finishes, and return
 * when the input has ended and every delivery has reported (or at once when
 * qm send has died: orphaned()). What a delivery
 * is, and how commands are grouped into deliveries, the spawner decides.
 */
import { commandReader, encodeReport, RELOAD, SLOT, type Command, type Outcome } from "./spawn-wire.ts";

export interface SpawnLoop {
  /** A report for a command that must not be started (after its slot is checked), or null. */
  refuse(c: Command): Outcome | null;
  /** Commands that arrived together, split into deliveries (default: one each). */
  group?(cs: readonly Command[]): (readonly Command[])[];
  /** Runs one delivery; one outcome per command, in order. */
  deliver(cs: readonly Command[]): Promise<readonly Outcome[]>;
  /** The outcome of a delivery that threw. */
  readonly internalError: Outcome;
  /** The text as it goes on the wire (a spawner's own cap). */
  clip(text: string): string;
  /** The reload command: read the control files again; deliveries started after it use them. No report. */
  reload?(): void;
  /**
   * True once qm send has died (SIGKILL included): the commands still read
   * from its pipe are then not started, and the loop returns at once without
   * waiting for the deliveries under way, whose reports no one would read.
   */
  orphaned?(): boolean;
}

const BAD_SLOT: Outcome = { letter: "Z", text: "Bad slot number. (#4.3.0)\n" };

export async function runSpawnLoop(input: AsyncIterable<Uint8Array>, write: (b: Uint8Array) => void, s: SpawnLoop): Promise<void> {
  const read = commandReader();
  const pending = new Set<Promise<void>>();
  const reply = (c: Command, o: Outcome): void => write(encodeReport(c.slot, { letter: o.letter, text: s.clip(o.text) }));
  for await (const chunk of input) {
    let ready: Command[] = [];
    const start = (): void => {
      if (ready.length === 0) return;
      if (s.orphaned?.()) {
        ready = []; // qm send is gone: nothing more is started
        return;
      }
      for (const cs of s.group ? s.group(ready) : ready.map((c) => [c])) {
        const p = s
          .deliver(cs)
          .catch(() => cs.map(() => s.internalError))
          .then((os) => cs.forEach((c, i) => reply(c, os[i] ?? s.internalError)))
          .finally(() => pending.delete(p));
        pending.add(p);
      }
      ready = [];
    };
    for (const c of read(chunk)) {
      if (c.slot === RELOAD && c.path === "" && c.sender === "" && c.recipient === "") {
        start(); // the commands before it keep the old controls
        s.reload?.();
        continue;
      }
      const refused = SLOT.test(c.slot) ? s.refuse(c) : BAD_SLOT;
      if (refused) reply(c, refused);
      else ready.push(c);
    }
    if (s.orphaned?.()) return;
    start();
  }
  await Promise.all(pending);
}
