/** qmail's temporary/permanent split, as types (docs/style.md §3). */
export type TempStatus = `4.${number}.${number}`;
export type PermStatus = `5.${number}.${number}`;
export type Fail =
  | { readonly kind: "temp"; readonly reason: string; readonly status: TempStatus }
  | { readonly kind: "perm"; readonly reason: string; readonly status: PermStatus };
export type Result<T> = { readonly kind: "ok"; readonly value: T } | Fail;

export function ok<T>(value: T): Result<T> {
  return { kind: "ok", value };
}
export function temp(reason: string, status: TempStatus = "4.3.0"): Fail {
  return { kind: "temp", reason, status };
}
export function perm(reason: string, status: PermStatus = "5.3.0"): Fail {
  return { kind: "perm", reason, status };
}

/** qmail-command(8): 0 delivered, 100 hard error, 111 soft error. */
const EXIT = { ok: 0, perm: 100, temp: 111 } as const;
export function exitCode(r: Result<unknown>): 0 | 100 | 111 {
  return EXIT[r.kind];
}

/** "Unable to read control/me. (#4.3.0)": the text logs and bounces carry. */
export function describe(f: Fail): string {
  return `${f.reason}. (#${f.status})`;
}
