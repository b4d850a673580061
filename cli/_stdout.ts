// stdout with back-pressure for listings; once the reader has gone (EPIPE:
// `qm qread | head`, `qm qctl list | head`) every later write answers false.
let gone = false;

export async function writeOut(text: string): Promise<boolean> {
  if (gone) return false;
  try {
    if (!process.stdout.write(text, "latin1")) await new Promise((resolve) => { process.stdout.once("drain", resolve); process.stdout.once("error", resolve); });
  } catch {
    gone = true; // Bun throws EPIPE from write() itself; Node emits "error"
  }
  return !gone;
}

/** Before the first write: an "error" on stdout means the reader has gone. */
export function watchOut(): void {
  process.stdout.on("error", () => (gone = true));
}

/** After the last write: stdout flushed and ended, unless the reader has gone. */
export async function endOut(): Promise<void> {
  if (!gone) await new Promise((resolve) => { process.stdout.once("error", resolve); process.stdout.end(() => resolve(null)); });
}
