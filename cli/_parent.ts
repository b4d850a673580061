// A part started by `qm start` (send, smtpd --listen) holds a pipe from it on
// stdin that start never writes to. When start is gone, even SIGKILLed, the
// pipe reads end of file and the part stops as on SIGTERM, instead of running
// on unsupervised and holding the queue's lock against the next `qm start`.

/** Under `qm start` ($QM_PARENT=stdin): SIGTERM to ourselves when stdin ends. */
export function stopWithParent(): void {
  if (process.env.QM_PARENT !== "stdin") return;
  delete process.env.QM_PARENT; // for us only, not for the workers we start
  const stop = (): void => void process.kill(process.pid, "SIGTERM");
  process.stdin.on("end", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
}
