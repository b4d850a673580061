/**
 * The one line a part logs when SIGHUP has made it read its control files
 * again (qm-log(5)): which of them changed since the last read, or that none
 * did. `changed` holds control file names, never input from outside.
 */
export function reloadLine(part: string, changed: readonly string[]): string {
  return `${part}: reload: reloaded control files; ${changed.length > 0 ? `changed: ${changed.join(" ")}` : "none changed"}`;
}
