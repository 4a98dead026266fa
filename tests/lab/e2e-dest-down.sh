#!/bin/bash
# e2e-dest-down.sh: during `evacuate lab1` (3 guests, one migration at a
# time), the destination of the first migration loses its libvirtd while the
# migration runs: that guest keeps running (on lab1, or moved on to the other
# host), the dead host is reported down, and the rest of the plan goes to the
# host that is left. No guest is lost or runs twice.
set -euo pipefail
for d in "$(dirname "$0")" "$(dirname "$0")/.."; do [ -f "$d/e2e-common.sh" ] && break; done
# shellcheck source=tests/lab/e2e-common.sh
. "$d/e2e-common.sh"
guests="g01 g02 g03"
db=$dir/state.db
pol=$work/cap1.yaml
cap1_policy "$pol"

"$lab" start --dir "$dir" --hosts 3
"$lab" guests --dir "$dir" --layout 3,0,0 --memory 512

evacuate_started "$pol"
first=$(sql "$db" "SELECT m.vm || ' ' || m.dst FROM journal_events e JOIN journal_moves m ON m.id = e.move WHERE e.state = 'started' ORDER BY e.id LIMIT 1;")
vm=${first% *}
dead=${first#* }
echo "  first migration: $vm lab1 -> $dead; killing $dead's libvirtd"
"$lab" kill-host --dir "$dir" "$dead"
wait_pid "$run" 300
sed 's/^/  evacuate: /' "$work/evac.out"
echo "  evacuate exit status: $waited"
case $dead in lab2) alive=lab3 ;; *) alive=lab2 ;; esac
n=${alive#lab}

check "the first move did not finish on the dead host" \
    same "$(sql "$db" "SELECT count(*) FROM journal_moves WHERE vm = '$vm' AND dst = '$dead' AND state = 'finished';")" 0
for g in $guests; do
    w=$(where_is "$g")
    check "$g runs exactly once, on lab1 or $alive ($w)" \
        bash -c "[[ '$w' == lab1:running || '$w' == $alive:running ]]"
done
others=$(for g in $guests; do [ "$g" = "$vm" ] || echo "$g"; done | xargs)
for g in $others; do
    check "$g went to $alive" bash -c "virsh -q -c '$(uri "$n")' list --name | grep -qx $g"
done
vbrun plan --config "$dir/virt-balancer.yaml" --policy "$pol" plan --format json
check "the dead host is reported down" \
    same "$(jq -r --arg h "$dead" '.hosts[] | select(.name == $h) | .state' "$work/plan.out")" down
finish
