#!/usr/bin/env bash
# A throw-away Ceph RADOS Gateway (a real S3 server with Object Lock) on loopback, for the S3 tests.
#
#   scripts/rgw.sh install            apt-get install radosgw ceph-mon ceph-osd if missing (Ceph 16.2)
#   eval "$(scripts/rgw.sh start)"    start from nothing; prints `export …` lines (endpoint + keys)
#   scripts/rgw.sh env                print them again (for a running server)
#   scripts/rgw.sh status | version
#   scripts/rgw.sh stop               stop the daemons this script started (by their PIDs), remove the dir
#
# One monitor, one OSD on the in-memory `memstore` backend, cephx off, radosgw with the beast frontend,
# everything bound to 127.0.0.1 on free ports, all state in $RGW_DIR (default: a directory under
# ${TMPDIR:-/tmp} per user). `start` is idempotent: a running server in $RGW_DIR is reused; a dead one
# is cleaned up and started again. Give each CI run its own RGW_DIR for a fresh server.
# Facts (Ceph 16.2 on Debian 12): the client side needs `ms mon client mode = crc secure` (else radosgw
# waits 300 s on "get_initial_auth_request returned -13"); pools x PGs must stay under
# `mon max pg per osd`, hence 8 PGs per pool and a limit of 1000.
set -euo pipefail

RGW_DIR=${RGW_DIR:-${TMPDIR:-/tmp}/complaints-rgw-$(id -u)}
CONF=$RGW_DIR/ceph.conf
PACKAGES=(radosgw ceph-mon ceph-osd)
START_TIMEOUT=${RGW_START_TIMEOUT:-180}

