// How much of the original a bounce quotes (control/bouncemaxbytes, qm-send(8)).
/**
 * The original as a bounce quotes it: its header up to `max` bytes, then its
 * body up to `max` bytes, each cut at the end of a line where one ends in
 * the last 1000 bytes before the limit (a cut line gets its newline). Feed
 * the chunks in order; `cut` says whether anything was left out, `done` that
 * the body's limit is reached (nothing more will pass).
 */
export function originalCutter(max: number): { feed(chunk: Uint8Array): Uint8Array[]; readonly cut: boolean; readonly done: boolean } {
  let inHeader = true;
  let used = 0; // bytes passed of the current part
  let last = 10; // the previous byte: the header ends at LF LF (a leading LF: an empty header)
  let done = false; // the body's limit was reached
  let cut = false;
  let skipping = false; // the header's limit was reached: skip to the blank line
  const take = (chunk: Uint8Array, from: number, to: number, out: Uint8Array[]) => {
    if (to > from) out.push(chunk.subarray(from, to));
  };
  const feed = (chunk: Uint8Array): Uint8Array[] => {
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < chunk.length && !done) {
      if (inHeader) {
        // find the header's end (LF after LF) in this chunk
        let j = i;
        let endAt = -1;
        for (; j < chunk.length; j++) {
          if (chunk[j] === 10 && last === 10) {
            endAt = j + 1;
            last = 10;
            break;
          }
          last = chunk[j]!;
        }
        const stop = endAt < 0 ? chunk.length : endAt;
        if (!skipping) {
          const room = max - used;
          if (stop - i <= room) {
            take(chunk, i, stop, out);
            used += stop - i;
          } else {
            const at = lineEnd(chunk, i, i + room);
            take(chunk, i, at, out);
            if (at === i + room && (at === i || chunk[at - 1] !== 10)) out.push(NEWLINE);
            used = max;
            skipping = true;
            cut = true;
          }
        }
        if (endAt >= 0) {
          if (skipping) out.push(NEWLINE); // the blank line that ends the header
          inHeader = false;
          used = 0;
        }
        i = stop;
      } else {
        const room = max - used;
        if (chunk.length - i <= room) {
          take(chunk, i, chunk.length, out);
          used += chunk.length - i;
          i = chunk.length;
        } else {
          const at = lineEnd(chunk, i, i + room);
          take(chunk, i, at, out);
          if (at === i || chunk[at - 1] !== 10) out.push(NEWLINE);
          done = true;
          cut = true;
        }
      }
    }
    return out;
  };
  return {
    feed,
    get cut() {
      return cut;
    },
    get done() {
      return done;
    },
  };
}

const NEWLINE = new Uint8Array([10]);

/** Where to cut in chunk[from, limit): after the last LF in the last 1000 bytes, else at the limit. */
function lineEnd(chunk: Uint8Array, from: number, limit: number): number {
  for (let k = limit - 1; k >= from && k >= limit - 1000; k--) if (chunk[k] === 10) return k + 1;
  return limit;
}

