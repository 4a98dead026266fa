#!/bin/sh
# deps-test.sh: the build dependencies are declared where they are
# installed from. For every pkg-config module configure.ac requires
# (PKG_CHECK_MODULES, and the systemd and bash-completion folders it asks
# pkg-config for) and every program it looks up (AC_PATH_PROG), the Debian
# package that owns its .pc file or program (dpkg -S) must be listed in
# contrib/debian-deps.sh (what the README and CI install) and in
# debian/control's Build-Depends. Skipped (77) without dpkg or pkg-config.
set -u

srcdir=${VB_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
configure="$srcdir/configure.ac"
deps="$srcdir/contrib/debian-deps.sh"
control="$srcdir/debian/control"
failed=0

for t in dpkg pkg-config; do
    command -v $t >/dev/null || { echo "SKIP: $t not found"; exit 77; }
done

# owner PATH: the Debian package that installed PATH (merged /usr tried too).
owner() {
    for p in "$1" "$(readlink -f "$1")" "${1#/usr}"; do
        pkg=$(dpkg -S "$p" 2>/dev/null | head -n 1 | sed 's/[:,].*//')
        [ -n "$pkg" ] && { echo "$pkg"; return; }
    done
}

# build_depends: debian/control's Build-Depends, one package per line.
build_depends() {
    awk '/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, "") }
         on && /^[A-Za-z-]+:/ && !/^Build-Depends:/ { on = 0 }
         on { print }' "$control" | tr ',' '\n' | sed 's/[(<].*//; s/^[[:space:]]*//; s/[[:space:]]*$//' | grep .
}

# check WHAT PATH: PATH's package is in both lists.
check() {
    pkg=$(owner "$2")
    if [ -z "$pkg" ]; then
        echo "FAIL: $1: no Debian package owns $2"
        failed=1
        return
    fi
    grep -qw -- "$pkg" "$deps" || { echo "FAIL: $1 ($pkg) is not in contrib/debian-deps.sh"; failed=1; }
    build_depends | grep -qx -- "$pkg" || { echo "FAIL: $1 ($pkg) is not in debian/control Build-Depends"; failed=1; }
    echo "ok: $1 -> $pkg"
}

modules=$(sed -n 's/^ *PKG_CHECK_MODULES(\[[A-Z_]*\], *\[\([^]]*\)\].*/\1/p' "$configure" |
    tr ' ' '\n' | grep '^[A-Za-z]')
grep -q 'variable=systemdsystemunitdir systemd' "$configure" && modules="$modules systemd"
grep -q 'variable=completionsdir bash-completion' "$configure" && modules="$modules bash-completion"
[ -n "$modules" ] || { echo "FAIL: no PKG_CHECK_MODULES found in configure.ac"; exit 1; }
for m in $modules; do
    pc=$(pkg-config --path "$m" 2>/dev/null)
    [ -n "$pc" ] || { echo "FAIL: pkg-config does not know $m (installed by neither list?)"; failed=1; continue; }
    check "pkg-config module $m" "$pc"
done
for prog in $(sed -n 's/^ *AC_PATH_PROG(\[[A-Z_]*\], *\[\([^]]*\)\].*/\1/p' "$configure"); do
    path=$(command -v "$prog")
    [ -n "$path" ] || { echo "FAIL: program $prog not found"; failed=1; continue; }
    check "program $prog" "$path"
done

[ $failed -eq 0 ] && echo "deps-test: ok"
exit $failed
