#!/bin/sh
# install-test.sh: `make install DESTDIR=...` of this build tree, then what an
# admin relies on: the binary in sbindir; the unit (when configure found a
# unit folder) with every path substituted and pointing at installed files;
# the example config and default policy in sysconfdir, kept when changed and
# reinstalled over; docs and examples under docdir, where the installed
# binary can run the simulated example; `make uninstall` removes everything
# but a config the admin changed. The man pages are installed with this
# build's docdir in them; the bash completion is where bash-completion looks.
set -u

builddir=${VB_BUILDDIR:-$(pwd)}
tmp=$(mktemp -d)
root="$tmp/root"
failed=0
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "FAIL: $*"
    failed=1
}

# vb_make TARGET: make TARGET into $root, output kept in $tmp/TARGET.log.
vb_make() {
    ${MAKE:-make} -C "$builddir" "$1" DESTDIR="$root" >"$tmp/$1.log" 2>&1 ||
        { cat "$tmp/$1.log"; echo "FAIL: make $1"; exit 1; }
}

# makevar NAME: the value of a make variable of this build (fully expanded).
# Run under `make check`, the parent's MAKEFLAGS (-w) would wrap the value
# in "Entering directory" lines: the sub-make gets none of them.
makevar() {
    MAKEFLAGS= MFLAGS= MAKELEVEL= ${MAKE:-make} -s -C "$builddir" --no-print-directory -f Makefile -f - vb-print-var \
        VB_VAR="$1" <<'MK'
vb-print-var:
	@echo '$($(VB_VAR))'
MK
}

sbindir=$(makevar sbindir)
sysconfdir=$(makevar sysconfdir)
docdir=$(makevar docdir)
unitdir=$(makevar systemdsystemunitdir)
mandir=$(makevar mandir)
compdir=$(makevar bashcompletiondir)

vb_make install

vb="$sbindir/virt-balancer"
[ -x "$root$vb" ] || fail "no binary at $vb"
"$root$vb" --version >/dev/null || fail "installed binary does not run"

# --- the unit
if [ -n "$unitdir" ]; then
    unit="$root$unitdir/virt-balancer.service"
    if [ ! -f "$unit" ]; then
        fail "no unit at $unitdir"
    else
        grep -n '@[a-zA-Z_]*@' "$unit" && fail "unit keeps unsubstituted @...@"
        exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
        set -- $exec_start
        [ "$1" = "$vb" ] || fail "ExecStart runs $1, not $vb"
        [ -x "$root$1" ] || fail "ExecStart's $1 is not installed"
        [ "$2" = --config ] && [ -f "$root$3" ] || fail "ExecStart's --config $3 is not installed"
        for doc in $(sed -n 's/^Documentation=//p' "$unit"); do
            case $doc in
            file://*) [ -f "$root${doc#file://}" ] || fail "unit Documentation $doc not installed" ;;
            esac
        done
    fi
else
    echo "note: configure found no systemd unit folder; the unit is not installed"
fi

# --- config and policy, only if absent
conf="$root$sysconfdir/virt-balancer/virt-balancer.yaml"
policy="$root$sysconfdir/virt-balancer/policy.yaml"
[ -f "$conf" ] || fail "no config at $sysconfdir/virt-balancer/virt-balancer.yaml"
[ -f "$policy" ] || fail "no policy at $sysconfdir/virt-balancer/policy.yaml"
"$root$vb" policy check "$policy" >/dev/null || fail "installed policy does not check"
echo "# changed by the admin" >>"$conf"
vb_make install
tail -n 1 "$conf" | grep -q 'changed by the admin' || fail "reinstall overwrote the changed config"
grep -q "keeping $conf" "$tmp/install.log" || fail "reinstall did not say it kept the config"

# --- docs and examples: the installed example runs with the installed binary
for f in README.md docs/cli.md docs/config.md examples/virt-balancer.yaml \
    examples/sim-config.yaml policies/examples/balance.yaml; do
    [ -f "$root$docdir/$f" ] || fail "no $docdir/$f"
done
"$root$vb" --config "$root$docdir/examples/sim-config.yaml" plan >"$tmp/plan.out" 2>&1 ||
    { cat "$tmp/plan.out"; fail "installed sim example does not plan"; }

# --- man pages, paths substituted
for page in man8/virt-balancer.8 man5/virt-balancer.yaml.5 man5/virt-balancer-policy.5; do
    if [ ! -s "$root$mandir/$page" ]; then
        fail "no $mandir/$page"
    elif grep -n '@[a-zA-Z_]*@' "$root$mandir/$page"; then
        fail "$page keeps unsubstituted @...@"
    fi
done
grep -qF "$docdir/" "$root$mandir/man8/virt-balancer.8" || fail "virt-balancer.8 does not name $docdir"

# --- bash completion, under the command's name, loadable by bash
comp="$root$compdir/virt-balancer"
if [ ! -f "$comp" ]; then
    fail "no bash completion at $compdir/virt-balancer"
elif command -v bash >/dev/null; then
    bash -c ". '$comp' && complete -p virt-balancer" >/dev/null || fail "bash cannot load $comp"
fi

# --- uninstall keeps only the changed config
vb_make uninstall
left=$(cd "$root" && find . -type f | sort)
want="./${sysconfdir#/}/virt-balancer/virt-balancer.yaml"
[ "$left" = "$want" ] || fail "after uninstall, expected only $want, found: $left"

[ $failed -eq 0 ] && echo "install-test: ok"
exit $failed
