#!/bin/bash
# e2e-cold-crash.sh: `evacuate lab1` cold-moves cold1 (shut off, a 128 MiB
# qcow2 disk full of data) to lab2 and is killed with SIGKILL while it copies
# the disk. The partial copy stays on lab2, with its marker
# cold1.qcow2.vb-partial (the proof that this program made it). Started again,
# the evacuation reconciles the interrupted move: the partial copy is removed
# (journaled), the move is retried and completes; cold1 is defined once, on
# lab2, shut off, with a disk identical to the one it had, and nothing of the
# copy is left behind. Before the fix every retry failed on "storage vol
# already exists" and cold1 never left lab1.
#
# To kill mid-copy for sure, lab2's libvirtd is stopped (SIGSTOP) as soon as
# the marker shows, the program killed, then lab2 resumed (SIGCONT): the copy
# can neither finish nor the guest be defined in between.
set -euo pipefail
if [ "${VB_SANITIZED:-0}" = 1 ]; then
    echo "SKIP: slow fault scenario, not run under the sanitizers"
    exit 77
fi
for d in "$(dirname "$0")" "$(dirname "$0")/.."; do [ -f "$d/e2e-common.sh" ] && break; done
# shellcheck source=tests/lab/e2e-common.sh
. "$d/e2e-common.sh"
db=$dir/state.db
src_img=$dir/lab1/lib/images/cold1.qcow2
dst_img=$dir/lab2/lib/images/cold1.qcow2
marker=$dst_img.vb-partial

"$lab" start --dir "$dir" --hosts 2
"$lab" guest --dir "$dir" --host lab1 --name cold1 --disk-mib 128 --no-start
# Fill the disk: an empty qcow2 is a few hundred KiB, copied in no time.
head -c 128M /dev/zero | tr '\0' '\1' >"$work/fill.raw"
qemu-img convert -f raw -O qcow2 "$work/fill.raw" "$src_img"
rm -f "$work/fill.raw"
virsh -q -c "$(uri 1)" pool-refresh default >/dev/null
sum_before=$(sha256sum <"$src_img")
echo "  cold1's disk: $(stat -c %s "$src_img") bytes"
# shellcheck source=/dev/null
lab2_pid=$(. "$dir/lab.env" && echo "$VB_LAB_PID_2")

"$vb" --config "$dir/virt-balancer.yaml" --policy "$policy" evacuate lab1 >"$work/first.out" 2>&1 &
first=$!
for ((t = 0; t < 1200; t++)); do
    [ -e "$marker" ] && break
    kill -0 "$first" 2>/dev/null || break
    sleep 0.05
done
if [ ! -e "$marker" ]; then
    bad "the first run starts copying cold1's disk to lab2 (its marker shows)"
    kill -KILL "$first" 2>/dev/null || true
    sed 's/^/  first run: /' "$work/first.out"
    exit 1
fi
kill -STOP "$lab2_pid"
kill -KILL "$first" 2>/dev/null || true
wait_pid "$first" 10
kill -CONT "$lab2_pid"
sed 's/^/  first run: /' "$work/first.out"
check "the first run was killed (status 137)" same "$waited" 137
copied=$(stat -c %s "$dst_img" 2>/dev/null || echo 0)
echo "  copied before the kill: $copied of $(stat -c %s "$src_img") bytes"
check "the kill came mid-copy" [ "$copied" -lt "$(stat -c %s "$src_img")" ]
check "the partial copy and its marker are left on lab2" test -e "$dst_img" -a -e "$marker"
check "cold1 is still defined on lab1 only" same "$(where_is cold1)" "lab1:shut-off"

vbrun second --config "$dir/virt-balancer.yaml" --policy "$policy" evacuate lab1
sed 's/^/  stdout: /' "$work/second.out"
check "the second run exits 0" same "$(cat "$work/second.rc")" 0
check "cold1 is defined once, on lab2, shut off" same "$(where_is cold1)" "lab2:shut-off"
check "its disk on lab2 is the one it had" same "$(sha256sum <"$dst_img")" "$sum_before"
check "no marker is left on lab2" [ ! -e "$marker" ]
check "lab1's copy of the disk is gone" [ ! -e "$src_img" ]
check "the journal says the partial copy was removed" \
    same "$(sql "$db" "SELECT count(*) FROM journal_events WHERE message LIKE '%removed its partial copies on lab2: default/cold1.qcow2%';")" 1
check "the move finished on its second attempt" \
    same "$(sql "$db" "SELECT state || ' ' || attempts FROM journal_moves WHERE vm = 'cold1';")" "finished 2"
finish
