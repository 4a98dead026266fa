#!/bin/bash
# e2e-metrics.sh: the daemon's /metrics on real lab hosts while it migrates.
# `run` with http_listen (port 0) on three lab hosts, lab1 holding 4 guests:
# its first round live-migrates some off lab1, which blocks the daemon's main
# loop (the executor polls libvirt). /metrics is scraped every 0.1 s from the
# start; the server runs in its own thread, so scrapes are answered during
# the round: at least one sees a migration running, and the scrapes that
# follow the round show the journal's counts (moves by outcome and kind) and
# the host states, checked with an independent OpenMetrics parser. And the
# daemon's tick never runs on libvirt's event thread: nothing is sampled
# while the round's migrations run (fails without cmd-run.c's own main
# context: 4 samples in that window). About 1 min.
set -euo pipefail
for d in "$(dirname "$0")" "$(dirname "$0")/.."; do [ -f "$d/e2e-common.sh" ] && break; done
# shellcheck source=tests/lab/e2e-common.sh
. "$d/e2e-common.sh"

python=
for py in python3 /usr/bin/python3; do
    if "$py" -c 'import prometheus_client.openmetrics.parser' 2>/dev/null; then
        python=$py
        break
    fi
done
[ -n "$python" ] || { echo "FAIL: no python3 with prometheus_client (python3-prometheus-client)"; exit 1; }

"$lab" start --dir "$dir" --hosts 3
"$lab" guests --dir "$dir" --layout 4,0,0
check "lab1 holds the 4 guests" same "$(on_host 1)" "g01 g02 g03 g04"

{
    cat "$dir/virt-balancer.yaml"
    echo "http_listen: 127.0.0.1:0"
    echo "sample_interval: 1"
    echo "rebalance_interval: 1h"
} >"$work/config.yaml"

"$vb" --config "$work/config.yaml" --policy "$policy" run >"$work/run.out" 2>"$work/run.err" &
daemon=$!
url=
for ((t = 0; t < 300; t++)); do
    url=$(sed -n 's/.*metrics at \(http[^ ]*\).*/\1/p' "$work/run.err" | head -n 1)
    [ -n "$url" ] && break
    sleep 0.1
done
check "the daemon says where /metrics is" [ -n "$url" ]

# Scrape until the round's plan has ended in the journal (at most 5 min);
# keep each answer's running-migration count.
"$python" - "$url" "$dir/state.db" >"$work/scrapes.txt" <<'PY' || true
import sqlite3, sys, time, urllib.request
from prometheus_client.openmetrics.parser import text_string_to_metric_families
url, db = sys.argv[1], sys.argv[2]
deadline = time.time() + 300
while time.time() < deadline:
    t0 = time.time()
    try:
        body = urllib.request.urlopen(url, timeout=5).read().decode()
    except OSError as e:
        print("error", e)
        time.sleep(0.1)
        continue
    fams = {f.name: f for f in text_string_to_metric_families(body)}
    running = sum(s.value for s in fams["virt_balancer_migrations_running"].samples)
    print("running", int(running), "answered_in", round(time.time() - t0, 3))
    try:
        con = sqlite3.connect(db, timeout=5)
        done = con.execute("SELECT count(*) FROM journal_plans WHERE outcome IS NOT NULL").fetchone()[0]
        con.close()
    except sqlite3.Error:
        done = 0
    if done >= 1 and running == 0:
        break
    time.sleep(0.1)
PY
answered=$(grep -c '^running' "$work/scrapes.txt" || true)
during=$(grep -c '^running [1-9]' "$work/scrapes.txt" || true)
echo "  scrapes answered: $answered, with a migration running: $during"
check "scrapes are answered" [ "$answered" -ge 1 ]
check "a scrape was answered while a migration ran (the loop was blocked)" [ "$during" -ge 1 ]

"$vb" --format json history --database "$dir/state.db" >"$work/history.json"
check "the round moved guests" jqt '[.plans[].moves[] | select(.state == "finished")] | length > 0' \
    "$work/history.json"
"$python" - "$url" "$work/history.json" <<'PY' && ok "/metrics matches the journal" || bad "/metrics matches the journal"
import json, sys, urllib.request
from prometheus_client.openmetrics.parser import text_string_to_metric_families
url, hist = sys.argv[1], sys.argv[2]
fams = {f.name: f for f in text_string_to_metric_families(urllib.request.urlopen(url, timeout=5).read().decode())}
moves = [m for p in json.load(open(hist))["plans"] for m in p["moves"]]
bad = 0
for s in fams["virt_balancer_migrations"].samples:
    want = sum(1 for m in moves if m["state"] == s.labels["outcome"] and m["kind"] == s.labels["kind"])
    if s.value != want:
        print("  migrations_total", s.labels, s.value, "journal:", want)
        bad = 1
for s in fams["virt_balancer_host_state"].samples:
    want = 1 if s.labels["virt_balancer_host_state"] == "up" else 0
    if s.value != want:
        print("  host_state", s.labels, s.value)
        bad = 1
hosts = {s.labels["host"] for s in fams["virt_balancer_host_load_ratio"].samples}
if hosts != {"lab1", "lab2", "lab3"}:
    print("  hosts", hosts)
    bad = 1
sys.exit(bad)
PY

# The daemon's loop is its own: libvirt's event thread (which iterates
# GLib's default context) never runs its tick, so nothing is sampled while the
# round's migrations run (before: the tick ran on that thread during the
# first round, sampling every second beside the executor).
between=$(sql "$dir/state.db" "SELECT count(*) FROM samples WHERE time_us >
    (SELECT min(time_us) FROM journal_events WHERE state = 'started') AND time_us <
    (SELECT max(time_us) FROM journal_events WHERE state IN ('finished', 'failed', 'aborted'));")
check "no sample was taken while the round's migrations ran (got $between)" same "$between" 0

kill -TERM "$daemon"
wait_pid "$daemon" 60
check "run exits 0 after SIGTERM" same "$waited" 0
sed 's/^/  run: /' "$work/run.err" | tail -n 15
finish
