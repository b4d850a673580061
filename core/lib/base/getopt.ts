import { ok, type Result } from "./result.ts";

/**
 * The getopt scan of qm's sendmail-style command lines (qm inject, sendmail):
 * option words until `--` (dropped) or the first word that is not one (`-`
 * alone is an operand). `word(arg, next)` reads one option word and says how
 * many following words it took as a value (0 or 1). ok: where operands start.
 */
export function scanOptions(argv: readonly string[], word: (arg: string, next: string | undefined) => Result<number>): Result<number> {
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return ok(i + 1);
    if (!arg.startsWith("-") || arg === "-") break;
    const r = word(arg, argv[i + 1]);
    if (r.kind !== "ok") return r;
    i += r.value;
  }
  return ok(i);
}
