#!/bin/bash
# e2e-default-cpu.sh: guests with QEMU's default CPU (no <cpu> element, the
# most common guest there is) piled on lab1 can be moved: `plan` proposes
# moves and `evacuate lab1 --dry-run` places every guest. Running guests of
# that kind carry <feature policy='require' name='x2apic'/> (and hypervisor,
# lahf_lm) in their XML, which is part of the host's named CPU model rather
# than listed in its capabilities, so a driver that does not expand the
# host model's features refuses every destination ("lacks CPU feature x2apic").
# (Every e2e test uses such guests by default; this one says why it matters.)
set -euo pipefail
for d in "$(dirname "$0")" "$(dirname "$0")/.."; do [ -f "$d/e2e-common.sh" ] && break; done
# shellcheck source=tests/lab/e2e-common.sh
. "$d/e2e-common.sh"
export VB_LAB_GUEST_CPU=""

"$lab" start --dir "$dir" --hosts 3
"$lab" guests --dir "$dir" --layout 4,0,0
check "g01 runs with libvirt's require-features" \
    bash -c "virsh -c '$(uri 1)' dumpxml g01 | grep -q \"policy='require'\""

vbrun plan --config "$dir/virt-balancer.yaml" --policy "$policy" plan --format json
check "plan exits 0" same "$(cat "$work/plan.rc")" 0
check "the plan proposes moves off lab1" jqt '[.moves[] | select(.from == "lab1")] | length > 0' "$work/plan.out"
vbrun evac --config "$dir/virt-balancer.yaml" --policy "$policy" evacuate lab1 --dry-run --format json
check "evacuate exits 0" same "$(cat "$work/evac.rc")" 0
check "evacuate places all four guests" jqt '(.moves | length) == 4 and (.unplaced | length) == 0' "$work/evac.out"
jq -r '.unplaced[] | "  unplaced: \(.vm): \(.reasons[0].reason // .reason)"' "$work/evac.out" 2>/dev/null || true
finish
