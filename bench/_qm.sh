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
