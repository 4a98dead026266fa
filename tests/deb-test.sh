#!/bin/sh
# deb-test.sh: the Debian package, end to end (docs/install.md). Opt-in:
# skipped (77) unless VB_DEB_TEST=1, as root, with dpkg-buildpackage and
# debhelper (about 2 minutes with VB_DEB_TEST_NOCHECK=1, more without).
#  1. the tree of `make dist` (make distdir), `dpkg-buildpackage -us -uc -b` (the package's own
#     build runs the test suite but the lab unless VB_DEB_TEST_NOCHECK=1);
#  2. in a private mount namespace whose /usr, /etc and /var are overlays on
#     throwaway folders (nothing changes outside): `dpkg -i` the .deb, run
#     debian/tests/installed (the autopkgtest: daemon disabled, conffiles,
#     hardened unit, man pages, completion, docs, the sim example plans),
#     `dpkg --purge`, and check that nothing of the package is left.
set -u

builddir=${VB_BUILDDIR:-$(pwd)}
if [ "${VB_DEB_TEST:-}" != 1 ]; then
    echo "SKIP: set VB_DEB_TEST=1 to build and install the Debian package"
    exit 77
fi
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (dpkg -i in a mount namespace)"; exit 77; }
for t in dpkg-buildpackage dh unshare; do
    command -v $t >/dev/null || { echo "SKIP: $t not found (debhelper, dpkg-dev)"; exit 77; }
done

tmp=$(mktemp -d /tmp/vb-deb-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The tree `make dist` would pack.
${MAKE:-make} -s -C "$builddir" distdir distdir="$tmp/src" >"$tmp/dist.log" 2>&1 ||
    { cat "$tmp/dist.log"; echo "FAIL: make distdir"; exit 1; }
opts=
[ "${VB_DEB_TEST_NOCHECK:-}" = 1 ] && opts=nocheck
(cd "$tmp/src" && DEB_BUILD_OPTIONS=$opts dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 ||
    { tail -50 "$tmp/build.log"; echo "FAIL: dpkg-buildpackage"; exit 1; }
deb=$(ls "$tmp"/virt-balancer_*_*.deb)

cat >"$tmp/in-ns.sh" <<'NS'
set -u
tmp=$1 deb=$2
for d in usr etc var; do
    mkdir -p "$tmp/ov/$d/up" "$tmp/ov/$d/work"
    mount -t overlay overlay -o "lowerdir=/$d,upperdir=$tmp/ov/$d/up,workdir=$tmp/ov/$d/work" "/$d" ||
        { echo "SKIP: no overlay mount"; exit 77; }
done
mount -t tmpfs tmpfs /run
failed=0
dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; echo "FAIL: dpkg -i"; exit 1; }
sh "$tmp/src/debian/tests/installed" || failed=1
dpkg --purge virt-balancer >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log"; echo "FAIL: dpkg --purge"; failed=1; }
for f in /usr/sbin/virt-balancer /etc/virt-balancer /lib/systemd/system/virt-balancer.service \
    /usr/share/doc/virt-balancer /var/lib/virt-balancer; do
    [ -e "$f" ] && { echo "FAIL: $f left after purge"; failed=1; }
done
exit $failed
NS
unshare -m --propagation private sh "$tmp/in-ns.sh" "$tmp" "$deb"
rc=$?
[ $rc -eq 0 ] && echo "deb-test: ok ($(basename "$deb"))"
exit $rc
