#!/bin/bash
# capture.sh: captures real libvirt output from a fresh lab into
# tests/data/drivers/ (or OUTDIR), for the libvirt driver's parser tests.
# Starts its own 3-host lab in a temporary folder and always stops it.
# Usage: tests/lab/capture.sh [OUTDIR]      (as root; takes about 30 s)
# What each file is and how it was captured: tests/data/drivers/README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath "${1:-$here/../data/drivers}")
lab="$here/lab.sh"
dir=$(mktemp -d /tmp/vb-capture.XXXXXX)
trap '"$lab" stop --dir "$dir" >/dev/null 2>&1 || true' EXIT

"$lab" start --dir "$dir" --hosts 3
"$lab" guests --dir "$dir" --layout 4,1 --disk
"$lab" guest --dir "$dir" --host lab2 --name pinned1 --memory 128 --vcpus 2 \
    --tag no-migrate --label web --label frontend
"$lab" guest --dir "$dir" --host lab3 --name off1 --memory 96 --no-start --label db
# shellcheck source=/dev/null
. "$dir/lab.env"
sleep 4 # let the balloon drivers report (stats period 2 s)

v1() { virsh -c "$VB_LAB_URI_1" "$@"; }
mkdir -p "$out"
v1 version >"$out/version.txt"
v1 capabilities >"$out/capabilities.xml"
v1 dumpxml g01 >"$out/domain-running-label.xml"
v1 dumpxml disk1 >"$out/domain-running-disk.xml"
virsh -c "$VB_LAB_URI_2" dumpxml pinned1 >"$out/domain-running-no-migrate.xml"
virsh -c "$VB_LAB_URI_3" dumpxml off1 >"$out/domain-shutoff.xml"
v1 domstats --raw >"$out/domstats-raw.txt"
virsh -c "$VB_LAB_URI_2" domstats --raw >"$out/domstats-raw-lab2.txt"
v1 list --all >"$out/list-all.txt"
v1 nodeinfo >"$out/nodeinfo.txt"
v1 nodecpustats >"$out/nodecpustats.txt"
v1 nodememstats >"$out/nodememstats.txt"
v1 pool-info default >"$out/pool-info-default.txt"
v1 pool-dumpxml default >"$out/pool-dumpxml-default.xml"

# The one hand-made file: a captured guest with a PCI hostdev added, since
# the lab has no device to pass through (a guest with one cannot start here).
{
    echo "<!-- HAND-EDITED: 'virsh dumpxml g02' from the lab, with the <hostdev> below"
    echo "     added by hand (no real device in the lab). Everything else is captured. -->"
    v1 dumpxml g02 | sed '/^  <\/devices>/i\
    <!-- added by hand: PCI passthrough pins the guest to its host -->\
    <hostdev mode='"'"'subsystem'"'"' type='"'"'pci'"'"' managed='"'"'yes'"'"'>\
      <source>\
        <address domain='"'"'0x0000'"'"' bus='"'"'0x03'"'"' slot='"'"'0x00'"'"' function='"'"'0x0'"'"'/>\
      </source>\
    </hostdev>'
} >"$out/domain-hostdev-hand-edited.xml"
echo "capture.sh: captured into $out"
