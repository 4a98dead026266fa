#!/bin/bash
# e2e-plan.sh: three real lab hosts with the guests piled on lab1 (and one
# guest tagged no-migrate there): `plan --format json` against the lab
# proposes moves off lab1 only, never moves the tagged guest, and its hosts
# and loads match what the lab really holds (checked with virsh).
set -euo pipefail
# In tests/lab/, or in tests/lab/pending/ until its pieces land.
for d in "$(dirname "$0")" "$(dirname "$0")/.."; do [ -f "$d/e2e-common.sh" ] && break; done
# shellcheck source=tests/lab/e2e-common.sh
. "$d/e2e-common.sh"

"$lab" start --dir "$dir" --hosts 3
"$lab" guests --dir "$dir" --layout 5,1,0
"$lab" guest --dir "$dir" --host lab1 --name pinned1 --tag no-migrate --label web

check "lab1 really holds g01..g05 and pinned1" same "$(on_host 1)" "g01 g02 g03 g04 g05 pinned1"
check "lab2 really holds g06" same "$(on_host 2)" "g06"
check "lab3 really holds nothing" same "$(on_host 3)" ""

vbrun plan --config "$dir/virt-balancer.yaml" --policy "$policy" plan --format json
p=$work/plan.out
check "plan exits 0" same "$(cat "$work/plan.rc")" 0
check "plan prints JSON" jqt . "$p"
check "plan lists the three lab hosts" same "$(jq -r '[.hosts[].name] | join(" ")' "$p")" "lab1 lab2 lab3"
check "every host is up" same "$(jq -r '[.hosts[].state] | join(" ")' "$p")" "up up up"
check "every host is in pool lab" same "$(jq -r '[.hosts[].pool] | unique | join(" ")' "$p")" "lab"
check "the policy in force is the lab's (allocated)" same "$(jq -r .policy.load_source "$p")" allocated
# What the lab holds, seen through the plan: allocated memory before follows
# the guest counts (6, 1, 0 guests of 64 MiB).
check "lab1 is loaded more than lab2 before" \
    jqt '.hosts[0].before.memory > .hosts[1].before.memory' "$p"
check "lab2 is loaded more than lab3 before" \
    jqt '.hosts[1].before.memory > .hosts[2].before.memory' "$p"
check "lab3 holds nothing before" jqt '.hosts[2].before.memory == 0' "$p"
check "the plan proposes moves" jqt '.moves | length > 0' "$p"
check "every move leaves lab1" same "$(jq -r '[.moves[].from] | unique | join(" ")' "$p")" lab1
check "no move goes to lab1" jqt '[.moves[] | select(.to == "lab1")] | length == 0' "$p"
check "the no-migrate guest is never moved" \
    jqt '[.moves[] | select(.vm == "pinned1")] | length == 0' "$p"
moved=$(jq -r '.moves[].vm' "$p" | sort | xargs)
for vm in $moved; do
    check "moved guest $vm really runs on lab1" bash -c "virsh -q -c '$(uri 1)' list --name | grep -qx '$vm'"
done
check "the plan lowers the imbalance" jqt '.imbalance.after < .imbalance.before' "$p"
check "lab3 gets guests" jqt '.hosts[2].after.memory > 0' "$p"
check "summary counts the moves" jqt '.summary.moves == (.moves | length)' "$p"
check "nothing was migrated (dry run)" same "$(on_host 1)" "g01 g02 g03 g04 g05 pinned1"
finish
