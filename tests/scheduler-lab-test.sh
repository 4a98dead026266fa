#!/bin/bash
# scheduler-lab-test.sh: the executor against real libvirtd hosts (issue 4's
# lab tests), with the lab of tests/lab/ (helpers from tests/lab/e2e-common.sh).
#  1. evacuate lab1 holding 6 guests (one with a local qcow2 disk: a storage
#     live migration) under a cap of 2: every guest ends running on another
#     host, exactly once; the journal never shows more than 2 in flight;
#     then `maintenance exit lab1 --move-back` brings them all back;
#  2. kill -9 virt-balancer in the middle of evacuating lab1, start it again:
#     it reconciles and finishes; every guest runs exactly once, none is lost,
#     shut off or undefined;
#  3. a destination's libvirtd dies during an evacuation: no guest is lost,
#     the dead host is reported down, the rest of the plan goes elsewhere.
# Waits poll for up to 120 s; no timing is asserted.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/e2e-common.sh
. "$here/lab/e2e-common.sh"
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 is missing"; exit 1; }

db="$dir/state.db"
pol="$work/policy.yaml"
cat "$policy" >"$pol"
# Lab migrations take seconds: a minute is a generous time limit.
printf 'migration: {max_total: 2, max_per_source: 2, max_per_destination: 2, timeout: 60s}\n' >>"$pol"

"$lab" start --dir "$dir" --hosts 3 >/dev/null
"$lab" guests --dir "$dir" --layout 5,0,0 --disk >/dev/null
cfg="$dir/virt-balancer.yaml"
all="disk1 g01 g02 g03 g04 g05"

# every guest defined on exactly one host and running there: "ok" or why not.
exactly_once() {
    local defined="" running="" n
    for n in 1 2 3; do
        if virsh -q -c "$(uri "$n")" version >/dev/null 2>&1; then
            defined="$defined $(virsh -q -c "$(uri "$n")" list --all --name | xargs)"
            running="$running $(virsh -q -c "$(uri "$n")" list --name | xargs)"
        fi
    done
    defined=$(echo "$defined" | xargs -n1 | sort | xargs)
    running=$(echo "$running" | xargs -n1 | sort | xargs)
    same "$defined" "$all" && same "$running" "$all"
}

# most migrations in flight at once, replayed from the journal's events.
peak() {
    sqlite3 "$db" "SELECT move, state FROM journal_events ORDER BY id" | awk -F'|' '
        $2 == "started" { run[$1] = 1; n = 0; for (m in run) n++; if (n > max) max = n; next }
        { delete run[$1] }
        END { print max + 0 }'
}

# 1. evacuation with a cap of 2, one storage migration.
vbrun evac1 --config "$cfg" --policy "$pol" evacuate lab1
check "evacuate lab1 exits 0" same "$(cat "$work/evac1.rc")" 0
check "lab1 is empty" same "$(on_host 1)" ""
check "every guest runs exactly once" exactly_once
check "never more than 2 migrations at once" [ "$(peak)" -le 2 ]
check "2 migrations did run at once" [ "$(peak)" -eq 2 ]
check "disk1 moved with its disk (live-storage)" grep -q "disk1.*live-storage" "$work/evac1.out"
vbrun mexit --config "$cfg" --policy "$pol" maintenance exit lab1 --move-back
check "lab1 leaves maintenance" grep -q "out of maintenance" "$work/mexit.out"
check "the evacuated guests moved back to lab1" same "$(on_host 1)" "$all"
check "every guest runs exactly once after moving back" exactly_once

# 2. kill -9 in the middle of evacuating lab1 again.
src=lab1
"$vb" --config "$cfg" --policy "$pol" evacuate "$src" >"$work/evac2.out" 2>"$work/evac2.err" &
pid=$!
for _ in $(seq 240); do
    grep -q "started" "$work/evac2.err" && break
    sleep 0.5
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
check "killed while a migration was started" grep -q "started" "$work/evac2.err"
vbrun evac2b --config "$cfg" --policy "$pol" evacuate "$src"
check "the restarted evacuation exits 0" same "$(cat "$work/evac2b.rc")" 0
check "it resumed the interrupted plan" grep -q "Resumed an interrupted plan" "$work/evac2b.out"
check "$src is empty" same "$(on_host "${src#lab}")" ""
check "every guest runs exactly once after the crash" exactly_once
vbrun mexit2 --config "$cfg" maintenance exit "$src"

# 3. a destination dies during an evacuation: the evacuated host of step 2
# is empty again; evacuating the fuller of the other two sends guests to it,
# and its libvirtd is killed as soon as the first migration starts (before
# one can land: a migration takes seconds).
dead=$src
src=""
for n in 1 2 3; do
    [ "lab$n" != "$dead" ] && [ -n "$(on_host "$n")" ] &&
        { [ -z "$src" ] || [ "$(on_host "$n" | wc -w)" -gt "$(on_host "${src#lab}" | wc -w)" ]; } &&
        src=lab$n
done
"$vb" --config "$cfg" --policy "$pol" evacuate "$src" >"$work/evac3.out" 2>"$work/evac3.err" &
pid=$!
for _ in $(seq 240); do
    grep -q "started.*-> $dead" "$work/evac3.err" && break
    sleep 0.2
done
"$lab" kill-host "$dead" --dir "$dir" >/dev/null
rc=0
wait "$pid" || rc=$?
echo "evacuate $src with $dead killed -> exit $rc"
sed 's/^/  stderr: /' "$work/evac3.err"
check "a migration to $dead had started" grep -q "started.*-> $dead" "$work/evac3.err"
check "the evacuation still succeeds" same "$rc" 0
check "moves to $dead were re-planned" grep -q "skipped.*-> $dead" "$work/evac3.err"
check "$src is empty" same "$(on_host "${src#lab}")" ""
check "every guest runs exactly once on the live hosts" exactly_once
finish
