import { createConsola, type ConsolaReporter } from "consola/core";

// Every level goes to fd 2: under `qm smtpd` fd 1 is the SMTP socket; under
// `qm remote` it carries the reports. Mail logs (qm send) use logLine() on
// their own writer instead: one line per event, never folded.
const plain: ConsolaReporter = {
  log(obj) {
    const text = obj.args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
    process.stderr.write(`${obj.tag ? `${obj.tag}: ` : ""}${text}\n`);
  },
};

// On a terminal, a person reads: the level as a coloured badge (NO_COLOR turns
// the colour off). Anywhere else (a pipe, a log file): plain one-line records.
const BADGE = new Map<string, [string, number]>([
  ["fatal", ["✖", 31]],
  ["error", ["✖", 31]],
  ["warn", ["⚠", 33]],
  ["info", ["ℹ", 36]],
  ["success", ["✔", 32]],
  ["start", ["◐", 35]],
]);
const terminal: ConsolaReporter = {
  log(obj) {
    const text = obj.args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
    const [mark, colour] = BADGE.get(obj.type) ?? ["", 0];
    const badge = mark === "" ? "" : process.env.NO_COLOR ? `${mark} ` : `\x1b[${colour}m${mark}\x1b[0m `;
    process.stderr.write(`${badge}${obj.tag ? `${obj.tag}: ` : ""}${text}\n`);
  },
};

/**
 * Messages for people, and smtpd's and qmqpd's session log: never folded.
 * consola folds a line repeated within `throttle` ms of the last (default
 * 1000); with 0 it still folds when the clock steps back (the gap is then
 * negative), so no gap is ever below the throttle and no count above the minimum.
 */
export const log = createConsola({ reporters: [process.stderr.isTTY ? terminal : plain], throttle: Number.NEGATIVE_INFINITY, throttleMin: Number.POSITIVE_INFINITY, level: 3 });

export { logSafe } from "../../lib/base/log-safe.ts";
