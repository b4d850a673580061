/**
 * qmail-inject's environment (docs/qmail.md §7.2): who the mail is from, the
 * envelope sender's default, the QMAILINJECT letters, and the variables that
 * override control/defaulthost and friends. Pure: the caller passes the env.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export interface InjectEnv {
  readonly fromUser: string;
  readonly fromHost: string | null;
  readonly name: string | null;
  readonly senderUser: string;
  readonly senderHost: string | null;
  /** QMAILINJECT letters: c s f i r m (others ignored) */
  readonly letters: ReadonlySet<string>;
  readonly mftFile: string | null;
  /** QMAILDEFAULTDOMAIN, QMAILDEFAULTHOST, QMAILPLUSDOMAIN, QMAILIDHOST, by control name */
  readonly overrides: ReadonlyMap<string, string>;
}

/** The four controls inject reads; each defaults to control/me, else to its own name. */
export const INJECT_CONTROLS = ["defaultdomain", "defaulthost", "plusdomain", "idhost"] as const;
export type InjectControl = (typeof INJECT_CONTROLS)[number];

const first = (env: Env, names: readonly string[]): string | null => {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== "") return v;
  }
  return null;
};

/** Reads the variables qmail-inject reads; control characters in them become spaces (a name never spans lines). */
export function readInjectEnv(env: Env): InjectEnv {
  const fromUser = clean(first(env, ["QMAILUSER", "MAILUSER", "USER", "LOGNAME"]) ?? "anonymous");
  const fromHost = cleanOrNull(first(env, ["QMAILHOST", "MAILHOST"]));
  const overrides = new Map<string, string>();
  for (const c of INJECT_CONTROLS) {
    const v = first(env, [`QMAIL${c.toUpperCase()}`]);
    if (v !== null) overrides.set(c, clean(v));
  }
  return {
    fromUser,
    fromHost,
    name: cleanOrNull(first(env, ["QMAILNAME", "MAILNAME", "NAME"])),
    senderUser: cleanOrNull(first(env, ["QMAILSUSER"])) ?? fromUser,
    senderHost: cleanOrNull(first(env, ["QMAILSHOST"])) ?? fromHost,
    letters: new Set([...(env.QMAILINJECT ?? "")].filter((c) => "csfirm".includes(c))),
    mftFile: first(env, ["QMAILMFTFILE"]),
    overrides,
  };
}

function clean(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, " ");
}
function cleanOrNull(s: string | null): string | null {
  return s === null ? null : clean(s);
}
