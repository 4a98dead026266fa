#!/bin/sh
# scheduler-cli-test.sh: the acting commands end to end on a simulated pool
# (virtual time): evacuate with a cap of 2 (maintenance recorded, the pinned
# guest reported, at most 2 migrations at once in the journal), maintenance
# list/exit, history, rebalance --dry-run, unlock (a lock taken on another
# host), SIGTERM during --move-back, and `run` (rounds, SIGTERM during a
# round, SIGHUP with a broken policy keeps the old one, SIGTERM exits
# cleanly, rules matching no guest logged once, a hotspot no move relieves
# logged as such); the cooldown and the daily move cap across processes.
# Issue 9: the maintenance set (with its reason) is shown and honoured by
# every command, dry runs included; hosts that cannot be read give exit 5
# and are listed; evacuating one is refused and changes nothing (--force
# records it).
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

# run NAME EXPECTED_EXIT ARGS...: runs virt-balancer on pool.yaml (or on
# $pool when set), keeps stdout/stderr.
run() {
    name=$1 want=$2
    shift 2
    "$vb" --inventory "$data/${pool:-pool.yaml}" --policy "$data/policy.yaml" "$@" \
        >"$tmp/$name.out" 2>"$tmp/$name.err"
    got=$?
    [ "$got" = "$want" ] || fail "$name: exit $got, expected $want; stderr: $(cat "$tmp/$name.err")"
}

expect() {
    grep -q -- "$2" "$tmp/$1" || fail "$1 lacks '$2': $(cat "$tmp/$1")"
}

# refute FILE TEXT: FILE must not hold TEXT.
refute() {
    if grep -q -- "$2" "$tmp/$1"; then fail "$1 holds '$2': $(cat "$tmp/$1")"; fi
}

# status samples twice when the history is empty: keep the gap short.
export VIRT_BALANCER_SAMPLE_GAP=0.2

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
    # Uninterrupted, under a cap of one move a day and the 30 min cooldown,
    # which every evacuated guest is within (the journal says so): a
    # move-back undoes the evacuation and, like it, is held back by neither.
    cp "$db" "$tmp/back2.db"
    printf 'budget: {max_moves_per_vm_per_day: 1}\n' >"$tmp/backcap.yaml"
    "$vb" --inventory "$tmp/after.yaml" --policy "$tmp/backcap.yaml" \
        maintenance exit h0 --move-back --database "$tmp/back2.db" \
        >"$tmp/back2.out" 2>"$tmp/back2.err" || fail "move-back under a cap: exit $?"
    expect back2.out "Rebalance: 6 finished, 0 failed, 0 aborted, 0 skipped"
    refute back2.err "stays where it is"
fi

run mlist 0 maintenance list --database "$db"
expect mlist.out "^h0 .* evacuated$"
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
run mlist2json 0 maintenance list --format json --database "$db"
expect mlist2json.out '"maintenance" : \[\]'
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

# entry FILE MESSAGE_ID: the entries of a journal export file (VB_TEST_LOG_EXPORT)
# with that MESSAGE_ID, blank-line separated.
entry() {
    awk -v id="MESSAGE_ID=$2" 'BEGIN { RS = "" } index($0, id) { print; print "" }' "$tmp/$1"
}

# One daemon round, then a clean exit.
run rounds 0 run --rounds 1 --rebalance-interval 1 --sample-interval 1 --database "$db"
expect rounds.err "stopped after 1 rounds"
# The log lines of a round that moves guests carry the journal's fields
# (cli/log.c, docs/logging.md): a plan, each migration started and finished
# with its guest and hosts; without a terminal, progress lines.
VB_TEST_LOG_EXPORT="$tmp/jround.journal" \
    run jround 0 run --rounds 1 --rebalance-interval 1 --sample-interval 1 \
    --database "$tmp/jround.db"
expect jround.err "progress web.* MiB left, shrinking by .* MiB/s, about .* s to go"
entry jround.journal e7f0fc36f9134ab4a777c60177bd3da3 >"$tmp/plan.entry"
expect plan.entry "^MESSAGE=rebalancing: "
expect plan.entry "^PRIORITY=6$"
entry jround.journal 8b9cffdc71734627975ee78061e66872 >"$tmp/started.entry"
entry jround.journal f891585e309347a6bb6bd84144f75bd0 >"$tmp/finished.entry"
expect started.entry "^VB_VM=web"
expect started.entry "^VB_FROM="
expect finished.entry "^VB_OUTCOME=finished$"
[ "$(grep -c '^VB_VM=' "$tmp/started.entry")" = "$(grep -c '^VB_VM=' "$tmp/finished.entry")" ] ||
    fail "the round's migrations: $(grep -c '^VB_VM=' "$tmp/started.entry") started, $(grep -c '^VB_VM=' "$tmp/finished.entry") finished"
