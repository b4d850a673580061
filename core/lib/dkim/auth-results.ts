// The Authentication-Results header field (RFC 8601) qm smtpd prepends, and
// the removal of fields that claim to come from us (RFC 8601 §5: a field with
// our authserv-id that we did not write is a forgery, and readers downstream
// trust it). Header text is a byte string (core/lib/base/bytes.ts) with LF
// line ends, as the DATA decoder hands it on; all of it is hostile.
import { stripComments } from "./from.ts";

/** At most this much of a field value is read for its authserv-id. */
const MAX_ID_SCAN = 4096;

/** Where the header block ends: the index of the empty line's LF, or text.length when there is no body. */
export function headerEnd(text: string): number {
  if (text.startsWith("\n")) return 0;
  const at = text.indexOf("\n\n");
  return at < 0 ? text.length : at + 1;
}

function firstValue(text: string): string | null {
  const t = text.replace(/^[\s]+/, "");
  if (t.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\.)*)"/.exec(t);
    return m ? m[1]!.replace(/\\(.)/g, "$1") : null;
  }
  const m = /^[^\s;()"]+/.exec(t);
  return m ? m[0] : null;
}

/**
 * The authserv-id of an Authentication-Results value, lowercased: as the
 * RFC reads it (comments removed) and as a careless reader might (the first
 * word, comments kept). Both, so neither kind of reader downstream is fooled.
 */
export function authservIds(value: string): string[] {
  const v = value.slice(0, MAX_ID_SCAN).replace(/\r?\n/g, " ");
  const ids = [firstValue(stripComments(v)), firstValue(v.replace(/^[\s(]+/, ""))];
  return [...new Set(ids.filter((x): x is string => x !== null && x !== "").map((x) => x.toLowerCase().replace(/\.$/, "")))];
}

const FIELD_NAME = /^authentication-results[ \t]*:/i;

/** The header block without the Authentication-Results fields that name `id` as their authserv-id. */
export function stripForged(head: string, id: string): { head: string; removed: number } {
  const ours = id.toLowerCase().replace(/\.$/, "");
  const lines = head.split("\n");
  const kept: string[] = [];
  let removed = 0;
  let dropping = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith(" ") || line.startsWith("\t")) {
      if (!dropping) kept.push(line);
      continue;
    }
    dropping = false;
    if (FIELD_NAME.test(line)) {
      let value = line.replace(FIELD_NAME, "");
      for (let j = i + 1; j < lines.length && /^[ \t]/.test(lines[j]!); j++) value += `\n${lines[j]}`;
      if (authservIds(value).includes(ours)) {
        dropping = true;
        removed++;
        continue;
      }
    }
    kept.push(line);
  }
  return { head: kept.join("\n"), removed };
}

/** One result as mailauth words it: "spf=pass (comment) smtp.mailfrom=a@b". */
export type ResultEntry = string;

/**
 * The field, folded one result a line, LF-ended: "Authentication-Results: id;\n\tspf=pass ...;\n\tdkim=none\n".
 * No results: "id; none" (RFC 8601 §2.2). Bytes outside printable ASCII in a
 * result (from a hostile address in a comment) become "?".
 */
export function formatAuthResults(id: string, entries: readonly ResultEntry[]): string {
  const clean = entries.map((e) => e.replace(/[^\x20-\x7e]/g, "?"));
  if (clean.length === 0) return `Authentication-Results: ${id}; none\n`;
  return `Authentication-Results: ${id};\n\t${clean.join(";\n\t")}\n`;
}