log() { echo "rgw.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

cmd_install() {
  local missing=()
  command -v radosgw >/dev/null || missing+=(radosgw)
  command -v ceph-mon >/dev/null || missing+=(ceph-mon)
  command -v ceph-osd >/dev/null || missing+=(ceph-osd)
  if ((${#missing[@]} == 0)); then
    log "installed: $(radosgw --version 2>/dev/null | head -1)"
    return 0
  fi
  local sudo=""
  [[ $(id -u) == 0 ]] || sudo=sudo
  local t0=$SECONDS
  log "installing ${missing[*]} (apt-get) ..."
  $sudo apt-get update -qq
  # the packages' post-install scripts try to start systemd units; nothing runs them here, which is fine
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" \
    >"${TMPDIR:-/tmp}/rgw-apt-install.log" 2>&1 || {
      tail -20 "${TMPDIR:-/tmp}/rgw-apt-install.log" >&2; die "apt-get install ${PACKAGES[*]} failed"; }
  log "installed in $((SECONDS - t0)) s: $(radosgw --version | head -1)"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

pids() { cat "$RGW_DIR"/pids/*.pid 2>/dev/null || true; }

running() {
  [[ -f $RGW_DIR/env ]] || return 1
  local p n=0
  for p in $(pids); do alive "$p" || return 1; n=$((n + 1)); done
  ((n == 3)) || return 1
  # shellcheck disable=SC1091
  (source "$RGW_DIR/env" && curl -s -o /dev/null --max-time 3 "$COMPLAINTS_TEST_S3_URL")
}

# start a daemon in the foreground mode, in the background; remember its PID
spawn() {
  local name=$1; shift
  "$@" -f >"$RGW_DIR/log/$name.out" 2>&1 &
  echo $! >"$RGW_DIR/pids/$name.pid"
}

wait_for() {  # wait_for WHAT SECONDS COMMAND...
  local what=$1 limit=$2; shift 2
  local t0=$SECONDS
  until "$@" >/dev/null 2>&1; do
    for p in $(pids); do alive "$p" || { tail -30 "$RGW_DIR"/log/*.out "$RGW_DIR"/log/*.log >&2 || true
                                         die "a daemon died while waiting for $what (logs above)"; }; done
    ((SECONDS - t0 < limit)) || { tail -30 "$RGW_DIR"/log/*.log >&2 || true; die "$what: not ready after ${limit} s"; }
    sleep 0.5
  done
}

ceph_() { timeout 30 ceph -c "$CONF" "$@"; }

cmd_start() {
  if running; then
    log "already running in $RGW_DIR"
    cat "$RGW_DIR/env"
    return 0
  fi
  if [[ -e $RGW_DIR/ceph.conf ]]; then
    log "cleaning up a dead server in $RGW_DIR"
    cmd_stop
  fi
  command -v radosgw >/dev/null && command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null \
    || die "Ceph is not installed (run: $0 install)"
  local t0=$SECONDS
  # a failed start leaves nothing running (the daemons started so far are stopped by their PIDs)
  trap 'rc=$?; if ((rc != 0)); then log "start failed; stopping what it started"; cmd_stop; fi' EXIT
  mkdir -p "$RGW_DIR"/{mon/ceph-a,osd/ceph-0,rgw,run,log,pids}
  chmod 700 "$RGW_DIR"
  local fsid osd_uuid mon_port rgw_port
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  mon_port=$(free_port)
  rgw_port=$(free_port)
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon initial members = a
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
public network = 127.0.0.1/32
cluster network = 127.0.0.1/32
ms bind ipv6 = false
ms bind msgr1 = false
ms mon client mode = crc secure
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = 2147483648
osd data = $RGW_DIR/osd/\$cluster-\$id
mon data = $RGW_DIR/mon/\$cluster-\$id
run dir = $RGW_DIR/run
admin socket = $RGW_DIR/run/\$name.asok
log file = $RGW_DIR/log/\$name.log
mon cluster log file = $RGW_DIR/log/cluster.log
pid file = $RGW_DIR/run/\$name.pid
keyring = $RGW_DIR/keyring
log to stderr = false
err to stderr = true

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $RGW_DIR/rgw
rgw enable usage log = false
rgw thread pool size = 64
EOF
  : >"$RGW_DIR/keyring"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$RGW_DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$RGW_DIR/monmap" >"$RGW_DIR/log/mkfs-mon.out" 2>&1 \
    || { cat "$RGW_DIR/log/mkfs-mon.out" >&2; die "ceph-mon --mkfs failed"; }
  spawn mon ceph-mon -c "$CONF" -i a
  wait_for "the monitor" 60 ceph_ mon stat
  local id
  id=$(ceph_ osd new "$osd_uuid")
  [[ $id == 0 ]] || die "unexpected OSD id $id"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$RGW_DIR/log/mkfs-osd.out" 2>&1 \
    || { cat "$RGW_DIR/log/mkfs-osd.out" >&2; die "ceph-osd --mkfs failed"; }
  spawn osd ceph-osd -c "$CONF" -i 0
  wait_for "the OSD" 60 bash -c "timeout 10 ceph -c '$CONF' osd stat | grep -q '1 up'"
  spawn rgw radosgw -c "$CONF" -n client.rgw
  wait_for "radosgw on 127.0.0.1:$rgw_port" "$START_TIMEOUT" curl -s -o /dev/null --max-time 2 \
    "http://127.0.0.1:$rgw_port"
  local access secret
  access=$(head -c 15 /dev/urandom | base32 | tr -d '=' | head -c 20)
  secret=$(head -c 30 /dev/urandom | base64 | tr -d '/+=' | head -c 40)
  timeout 60 radosgw-admin -c "$CONF" user create --uid=complaints-test --display-name="complaints tests" \
    --access-key="$access" --secret-key="$secret" >"$RGW_DIR/log/user.out" 2>&1 \
    || { cat "$RGW_DIR/log/user.out" >&2; die "radosgw-admin user create failed"; }
  (umask 077 && cat >"$RGW_DIR/env" <<EOF
export COMPLAINTS_TEST_S3_URL=http://127.0.0.1:$rgw_port
export COMPLAINTS_TEST_S3_SERVER=rgw
export COMPLAINTS_TEST_S3_VERSION='$(radosgw --version | head -1 | awk '{print $3}')'
export AWS_ACCESS_KEY_ID=$access
export AWS_SECRET_ACCESS_KEY=$secret
export AWS_DEFAULT_REGION=us-east-1
EOF
  )
  trap - EXIT
  log "RGW $(radosgw --version | head -1 | awk '{print $3}') on http://127.0.0.1:$rgw_port (started in" \
      "$((SECONDS - t0)) s; state in $RGW_DIR)"
  cat "$RGW_DIR/env"
}

cmd_stop() {
  [[ -d $RGW_DIR ]] || { log "nothing to stop ($RGW_DIR absent)"; return 0; }
  local p name
  for name in rgw osd mon; do  # gateway first, monitor last
    p=$(cat "$RGW_DIR/pids/$name.pid" 2>/dev/null || true)
    alive "$p" && kill -TERM "$p" 2>/dev/null || true
  done
  for _ in $(seq 1 40); do
    local left=0
    for p in $(pids); do alive "$p" && left=1; done
    ((left)) || break
    sleep 0.25
  done
  for p in $(pids); do alive "$p" && kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$RGW_DIR"
  log "stopped; removed $RGW_DIR"
}

case ${1:-} in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) running || die "no running server in $RGW_DIR"; cat "$RGW_DIR/env" ;;
  status) if running; then log "running in $RGW_DIR"; else log "not running ($RGW_DIR)"; exit 1; fi ;;
  version) radosgw --version | head -1 ;;
  *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