# --verbose (after the command): every poll of a running migration and the
# queued moves (debug), and the modules' debug lines, marked as such.
run verbose 4 evacuate h0 --verbose --database "$tmp/verbose.db"
expect verbose.err "queued   web"
expect verbose.err "progress web[0-9] h0 -> h[0-9] (live, [0-9]*%, [0-9]*/[0-9]* s, [0-9] running)"
expect verbose.err "^virt-balancer: debug: "
refute evacuate.err "queued"
# --quiet: warnings and errors only; a round that goes well says nothing.
run quiet 0 --quiet run --rounds 1 --rebalance-interval 1 --sample-interval 1 \
    --database "$tmp/quiet.db"
[ -s "$tmp/quiet.err" ] && fail "run --quiet logged: $(cat "$tmp/quiet.err")"

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
        grep -qs -- "$1" "$tmp/daemon.err" && return 0
        sleep 0.5
        i=$((i + 1))
    done
    fail "daemon log lacks '$1': $(cat "$tmp/daemon.err" 2>/dev/null)"
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

# ---- Maintenance is one truth: h2 entered by hand with a reason. Without
# it every planner sends guests to h2 (the least loaded host with h1, h3).
mdb="$tmp/maint.db"
run menter 0 maintenance enter h2 --reason "BIOS update" --database "$mdb"
expect menter.out "h2 is in maintenance (BIOS update)"
run mlistjson 0 maintenance list --format json --database "$mdb"
expect mlistjson.out '"host" : "h2"'
expect mlistjson.out '"reason" : "BIOS update"'
expect mlistjson.out '"since" : "20'
run mreason 2 maintenance exit h2 --reason "oops" --database "$mdb"
run mplan 0 --format json plan --database "$mdb"
expect mplan.out '"to" : "h1"'
refute mplan.out '"to" : "h2"'
expect mplan.out '"state_reason" : "BIOS update"'
run mdry 0 --format json rebalance --dry-run --database "$mdb"
expect mdry.out '"to" : "h1"'
refute mdry.out '"to" : "h2"'
run mdrytext 0 rebalance --dry-run --database "$mdb"
expect mdrytext.out "h2 .* maintenance: BIOS update"
run mevac 4 --format json evacuate h0 --dry-run --database "$mdb"
expect mevac.out '"to" : "h1"'
refute mevac.out '"to" : "h2"'
run mplace 0 place --vcpus 1 --memory-mib 512 --database "$mdb"
expect mplace.out "h2 is in maintenance: BIOS update"
refute mplace.out "1  h2"
run mstatus 0 status --database "$mdb"
expect mstatus.out "^h2 .* maintenance "
expect mstatus.out "h2 (maintenance): BIOS update"
run minv 0 inventory --database "$mdb"
expect minv.out 'name: h2, .*state: maintenance, state_reason: "BIOS update"'

# ---- A partial view. Every host unreachable: nothing may look like success.
pdb="$tmp/partial.db"
pool=pool-all-down.yaml
run pplan 5 plan --database "$pdb"
expect pplan.out "Not read: 4 of 4 hosts could not be read"
expect pplan.out "h0 (pool rack): cannot connect: no such socket"
run pplanjson 5 --format json plan --database "$pdb"
expect pplanjson.out '"unreachable" : \['
expect pplanjson.out '"reason" : "cannot connect: no such socket"'
run preb 5 rebalance --database "$pdb"
expect preb.out "Nothing to do among the hosts that could be read"
expect preb.out "h3 (pool rack): cannot connect"
run prebjson 5 --format json rebalance --database "$pdb"
expect prebjson.out '"name" : "h1"'
run pstatus 5 status --database "$pdb"
expect pstatus.out "Partial: 4 of 4 hosts could not be read"
run pstatusjson 5 --format json status --database "$pdb"
expect pstatusjson.out '"unreachable" : \['
run pinv 5 inventory --database "$pdb"
expect pinv.out "# not read: h0"
# Evacuating an unreachable host is refused and changes nothing.
run pevac 1 evacuate h0 --database "$pdb"
expect pevac.err "h0 cannot be read (cannot connect: no such socket): its guests' state is unknown"
refute pevac.out "Nothing to do"
run pevacdry 1 evacuate h0 --dry-run --database "$pdb"
run plist 0 maintenance list --database "$pdb"
expect plist.out "No host is in maintenance"
run phist 0 history --database "$pdb"
expect phist.out "No plan was executed yet"
# --force records that the admin accepts it: h0 in maintenance, nothing moved.
run pforce 5 evacuate h0 --force --database "$pdb"
expect pforce.out "nothing was moved"
run plist2 0 maintenance list --database "$pdb"
expect plist2.out "^h0 .*evacuate --force while it could not be read (cannot connect: no such socket)"
# A host in maintenance is expected to be unreachable: no longer "not read".
run pplan2 5 plan --database "$pdb"
expect pplan2.out "Not read: 3 of 4 hosts"
expect pplan2.out "h0 .* maintenance: evacuate --force"
# One host down: the daemon's round says so in its log.
pool=pool-h3-down.yaml
VB_TEST_LOG_EXPORT="$tmp/pround.journal" \
    run pround 0 run --rounds 1 --rebalance-interval 1 --sample-interval 1 --database "$tmp/round.db"
