#!/bin/bash
# lab-selftest.sh: the lab itself works: two real libvirtd hosts start, a
# second start in the same folder is refused, guests start where asked, one
# live migration moves a guest (and its definition) between hosts, a killed
# host is reported down while its guest keeps running, and stop ends every
# libvirtd and QEMU of the lab, even when start's outputs are missing.
# Needs root, libvirt-daemon, qemu-system-x86; KVM if /dev/kvm, else TCG.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lab="$here/lab.sh"
dir=$(mktemp -d /tmp/vb-lab-selftest.XXXXXX)
trap '"$lab" stop --dir "$dir" >/dev/null 2>&1 || true' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

[ "$(id -u)" = 0 ] || { echo "FAIL: the lab needs root (privileged libvirtd)"; exit 1; }

"$lab" start --dir "$dir" --hosts 2
# shellcheck source=/dev/null
. "$dir/lab.env"
v1() { virsh -q -c "$VB_LAB_URI_1" "$@"; }
v2() { virsh -q -c "$VB_LAB_URI_2" "$@"; }
# running PID: alive and not a zombie waiting for its reaper.
running() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ "$st" != Z ]; }
gone() { ! running "$1"; }

check "lab.env names 2 hosts" [ "$VB_LAB_HOSTS" = 2 ]
check "hosts have distinct host UUIDs" \
    [ "$(v1 capabilities | sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' | head -1)" != \
      "$(v2 capabilities | sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' | head -1)" ]
check "hosts have distinct migration ports" [ "$VB_LAB_MIGRATION_PORTS_1" != "$VB_LAB_MIGRATION_PORTS_2" ]
check "config lists lab1 and lab2" grep -q "name: lab2" "$dir/virt-balancer.yaml"
check "default pool is active on lab2" bash -c "virsh -c '$VB_LAB_URI_2' pool-info default | grep -q running"
if "$lab" start --dir "$dir" --hosts 2 2>/dev/null; then
    bad "a second start in the same folder is refused"
else
    ok "a second start in the same folder is refused"
fi

"$lab" guests --dir "$dir" --layout 2,0
check "lab1 runs g01 g02" [ "$(v1 list --name | sort | xargs)" = "g01 g02" ]
check "lab2 runs nothing" [ -z "$(v2 list --all --name | xargs)" ]
check "guest metadata carries the label" \
    bash -c "virsh -c '$VB_LAB_URI_1' dumpxml g01 | grep -q '<vb:label>web</vb:label>'"

"$lab" migrate --dir "$dir" g01 lab1 lab2
check "g01 runs on lab2 after migration" [ "$(v2 list --name | xargs)" = "g01" ]
check "g01 is persistent on lab2" bash -c "virsh -c '$VB_LAB_URI_2' dominfo g01 | grep -q 'Persistent: *yes'"
check "g01 is gone from lab1 (undefined)" [ "$(v1 list --all --name | xargs)" = "g02" ]

qemu_g01=$(cat "$dir/lab2/run/libvirt/qemu/g01.pid")
"$lab" kill-host --dir "$dir" lab2
check "killed host's libvirtd is gone" gone "$VB_LAB_PID_2"
check "status reports lab2 down" bash -c "'$lab' status --dir '$dir' | grep -q '^lab2 .* down'"
check "guest of the killed host keeps running" running "$qemu_g01"
check "lab1 still answers" [ "$(v1 list --name | xargs)" = "g02" ]

# stop after a partial start: outputs of start missing, one host down.
rm -f "$dir/lab.env" "$dir/virt-balancer.yaml"
"$lab" stop --dir "$dir"
check "stop ended lab1's libvirtd" gone "$VB_LAB_PID_1"
check "stop ended the orphaned guest" gone "$qemu_g01"
check "stop removed the lab folder" [ ! -e "$dir" ]
# Mounts live only in the hosts' namespaces: none may outlive the lab.
no_mounts_of() { ! grep -qsF "$1/" /proc/[0-9]*/mountinfo; }
check "no process still sees the lab's mounts" no_mounts_of "$dir"

# A start that fails midway (hosts never answer) cleans up after itself.
dir2=$(mktemp -d /tmp/vb-lab-selftest.XXXXXX)
trap '"$lab" stop --dir "$dir" >/dev/null 2>&1 || true; "$lab" stop --dir "$dir2" >/dev/null 2>&1 || true' EXIT
if VB_LAB_WAIT_SECONDS=0 "$lab" start --dir "$dir2" --hosts 2; then
    bad "a start whose hosts never answer fails"
else
    ok "a start whose hosts never answer fails"
fi
check "the failed start removed its folder" [ ! -e "$dir2" ]
check "the failed start left no libvirtd behind" no_mounts_of "$dir2"

echo "$fails failure(s)"
[ "$fails" = 0 ]
