/**
 * Maildir unique names (docs/qmail.md §13): `<sec>.M<usec>P<pid>Q<n>R<hex>.<host>`.
 * Pure: time, pid, counter, random bytes and host name are passed in.
 */
export interface NameParts {
  readonly sec: number;
  readonly usec: number;
  readonly pid: number;
  readonly seq: number;
  readonly random: Uint8Array;
  readonly host: string;
}

/** The host part with "/" as \057 and ":" as \072, so a name never holds either. */
function maildirHost(host: string): string {
  const h = host.replace(/\//g, "\\057").replace(/:/g, "\\072").replace(/[\0\n]/g, "_");
  return h === "" ? "localhost" : h.slice(0, 255);
}

export function maildirName(p: NameParts): string {
  const hex = [...p.random].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${p.sec}.M${p.usec}P${p.pid}Q${p.seq}R${hex}.${maildirHost(p.host)}`;
}