expect pround.err "partial view: 1 of 4 hosts could not be read, this round's plan leaves them out: h3: cannot connect"
# ... and the host's going down once, as a warning with its own MESSAGE_ID.
expect pround.err "host h3 is down: cannot connect"
entry pround.journal aa2b3bc75ad34b7f854fdceea07c2bd5 >"$tmp/down.entry"
expect down.entry "^VB_HOST=h3$"
expect down.entry "^PRIORITY=4$"
expect down.entry "^VB_REASON=cannot connect"
pool=

# A rule that matches no guest of the pool is logged by `run`, once while it
# stays so (two rounds, one line).
printf 'rules:\n  - {name: typo, type: anti-affinity, vms: [wbe0, wbe1]}\n' >"$tmp/typo.yaml"
"$vb" --inventory "$data/pool.yaml" --policy "$tmp/typo.yaml" run --rounds 2 \
    --rebalance-interval 1 --sample-interval 1 --database "$tmp/typo.db" \
    >"$tmp/typo.out" 2>"$tmp/typo.err" || fail "run with a typo rule: exit $?"
expect typo.err "warning: rule 'typo' matches no guest in the pool"
expect typo.err "names guest 'wbe0', which is not in the pool (did you mean 'web0'?)"
n=$(grep -c "rule 'typo' matches no guest" "$tmp/typo.err")
[ "$n" = 1 ] || fail "run logged the rule warning $n times in 2 rounds, expected once"

# A round whose hot host no move relieves says so, not "balanced enough".
stuck="$srcdir/tests/data/placement/scenarios/objective-hot-stuck"
"$vb" --inventory "$stuck/inventory.yaml" --policy "$stuck/policy.yaml" run --rounds 1 \
    --rebalance-interval 1 --sample-interval 1 --database "$tmp/stuck.db" \
    >"$tmp/stuck.out" 2>"$tmp/stuck.err" || fail "run on a stuck hotspot: exit $?"
expect stuck.err "no move helps: .*kvm1 stays above high-water on memory"
refute stuck.err "balanced enough"

# The cooldown and the daily move cap hold across processes: each command
# reads the guests' recent migrations from the journal. The pool file, like
# a libvirt host, knows nothing of the first run's moves (it even still has
# the guests on h0), so without the journal a second run plans them again.
cdb="$tmp/cool.db"
run cool1 0 rebalance --database "$cdb"
moved=$(awk '$4 == "finished" { print $1 }' "$tmp/cool1.out")
[ "$(echo "$moved" | wc -w)" -ge 2 ] || fail "the first rebalance moved $moved, expected 2 or more"
run cool2 0 plan --database "$cdb"
run cool3 0 rebalance --database "$cdb"
for g in $moved; do
    if grep -Eq "^ +[0-9]+ +$g " "$tmp/cool2.out" "$tmp/cool3.out"; then
        fail "$g moved by the first rebalance is planned again within its cooldown: $(cat "$tmp/cool2.out" "$tmp/cool3.out")"
    fi
