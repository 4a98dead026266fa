#!/bin/bash
# e2e-evacuate.sh: `evacuate lab1` under a cap of 2 migrations at once, on
# three real lab hosts, lab1 holding 6 guests of which one (disk1) has a local
# qcow2 disk: every guest ends running on another host, exactly once; the
# journal never shows more than 2 migrations in flight; disk1 was moved with
# a storage live migration (its volume now in the destination's pool).
set -euo pipefail
for d in "$(dirname "$0")" "$(dirname "$0")/.."; do [ -f "$d/e2e-common.sh" ] && break; done
# shellcheck source=tests/lab/e2e-common.sh
. "$d/e2e-common.sh"
guests="g01 g02 g03 g04 g05 disk1"

"$lab" start --dir "$dir" --hosts 3
"$lab" guests --dir "$dir" --layout 5,0,0 --disk
check "lab1 holds the 6 guests" same "$(on_host 1)" "disk1 g01 g02 g03 g04 g05"

vbrun evac --config "$dir/virt-balancer.yaml" --policy "$here/lab-policy-cap2.yaml" evacuate lab1
check "evacuate exits 0" same "$(cat "$work/evac.rc")" 0
sed 's/^/  stdout: /' "$work/evac.out" | tail -n 20
check "lab1 holds nothing, running or defined" \
    same "$(virsh -q -c "$(uri 1)" list --all --name | xargs)" ""
for g in $guests; do
    w=$(where_is "$g")
    check "$g runs exactly once, on lab2 or lab3 ($w)" \
        bash -c "[[ '$w' == lab2:running || '$w' == lab3:running ]]"
done
most=$(max_running "$dir/state.db")
echo "  most migrations in flight: $most"
check "the journal never shows more than 2 migrations in flight" [ "$most" -le 2 ]
check "the journal shows migrations in flight" [ "$most" -ge 1 ]
check "the journal shows 6 finished moves" \
    same "$(sqlite3 "$dir/state.db" "SELECT count(*) FROM journal_moves WHERE state = 'finished';")" 6
dest=$(where_is disk1); dest=${dest%%:*}
check "disk1 went live-storage" \
    same "$(sqlite3 "$dir/state.db" "SELECT kind FROM journal_moves WHERE vm = 'disk1';")" live-storage
if [ -n "$dest" ]; then
    n=${dest#lab}
    check "disk1's volume is in $dest's default pool" \
        bash -c "virsh -q -c '$(uri "$n")' vol-list default | grep -q disk1.qcow2"
    check "disk1 still has its disk vda on $dest" \
        bash -c "virsh -q -c '$(uri "$n")' domblklist disk1 | grep -q '^ *vda .*disk1.qcow2'"
fi
check "lab1 is in maintenance" bash -c "'$vb' --config '$dir/virt-balancer.yaml' maintenance list | grep -q lab1"
finish
