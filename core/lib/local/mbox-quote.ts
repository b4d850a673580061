/**
 * mbox ">From " quoting as a streaming transform (docs/qmail.md §4.5): a ">" goes
 * before every line matching `^>*From `, and the text is made to end in "\n".
 * Memory is bounded: a run of ">" is counted, not buffered.
 */
const FROM = [0x46, 0x72, 0x6f, 0x6d, 0x20]; // "From "
const GT = 0x3e;
const NL = 0x0a;

export interface FromQuoter {
  push(chunk: Uint8Array): Uint8Array;
  end(): Uint8Array;
}

export function createFromQuoter(): FromQuoter {
  let atStart = true; // at the start of a line, matching >*From
  let gts = 0;
  let k = 0; // bytes of "From " matched
  let last = NL; // last byte emitted ("\n" for an empty message, so none is added)
  const pending = (out: number[], quote: boolean): void => {
    if (quote) out.push(GT);
    for (let i = 0; i < gts; i++) out.push(GT);
    for (let i = 0; i < k; i++) out.push(FROM[i]!);
    gts = 0;
    k = 0;
  };
  return {
    push(chunk) {
      const out: number[] = [];
      for (const c of chunk) {
        if (atStart) {
          if (k === 0 && c === GT) { gts++; continue; }
          if (c === FROM[k]) {
            k++;
            if (k === FROM.length) { pending(out, true); atStart = false; }
            continue;
          }
          pending(out, false);
          atStart = false;
        }
        out.push(c);
        if (c === NL) atStart = true;
      }
      const bytes = Uint8Array.from(out);
      if (bytes.length > 0) last = bytes[bytes.length - 1]!;
      return bytes;
    },
    end() {
      const out: number[] = [];
      if (atStart && (gts > 0 || k > 0)) pending(out, false);
      if (out.length > 0) last = out[out.length - 1]!;
      if (last !== NL) out.push(NL);
      return Uint8Array.from(out);
    },
  };
}