done
grep -q "finished" "$tmp/cool3.out" || fail "the second rebalance moved nothing: $(cat "$tmp/cool3.out")"
# Every guest has moved once now: with no cooldown and a cap of one move a
# day, nothing moves, and the plan says which guest the cap holds back; with
# no cap the first run's moves are planned again.
printf 'budget: {cooldown: 0, max_moves_per_vm_per_day: 1}\n' >"$tmp/cap1.yaml"
printf 'budget: {cooldown: 0, max_moves_per_vm_per_day: 0}\n' >"$tmp/cap0.yaml"
"$vb" --inventory "$data/pool.yaml" --policy "$tmp/cap1.yaml" plan --database "$cdb" \
    >"$tmp/cap1.out" 2>"$tmp/cap1.err" || fail "plan with a cap of 1: exit $?"
expect cap1.out "Moves: none"
expect cap1.out "moved 1 time in the last 24 h, the most the policy allows (max_moves_per_vm_per_day 1)"
"$vb" --inventory "$data/pool.yaml" --policy "$tmp/cap0.yaml" plan --database "$cdb" \
    >"$tmp/cap0.out" 2>"$tmp/cap0.err" || fail "plan with no cap: exit $?"
refute cap0.out "Moves: none"

# Approved plans (issue 10): `plan --output FILE` saves the plan, and
# `rebalance --plan FILE` executes exactly its moves (the journal's moves are
# the file's, in its order). A move that no longer fits (its destination went
# into maintenance after the plan was made) is skipped with the reason and
# nothing is re-planned in its place. A stale plan, one made under another
# policy, a corrupt file, another format_version, a --format json print and
# a plan naming a guest the pool lacks are refused (exit 3) and journal
# nothing.
# triples FILE: "vm from to" of each move of the plan FILE, in its order.
triples() {
    awk -F'"' '$2 == "vm" { v = $4 } $2 == "from" { f = $4 } $2 == "to" { print v, f, $4 }' "$1"
}
run ap-plan 0 plan --output "$tmp/ap.json"
expect ap-plan.err "plan saved to $tmp/ap.json"
expect ap-plan.out "Moves (3, in run order"
saved=$(triples "$tmp/ap.json")
[ "$(echo "$saved" | wc -l)" = 3 ] || fail "plan --output saved moves '$saved', expected 3"
run ap-run 0 rebalance --plan "$tmp/ap.json" --database "$tmp/ap.db"
expect ap-run.out "Rebalance: 3 finished, 0 failed, 0 aborted, 0 skipped"
run ap-hist 0 history --database "$tmp/ap.db"
ran=$(awk 'NF == 7 { print $1, $2, $3 }' "$tmp/ap-hist.out")
[ "$ran" = "$saved" ] || fail "rebalance --plan ran '$ran', the file holds '$saved'"
[ "$(grep -c '^plan ' "$tmp/ap-hist.out")" = 1 ] || fail "rebalance --plan journaled: $(cat "$tmp/ap-hist.out")"
# The first move's destination is in maintenance now: skipped, not re-planned.
vm1=$(echo "$saved" | head -1 | cut -d" " -f1)
to1=$(echo "$saved" | head -1 | cut -d" " -f3)
run ap-maint 0 maintenance enter "$to1" --database "$tmp/ap2.db"
run ap-skip 0 rebalance --plan "$tmp/ap.json" --database "$tmp/ap2.db"
expect ap-skip.out "Rebalance: 2 finished, 0 failed, 0 aborted, 1 skipped"
expect ap-skip.out "$vm1 .* skipped .*the destination is not up"
run ap-hist2 0 history --database "$tmp/ap2.db"
[ "$(awk 'NF == 7' "$tmp/ap-hist2.out" | wc -l)" = 3 ] ||
    fail "rebalance --plan added moves to the approved plan: $(cat "$tmp/ap-hist2.out")"
