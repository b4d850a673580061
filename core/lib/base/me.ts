/** The warning for a control/me without a dot (null when it has one): the first bare address would go to user@me. */
export function meWarning(me: string): string | null {
  if (me.includes(".")) return null;
  return `warning: control/me is "${me}", a name without a dot: mail to a bare address goes to ...@${me}, which no other host can reach; give the host's full name with qm init --me NAME --rename`;
}
