#!/bin/sh
# log-journald-test.sh: when stderr is the journal (as under the systemd
# unit), log lines go to journald as entries with their fields, not as text
# (cli/log.c, docs/logging.md). A fake journald (tests/log-journald.py)
# listens where the real one does, in a private user and mount namespace
# with a tmpfs on /run/systemd, so nothing of the machine's is touched.
# Skips (77) without unshare(1) permission or python3.
set -u
builddir=${VB_BUILDDIR:-$(pwd)}
srcdir=${VB_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
vb="$builddir/virt-balancer"
inv="$srcdir/tests/data/cli/inventories/hot.yaml"

[ -x "$vb" ] || { echo "SKIP: $vb not built"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
[ -d /run/systemd ] || { echo "SKIP: no /run/systemd to mount over"; exit 77; }
unshare -rm sh -c 'mount -t tmpfs tmpfs /run/systemd' 2>/dev/null ||
    { echo "SKIP: cannot make a private mount namespace (unshare -rm)"; exit 77; }
# shellcheck disable=SC2016 # expanded by the inner shell
exec unshare -rm sh -c 'mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/journal &&
    exec python3 "$1" "$2" "$3"' sh "$srcdir/tests/log-journald.py" "$vb" "$inv"
