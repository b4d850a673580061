// How much of the original a bounce quotes (control/bouncemaxbytes, qm-send(8)).

/**
 * The original as a bounce quotes it: its header, then its body, each cut to
 * the longest run of whole lines that fits in `max` bytes; a first line
 * longer than that is cut at `max` and given its newline. A message within
 * the limits passes unchanged. The result does not depend on how the input
 * is split into chunks: a line is held until its end is seen (at most `max`
 * bytes). Feed the chunks in order, then end(); `cut` says whether anything
 * was left out, `done` that the body is full (nothing more will pass).
 * With `headersOnly` (a DSN's text/rfc822-headers, RET=HDRS) it is done at
 * the header's end, and the blank line after the header is not passed.
 */
export function originalCutter(max: number, opts: { readonly headersOnly?: boolean } = {}): { feed(chunk: Uint8Array): Uint8Array[]; end(): Uint8Array[]; readonly cut: boolean; readonly done: boolean } {
  let inHeader = true;
  let full = false; // the current part is cut: skip the rest of it
  let done = false;
  let cut = false;
  let emitted = 0; // bytes passed of the current part
  let pending: Uint8Array[] = []; // the line under way
  let pendingLen = 0;
  let atLineStart = true; // for the header's end: an empty line

  /** The line under way plus `more`, all of it or its first max - emitted bytes. */
  const flushLine = (out: Uint8Array[], more: Uint8Array | null) => {
    for (const p of pending) out.push(p);
    if (more && more.length > 0) out.push(more);
    emitted += pendingLen + (more?.length ?? 0);
    pending = [];
    pendingLen = 0;
  };
  /** The part is full: a first line too long is cut at `max` and ended. */
  const fill = (out: Uint8Array[], line: Uint8Array[]) => {
    cut = true;
    full = true;
    if (emitted === 0 && max > 0) {
      let room = max;
      for (const p of line) {
        if (room <= 0) break;
        out.push(p.subarray(0, Math.min(room, p.length)));
        room -= Math.min(room, p.length);
      }
      out.push(NEWLINE);
    }
    pending = [];
    pendingLen = 0;
  };
  const endHeader = (out: Uint8Array[]) => {
    if (full) out.push(NEWLINE); // the blank line after a cut header
    inHeader = false;
    full = false;
    emitted = 0;
  };

  const feed = (chunk: Uint8Array): Uint8Array[] => {
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < chunk.length && !done) {
      const lf = chunk.indexOf(10, i);
      const piece = chunk.subarray(i, lf < 0 ? chunk.length : lf + 1);
      i += piece.length;
      const blank = inHeader && atLineStart && piece.length === 1 && lf >= 0; // "\n" alone: the header ends
      atLineStart = lf >= 0;
      if (blank) {
        if (opts.headersOnly) {
          done = true;
          continue;
        }
        if (!full) {
          if (emitted + 1 <= max) flushLine(out, piece);
          else fill(out, [piece]);
        }
        if (inHeader) endHeader(out);
        continue;
      }
      if (full) continue; // the rest of a cut header
      if (emitted + pendingLen + piece.length <= max) {
        if (lf >= 0) flushLine(out, piece);
        else {
          pending.push(piece.slice());
          pendingLen += piece.length;
        }
      } else {
        fill(out, [...pending, piece]);
        if (!inHeader) done = true;
        else if (opts.headersOnly) done = true;
      }
    }
    return out;
  };
  const end = (): Uint8Array[] => {
    const out: Uint8Array[] = [];
    if (pendingLen > 0 && !full) flushLine(out, null); // a last line without its newline, within the limit
    return out;
  };
  return {
    feed,
    end,
    get cut() {
      return cut;
    },
    get done() {
      return done;
    },
  };
}

const NEWLINE = new Uint8Array([10]);
