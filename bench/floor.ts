// The floor under `qm inject`'s start-up (bench/floor.sh): a standalone bun
// program that makes inject's system calls with none of its logic.
//   floor hello   print a line and exit: the runtime alone
//   floor one     read stdin, the controls, write mess/ and intd/, link todo/: one fsync, as Postfix's postdrop
//   floor all     the same with the fsyncs qm queue makes (mess, intd, their directories, todo/)
import { closeSync, constants, fstatSync, fsyncSync, linkSync, openSync, readFileSync, readSync, statSync, unlinkSync, writeSync } from "node:fs";

const mode = process.argv[2] ?? "all";
if (mode === "hello") {
  writeSync(1, "hello\n");
  process.exit(0);
}
const home = process.env.QMHOME ?? "/var/qm";
const q = `${home}/queue`;
const buf = new Uint8Array(65536);
const n = readSync(0, buf, 0, buf.length, null);
const me = readFileSync(`${home}/control/me`, "latin1").trim();
for (const c of ["defaultdomain", "defaulthost", "plusdomain", "idhost"]) statSync(`${home}/control/${c}`, { throwIfNoEntry: false });
const pid = `${q}/pid/${process.pid}.${Date.now()}`;
const fd = openSync(pid, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
const ino = Number(fstatSync(fd).ino);
linkSync(pid, `${q}/mess/${ino % 23}/${ino}`);
unlinkSync(pid);
writeSync(fd, `Received: (qmail ${process.pid} invoked by uid 0); 29 Nov 2026 00:00:00 -0000\nMessage-ID: <${Date.now()}.${process.pid}.qm@${me}>\n`);
writeSync(fd, buf.subarray(0, n));
const ifd = openSync(`${q}/intd/${ino}`, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
writeSync(ifd, `u0\0p${process.pid}\0Fbench@${me}\0Tpostmaster@${me}\0`);
const syncDir = (dir: string): void => {
  const d = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  fsyncSync(d);
  closeSync(d);
};
fsyncSync(fd);
if (mode === "all") {
  fsyncSync(ifd);
  syncDir(`${q}/mess/${ino % 23}`);
  syncDir(`${q}/intd`);
}
closeSync(fd);
closeSync(ifd);
linkSync(`${q}/intd/${ino}`, `${q}/todo/${ino}`);
if (mode === "all") syncDir(`${q}/todo`);
