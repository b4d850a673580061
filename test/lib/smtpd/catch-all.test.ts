import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fastforwardCall } from "../../../core/lib/smtpd/catch-all.ts";

describe("fastforwardCall()", () => {
  const cases: [string, ReturnType<typeof fastforwardCall>][] = [
    ["| qm fastforward -d\n", { useDefault: true, pass: false, cdb: null }],
    ["|/usr/local/bin/qm fastforward -d /etc/aliases.cdb\n", { useDefault: true, pass: false, cdb: "/etc/aliases.cdb" }],
    ["# catch-all\n|fastforward -d\n", { useDefault: true, pass: false, cdb: null }],
    ["|/usr/bin/fastforward -pd\n./Maildir/\n", { useDefault: true, pass: true, cdb: null }],
    ["|qm fastforward\n", { useDefault: false, pass: false, cdb: null }],
    ["./Maildir/\n| qm fastforward -d\n", null], // something is delivered before it
    ["| qm fastforward -d; echo\n", null], // shell syntax: not judged
    ["| qm fastforward -d $HOME/x.cdb\n", null],
    ["| qm fastforward -x\n", null],
    ["| qm fastforward -d a.cdb\n", null], // relative to the user's home: not judged
    ["| preline qm fastforward -d\n", null],
    ["| sh -c 'qm fastforward -d'\n", null],
    ["| qmfastforward -d\n", null],
    ["|/tmp/qm-bin/wrapper fastforward -d\n", { useDefault: true, pass: false, cdb: null }],
    ["&joe@example.org\n", null],
    ["\n| qm fastforward -d\n", null], // a blank first line is a broken .qmail
    ["", null],
  ];
  for (const [text, want] of cases) it(JSON.stringify(text), () => assert.deepEqual(fastforwardCall(text), want));
});
