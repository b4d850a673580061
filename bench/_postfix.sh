# A private Postfix instance for the side-by-side benchmarks (sourced by bench/smtpd.sh, bench/remote.sh).
# Everything lives under one temp directory (config, queue, data); it listens on loopback only,
# never touches /etc/postfix or /var/spool/postfix, and is stopped by pf_stop.
#   pf_start DIR PORT "main.cf lines" "extra master.cf lines"   (PORT empty: no smtpd listener)
#   pf_stop DIR
#   pf_queued DIR    files in incoming/active/deferred/hold/maildrop

pf_install() {
  command -v postconf >/dev/null && [ -x /usr/lib/postfix/sbin/smtpd ] && return 0
  [ "$(id -u)" = 0 ] || { echo "postfix not installed and not root" >&2; return 1; }
  echo postfix postfix/main_mailer_type select "No configuration" | debconf-set-selections 2>/dev/null || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y postfix >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y postfix >/dev/null 2>&1; }
}

pf_start() {
  d=$1; port=$2
  mkdir -p "$d/etc" "$d/spool" "$d/data"
  chmod 755 "$d"
  chown postfix "$d/data"
  cat > "$d/etc/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $d/etc
queue_directory = $d/spool
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
myhostname = pf.bench.test
mydomain = bench.test
myorigin = bench.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
local_recipient_maps =
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
maillog_file = $d/maillog
maillog_file_prefixes = $d
syslog_name = pf-bench
biff = no
alias_maps =
alias_database =
smtputf8_enable = no
$3
EOF
  {
    [ -n "$port" ] && echo "127.0.0.1:$port inet n - n - - smtpd"
    cat <<EOF
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    printf '%s\n' "$4"
  } > "$d/etc/master.cf"
  postfix -c "$d/etc" set-permissions >/dev/null 2>&1 || true
  postfix -c "$d/etc" check >/dev/null 2>&1 || true
  postfix -c "$d/etc" start >/dev/null 2>&1 || { echo "private postfix failed to start; see $d/maillog" >&2; return 1; }
  i=0
  while [ $i -lt 50 ] && [ -n "$port" ] && ! ss -ltn 2>/dev/null | grep -q "127.0.0.1:$port "; do sleep 0.1; i=$((i + 1)); done
  return 0
}

pf_stop() {
  postfix -c "$1/etc" stop >/dev/null 2>&1 || true
}

pf_queued() {
  find "$1/spool/incoming" "$1/spool/active" "$1/spool/deferred" "$1/spool/hold" "$1/spool/maildrop" -type f 2>/dev/null | wc -l
}

pf_resume() {
  postfix -c "$1/etc" start >/dev/null 2>&1 || { echo "private postfix failed to start; see $1/maillog" >&2; return 1; }
}
