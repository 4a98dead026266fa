"""metrics-parse.py URL HISTORY_JSON: checks what `run` serves at /metrics
(tests/metrics-http-test.sh) with an independent OpenMetrics parser
(prometheus_client, Debian's python3-prometheus-client) against the journal
as `virt-balancer --format json history` shows it. Prints each failure and
exits 1 on any; 0 when all hold."""
import json
import sys
import time
import urllib.request

from prometheus_client.openmetrics.parser import text_string_to_metric_families

url, history_path = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


with urllib.request.urlopen(url, timeout=10) as answer:
    status = answer.status
    ctype = answer.headers.get("Content-Type")
    body = answer.read().decode("utf-8")
check(status == 200, f"status {status}")
check(ctype == "application/openmetrics-text; version=1.0.0; charset=utf-8",
      f"Content-Type {ctype!r}")
check(body.endswith("\n# EOF\n"), "the text does not end with # EOF")

# The parser refuses what OpenMetrics forbids (raises ValueError).
families = {f.name: f for f in text_string_to_metric_families(body)}

expected_types = {
    "virt_balancer_build": "info",
    "virt_balancer_host_state": "stateset",
    "virt_balancer_host_load_ratio": "gauge",
    "virt_balancer_host_weighted_load_ratio": "gauge",
    "virt_balancer_host_guests": "gauge",
    "virt_balancer_hosts_unreachable": "gauge",
    "virt_balancer_high_water_ratio": "gauge",
    "virt_balancer_automation": "stateset",
    "virt_balancer_pool_imbalance": "gauge",
    "virt_balancer_pool_planned_imbalance": "gauge",
    "virt_balancer_pool_hotspots": "gauge",
    "virt_balancer_hotspot_load_ratio": "gauge",
    "virt_balancer_hotspot_planned_load_ratio": "gauge",
    "virt_balancer_last_plan_timestamp_seconds": "gauge",
    "virt_balancer_last_plan_duration_seconds": "gauge",
    "virt_balancer_last_plan_moves": "gauge",
    "virt_balancer_last_plan_unplaced": "gauge",
    "virt_balancer_last_plan_target_met": "gauge",
    "virt_balancer_imbalance": "gauge",
    "virt_balancer_planned_imbalance": "gauge",
    "virt_balancer_rounds": "counter",
    "virt_balancer_migrations": "counter",
    "virt_balancer_migrations_running": "gauge",
    "virt_balancer_migration_duration_seconds": "histogram",
}
check(set(families) == set(expected_types),
      f"families {sorted(set(families) ^ set(expected_types))} differ from the list")
for name, typ in expected_types.items():
    fam = families.get(name)
    if fam:
        check(fam.type == typ, f"{name} is a {fam.type}, not a {typ}")
        check(fam.documentation != "", f"{name} has no HELP")


def samples(family, suffix=""):
    fam = families.get(family)
    return [s for s in (fam.samples if fam else []) if s.name == family + suffix]


def value(family, suffix="", **labels):
    found = [s.value for s in samples(family, suffix)
             if all(s.labels.get(k) == v for k, v in labels.items())]
    check(len(found) == 1, f"{family}{suffix}{labels}: {len(found)} samples")
    return found[0] if found else None


# The daemon runs the default policy: automation full, its plans are run.
for level, want in (("manual", 0), ("partial", 0), ("full", 1)):
    check(value("virt_balancer_automation", virt_balancer_automation=level) == want,
          f"virt_balancer_automation {level} is not {want}")


with open(history_path) as f:
    plans = json.load(f)["plans"]
moves = [m for p in plans for m in p["moves"]]

# Migrations by outcome and kind: what the journal holds, every plan of it
# (the evacuation before the daemon started included).
for outcome in ("finished", "failed", "aborted", "skipped"):
    for kind in ("live", "live-storage", "cold"):
        want = sum(1 for m in moves if m["state"] == outcome and m["kind"] == kind)
        got = value("virt_balancer_migrations", "_total", outcome=outcome, kind=kind)
        check(got == want, f"migrations_total{{{outcome},{kind}}} = {got}, journal: {want}")
for kind in ("live", "live-storage", "cold"):
    running = sum(1 for m in moves if m["state"] == "started" and m["kind"] == kind)
    check(value("virt_balancer_migrations_running", kind=kind) == running,
          f"migrations_running{{{kind}}} differs from the journal ({running})")

# Durations: the finished moves' (not reconciled) seconds.
for kind in ("live", "live-storage", "cold"):
    secs = [m["seconds"] for m in moves if m["state"] == "finished" and m["kind"] == kind
            and m["message"] is None and m["seconds"] is not None]
    count = value("virt_balancer_migration_duration_seconds", "_count", kind=kind)
    total = value("virt_balancer_migration_duration_seconds", "_sum", kind=kind)
    check(count == len(secs), f"duration count{{{kind}}} = {count}, journal: {len(secs)}")
    check(total is not None and abs(total - sum(secs)) < 1e-6,
          f"duration sum{{{kind}}} = {total}, journal: {sum(secs)}")
    for b in samples("virt_balancer_migration_duration_seconds", "_bucket"):
        if b.labels["kind"] == kind:
            le = float(b.labels["le"])
            want = sum(1 for s in secs if s <= le)
            check(b.value == want, f"bucket {kind} le={le}: {b.value}, journal: {want}")
# The evacuation an earlier process journaled counts too.
check(len(plans) >= 2 and any(p["kind"] == "evacuate" for p in plans),
      f"the journal holds {len(plans)} plans, not the evacuation and the round")

# The round: the daemon's plan is the journal's newest.
newest = max(plans, key=lambda p: p["id"])
check(value("virt_balancer_last_plan_moves") == len(newest["moves"]),
      f"last_plan_moves {value('virt_balancer_last_plan_moves')} != {len(newest['moves'])}")
check(value("virt_balancer_rounds", "_total", result="planned") == 1, "rounds planned != 1")
check(value("virt_balancer_rounds", "_total", result="skipped") == 0, "rounds skipped != 0")
stamp = value("virt_balancer_last_plan_timestamp_seconds")
check(stamp is not None and abs(stamp - newest["created"]) <= 5 and stamp <= time.time(),
      f"last plan at {stamp}, the journal's plan at {newest['created']}")
check(value("virt_balancer_last_plan_duration_seconds") >= 0, "negative planning time")

# Hosts: h3 could not be read, h2 is in maintenance, the others are up.
states = {"h0": "up", "h1": "up", "h2": "maintenance", "h3": "down"}
for host, state in states.items():
    for s in ("up", "maintenance", "down"):
        got = value("virt_balancer_host_state", pool="rack", host=host,
                    virt_balancer_host_state=s)
        check(got == (1 if s == state else 0), f"host_state {host} {s} = {got}")
    for metric in ("cpu", "memory", "disk"):
        load = value("virt_balancer_host_load_ratio", pool="rack", host=host, metric=metric)
        check(load is not None and 0 <= load <= 2, f"load {host} {metric} = {load}")
check(value("virt_balancer_hosts_unreachable") == 1, "hosts_unreachable != 1 (h3)")
check(value("virt_balancer_host_load_ratio", pool="rack", host="h0", metric="cpu") == 0.6,
      "h0's cpu load is not the inventory's 0.60")
check(value("virt_balancer_pool_imbalance", pool="rack") > 0, "rack has no imbalance")

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
