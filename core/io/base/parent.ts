/**
 * Whether this process's parent has died: the kernel then gives the process
 * a new parent (init or a subreaper), so its parent pid changes. qm send's
 * spawners use it (qm-send(8)): a spawner whose qm send died, SIGKILL
 * included, starts nothing more and exits at once, as no one is left to
 * read its reports, and a new queue manager waits for it (lock/fence).
 */

/**
 * Returns a check that is true once this process's parent has died, and
 * calls `gone` (once) when that is noticed. The parent is `expected` (qm send
 * names itself in $QM_SEND_PID, so that a spawner whose qm send died even
 * before it started knows), else the parent it had when called. Checked
 * every `everyMs`, and every 50 ms after `input` has ended (a parent that
 * dies closes the pipe first, and is replaced as parent a moment later).
 */
export function watchParent(gone: () => void, input?: NodeJS.EventEmitter, expected?: number, everyMs = 1000): () => boolean {
  const first = expected !== undefined && Number.isSafeInteger(expected) && expected > 1 ? expected : process.ppid;
  let told = false;
  const orphaned = (): boolean => process.ppid !== first;
  const check = (): void => {
    if (told || !orphaned()) return;
    told = true;
    gone();
  };
  setInterval(check, everyMs).unref();
  input?.once("end", () => setInterval(check, 50).unref());
  return orphaned;
}

/**
 * For a spawner's main: watchParent on qm send ($QM_SEND_PID, then removed
 * from the environment so that deliveries do not inherit it), exiting at
 * once when it has died; returns the check for the spawn loop.
 */
export function exitWhenOrphaned(input: NodeJS.EventEmitter): () => boolean {
  const expected = Number(process.env.QM_SEND_PID);
  delete process.env.QM_SEND_PID;
  return watchParent(() => process.exit(0), input, expected);
}
