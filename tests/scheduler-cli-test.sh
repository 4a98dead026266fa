#!/bin/sh
# scheduler-cli-test.sh: the acting commands end to end on a simulated pool
# (virtual time): evacuate with a cap of 2 (maintenance recorded, the pinned
# guest reported, at most 2 migrations at once in the journal), maintenance
# list/exit, history, rebalance --dry-run, unlock (a lock taken on another
# host), SIGTERM during --move-back, and `run` (rounds, SIGTERM during a
# round, SIGHUP with a broken policy keeps the old one, SIGTERM exits
# cleanly).
# No timing is asserted: waits poll a log for up to 30 s.
set -u

builddir=${VB_BUILDDIR:-$(pwd)}
srcdir=${VB_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
vb="$builddir/virt-balancer"
data="$srcdir/tests/data/scheduler/cli"
tmp=$(mktemp -d)
db="$tmp/state.db"
failed=0
daemon=

# shellcheck disable=SC2317 # called by the trap
cleanup() {
    if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    failed=1
}

# run NAME EXPECTED_EXIT ARGS...: runs virt-balancer, keeps stdout/stderr.
run() {
    name=$1 want=$2
    shift 2
    "$vb" --inventory "$data/pool.yaml" --policy "$data/policy.yaml" "$@" \
        >"$tmp/$name.out" 2>"$tmp/$name.err"
    got=$?
    [ "$got" = "$want" ] || fail "$name: exit $got, expected $want; stderr: $(cat "$tmp/$name.err")"
}

expect() {
    grep -q -- "$2" "$tmp/$1" || fail "$1 lacks '$2': $(cat "$tmp/$1")"
}

[ -x "$vb" ] || { echo "SKIP: $vb not built"; exit 77; }
"$vb" --help 2>/dev/null | grep -q "maintenance" ||
    { echo "SKIP: the acting commands are not in the command table yet"; exit 77; }

# Evacuation: six guests move, the pinned one cannot: exit 4.
run evacuate 4 evacuate h0 --database "$db"
expect evacuate.out "Evacuation: 6 finished, 0 failed"
expect evacuate.out "pinned"
expect evacuate.out "h0 stays in maintenance"
expect evacuate.err "started"

# At most 2 migrations at once, from the journal itself.
peak=$(sqlite3 "$db" "SELECT state FROM journal_events ORDER BY id" 2>/dev/null | awk '
    $1 == "started" { n++; if (n > max) max = n }
    $1 == "finished" || $1 == "failed" || $1 == "aborted" { n-- }
    END { print max + 0 }')
if command -v sqlite3 >/dev/null 2>&1; then
    if [ "$peak" -gt 2 ] || [ "$peak" -lt 1 ]; then
        fail "journal shows $peak migrations at once (cap 2)"
    fi
fi

# SIGTERM during `maintenance exit --move-back` (the sim runs in virtual
# time, so the process signals itself right after the first start through
# the real handler: VB_TEST_SIGTERM_AT_START): that move finishes (drain),
# the others are not started, the report says so, exit 6, and the
# evacuation record stays for a second --move-back. The pool file is the
# one the evacuation left (each guest where the journal says it went).
if command -v sqlite3 >/dev/null 2>&1; then
    sqlite3 -separator ' ' "$db" "SELECT vm, to_host FROM evacuations WHERE from_host = 'h0'" |
        while read -r vm to; do
            echo "s/{name: $vm, host: h0,/{name: $vm, host: $to,/"
        done >"$tmp/moved.sed"
    sed -f "$tmp/moved.sed" "$data/pool.yaml" >"$tmp/after.yaml"
    cp "$db" "$tmp/back.db"
    VB_TEST_SIGTERM_AT_START=1 "$vb" --inventory "$tmp/after.yaml" --policy "$data/policy.yaml" \
        maintenance exit h0 --move-back --drain-timeout 0 --database "$tmp/back.db" \
        >"$tmp/back.out" 2>"$tmp/back.err"
    rc=$?
    [ "$rc" = 6 ] || fail "move-back after SIGTERM: exit $rc, expected 6: $(cat "$tmp/back.err")"
    expect back.out "Rebalance: 1 finished, 0 failed, 0 aborted, 5 skipped"
    expect back.out "Interrupted by SIGTERM/SIGINT after .*: 5 queued moves not started"
    left=$(sqlite3 "$tmp/back.db" "SELECT count(*) FROM evacuations WHERE from_host = 'h0'")
    [ "$left" = 6 ] || fail "an interrupted move-back cleared the evacuation record ($left left)"
fi

run mlist 0 maintenance list --database "$db"
expect mlist.out "^h0$"
run history 0 history --database "$db"
expect history.out "evacuate h0"
expect history.out "finished"
run historyjson 0 --format json history --database "$db"
expect historyjson.out '"kind" : "evacuate"'
expect historyjson.out '"state" : "finished"'

# --dry-run hands over to `plan` and executes nothing.
run dry 0 rebalance --dry-run
run mexit 0 maintenance exit h0 --database "$db"
expect mexit.out "h0 is out of maintenance"
run mlist2 0 maintenance list --database "$db"
expect mlist2.out "No host is in maintenance"
run usage 2 maintenance frobnicate
run nodb 2 history

# A lock taken on another host is never taken over; `unlock --force` removes it.
run unlock0 0 unlock --database "$db"
expect unlock0.out "No lock was held"
if command -v sqlite3 >/dev/null 2>&1; then
    sqlite3 "$db" "INSERT INTO journal_lock(id, pid, start_ticks, boot_id, token, hostname,
        acquired_us) VALUES (1, 1, 1, 'its-boot', 'its-token', 'kvm-far', 0)"
    run busy 1 rebalance --database "$db"
    expect busy.err "pid 1 on kvm-far"
    expect busy.err "unlock --force"
    run unlock1 1 unlock --database "$db"
    expect unlock1.err "another host"
    run unlock2 0 unlock --force --database "$db"
    expect unlock2.out "Removed the forced lock of pid 1 on kvm-far"
fi

# One daemon round, then a clean exit.
run rounds 0 run --rounds 1 --rebalance-interval 1 --sample-interval 1 --database "$db"
expect rounds.err "stopped after 1 rounds"

# SIGTERM in a round of `run`: the running migration drains, nothing else
# starts, the round's report says so, and the daemon exits 0 (nothing left
# running).
VB_TEST_SIGTERM_AT_START=1 run runterm 0 run --rebalance-interval 1 --sample-interval 1 \
    --database "$tmp/runterm.db"
expect runterm.out "Interrupted by SIGTERM/SIGINT"
expect runterm.err "stopped after 1 rounds; lock released"

# SIGHUP with a broken policy keeps the old one; SIGTERM exits 0.
cp "$data/policy.yaml" "$tmp/policy.yaml"
"$vb" --inventory "$data/pool.yaml" --policy "$tmp/policy.yaml" run \
    --rebalance-interval 3600 --database "$db" >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
daemon=$!
wait_for() {
    i=0
    while [ $i -lt 60 ]; do
        grep -q -- "$1" "$tmp/daemon.err" && return 0
        sleep 0.5
        i=$((i + 1))
    done
    fail "daemon log lacks '$1': $(cat "$tmp/daemon.err")"
}
wait_for "lock taken"
echo "migration: {max_total: lots}" >"$tmp/policy.yaml"
kill -HUP "$daemon"
wait_for "policy refused, keeping the old one"
kill -TERM "$daemon"
wait "$daemon"
rc=$?
daemon=
[ "$rc" = 0 ] || fail "daemon exited $rc after SIGTERM"
expect daemon.err "lock released"

[ $failed = 0 ] && echo "PASS: scheduler CLI"
exit $failed
