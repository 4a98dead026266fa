#!/bin/sh
# man-test.sh: the manual pages cannot drift from the program.
#  - every long option printed by `virt-balancer --help` appears in
#    virt-balancer(8); every long option printed by `virt-balancer CMD --help`
#    appears in that command's subsection (COMMANDS, "## CMD" in the source)
#    or in the introduction of COMMANDS (options every command takes);
#  - the exit codes of `--help` and the EXIT STATUS section are the same set;
#  - every key the config loader allows (top level, pool, host) is in bold in
#    virt-balancer.yaml(5), every key the policy loader allows (each section
#    and rules) in virt-balancer-policy(5): the loaders' own "allowed keys"
#    lists are read by giving them an unknown key.
# Reads the generated pages (man/*.[58] in the build tree), not the sources.
set -u

builddir=${VB_BUILDDIR:-$(pwd)}
vb="$builddir/virt-balancer"
man8="$builddir/man/virt-balancer.8"
conf5="$builddir/man/virt-balancer.yaml.5"
policy5="$builddir/man/virt-balancer-policy.5"
tmp=$(mktemp -d)
failed=0
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "FAIL: $*"
    failed=1
}

for page in "$man8" "$conf5" "$policy5"; do
    [ -s "$page" ] || { echo "FAIL: $page not built"; exit 1; }
done

# plain PAGE: the page as text: font escapes and zero-width marks removed.
plain() {
    sed -e 's/\\f[BIRP]//g' -e 's/\\&//g' -e "s/\\\\(aq/'/g" -e 's/\\-/-/g' "$1"
}

# section PAGE SH [SS]: the text of section SH, or of its subsection SS
# (SS "-" is the text of SH before its first subsection).
section() {
    plain "$1" | awk -v sh="$2" -v ss="${3:-}" '
        /^\.SH / { cur = substr($0, 5); gsub(/"/, "", cur); sub_ = ""; insub = 0; next }
        /^\.SS / { sub_ = substr($0, 5); gsub(/"/, "", sub_); insub = 1; next }
        cur != sh { next }
        ss == "" { print; next }
        ss == "-" && !insub { print; next }
        insub && sub_ == ss { print }'
}

# long_options: the long options in the text on stdin, one per line.
long_options() {
    grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

# --- options of the global help
"$vb" --help >"$tmp/help" || fail "virt-balancer --help exits $?"
plain "$man8" >"$tmp/man8.txt"
for opt in $(long_options <"$tmp/help"); do
    grep -q -- "$opt\\b" "$tmp/man8.txt" || fail "virt-balancer(8) does not mention $opt (virt-balancer --help)"
done

# --- options of every command, in its own subsection
commands=$(awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' "$tmp/help")
[ -n "$commands" ] || fail "no commands found in --help"
section "$man8" COMMANDS - >"$tmp/common"
ncmd=0
for cmd in $commands; do
    ncmd=$((ncmd + 1))
    "$vb" "$cmd" --help >"$tmp/help-$cmd" 2>&1 || fail "virt-balancer $cmd --help exits $?"
    # `help --help` is the global help, checked above against the whole page.
    cmp -s "$tmp/help-$cmd" "$tmp/help" && continue
    section "$man8" COMMANDS "$cmd" >"$tmp/man-$cmd"
    [ -s "$tmp/man-$cmd" ] || { fail "virt-balancer(8) has no subsection '$cmd' under COMMANDS"; continue; }
    for opt in $(long_options <"$tmp/help-$cmd"); do
        grep -q -- "$opt\\b" "$tmp/man-$cmd" "$tmp/common" ||
            fail "virt-balancer(8), COMMANDS/$cmd: $opt of 'virt-balancer $cmd --help' is missing"
    done
done

# --- exit codes: the same set in --help and in EXIT STATUS
awk '/^Exit codes:/ { on = 1; next } on && /^$/ { exit } on && /^  [0-9]+  / { print $1 }' \
    "$tmp/help" | sort -n >"$tmp/codes-help"
section "$man8" "EXIT STATUS" | grep -E '^[0-9]+$' | sort -n >"$tmp/codes-man"
[ -s "$tmp/codes-help" ] || fail "no exit codes found in --help"
cmp -s "$tmp/codes-help" "$tmp/codes-man" ||
    fail "exit codes differ: --help has $(echo $(cat "$tmp/codes-help")), virt-balancer(8) EXIT STATUS has $(echo $(cat "$tmp/codes-man"))"

# --- keys the loaders allow, each in bold in its page
# allowed_keys ARGS...: runs virt-balancer ARGS (a file with an unknown key)
# and prints the keys its error lists.
allowed_keys() {
    "$vb" "$@" 2>&1 >/dev/null | sed -n 's/.*allowed keys: //p' | sed 's/ or /, /' | tr -d ' ' | tr ',' '\n'
}

# check_keys PAGE WHAT ARGS...: every key allowed_keys ARGS gives is in bold in PAGE.
check_keys() {
    page=$1 what=$2
    shift 2
    keys=$(allowed_keys "$@")
    [ -n "$keys" ] || { fail "$what: the loader listed no allowed keys"; return; }
    for key in $keys; do
        grep -qF "\\fB$key\\fR" "$page" || fail "$(basename "$page"): $what key '$key' is not documented"
    done
}

p="$tmp/policy.yaml"
printf 'zzz_unknown: 1\n' >"$p"
check_keys "$policy5" policy policy check "$p"
for sec in metrics thresholds budget reserves exclude migration; do
    printf '%s:\n  zzz_unknown: 1\n' "$sec" >"$tmp/policy-$sec.yaml"
    check_keys "$policy5" "$sec" policy check "$tmp/policy-$sec.yaml"
done
printf 'rules:\n  - name: r\n    zzz_unknown: 1\n' >"$tmp/policy-rule.yaml"
check_keys "$policy5" rule policy check "$tmp/policy-rule.yaml"

printf 'zzz_unknown: 1\n' >"$tmp/config.yaml"
check_keys "$conf5" config --config "$tmp/config.yaml" plan
printf 'pools:\n  - zzz_unknown: 1\n' >"$tmp/config-pool.yaml"
check_keys "$conf5" pool --config "$tmp/config-pool.yaml" plan
printf 'pools:\n  - name: p\n    hosts:\n      - zzz_unknown: 1\n' >"$tmp/config-host.yaml"
check_keys "$conf5" host --config "$tmp/config-host.yaml" plan

[ $failed -eq 0 ] && echo "man-test: ok ($ncmd commands)"
exit $failed
