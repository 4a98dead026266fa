#!/bin/bash
# e2e-inventory-replay.sh: `inventory --format yaml` from three real lab
# hosts holds exactly the guests the lab runs, where it runs them; fed back
# through `--inventory`, it gives the same plan as the live pool.
set -euo pipefail
for d in "$(dirname "$0")" "$(dirname "$0")/.."; do [ -f "$d/e2e-common.sh" ] && break; done
# shellcheck source=tests/lab/e2e-common.sh
. "$d/e2e-common.sh"

"$lab" start --dir "$dir" --hosts 3
"$lab" guests --dir "$dir" --layout 4,1,0 --disk
"$lab" guest --dir "$dir" --host lab2 --name off1 --no-start --label db

vbrun inv --config "$dir/virt-balancer.yaml" inventory --format yaml
inv=$work/inv.yaml
cp "$work/inv.out" "$inv"
check "inventory exits 0" same "$(cat "$work/inv.rc")" 0
# Guests as the inventory has them, "host guest state" lines, from its
# flow-style guest entries: `  - {name: g01, host: lab1[, state: shutoff], ...}`
# (docs/inventory.md; state is left out when running).
guests_in_inventory() {
    sed -nE 's/^  - \{name: ([^,]+), host: ([^,]+)(, state: ([^,}]+))?.*/\2 \1 \4/p' "$inv" |
        while read -r host name state; do echo "$host $name ${state:-running}"; done | sort
}
guests_in_lab() {
    local i name state
    for i in 1 2 3; do
        virsh -q -c "$(uri "$i")" list --all | while read -r _ name state; do
            case $state in "shut off") state=shutoff ;; esac
            echo "lab$i $name $state"
        done
    done | sort
}
check "the lab holds its 7 guests (4+1 running, disk1, off1)" same "$(guests_in_lab | wc -l)" 7
check "the inventory's guests are the lab's, on the same hosts, in the same state" \
    same "$(guests_in_inventory | xargs)" "$(guests_in_lab | xargs)"

vbrun live --config "$dir/virt-balancer.yaml" --policy "$policy" plan --format json
vbrun replay --inventory "$inv" --policy "$policy" plan --format json
check "live plan exits 0" same "$(cat "$work/live.rc")" 0
check "replayed plan exits 0" same "$(cat "$work/replay.rc")" 0
check "the live plan proposes moves" jqt '.moves | length > 0' "$work/live.out"
check "the same moves" same "$(jq -c .moves "$work/replay.out")" "$(jq -c .moves "$work/live.out")"
# Disk load is left out: the lab's storage is the machine's disk, whose free
# space moves between the two snapshots (the policy gives disk no weight).
hosts() { jq -c '[.hosts[] | .before |= del(.disk) | .after |= del(.disk)]' "$1"; }
check "the same hosts and loads, before and after" \
    same "$(hosts "$work/replay.out")" "$(hosts "$work/live.out")"
imbalance() { jq -c '.imbalance | del(.per_metric.disk)' "$1"; }
check "the same imbalance" same "$(imbalance "$work/replay.out")" "$(imbalance "$work/live.out")"
finish
