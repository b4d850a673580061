/**
 * The spawn protocol between `qm send` and `qm lspawn`/`qm rspawn` (docs/architecture.md §4,
 * docs/qmail.md §2.5 made text-safe): command `slot\0path\0sender\0recipient\0`,
 * report `slot\0<K|Z|D>text\0`. Strings are byte strings (bytes.ts).
 */
export interface Report {
  readonly slot: number;
  readonly letter: "K" | "Z" | "D" | "?";
  readonly text: string;
}

/** qmail-send keeps at most this much of a report's text. */
export const MAX_REPORT = 10000;
// A report longer than this (slot + text) without its NULs is garbage: drop the buffer.
const MAX_PENDING = 1 << 20;

export function encodeCommand(slot: number, path: string, sender: string, recipient: string): string {
  return `${slot}\0${path}\0${sender}\0${recipient}\0`;
}

/**
 * Splits a report stream into reports; feed it chunks as they come. A slot
 * that is not a decimal number yields slot -1; a text without K/Z/D yields "?".
 */
export function reportReader(): (chunk: string) => Report[] {
  let buf = "";
  return (chunk) => {
    buf += chunk;
    const out: Report[] = [];
    for (;;) {
      const a = buf.indexOf("\0");
      if (a < 0) break;
      const b = buf.indexOf("\0", a + 1);
      if (b < 0) break;
      const slotText = buf.slice(0, a);
      const body = buf.slice(a + 1, b);
      buf = buf.slice(b + 1);
      const slot = /^\d{1,6}$/.test(slotText) ? Number(slotText) : -1;
      const c = body[0];
      const letter = c === "K" || c === "Z" || c === "D" ? c : "?";
      out.push({ slot, letter, text: body.slice(1, 1 + MAX_REPORT) });
    }
    if (buf.length > MAX_PENDING) buf = "";
    return out;
  };
}
