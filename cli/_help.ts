// Examples shown by `qm --help` and `qm COMMAND --help`, one command line each.
// Keys are subcommand names; "" is the overview.
export const EXAMPLES = new Map<string, readonly string[]>([
  ["", [
    "qm init --me mail.example.org          # make the home (/var/qm, or $QMHOME)",
    "qm start --listen 0.0.0.0:25           # SMTP listener and queue manager together",
    "printf 'Subject: hi\\n\\nbody\\n' | qm inject alice@example.org",
    "qm qstat; qm qread                      # what is in the queue",
    "qm send --once                          # one queue run (cron)",
  ]],
  ["init", ["qm init --me mail.example.org", "QMHOME=$HOME/qm qm init     # a private mail system for one user"]],
  ["inject", [
    "printf 'To: bob@example.org\\nSubject: hi\\n\\nbody\\n' | qm inject",
    "qm inject -f list-owner@example.org -a carol@example.org < message",
    "qm inject -n < message                  # print the completed message, queue nothing",
  ]],
  ["sendmail", [
    "printf 'To: bob@example.org\\nBcc: carol@example.org\\n\\nbody\\n' | qm sendmail -t -i",
    "qm sendmail -f me@example.org -F 'My Name' bob@example.org < message",
    "qm sendmail -bp                         # the queue listing, as mailq",
    "qm sendmail -q                          # one queue run",
    "ln -s $(command -v qm) /usr/sbin/sendmail   # the same program as sendmail (also mailq, newaliases)",
  ]],
  ["start", [
    "qm start                                # listen on control/listen (else 0.0.0.0:25)",
    "qm start --listen 127.0.0.1:2525 --listen [::1]:2525",
    "qm start --no-smtpd                     # queue manager only, for a host that only sends",
    "systemctl reload qm                     # SIGHUP to qm start: every part reads control/ again",
  ]],
  ["queue", ["qm queue < message 1< envelope   # qmail-queue's interface: message on fd 0, envelope on fd 1"]],
  ["send", ["qm send                                 # the daemon (qm start runs it)", "qm send --once                          # a queue run, for cron", "qm send --once --force                  # retry everything now"]],
  ["qstat", ["qm qstat"]],
  ["qread", ["qm qread"]],
  ["smtpd", ["tcpserver 0 25 qm smtpd                # inetd style, one session on stdin/stdout", "qm smtpd --listen 0.0.0.0:25 --listen [::]:25"]],
  ["local", ["qm local -- alice /home/alice alice '' '' example.org bob@example.org ./Maildir/ < message"]],
  ["remote", ["qm remote -- example.org bob@example.net alice@example.org < message"]],
  ["newu", ["qm newu                                 # users/assign -> users/cdb"]],
  ["newaliases", ["qm newaliases                           # /etc/aliases -> a cdb"]],
  ["forward", ["NEWSENDER=bob@example.org qm forward carol@example.org < message"]],
  ["maildirmake", ["qm maildirmake $HOME/Maildir"]],
]);
