/** qmail-log(5) safety for a text in a log line: LF -> "/"; bytes < 33, > 126 and "%" -> "_". */
export function logSafe(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c === 10 ? "/" : c < 33 || c > 126 || c === 37 ? "_" : s[i];
  }
  return out;
}
