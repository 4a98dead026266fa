#!/bin/sh
# html-browser-test.sh: the HTML report in a real browser. For each case the
# plan is written as HTML and as JSON; headless Chromium loads the page from
# a file (no network) and dumps the DOM it built; tests/html-dom-check.py
# checks that DOM against the JSON of the same plan: one chart per host with
# its text alternative and bars on one scale, one row per move, hotspot,
# rule violation, refusal and unread host, names that are markup shown as
# written, nothing loaded or run (see the checker's header).
# Skips (77) without chromium or python3; contrib/debian-deps.sh installs both.
set -u

builddir=${VB_BUILDDIR:-$(pwd)}
srcdir=${VB_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
vb="$builddir/virt-balancer"
data="$srcdir/tests/data/cli/inventories"
checker="$srcdir/tests/html-dom-check.py"

browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "SKIP: chromium is not installed (contrib/debian-deps.sh)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }

tmp=$(mktemp -d)
failed=0
trap 'rm -rf "$tmp"' EXIT
export VIRT_BALANCER_CONFIG="$tmp/none.yaml" NO_COLOR=1 VB_NOW=1700000000

# page NAME ARGS...: runs virt-balancer ARGS with --format html and json
# (exit 0, 4 or 5: plans with unplaced guests or unread hosts are pages
# too), renders the page in the browser and checks its DOM.
page() {
    name=$1
    shift
    for fmt in html json; do
        "$vb" "$@" --format "$fmt" >"$tmp/$name.$fmt" 2>"$tmp/$name.$fmt.err"
        rc=$?
        case $rc in
        0 | 4 | 5) ;;
        *) echo "FAIL: $name: virt-balancer $* --format $fmt exits $rc"; cat "$tmp/$name.$fmt.err"
           failed=1; return ;;
        esac
    done
    # A profile of its own: no state shared with a person's browser or
    # another run; the page is a local file, nothing else is fetched. (The
    # page's own Content-Security-Policy forbids scripts: markup injected
    # through a name would stay inert in the DOM for the checker to find.)
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$tmp/profile" --dump-dom "file://$tmp/$name.html" \
        >"$tmp/$name.dom" 2>"$tmp/$name.browser.err"
    rc=$?
    if [ $rc -ne 0 ] || ! grep -q '<svg' "$tmp/$name.dom"; then
        echo "FAIL: $name: chromium exits $rc without the page's DOM"
        tail -n 5 "$tmp/$name.browser.err"
        failed=1
        return
    fi
    python3 "$checker" "$tmp/$name.dom" "$tmp/$name.json" || failed=1
}

# Moves, a must rule broken before and mended, hotspots before and after.
page objectives --inventory "$data/objectives.yaml" --policy "$data/objectives-policy.yaml" plan
# Names, reasons and rule names that are markup; a host not read; warnings.
page names --inventory "$data/html-names.yaml" --policy "$data/html-names-policy.yaml" plan
# An evacuation that leaves a guest behind, refused by every other host.
page evacuate --inventory "$data/tight.yaml" evacuate big --dry-run
# Many hosts, one not read, a guest refused by many (every refusal listed).
page many --inventory "$data/many.yaml" evacuate big --dry-run --all-hosts
# A pool of 40 hosts: only those with moves, hotspots or not up are drawn.
page wide --inventory "$data/wide.yaml" plan
# Rules that do not match the pool.
page warnings --inventory "$data/hot.yaml" --policy "$srcdir/tests/data/cli/policy-check-no-guest/policy.yaml" plan

# history: a journal with an evacuation of a host whose guests have markup
# names (the sim driver migrates at once) and a rebalance.
db="$tmp/journal.db"
"$vb" --inventory "$data/html-names.yaml" evacuate 'kvm<1>' --database "$db" >"$tmp/ev.out" 2>&1
rc=$?
# 5: the host <down> of html-names.yaml cannot be read.
[ $rc -eq 5 ] || { echo "FAIL: the evacuation for the history exits $rc"; cat "$tmp/ev.out"; failed=1; }
"$vb" --inventory "$data/objectives.yaml" --policy "$data/objectives-policy.yaml" rebalance \
    --database "$db" >"$tmp/rb.out" 2>&1 || { echo "FAIL: the rebalance for the history failed"; failed=1; }
page history history --database "$db"

[ $failed -eq 0 ] && echo "html-browser-test: ok ($($browser --version 2>/dev/null | head -n 1))"
exit $failed
