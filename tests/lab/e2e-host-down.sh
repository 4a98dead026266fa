#!/bin/bash
# e2e-host-down.sh: three real lab hosts, lab3's libvirtd killed (its guest
# keeps running): `plan --format json` reports lab3 down with the reason and
# still plans moves off the loaded lab1, to lab2 only.
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
check "plan exits 0 with a host down" same "$(cat "$work/plan.rc")" 0
check "plan prints JSON" jqt . "$p"
check "plan still lists the three hosts" same "$(jq -r '[.hosts[].name] | join(" ")' "$p")" "lab1 lab2 lab3"
check "lab1 and lab2 are up, lab3 down" same "$(jq -r '[.hosts[].state] | join(" ")' "$p")" "up up down"
reason=$(jq -r '.hosts[2].state_reason // ""' "$p")
echo "  lab3 reason: $reason"
says_cannot_connect() { [[ $1 == *lab3* && $1 == *"cannot connect"* ]]; }
check "lab3's reason names the host and the connection failure" says_cannot_connect "$reason"
check "the plan proposes moves" jqt '.moves | length > 0' "$p"
check "every move leaves lab1" same "$(jq -r '[.moves[].from] | unique | join(" ")' "$p")" lab1
check "every move goes to lab2, never to the down lab3" \
    same "$(jq -r '[.moves[].to] | unique | join(" ")' "$p")" lab2
check "lab3's guest is not planned" jqt '[.moves[] | select(.vm == "g05")] | length == 0' "$p"
finish
