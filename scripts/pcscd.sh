#!/usr/bin/env bash
# Starts, stops or reports Debian's pcscd with the vsmartcard vpcd virtual reader driver,
# which the software My Number card (soft_card::vpicc) plugs into.
#
#   scripts/pcscd.sh start    start pcscd unless it runs already; wait until vpcd listens
#   scripts/pcscd.sh stop     stop pcscd only if `start` started it
#   scripts/pcscd.sh status   report; exit 0 when both vpcd slots listen
#
# Needs the Debian packages pcscd and vsmartcard-vpcd (scripts/test-all.sh installs them).
# vpcd listens on TCP 35963 ("Virtual PCD 00 00") and 35964 ("Virtual PCD 00 01").
# The record of what this script started lives in target/pcscd-started.pid, so `stop`
# never stops a pcscd someone else runs. Uses sudo only when not root.
#
# Overridable for testing this script: PCSCD (the daemon command), VPCD_PORTS,
# PCSCD_WAIT_SECONDS, PCSCD_STATE_DIR.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
state_dir="${PCSCD_STATE_DIR:-$repo/target}"
pid_file="$state_dir/pcscd-started.pid"
log_file="$state_dir/pcscd.log"
pcscd_cmd="${PCSCD:-pcscd}"
read -r -a ports <<<"${VPCD_PORTS:-35963 35964}"
wait_seconds="${PCSCD_WAIT_SECONDS:-15}"

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)

say() { printf 'pcscd.sh: %s\n' "$*" >&2; }

# Whether something listens on TCP port $1 (IPv4 or IPv6), read from /proc so that no
# connection is made: a connection to vpcd would count as a card insertion.
listening() {
    local hex
    hex="$(printf '%04X' "$1")"
    awk -v port="$hex" 'NR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == port) found = 1 }
        END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

all_listening() {
    local port
    for port in "${ports[@]}"; do
        listening "$port" || return 1
    done
}

daemon_running() {
    pgrep -x "$(basename "$pcscd_cmd")" >/dev/null 2>&1
}

# Whether process $1 exists (it may belong to root when this script is not root).
alive() {
    kill -0 "$1" 2>/dev/null || "${as_root[@]}" kill -0 "$1" 2>/dev/null
}

started_pid() {
    [ -f "$pid_file" ] && cat "$pid_file"
}

wait_until_listening() {
    local deadline=$((SECONDS + wait_seconds))
    until all_listening; do
        if ((SECONDS >= deadline)); then
            say "vpcd is not listening on ports ${ports[*]} after ${wait_seconds}s."
            say "Is the vsmartcard-vpcd package installed (/etc/reader.conf.d/vpcd)? Log: $log_file"
            return 1
        fi
        sleep 0.2
    done
}

start() {
    if all_listening; then
        say "pcscd with vpcd is already listening on ports ${ports[*]}; leaving it as it is."
        return 0
    fi
    if daemon_running; then
        say "pcscd is running but vpcd is not listening on ports ${ports[*]}: it probably"
        say "started before vsmartcard-vpcd was installed. Restart pcscd, then retry."
        return 1
    fi
    command -v "$pcscd_cmd" >/dev/null || {
        say "$pcscd_cmd not found: install the Debian packages pcscd and vsmartcard-vpcd."
        return 1
    }
    mkdir -p "$state_dir"
    if command -v systemctl >/dev/null && systemctl is-active --quiet pcscd.socket 2>/dev/null; then
        # systemd owns pcscd's socket: let it start the service.
        "${as_root[@]}" systemctl start pcscd.service
        echo systemd >"$pid_file"
    else
        # Foreground mode under nohup, so the daemon outlives this script and logs here.
        nohup "${as_root[@]}" "$pcscd_cmd" -f >"$log_file" 2>&1 </dev/null &
        echo "$!" >"$pid_file"
        disown
    fi
    if ! wait_until_listening; then
        stop
        return 1
    fi
    say "started pcscd (vpcd on ports ${ports[*]})."
}

stop() {
    local pid
    pid="$(started_pid)" || {
        say "this script did not start pcscd; leaving it running."
        return 0
    }
    if [ "$pid" = systemd ]; then
        "${as_root[@]}" systemctl stop pcscd.service pcscd.socket || true
        "${as_root[@]}" systemctl start pcscd.socket || true
    elif alive "$pid"; then
        "${as_root[@]}" kill -TERM "$pid"
        local deadline=$((SECONDS + 10))
        while alive "$pid" && ((SECONDS < deadline)); do
            sleep 0.2
        done
        if alive "$pid"; then
            say "pcscd (pid $pid) did not stop after SIGTERM; sending SIGKILL."
            "${as_root[@]}" kill -KILL "$pid" || true
        fi
    fi
    rm -f "$pid_file"
    say "stopped the pcscd this script started."
}

status() {
    local port ok=0
    if daemon_running; then say "pcscd is running."; else say "pcscd is not running."; fi
    for port in "${ports[@]}"; do
        if listening "$port"; then
            say "vpcd port $port: listening"
        else
            say "vpcd port $port: not listening"
            ok=1
        fi
    done
    if [ -f "$pid_file" ]; then say "started by this script ($pid_file)."; fi
    return "$ok"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
