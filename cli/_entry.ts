// The entry's own jobs, out of cli/qm.ts: the name it was called by, --help, --version.
import type { CommandDef } from "citty";
import { personality, type Personality } from "../core/lib/inject/sendmail-args.ts";
import { COMMANDS, type Subcommand } from "./commands.ts";
import { EXAMPLES } from "./_help.ts";

/** The personality of the name this process was started as; null for plain qm. */
export function invokedAs(argv: readonly string[] = process.argv, argv0: string = process.argv0): Personality | null {
  const script = argv[1] ?? ""; // a bun-compiled binary names its embedded script; argv0 keeps the name called by
  return personality(script.startsWith("/$bunfs/") || script.startsWith("B:\\~BUN") || script === "" ? argv0 : script);
}

export type Request = { kind: "help"; sub: string | null } | { kind: "version" } | { kind: "run" };

/** `qm --help`, `qm -h`, `qm help [CMD]`, `qm CMD --help` (before any "--"), `qm --version`. */
export function request(raw: readonly string[], subs: ReadonlySet<string>): Request {
  const first = raw[0];
  if (first === undefined) return { kind: "run" };
  if (first === "--version" || first === "-v") return { kind: "version" };
  if (first === "--help" || first === "-h") return { kind: "help", sub: null };
  if (first === "help") return { kind: "help", sub: raw[1] !== undefined && subs.has(raw[1]) ? raw[1] : null };
  if (!subs.has(first)) return { kind: "run" };
  const flags = raw.indexOf("--") < 0 ? raw.slice(1) : raw.slice(1, raw.indexOf("--"));
  // sendmail's argv is sendmail's: no citty flags there ("qm sendmail -h" is not help).
  return first !== "sendmail" && flags.includes("--help") ? { kind: "help", sub: first } : { kind: "run" };
}

/** citty's usage of `sub` (or the overview), then the examples; all on stdout. */
export async function showHelp(main: CommandDef, sub: Subcommand | undefined): Promise<void> {
  if (sub) process.stdout.write(`${plain(await usage(main, sub))}\n\n`);
  else process.stdout.write(overview());
  const examples = EXAMPLES.get(sub?.name ?? "");
  if (examples) process.stdout.write(`EXAMPLES\n\n${examples.map((e) => `  ${e}`).join("\n")}\n\n`);
  if (!sub) process.stdout.write("Each command has a manual page: man qm, man qm-COMMAND.\n");
}

/** For a usage error, on stderr: the usage of `sub` (or the overview), without colours. */
export async function usageText(main: CommandDef, sub: Subcommand | undefined): Promise<string> {
  return uncoloured(sub ? `${await usage(main, sub)}\n\n` : overview());
}

export function uncoloured(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/** One line per command of the table (none is loaded). */
function overview(): string {
  const rows = COMMANDS.map((c) => `  ${c.name.padEnd(14)} ${c.summary}`);
  return `qm: a mail transfer agent in the qmail tradition\n\nUSAGE  qm COMMAND [ARGS]\n       qm --help | --version\n\nCOMMANDS\n\n${rows.join("\n")}\n\nUse qm COMMAND --help for more information about a command.\n\n`;
}

/** citty's usage of a command, named and described by its row of the table. */
async function usage(main: CommandDef, sub: Subcommand): Promise<string> {
  const cmd = await sub.load();
  return (await import("citty")).renderUsage({ ...cmd, meta: { name: sub.name, description: sub.summary } }, main);
}

/** citty colours its usage even into a pipe: keep the colours for a terminal only. */
function plain(text: string): string {
  return process.stdout.isTTY && !process.env.NO_COLOR ? text : uncoloured(text);
}
