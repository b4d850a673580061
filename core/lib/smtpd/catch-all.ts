import { parseDotQmail } from "../local/dot-qmail.ts";

/**
 * Is a .qmail file a fastforward catch-all (qm-newaliases(8): `| qm
 * fastforward -d` in the alias user's .qmail-default)? Then what it
 * accepts is what the aliases cdb holds, and the RCPT check can refuse an
 * unknown local part at once instead of accepting it and bouncing later
 * (backscatter). Only a plain call is recognised: the first delivery line
 * of the file runs `PROGRAM fastforward` (PROGRAM: qm, by any path) or
 * `fastforward`, with -d/-p flags and
 * at most a cdb path, and no shell syntax; anything else is not a
 * catch-all this check can judge.
 */
export interface FastforwardCall {
  readonly useDefault: boolean; // -d: the address is DEFAULT@HOST, else RECIPIENT
  readonly pass: boolean; // -p: an unknown address goes on to the next line
  readonly cdb: string | null; // the cdb named on the line; null: control/aliases' file + ".cdb"
}

export function fastforwardCall(text: string): FastforwardCall | null {
  const parsed = parseDotQmail(text);
  if (parsed.kind !== "ok") return null;
  const first = parsed.value.find((i) => i.kind !== "comment");
  if (!first || first.kind !== "program") return null;
  if (/[;&|<>`$(){}\\'"*?[\]~#=]/.test(first.command)) return null;
  const words = first.command.trim().split(/[ \t]+/);
  // `fastforward` itself, or `qm fastforward` by any path to qm (or a wrapper that runs it)
  const at = /(^|\/)fastforward$/.test(words[0] ?? "") ? 0 : words[1] === "fastforward" ? 1 : -1;
  if (at < 0) return null;
  let useDefault = false;
  let pass = false;
  let cdb: string | null = null;
  for (const w of words.slice(at + 1)) {
    if (/^-[dp]+$/.test(w)) {
      useDefault ||= w.includes("d");
      pass ||= w.includes("p");
    } else if (cdb === null && w.startsWith("/")) cdb = w;
    else return null;
  }
  return { useDefault, pass, cdb };
}
