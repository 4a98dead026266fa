#!/bin/sh
# metrics-http-test.sh: `run` with http_listen on a free loopback port (port
# 0: the log names the one taken) on the simulated pool of
# scheduler-cli-test.sh with h3 unreachable and h2 in maintenance, after an
# evacuation journaled by an earlier process. /metrics is fetched once the
# round has ended and checked by an independent OpenMetrics parser
# (tests/metrics-parse.py, python3-prometheus-client) against the journal
# (`history --format json`). A second daemon on the same port is refused
# before it takes the lock. No timing is asserted: waits poll for up to 30 s.
set -u

builddir=${VB_BUILDDIR:-$(pwd)}
srcdir=${VB_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
vb="$builddir/virt-balancer"
data="$srcdir/tests/data/scheduler/cli"
tmp=$(mktemp -d)
db="$tmp/state.db"
failed=0
daemon=

# shellcheck disable=SC2317 # called by the trap
cleanup() {
    if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    failed=1
}

# wait_for FILE TEXT: up to 30 s for TEXT to appear in FILE.
wait_for() {
    i=0
    while ! grep -q -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 300 ] && return 1
        sleep 0.1
    done
}

[ -x "$vb" ] || { echo "SKIP: $vb not built"; exit 77; }
# The parser is a build dependency (contrib/debian-deps.sh): missing, fail.
python=
for py in python3 /usr/bin/python3; do
    if "$py" -c 'import prometheus_client.openmetrics.parser' 2>/dev/null; then
        python=$py
        break
    fi
done
[ -n "$python" ] || { echo "FAIL: no python3 with prometheus_client (apt-get install python3-prometheus-client)"; exit 1; }

# History from before the daemon: the counters come from the journal.
"$vb" --inventory "$data/pool.yaml" --policy "$data/policy.yaml" evacuate h0 \
    --database "$db" >"$tmp/evacuate.out" 2>&1
[ $? = 4 ] || fail "evacuate: $(cat "$tmp/evacuate.out")"
"$vb" --inventory "$data/pool.yaml" maintenance exit h0 --database "$db" >/dev/null 2>&1 ||
    fail "maintenance exit h0"
"$vb" --inventory "$data/pool.yaml" maintenance enter h2 --database "$db" >/dev/null 2>&1 ||
    fail "maintenance enter h2"

# The guests the evacuation moved may move again (the cooldown holds across
# processes): the round has moves to count.
{ cat "$data/policy.yaml"; echo "budget: {cooldown: 0}"; } >"$tmp/policy.yaml"
cat >"$tmp/config.yaml" <<EOT
driver: sim
inventory: $data/pool-h3-down.yaml
policy: $tmp/policy.yaml
database: $db
http_listen: 127.0.0.1:0
sample_interval: 1
rebalance_interval: 1h
EOT

"$vb" --config "$tmp/config.yaml" run >"$tmp/run.out" 2>"$tmp/run.err" &
daemon=$!
wait_for "$tmp/run.err" "metrics at http://127.0.0.1:" || fail "no 'metrics at' line: $(cat "$tmp/run.err")"
url=$(sed -n 's/.*metrics at \(http[^ ]*\).*/\1/p' "$tmp/run.err" | head -n 1)
# The round has ended when the journal's newest plan (the daemon's, after
# the evacuation's) has an outcome.
i=0
until "$vb" --format json history --limit 100 --database "$db" >"$tmp/history.json" 2>/dev/null &&
    "$python" -c "
import json, sys
plans = json.load(open(sys.argv[1]))['plans']
sys.exit(0 if len(plans) >= 2 and plans[0]['kind'] == 'rebalance' and plans[0]['outcome'] else 1)
" "$tmp/history.json"; do
    i=$((i + 1))
    [ $i -gt 300 ] && { fail "the round did not end: $(cat "$tmp/run.err")"; break; }
    sleep 0.1
done
if [ -n "$url" ]; then
    "$python" "$srcdir/tests/metrics-parse.py" "$url" "$tmp/history.json" || fail "/metrics at $url"
    # / is the HTML report of the round's plan, with the daemon's note.
    "$python" -c "
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1].replace('/metrics', '/'), timeout=10) as r:
    body = r.read().decode()
    assert r.headers['Content-Type'].startswith('text/html'), r.headers['Content-Type']
assert body.startswith('<!DOCTYPE html>'), body[:80]
assert 'round of ' in body and 'it runs this plan now' in body, 'no round note'
assert '<svg' in body, 'no chart'
" "$url" || fail "/ is not the round's HTML report"
    # Other paths are not served.
    "$python" -c "
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1].replace('/metrics', '/nothing'), timeout=10)
    sys.exit(1)
except urllib.error.HTTPError as e:
    sys.exit(0 if e.code == 404 else 1)
" "$url" || fail "/nothing is not 404"

    # The port taken: a second daemon says so and exits before the lock.
    port=${url#http://127.0.0.1:}
    port=${port%/metrics}
    sed "s/^http_listen: .*/http_listen: 127.0.0.1:$port/" "$tmp/config.yaml" >"$tmp/clash.yaml"
    "$vb" --config "$tmp/clash.yaml" run --rounds 1 >"$tmp/clash.out" 2>"$tmp/clash.err"
    rc=$?
    [ $rc != 0 ] || fail "a second daemon on port $port started"
    grep -q "cannot listen on 127.0.0.1:$port" "$tmp/clash.err" ||
        fail "clash: $(cat "$tmp/clash.err")"
    grep -q "lock" "$tmp/clash.err" && fail "clash reached the lock: $(cat "$tmp/clash.err")"
fi

# A reload does not move the socket, and says so.
sed "s/^http_listen: .*/http_listen: 127.0.0.1:1/" "$tmp/config.yaml" >"$tmp/config.new" &&
    mv "$tmp/config.new" "$tmp/config.yaml"
kill -HUP "$daemon"
wait_for "$tmp/run.err" "http_listen changes take effect at the next start" ||
    fail "no reload line: $(cat "$tmp/run.err")"

kill -TERM "$daemon"
wait "$daemon"
rc=$?
daemon=
[ $rc = 0 ] || fail "run exited $rc after SIGTERM: $(cat "$tmp/run.err")"
grep -q "stopped after 1 rounds; lock released" "$tmp/run.err" || fail "no clean stop: $(cat "$tmp/run.err")"

exit $failed
