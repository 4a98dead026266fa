#!/bin/bash
# e2e-host-down.sh: three real lab hosts, lab3's libvirtd killed (its guest
# keeps running): `plan --format json` reports lab3 down with the reason,
# lists it in "unreachable" and exits 5 (a partial view), and still plans
# moves off the loaded lab1, to lab2 only. Then every libvirtd is killed
# (issue 9): plan, rebalance and status exit 5 naming every host, and
# `evacuate lab1` is refused (exit 1) without putting lab1 in maintenance or
# journaling a plan.
set -euo pipefail
for d in "$(dirname "$0")" "$(dirname "$0")/.."; do [ -f "$d/e2e-common.sh" ] && break; done
# shellcheck source=tests/lab/e2e-common.sh
. "$d/e2e-common.sh"

"$lab" start --dir "$dir" --hosts 3
"$lab" guests --dir "$dir" --layout 4,0,1
"$lab" kill-host --dir "$dir" lab3
check "lab3 is down in the lab" bash -c "'$lab' status --dir '$dir' | grep -q '^lab3 .* down'"

vbrun plan --config "$dir/virt-balancer.yaml" --policy "$policy" plan --format json
p=$work/plan.out
check "plan exits 5 (partial view) with a host down" same "$(cat "$work/plan.rc")" 5
check "plan prints JSON" jqt . "$p"
check "plan still lists the three hosts" same "$(jq -r '[.hosts[].name] | join(" ")' "$p")" "lab1 lab2 lab3"
check "lab1 and lab2 are up, lab3 down" same "$(jq -r '[.hosts[].state] | join(" ")' "$p")" "up up down"
reason=$(jq -r '.hosts[2].state_reason // ""' "$p")
echo "  lab3 reason: $reason"
says_cannot_connect() { [[ $1 == *lab3* && $1 == *"cannot connect"* ]]; }
check "lab3's reason names the host and the connection failure" says_cannot_connect "$reason"
check "plan lists lab3, only, as unreachable" \
    same "$(jq -r '[.unreachable[].name] | join(" ")' "$p")" lab3
check "the plan proposes moves" jqt '.moves | length > 0' "$p"
check "every move leaves lab1" same "$(jq -r '[.moves[].from] | unique | join(" ")' "$p")" lab1
check "every move goes to lab2, never to the down lab3" \
    same "$(jq -r '[.moves[].to] | unique | join(" ")' "$p")" lab2
check "lab3's guest is not planned" jqt '[.moves[] | select(.vm == "g05")] | length == 0' "$p"

# Every host unreachable: nothing may look like success.
"$lab" kill-host --dir "$dir" lab1
"$lab" kill-host --dir "$dir" lab2
cfg=$dir/virt-balancer.yaml
vbrun all --config "$cfg" --policy "$policy" plan --format json
check "plan exits 5 with every host unreachable" same "$(cat "$work/all.rc")" 5
check "plan lists the three hosts as unreachable" \
    same "$(jq -r '[.unreachable[].name] | join(" ")' "$work/all.out")" "lab1 lab2 lab3"
check "plan proposes no move" jqt '.moves | length == 0' "$work/all.out"
vbrun reb --config "$cfg" --policy "$policy" rebalance
check "rebalance exits 5" same "$(cat "$work/reb.rc")" 5
check "rebalance does not say plain 'Nothing to do.'" \
    bash -c "! grep -qx 'Nothing to do.' '$work/reb.out' && grep -q 'Not read: 3 of 3' '$work/reb.out'"
vbrun evac --config "$cfg" --policy "$policy" evacuate lab1
check "evacuate of the unreachable lab1 exits 1" same "$(cat "$work/evac.rc")" 1
check "evacuate says why" grep -q "lab1 cannot be read .*its guests' state is unknown" "$work/evac.err"
vbrun mlist --config "$cfg" maintenance list
check "no host was put in maintenance" grep -qx "No host is in maintenance." "$work/mlist.out"
check "no plan was journaled" same "$(sql "$dir/state.db" "SELECT count(*) FROM journal_plans;")" 0
vbrun status --config "$cfg" status
check "status exits 5" same "$(cat "$work/status.rc")" 5
check "status says 3 of 3 hosts could not be read" grep -q "Partial: 3 of 3 hosts" "$work/status.out"
finish
