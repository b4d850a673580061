/**
 * A message header as qmail-inject reads it (docs/qmail.md §7.4): lines up to the
 * first empty line; continuation lines (leading space or tab) belong to the
 * field before; a first line `From ...` is kept as `MBOX-Line: From ...`; a
 * line that is not a field ends the header and starts the body. Byte
 * strings throughout (bytes.ts). qm also accepts CRLF: one CR before each LF
 * of the header is dropped (the body is never touched).
 */

/** Header size cap, in bytes: over it inject refuses the message (permanent). */
export const MAX_HEADER = 1 << 20;

export interface Field {
  /** lowercased name, trailing blanks before the colon removed; "mbox-line" for a From_ line */
  readonly key: string;
  /** the text after the colon, continuation lines joined with "\n" */
  readonly value: string;
  /** the whole field as it will be written back, ending in "\n" */
  readonly raw: string;
}

/** Where the header ends: `head` is its length, `body` where the body starts (after the empty line, if any). */
export type HeaderScan = { readonly done: true; readonly head: number; readonly body: number } | { readonly done: false; readonly next: number };

/** True for `Name:` where Name (blanks before the colon allowed) is printable ASCII without spaces. */
export function isFieldLine(line: string): boolean {
  const colon = line.indexOf(":");
  if (colon <= 0) return false;
  const name = line.slice(0, colon).replace(/[ \t]+$/, "");
  return name !== "" && /^[\x21-\x7e]+$/.test(name);
}

/**
 * Scans whole lines of `text` from offset `from` (a line start). Without the
 * end of the header in sight it returns where to resume once more text came;
 * with `eof` the last, unterminated line counts as a line.
 */
export function scanHeader(text: string, from: number, eof: boolean): HeaderScan {
  let start = from;
  for (;;) {
    const nl = text.indexOf("\n", start);
    if (nl < 0 && !eof) return { done: false, next: start };
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(start, end).replace(/\r$/, "");
    if (nl < 0 && start === text.length) return { done: true, head: start, body: start };
    if (line === "") return { done: true, head: start, body: end + 1 };
    const ok = (start === 0 && line.startsWith("From ")) || (start > 0 && (line[0] === " " || line[0] === "\t")) || isFieldLine(line);
    if (!ok) return { done: true, head: start, body: start };
    if (nl < 0) return { done: true, head: text.length, body: text.length };
    start = nl + 1;
  }
}

/** The fields of a header found by scanHeader (text[0..head]). */
export function parseFields(head: string): Field[] {
  const lines = head.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const fields: Field[] = [];
  let cur: string[] = [];
  const flush = (): void => {
    if (cur.length === 0) return;
    const first = cur[0]!;
    if (fields.length === 0 && first.startsWith("From ") && !isFieldLine(first)) {
      fields.push({ key: "mbox-line", value: ` ${first}`, raw: `MBOX-Line: ${cur.join("\n")}\n` });
    } else {
      const colon = first.indexOf(":");
      const value = [first.slice(colon + 1), ...cur.slice(1)].join("\n");
      fields.push({ key: first.slice(0, colon).replace(/[ \t]+$/, "").toLowerCase(), value, raw: `${cur.join("\n")}\n` });
    }
    cur = [];
  };
  for (const l of lines) {
    const line = l.endsWith("\r") ? l.slice(0, -1) : l;
    if (cur.length > 0 && (line[0] === " " || line[0] === "\t")) cur.push(line);
    else {
      flush();
      cur = [line];
    }
  }
  flush();
  return fields;
}

/**
 * `Name: a, b, c\n`, folded after a comma with `sep` (default "\n  ") where a
 * line would pass 78 columns. One item longer than that stays on its line.
 */
export function foldList(name: string, items: readonly string[], sep = "\n  "): string {
  let out = `${name}: `;
  let col = out.length;
  items.forEach((item, i) => {
    if (i > 0) {
      if (col + 2 + item.length > 78) {
        out += `,${sep}`;
        col = sep.length - 1;
      } else {
        out += ", ";
        col += 2;
      }
    }
    out += item;
    col += item.length;
  });
  return `${out}\n`;
}
