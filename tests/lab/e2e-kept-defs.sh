#!/bin/bash
# e2e-kept-defs.sh: the daemon keeps guest definitions between rounds (issue
# 11, drivers/libvirt-defs.c) and still sees a change on real hosts. `run`
# (automation manual: nothing moves; a round every 2 s) on two lab hosts with
# a rule on the label "payments", which no guest has: the daemon warns that
# the rule matches no guest. Then g01's metadata is set live (`virsh metadata
# --live`: libvirt sends a metadata-change event) to carry that label, and
# the daemon must say the rule matches again. VIRT_BALANCER_DEFS_REFRESH
# pushes the safety refresh out of reach, so only the event can tell the
# daemon (fails with definitions kept and events ignored). Waits poll the
# daemon's log with a generous bound; no timing is asserted. About 1 min;
# run in the plain pass only (skipped when VB_SANITIZED=1).
set -euo pipefail
if [ "${VB_SANITIZED:-0}" = 1 ]; then
    echo "skip: lab daemon scenario, run in the plain pass"
    exit 77
fi
for d in "$(dirname "$0")" "$(dirname "$0")/.."; do [ -f "$d/e2e-common.sh" ] && break; done
# shellcheck source=tests/lab/e2e-common.sh
. "$d/e2e-common.sh"
ns="https://virt-balancer.org/xmlns/balancer/1"

"$lab" start --dir "$dir" --hosts 2
"$lab" guests --dir "$dir" --layout 1,1

{
    cat "$policy"
    echo "automation: manual"
    echo "rules:"
    echo "  - {name: pay, type: avoid, vm_labels: [payments], host_labels: [quarantine]}"
} >"$work/policy.yaml"

# wait_log PATTERN SECONDS: true once the daemon's log has PATTERN.
wait_log() {
    local t
    for ((t = 0; t < $2 * 10; t++)); do
        grep -q "$1" "$work/run.err" && return 0
        kill -0 "$daemon" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

VIRT_BALANCER_DEFS_REFRESH=1000000 "$vb" --config "$dir/virt-balancer.yaml" \
    --policy "$work/policy.yaml" run --sample-interval 1 --rebalance-interval 2 \
    >"$work/run.out" 2>"$work/run.err" &
daemon=$!
check "the daemon warns that rule 'pay' matches no guest" \
    wait_log "rule 'pay' matches no guest" 180
# A few more rounds, so the daemon holds g01's definition without the label.
rounds_before=$(grep -c "recommending\|balanced enough\|no move helps" "$work/run.err" || true)
for ((t = 0; t < 1800; t++)); do
    n=$(grep -c "recommending\|balanced enough\|no move helps" "$work/run.err" || true)
    [ "$n" -ge $((rounds_before + 2)) ] && break
    sleep 0.1
done
check "the daemon ran two more rounds" [ "$n" -ge $((rounds_before + 2)) ]

virsh -q -c "$(uri 1)" metadata g01 --uri "$ns" --key vb \
    --set '<balancer><label>payments</label></balancer>' --live >/dev/null
check "g01 carries the label live" \
    bash -c "virsh -c '$(uri 1)' dumpxml g01 | grep -q '<vb:label>payments</vb:label>'"
check "the daemon sees the label: every rule matches again" \
    wait_log "every rule matches guests of the pool again" 180

kill -TERM "$daemon"
wait_pid "$daemon" 60
check "run exits 0 after SIGTERM" same "$waited" 0
sed 's/^/  run: /' "$work/run.err" | tail -n 12
finish
