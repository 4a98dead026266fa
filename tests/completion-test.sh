#!/bin/bash
# completion-test.sh: the bash completion (contrib/virt-balancer.bash-completion)
# sourced in bash and driven as bash drives it (COMP_WORDS, COMP_CWORD, the
# function `complete` registered), against the built program: commands,
# global and per-command options, --format values, host names from an
# inventory and from a libvirt config (no host is contacted), maintenance and
# policy sub-words, files for --policy, --plan and --output, nothing for a number.
set -u

builddir=${VB_BUILDDIR:-$(pwd)}
srcdir=${VB_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
vb="$builddir/virt-balancer"
tmp=$(mktemp -d)
failed=0
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=/dev/null
source "$srcdir/contrib/virt-balancer.bash-completion" || { echo "FAIL: cannot source"; exit 1; }
fn=$(complete -p virt-balancer 2>/dev/null | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
[ "$fn" = _virt_balancer ] || { echo "FAIL: 'complete -p virt-balancer' gives '$fn'"; exit 1; }

# comp LINE: the sorted completions of LINE (words split on spaces; a
# trailing space starts an empty word), as bash would call the function.
comp() {
    local line=$1
    read -r -a COMP_WORDS <<<"$line"
    [[ $line == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    "$fn" "$(basename "${COMP_WORDS[0]}")" "${COMP_WORDS[COMP_CWORD]}" \
        "${COMP_WORDS[COMP_CWORD - 1]:-}"
    printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

# expect LINE WANT: the completions of LINE are exactly WANT.
expect() {
    local got
    got=$(comp "$1")
    [ "$got" = "$2" ] || { echo "FAIL: '$1' completes to '$got', want '$2'"; failed=1; }
}

# expect_has LINE WORD...: the completions of LINE include every WORD.
expect_has() {
    local line=$1 got w
    shift
    got=" $(comp "$line") "
    for w in "$@"; do
        [[ $got == *" $w "* ]] || { echo "FAIL: '$line' completes to '$got', missing '$w'"; failed=1; }
    done
}

# expect_not LINE WORD: the completions of LINE do not include WORD.
expect_not() {
    [[ " $(comp "$1") " == *" $2 "* ]] && { echo "FAIL: '$1' offers '$2'"; failed=1; }
    return 0
}

cat >"$tmp/pool.yaml" <<'YAML'
pools:
  - name: rack
    hosts:
      - {name: kvm1, uri: "qemu+ssh://root@kvm1.invalid/system"}
      - {name: kvm2, uri: "qemu+ssh://root@kvm2.invalid/system"}
  - name: branch
    hosts:
      - {name: edge1, uri: "qemu+tls://edge1.invalid/system"}
YAML
: >"$tmp/policy-a.yaml"
: >"$tmp/policy-b.yaml"
demo="$srcdir/examples/demo-pool.yaml"
rack_a=$(grep -o 'name: kvm-a[0-9]*' "$demo" | sed 's/name: //' | sort | tr '\n' ' ' | sed 's/ $//')

# commands, never the hidden helper
expect_has "$vb " plan evacuate rebalance place policy status inventory maintenance history unlock run help
expect_not "$vb " __complete
expect "$vb pl" "place plan"
expect "$vb --format json re" "rebalance"
# global options, then per command
expect_has "$vb --" --inventory --config --policy --format --version --help
expect_not "$vb --" --max-moves
expect_has "$vb plan --" --max-moves --all-hosts --database --format --help
expect_not "$vb plan --" --vcpus
expect_has "$vb --config $tmp/pool.yaml place --" --vcpus --memory-mib --label --pool --name
expect "$vb evacuate kvm1 --dr" "--drain-timeout --dry-run"
# --format values
expect "$vb --format " "html json text"
expect "$vb plan --format " "html json text"
expect "$vb status --format " "json text"
expect "$vb plan --format j" "json"
expect "$vb inventory --format " "yaml"
# hosts from an inventory, from a libvirt config (no host contacted)
expect "$vb --inventory $demo evacuate kvm-a" "$rack_a"
expect "$vb --config $tmp/pool.yaml evacuate " "edge1 kvm1 kvm2"
expect "$vb --config $tmp/pool.yaml maintenance enter k" "kvm1 kvm2"
expect "$vb --config $tmp/pool.yaml maintenance exit --database x.db e" "edge1"
expect "$vb --config $tmp/pool.yaml evacuate kvm1 " ""
# sub-words
expect "$vb maintenance " "enter exit list"
expect "$vb policy " "check"
expect "$vb help ev" "evacuate"
# files
expect "$vb --policy $tmp/policy-" "$tmp/policy-a.yaml $tmp/policy-b.yaml"
expect "$vb --config $tmp/po" "$tmp/policy-a.yaml $tmp/policy-b.yaml $tmp/pool.yaml"
expect "$vb policy check $tmp/policy-a" "$tmp/policy-a.yaml"
# approved plans: plan --output FILE, rebalance --plan FILE
expect "$vb rebalance --plan $tmp/policy-a" "$tmp/policy-a.yaml"
expect "$vb plan --output $tmp/policy-b" "$tmp/policy-b.yaml"
expect_has "$vb rebalance --" --plan --max-moves --drain-timeout
# a number: nothing
expect "$vb plan --max-moves " ""

[ $failed -eq 0 ] && echo "completion-test: ok"
exit $failed
