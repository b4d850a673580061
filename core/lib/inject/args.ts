/**
 * qmail-inject's command line (docs/qmail.md §7.1): `[-nNaAhH] [-f sender] [--] [recip ...]`,
 * read the getopt way: flags may be bundled (`-nH`), `-f` takes the rest of its
 * word or the next word, the first non-option or `--` ends the options.
 */
import { scanOptions } from "../base/getopt.ts";
import { ok, perm, type Result } from "../base/result.ts";
import type { Notify, Ret } from "../queue/dsn.ts";

/** Where recipients come from: a = arguments only, h = header only, A = arguments else header, H = both. */
export type RecipientMode = "a" | "h" | "A" | "H";

export interface InjectOptions {
  readonly mode: RecipientMode;
  /** -n: print the message instead of queueing it */
  readonly print: boolean;
  /** -f: the envelope sender as given (parsed and rewritten later), null when absent */
  readonly sender: string | null;
  readonly recipients: readonly string[];
  /** The sendmail wrapper's -N, -R and -V (RFC 3461), for every recipient; absent for qm inject. */
  readonly dsn?: SendmailDsn;
}

/** sendmail -N (NOTIFY), -R (RET), -V (ENVID). */
export interface SendmailDsn {
  readonly notify?: Notify;
  readonly ret?: Ret;
  readonly envid?: string;
}

export const USAGE = "usage: qm inject [ -nNaAhH ] [ -f sender ] [ recip ... ]";

const FLAGS = new Map<string, (o: Mutable) => void>([
  ["n", (o) => (o.print = true)],
  ["N", (o) => (o.print = false)],
  ["a", (o) => (o.mode = "a")],
  ["A", (o) => (o.mode = "A")],
  ["h", (o) => (o.mode = "h")],
  ["H", (o) => (o.mode = "H")],
]);
type Mutable = { mode: RecipientMode; print: boolean; sender: string | null };

export function parseInjectArgs(argv: readonly string[]): Result<InjectOptions> {
  const o: Mutable = { mode: "A", print: false, sender: null };
  const end = scanOptions(argv, (arg, next) => readWord(o, arg, next));
  return end.kind === "ok" ? ok({ ...o, recipients: argv.slice(end.value) }) : end;
}

/** One option word (`-nH`, `-fsender`, `-f` followed by the sender); how many following words it took. */
function readWord(o: Mutable, arg: string, next: string | undefined): Result<number> {
  for (let j = 1; j < arg.length; j++) {
    const c = arg[j]!;
    if (c === "f") {
      const rest = arg.slice(j + 1);
      const value = rest !== "" ? rest : next;
      if (value === undefined) return perm(`Option -f needs a sender; ${USAGE}`, "5.3.0");
      o.sender = value;
      return ok(rest !== "" ? 0 : 1);
    }
    const set = FLAGS.get(c);
    if (!set) return perm(`Unknown option -${c}; ${USAGE}`, "5.3.0");
    set(o);
  }
  return ok(0);
}
