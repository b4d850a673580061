# The qm a benchmark measures (sourced by the bench scripts): $QM_BIN when
# set, else a fresh standalone binary built by scripts/build.sh (the one
# build; a stale dist/qm is never measured).
#   QM=$(qm_binary DIR)     builds DIR/qm when QM_BIN is not set
qm_binary() {
  if [ -n "${QM_BIN:-}" ]; then realpath "$QM_BIN"; return 0; fi
  mkdir -p "$1" && chmod 755 "$1"
  sh scripts/build.sh "$1/qm" >/dev/null 2>&1 || { echo "qm build failed (sh scripts/build.sh)" >&2; return 111; }
  echo "$1/qm"
}

# Set-up of the one-message start-up benchmarks (startup.sh, floor.sh; needs
# bench/_postfix.sh): temp dir $W with a fresh $QM and home $QMHOME, one small
# message $MSG, and a private Postfix $PF with delivery deferred (PF_OK=1
# when it runs); all removed on exit.
#   oneshot_setup NAME
oneshot_setup() {
  W=$(mktemp -d "/tmp/qm-$1-XXXXXX")
  chmod 755 "$W"
  PF=$W/pf
  trap '[ -d "$PF/etc" ] && pf_stop "$PF"; rm -rf "$W"' EXIT INT TERM
  QM=$(qm_binary "$W/bin") || exit 111
  export QMHOME=$W/qm
  "$QM" init --me example.test >/dev/null 2>&1 || { echo "$1: qm init failed" >&2; exit 111; }
  MSG=$W/msg.txt
  printf 'From: bench@example.test\nTo: postmaster@example.test\nSubject: %s\n\nOne small message.\n' "$1" > "$MSG"
  PF_OK=1
  pf_install && pf_start "$PF" "" "relay_domains = example.test
defer_transports = smtp relay local virtual" "" || { PF_OK=0; echo "$1: Postfix is not available: qm figures only" >&2; }
}