refute ap-hist2.out "^ *$vm1 .* finished"
# Refused, nothing journaled.
VB_NOW=$(($(date +%s) - 7200)) run ap-old-plan 0 plan --output "$tmp/old.json"
run ap-old 3 rebalance --plan "$tmp/old.json" --database "$tmp/no.db"
expect ap-old.err "the plan is 2h.* old, older than budget.max_plan_age (1h"
printf '{"format_version": 1, "kind": "rebal' >"$tmp/corrupt.json"
run ap-corrupt 3 rebalance --plan "$tmp/corrupt.json" --database "$tmp/no.db"
expect ap-corrupt.err "corrupt.json: not a readable JSON plan"
printf '{"hosts": []}\n' >"$tmp/notplan.json"
run ap-notplan 3 rebalance --plan "$tmp/notplan.json" --database "$tmp/no.db"
expect ap-notplan.err "notplan.json: not a plan"
sed 's/"format_version" : 1/"format_version" : 2/' "$tmp/ap.json" >"$tmp/v2.json"
run ap-v2 3 rebalance --plan "$tmp/v2.json" --database "$tmp/no.db"
expect ap-v2.err "format_version 2, this virt-balancer reads version 1 only"
run ap-json 0 plan --format json
cp "$tmp/ap-json.out" "$tmp/printed.json"
run ap-printed 3 rebalance --plan "$tmp/printed.json" --database "$tmp/no.db"
expect ap-printed.err "save it with 'plan --output FILE'"
sed "s/\"$vm1\"/\"ghost\"/" "$tmp/ap.json" >"$tmp/ghost.json"
run ap-ghost 3 rebalance --plan "$tmp/ghost.json" --database "$tmp/no.db"
expect ap-ghost.err "guest 'ghost' is not in the pool; nothing was done"
printf 'budget: {max_plan_age: 3h}\n' >"$tmp/age3h.yaml"
"$vb" --inventory "$data/pool.yaml" --policy "$tmp/age3h.yaml" rebalance --plan "$tmp/old.json" \
    --database "$tmp/no.db" >"$tmp/ap-other.out" 2>"$tmp/ap-other.err"
[ $? = 3 ] || fail "a plan made under another policy: not refused: $(cat "$tmp/ap-other.err")"
expect ap-other.err "the plan was made under another policy than $tmp/age3h.yaml"
run ap-none 0 history --database "$tmp/no.db"
expect ap-none.out "No plan was executed yet."
run ap-max 2 rebalance --plan "$tmp/ap.json" --max-moves 1 --database "$tmp/no.db"
# evacuate --dry-run --output saves the evacuation plan for review only.
run ap-evac 4 evacuate h0 --dry-run --output "$tmp/evac.json"
expect ap-evac.err "plan saved to $tmp/evac.json, for review"
grep -q '"kind" : "evacuate"' "$tmp/evac.json" && grep -q '"created_unix" : ' "$tmp/evac.json" ||
    fail "evacuate --dry-run --output saved: $(cat "$tmp/evac.json")"
[ "$(triples "$tmp/evac.json" | wc -l)" = 6 ] || fail "evacuation plan file: $(triples "$tmp/evac.json")"
run ap-evac-run 3 rebalance --plan "$tmp/evac.json" --database "$tmp/no.db"
expect ap-evac-run.err "a plan of kind 'evacuate'"
run ap-evac-wet 2 evacuate h0 --output "$tmp/evac2.json" --database "$tmp/no.db"

# automation: manual (issue 10): each daemon round journals its plan as a
# recommendation (history lists it, its moves queued) and migrates nothing,
# so the second round recommends the same 3 moves again; partial likewise.
{ cat "$data/policy.yaml"; echo "automation: manual"; } >"$tmp/manual.yaml"
{ cat "$data/policy.yaml"; echo "automation: partial"; } >"$tmp/partial.yaml"
"$vb" --inventory "$data/pool.yaml" --policy "$tmp/manual.yaml" run --rounds 2 \
    --rebalance-interval 1 --sample-interval 1 --database "$tmp/manual.db" \
    >"$tmp/manual.out" 2>"$tmp/manual.err" || fail "run, automation manual: exit $?"
[ "$(grep -c 'recommending: 3 moves.*automation: manual: nothing migrated' "$tmp/manual.err")" = 2 ] ||
    fail "run, automation manual, 2 rounds: $(cat "$tmp/manual.err")"
refute manual.err "started  *web"
run man-hist 0 history --database "$tmp/manual.db"
[ "$(grep -c '^plan .*recommended (automation: manual): nothing migrated  (3 moves)' "$tmp/man-hist.out")" = 2 ] ||
    fail "history lacks the 2 recommendations: $(cat "$tmp/man-hist.out")"
[ "$(awk 'NF == 7 && $5 != "queued"' "$tmp/man-hist.out")" = "" ] ||
    fail "automation manual moved guests: $(cat "$tmp/man-hist.out")"
"$vb" --inventory "$data/pool.yaml" --policy "$tmp/partial.yaml" run --rounds 1 \
    --rebalance-interval 1 --sample-interval 1 --database "$tmp/auto-partial.db" \
    >"$tmp/partial.out" 2>"$tmp/partial.err" || fail "run, automation partial: exit $?"
expect partial.err "recommending: 3 moves.*automation: partial: nothing migrated"
refute partial.err "started  *web"

[ $failed = 0 ] && echo "PASS: scheduler CLI"
exit $failed
