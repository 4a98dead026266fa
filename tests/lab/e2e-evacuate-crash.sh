#!/bin/bash
# e2e-evacuate-crash.sh: `evacuate lab1` (6 guests, cap 2) is killed with
# SIGKILL while migrations are in flight; started again, it reconciles its
# journal with what the hosts hold and finishes: every guest runs exactly
# once, on lab2 or lab3; none is lost, left shut off or undefined; no
# guest's move is finished twice and the journal agrees with the hosts.
set -euo pipefail
for d in "$(dirname "$0")" "$(dirname "$0")/.."; do [ -f "$d/e2e-common.sh" ] && break; done
# shellcheck source=tests/lab/e2e-common.sh
. "$d/e2e-common.sh"
guests="g01 g02 g03 g04 g05 g06"
db=$dir/state.db

"$lab" start --dir "$dir" --hosts 3
"$lab" guests --dir "$dir" --layout 6,0,0 --memory 256

"$vb" --config "$dir/virt-balancer.yaml" --policy "$here/lab-policy-cap2.yaml" evacuate lab1 \
    >"$work/first.out" 2>&1 &
first=$!
if ! wait_for_event "$db" started 2 120; then
    bad "the first run starts migrations"
    sed 's/^/  first run: /' "$work/first.out"
    exit 1
fi
kill -KILL "$first" 2>/dev/null || true
wait_pid "$first" 10
sed 's/^/  first run: /' "$work/first.out"
check "the first run was killed (status 137)" same "$waited" 137
done_before=$(sql "$db" "SELECT count(*) FROM journal_moves WHERE state = 'finished';")
echo "  moves finished before the kill: $done_before of 6"
check "the kill came before the end" [ "$done_before" -lt 6 ]

vbrun second --config "$dir/virt-balancer.yaml" --policy "$here/lab-policy-cap2.yaml" evacuate lab1
sed 's/^/  stdout: /' "$work/second.out" | tail -n 12
check "the second run exits 0" same "$(cat "$work/second.rc")" 0
check "lab1 holds nothing, running or defined" \
    same "$(virsh -q -c "$(uri 1)" list --all --name | xargs)" ""
for g in $guests; do
    w=$(where_is "$g")
    check "$g runs exactly once, on lab2 or lab3 ($w)" \
        bash -c "[[ '$w' == lab2:running || '$w' == lab3:running ]]"
done
# The journal must tell the truth: a move whose guest sits on its
# destination is finished, not aborted or failed.
journal_agrees() {
    local vm dst state bad=0
    while IFS='|' read -r vm dst state; do
        if [ "$(where_is "$vm")" = "$dst:running" ] && [ "$state" != finished ]; then
            echo "  journal says $vm -> $dst $state, but $vm runs on $dst"
            bad=1
        fi
    done < <(sql "$db" "SELECT vm, dst, state FROM journal_moves;")
    [ $bad = 0 ]
}
check "the journal agrees with where the guests are" journal_agrees
check "no guest's move finished twice" \
    same "$(sql "$db" "SELECT count(*) FROM (SELECT m.vm FROM journal_events e JOIN journal_moves m ON m.id = e.move WHERE e.state = 'finished' GROUP BY m.vm HAVING count(*) > 1);")" 0
finish
