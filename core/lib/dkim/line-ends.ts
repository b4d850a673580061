// DKIM hashes the message as the SMTP client sends it: every line ending
// (CR LF, a bare LF, a bare CR) as CR LF, exactly as the DATA encoder in
// core/lib/remote/smtp-wire.ts writes it, without its dot-stuffing (RFC 6376
// §5.3: signatures cover the message before transparency dots).

export interface CrlfNormalizer {
  push(chunk: Uint8Array): Uint8Array;
  end(): Uint8Array;
}

const CR = 13;
const LF = 10;

export function createCrlfNormalizer(): CrlfNormalizer {
  let pendingCR = false;
  return {
    push(chunk) {
      if (!pendingCR && chunk.indexOf(CR) < 0) return lfOnly(chunk); // the queue's usual form: whole lines at a time
      const out = new Uint8Array(chunk.length * 2 + 2);
      let n = 0;
      let from = 0;
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i]!;
        if (pendingCR) {
          pendingCR = false;
          out[n++] = CR;
          out[n++] = LF;
          if (c === LF) {
            from = i + 1;
            continue;
          }
        }
        if (c !== CR && c !== LF) continue;
        out.set(chunk.subarray(from, i), n);
        n += i - from;
        from = i + 1;
        if (c === CR) pendingCR = true;
        else {
          out[n++] = CR;
          out[n++] = LF;
        }
      }
      out.set(chunk.subarray(from), n);
      n += chunk.length - from;
      return out.subarray(0, n);
    },
    end() {
      const tail = pendingCR ? Uint8Array.of(CR, LF) : new Uint8Array(0);
      pendingCR = false;
      return tail;
    },
  };
}

/** A chunk without CR: each LF becomes CR LF, copied a line at a time (indexOf is native). */
function lfOnly(chunk: Uint8Array): Uint8Array {
  let lines = 0;
  for (let at = chunk.indexOf(LF); at >= 0; at = chunk.indexOf(LF, at + 1)) lines++;
  if (lines === 0) return chunk;
  const out = new Uint8Array(chunk.length + lines);
  let n = 0;
  let from = 0;
  for (let at = chunk.indexOf(LF); at >= 0; at = chunk.indexOf(LF, from)) {
    out.set(chunk.subarray(from, at), n);
    n += at - from;
    out[n++] = CR;
    out[n++] = LF;
    from = at + 1;
  }
  out.set(chunk.subarray(from), n);
  return out;
}
