import type { Writable } from "node:stream";
import { ok, temp, type Result } from "../../lib/base/result.ts";

/**
 * Writes chunks to a stream with back-pressure. A reader that goes away
 * (EPIPE: `qm inject -n | head`) ends the copy with a temporary failure
 * instead of a crash: Node reports it as an "error" event, Bun throws it.
 */
export async function writeAll(out: Writable, chunks: AsyncIterable<Uint8Array>): Promise<Result<true>> {
  let failed = false;
  const onError = (): void => {
    failed = true;
  };
  out.on("error", onError);
  try {
    for await (const c of chunks) {
      if (failed) break;
      if (!out.write(c)) await new Promise((resolve) => { out.once("drain", resolve); out.once("error", resolve); });
    }
  } catch {
    failed = true;
  } finally {
    out.off("error", onError);
  }
  return failed ? temp("Unable to write the output: broken pipe", "4.3.0") : ok(true);
}
