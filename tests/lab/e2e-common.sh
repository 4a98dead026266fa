# e2e-common.sh: sourced by the end-to-end lab tests. Starts nothing by
# itself; gives each test a private lab folder that is always stopped on exit,
# the built virt-balancer, the lab policy, and small assertion helpers.
# shellcheck shell=bash

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lab="$here/lab.sh"
# shellcheck disable=SC2034 # used by the tests that source this
policy="$here/lab-policy.yaml"
vb="${VB_BUILDDIR:-$(cd "$here/../.." && pwd)}/virt-balancer"
fails=0

[ "$(id -u)" = 0 ] || { echo "FAIL: the lab needs root (privileged libvirtd)"; exit 1; }
[ -x "$vb" ] || { echo "FAIL: no built program at $vb (set VB_BUILDDIR)"; exit 1; }
for t in jq sqlite3; do
    command -v "$t" >/dev/null || { echo "FAIL: $t is missing (contrib/debian-deps.sh installs it)"; exit 1; }
done

# Unique per test run, so `make -j2 check` can run several labs at once.
dir=$(mktemp -d /tmp/vb-e2e.XXXXXX)
work=$(mktemp -d /tmp/vb-e2e-out.XXXXXX)
cleanup() {
    "$lab" stop --dir "$dir" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
# Guests have QEMU's default CPU (no <cpu> element), the most common guest;
# VB_LAB_GUEST_CPU=maximum (or host-passthrough) runs the tests with another.
export VB_LAB_GUEST_CPU=${VB_LAB_GUEST_CPU-}
# Live plans take two samples this many seconds apart when there is no history.
export VIRT_BALANCER_SAMPLE_GAP=${VIRT_BALANCER_SAMPLE_GAP:-1}
export NO_COLOR=1

ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
# jqt FILTER FILE: true when FILTER gives true on the JSON in FILE.
jqt() { jq -e "$@" >/dev/null; }
same() { [ "$1" = "$2" ] || { echo "   got: '$1'"; echo "  want: '$2'"; return 1; }; }

# uri N: the URI of lab host N (after start).
# shellcheck source=/dev/null
uri() { (. "$dir/lab.env" && eval "echo \"\$VB_LAB_URI_$1\""); }
# on_host N: names of the guests running on lab host N, sorted, one line.
on_host() { virsh -q -c "$(uri "$1")" list --name | sort | xargs; }

# vbrun NAME ARGS...: runs virt-balancer; stdout to $work/NAME.out, stderr to
# $work/NAME.err, exit code to $work/NAME.rc; shows stderr in the test log.
vbrun() {
    local name=$1 rc=0
    shift
    "$vb" "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
    echo "$rc" >"$work/$name.rc"
    echo "virt-balancer $* -> exit $rc"
    sed 's/^/  stderr: /' "$work/$name.err"
}

# max_running DB: the most migrations the journal in DB ever shows in flight
# at once (events in write order: started +1; finished, failed, aborted -1).
max_running() {
    sqlite3 "$1" "SELECT state FROM journal_events ORDER BY id;" | awk '
        $1 == "started" { n++; if (n > max) max = n }
        $1 == "finished" || $1 == "failed" || $1 == "aborted" { n-- }
        END { print max + 0 }'
}

# where_is GUEST: "HOST:STATE" for every lab host that has GUEST defined or
# running, space-separated (running guests of a killed host are not seen).
where_is() {
    local i st out=""
    for ((i = 1; i <= $(sed -n 's/^VB_LAB_HOSTS=//p' "$dir/lab.env"); i++)); do
        st=$(virsh -q -c "$(uri "$i")" domstate "$1" 2>/dev/null) || continue
        out="$out lab$i:${st// /-}"
    done
    echo "${out# }"
}

# sql DB QUERY: one query on the journal, waiting if a writer holds it.
sql() { sqlite3 -cmd ".timeout 5000" "$1" "$2" 2>/dev/null; }

# wait_for_event DB STATE N SECONDS: waits until the journal holds at least N
# events STATE (polling every 0.1 s); false after SECONDS.
wait_for_event() {
    local t
    for ((t = 0; t < $4 * 10; t++)); do
        [ "$(sql "$1" "SELECT count(*) FROM journal_events WHERE state = '$2';" || echo 0)" -ge "$3" ] &&
            return 0
        sleep 0.1
    done
    return 1
}

# wait_pid PID SECONDS: waits for our child PID to exit; its status in $waited.
# shellcheck disable=SC2034 # waited is read by the tests
wait_pid() {
    local t
    for ((t = 0; t < $2 * 10; t++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    waited=0
    wait "$1" || waited=$?
}

# cap1_policy FILE [SED-EXPRESSION...]: the lab policy with one migration at
# a time (lab-policy-cap2.yaml's caps at 1), edited further by the expressions.
cap1_policy() {
    local file=$1 args=() e
    shift
    for e in "$@"; do args+=(-e "$e"); done
    sed -e 's/max_total: 2, max_per_source: 2, max_per_destination: 2, evacuation_batch: 2/max_total: 1, max_per_source: 1, max_per_destination: 1, evacuation_batch: 1/' \
        "${args[@]}" "$here/lab-policy-cap2.yaml" >"$file"
}

# evacuate_started POLICY: starts `evacuate lab1` in the background (output in
# $work/evac.out, pid in $run) and waits for its first migration to start in
# the journal $db; fails the test when none starts within 120 s.
evacuate_started() {
    "$vb" --config "$dir/virt-balancer.yaml" --policy "$1" evacuate lab1 >"$work/evac.out" 2>&1 &
    run=$!
    if ! wait_for_event "$db" started 1 120; then
        bad "the evacuation starts a migration"
        sed 's/^/  evacuate: /' "$work/evac.out"
        exit 1
    fi
}

finish() {
    echo "$fails failure(s)"
    [ "$fails" = 0 ]
}
