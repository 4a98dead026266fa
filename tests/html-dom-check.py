#!/usr/bin/env python3
"""html-dom-check.py DOM JSON: checks the DOM a browser built from a plan's
HTML page (`plan --format html`, dumped by `chromium --dump-dom`) against the
JSON document of the same plan (`--format json`, docs/plan-json.md).

The page must show what the plan holds, and show it safely and accessibly:
  - nothing is loaded or run: a Content-Security-Policy of default-src
    'none' (inline style only); no script, link, img, iframe, object, embed,
    no src/href attribute, no on* handler, no url() in the style;
  - one h1, headings never skip a level, ids unique, every aria-labelledby
    names existing elements, every table has column headers;
  - one chart (figure.host) per host of the JSON, in its order, named as the
    JSON names it (when the page says it hides hosts, as a big pool does
    without --all-hosts: per host with moves, a hotspot, or not up, and the
    count of the others right); each is an <svg role="img"> labelled by a non-empty
    <title> naming the host and a <desc> giving every metric's before and
    after figures; per metric one before and one after bar whose data-load
    is the JSON load, all bars of the page on one scale (width / load the
    same everywhere, from one origin), the high-water line where that scale
    puts the policy's high_water, the hot class exactly on counted metrics
    above high water;
  - one row per move (guest, from, to, kind, reason as in the JSON, in run
    order), one row per hotspot (before or after), one row per rule
    violation (before, and those the plan creates), one article per
    unplaced guest with one item per refusal group and one row per refusing
    host, one row per host not
    read, one item per rule warning.
With the JSON of `history` ({"plans": [...]}) the page is checked as
`history --format html`: one section per plan with its heading, one row per
move (guest, from, to, kind, state), one chart per plan whose segments count
the moves by state, all on one scale, its <desc> saying the counts.
Names are compared as text, so a name that is markup (tests/data/cli/
inventories/html-names.yaml) must come back exactly as written.
Prints what it checked; exits 1 with every failure listed.
"""
import json
import re
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.children = []

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def classes(self):
        return (self.attrs.get("class") or "").split()

    def walk(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.walk()

    def find(self, tag=None, cls=None):
        return [n for n in self.walk()
                if (tag is None or n.tag == tag) and (cls is None or cls in n.classes())]


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def cells(row):
    return [c.text().strip() for c in row.children
            if isinstance(c, Node) and c.tag in ("td", "th")]


def pct(x):
    # The page prints whole percentages as C's "%.0f" does (round half to even).
    return "%.0f%%" % (x * 100)


def check_safety(root):
    for n in root.walk():
        check(n.tag not in ("script", "link", "img", "iframe", "object", "embed", "base"),
              "element <%s> in the page" % n.tag)
        for name in n.attrs:
            check(not name.startswith("on"), "handler attribute %s on <%s>" % (name, n.tag))
            check(name not in ("src", "href", "xlink:href", "action"),
                  "attribute %s on <%s>: the page must load nothing" % (name, n.tag))
    csp = [m.attrs.get("content", "") for m in root.find("meta")
           if (m.attrs.get("http-equiv") or "").lower() == "content-security-policy"]
    check(len(csp) == 1 and "default-src 'none'" in csp[0] and "script-src" not in csp[0],
          "no Content-Security-Policy forbidding everything but inline style: %s" % csp)
    for style in root.find("style"):
        check("url(" not in style.text() and "@import" not in style.text(),
              "the style loads something")


def check_structure(root):
    heads = [int(n.tag[1]) for n in root.walk() if re.fullmatch(r"h[1-6]", n.tag)]
    check(heads.count(1) == 1, "%d h1 headings, want 1" % heads.count(1))
    for a, b in zip(heads, heads[1:]):
        check(b <= a + 1, "heading level jumps from h%d to h%d" % (a, b))
    ids = [n.attrs["id"] for n in root.walk() if "id" in n.attrs]
    check(len(ids) == len(set(ids)), "duplicate ids")
    known = set(ids)
    for n in root.walk():
        for ref in (n.attrs.get("aria-labelledby") or "").split():
            check(ref in known, "aria-labelledby names a missing id %s" % ref)
    for t in root.find("table"):
        heads_ = [th for th in t.find("th") if th.attrs.get("scope") == "col"]
        check(len(heads_) > 0, "a table without column headers")
    for svg in root.find("svg"):
        refs = (svg.attrs.get("aria-labelledby") or "").split()
        label = svg.attrs.get("aria-label", "").strip()
        alt = " ".join(n.text().strip() for n in svg.walk() if n.attrs.get("id") in refs)
        check(svg.attrs.get("role") == "img", "an svg without role=img")
        check(bool(label or alt.strip()), "an svg without a text alternative")


def check_chart(fig, host, doc, geometry):
    name = host["name"]
    hw = doc["policy"]["high_water"]
    weights = doc["policy"]["weights"]
    svgs = fig.find("svg")
    if not check(len(svgs) == 1, "%s: %d charts, want 1" % (name, len(svgs))):
        return
    svg = svgs[0]
    refs = (svg.attrs.get("aria-labelledby") or "").split()
    by_id = {n.attrs.get("id"): n for n in svg.walk()}
    titles = [by_id[r] for r in refs if r in by_id and by_id[r].tag == "title"]
    descs = [by_id[r] for r in refs if r in by_id and by_id[r].tag == "desc"]
    check(len(titles) == 1 and name in titles[0].text(), "%s: no <title> naming the host" % name)
    desc = descs[0].text() if descs else ""
    check(bool(descs), "%s: no <desc>" % name)
    groups = fig.find("g", "metric")
    check(len(groups) == len(weights), "%s: %d metric groups, want %d" % (name, len(groups), len(weights)))
    for g in groups:
        metric = g.attrs.get("data-metric")
        if not check(metric in weights, "%s: unknown metric %r" % (name, metric)):
            continue
        said = "%s %s before, %s after" % (metric, pct(host["before"][metric]), pct(host["after"][metric]))
        check(said in desc, "%s: <desc> lacks '%s'" % (name, said))
        for which in ("before", "after"):
            bars = g.find("rect", which)
            if not check(len(bars) == 1, "%s %s: %d %s bars" % (name, metric, len(bars), which)):
                continue
            bar, load = bars[0], host[which][metric]
            check(abs(float(bar.attrs["data-load"]) - load) < 1e-9,
                  "%s %s %s: bar load %s, JSON %s" % (name, metric, which, bar.attrs["data-load"], load))
            hot = weights[metric] > 0 and load > hw
            check(("hot" in bar.classes()) == hot,
                  "%s %s %s: hot class %s, want %s" % (name, metric, which, "hot" in bar.classes(), hot))
            geometry["x"].add(round(float(bar.attrs["x"]), 3))
            if load > 0.01:
                geometry["ratio"].append(float(bar.attrs["width"]) / load)
    lines = fig.find("line", "hw")
    if check(len(lines) == 1, "%s: %d high-water lines" % (name, len(lines))):
        geometry["hw"].append(float(lines[0].attrs["x1"]))
        check(abs(float(lines[0].attrs["data-high-water"]) - hw) < 1e-6,
              "%s: high-water line at %s, policy %s" % (name, lines[0].attrs["data-high-water"], hw))


def remarkable(doc):
    """The hosts a big pool shows without --all-hosts: moves in or out, a
    hotspot before or after, not up."""
    moving = {m["from"] for m in doc["moves"]} | {m["to"] for m in doc["moves"]}
    return [h for h in doc["hosts"] if h["name"] in moving or h["hotspot_before"]
            or h["hotspot_after"] or h["state"] != "up"]


def check_hosts(root, doc):
    figs = root.find("figure", "host")
    names = [f.attrs.get("data-host") for f in figs]
    hosts = doc["hosts"]
    hidden = root.find("p", "hidden-hosts")
    if hidden:
        # A big pool without --all-hosts: the remarkable hosts, and a line
        # saying how many others there are.
        hosts = remarkable(doc)
        n = len(doc["hosts"]) - len(hosts)
        check("and %d other host" % n in hidden[0].text(),
              "the page hides %r, want %d other hosts" % (hidden[0].text(), n))
    want = [h["name"] for h in hosts]
    check(names == want, "charts for %s, hosts %s" % (names, want))
    geometry = {"x": set(), "ratio": [], "hw": []}
    for fig, host in zip(figs, hosts):
        caption = fig.find("figcaption")
        check(bool(caption) and caption[0].text().startswith(host["name"]),
              "%s: caption does not name it" % host["name"])
        check_chart(fig, host, doc, geometry)
    check(len(geometry["x"]) == 1, "bars start at %s: not one origin" % sorted(geometry["x"]))
    r = geometry["ratio"]
    check(r and max(r) - min(r) < 0.02 * max(r), "bars are not on one scale: width/load %s..%s"
          % (min(r, default=0), max(r, default=0)))
    if r and geometry["x"] and geometry["hw"]:
        x0, ratio = min(geometry["x"]), sum(r) / len(r)
        hw_x = x0 + ratio * doc["policy"]["high_water"]
        check(all(abs(x - hw_x) < 0.5 for x in geometry["hw"]),
              "high-water lines at %s, the scale puts it at %.2f" % (geometry["hw"], hw_x))
    rows = [cells(r)[0] for t in root.find("table", "host-figures") for r in t.find("tr")[1:]]
    check(rows == want, "the hosts' table lists %s" % rows)
    return len(figs), len(doc["hosts"]) - len(hosts)


def check_moves(root, doc):
    rows = root.find("tr", "move")
    check(len(rows) == len(doc["moves"]), "%d move rows, %d moves" % (len(rows), len(doc["moves"])))
    for row, move in zip(rows, doc["moves"]):
        c = cells(row)
        want = [str(move["order"]), move["vm"], move["from"], move["to"], move["kind"]]
        check(c[:5] == want, "move row %s, want %s" % (c[:5], want))
        check(c[-1] == move["reason"], "move %s: reason %r, want %r" % (move["order"], c[-1], move["reason"]))
        if doc["kind"] == "rebalance":
            check(c[6] == "%.3f" % move["gain"] and c[7] == "%.3f" % move["cost"],
                  "move %s: gain/cost %s, want %.3f/%.3f" % (move["order"], c[6:8], move["gain"], move["cost"]))
    return len(rows)


def check_objectives(root, doc):
    rows = root.find("tr", "hotspot")
    got = [(cells(r)[0], cells(r)[1]) for r in rows]
    want = []
    for h in doc["hotspots"]["before"] + doc["hotspots"]["after"]:
        if (h["host"], h["metric"]) not in want:
            want.append((h["host"], h["metric"]))
    check(sorted(got) == sorted(want), "hotspot rows %s, JSON %s" % (got, want))
    before = [cells(r)[0] for t in root.find("table", "before") for r in t.find("tr", "violation")]
    created = [cells(r)[0] for t in root.find("table", "created") for r in t.find("tr", "violation")]
    check(before == [v["rule"] for v in doc["rule_violations"]["before"]],
          "violation rows %s, JSON %s" % (before, doc["rule_violations"]["before"]))
    check(created == [v["rule"] for v in doc["rule_violations"]["after"] if v["created"]],
          "created violation rows %s" % created)
    for row, v in zip(root.find("tr", "violation"), doc["rule_violations"]["before"]):
        state = cells(row)[5]
        check(state == ("repaired" if v["repaired"] else "still broken"),
              "%s: %r, JSON repaired=%s" % (v["rule"], state, v["repaired"]))
    return len(rows), len(before) + len(created)


def check_unplaced(root, doc):
    arts = root.find("article", "unplaced")
    check([a.attrs.get("data-vm") for a in arts] == [u["vm"] for u in doc["unplaced"]],
          "unplaced articles %s" % [a.attrs.get("data-vm") for a in arts])
    for art, u in zip(arts, doc["unplaced"]):
        groups = art.find("li", "refused-group")
        check(len(groups) == len(u["refused"]), "%s: %d refusal groups, JSON %d" % (u["vm"], len(groups), len(u["refused"])))
        for li, g in zip(groups, u["refused"]):
            check(g["reason"] in li.text(), "%s: group %r lacks %r" % (u["vm"], li.text(), g["reason"]))
        got = [cells(r) for r in art.find("tr", "refusal")]
        want = [[r["host"], r["code"], r["reason"]] for r in u["reasons"]]
        check(got == want, "%s: refusals %s, JSON %s" % (u["vm"], got, want))
    return len(arts)


def check_lists(root, doc):
    got = [cells(r)[0] for r in root.find("tr", "unreachable")]
    check(got == [h["name"] for h in doc["unreachable"]], "unreachable rows %s" % got)
    items = [li.text() for li in root.find("li", "warning")]
    check(len(items) == len(doc["warnings"]), "%d warning items, %d warnings" % (len(items), len(doc["warnings"])))
    for li, w in zip(items, doc["warnings"]):
        check(w["message"] in li, "warning %r lacks %r" % (li, w["message"]))
    return len(got), len(items)


def check_history(root, doc):
    """history --format html against history --format json."""
    sections = root.find("section", "plan")
    check(len(sections) == len(doc["plans"]), "%d plan sections, %d plans" % (len(sections), len(doc["plans"])))
    ratios, n_moves = [], 0
    for sec, plan in zip(sections, doc["plans"]):
        h2 = sec.find("h2")
        want = "Plan %d: %s" % (plan["id"], plan["kind"])
        if plan["evacuated_host"]:
            want += " " + plan["evacuated_host"]
        check(bool(h2) and h2[0].text() == want, "plan heading %r, want %r" % (h2 and h2[0].text(), want))
        rows = [cells(r) for r in sec.find("tr", "journal-move")]
        got = [r[:5] for r in rows]
        want_rows = [[m["vm"], m["from"], m["to"], m["kind"], m["state"]] for m in plan["moves"]]
        check(got == want_rows, "plan %d: move rows %s, JSON %s" % (plan["id"], got, want_rows))
        n_moves += len(rows)
        svgs = sec.find("svg")
        if not check(len(svgs) == 1, "plan %d: %d charts" % (plan["id"], len(svgs))):
            continue
        counts = {}
        for m in plan["moves"]:
            counts[m["state"]] = counts.get(m["state"], 0) + 1
        segs = {r.attrs["data-state"]: r for r in svgs[0].find("rect", "state")}
        check({k: int(r.attrs["data-count"]) for k, r in segs.items()} == counts,
              "plan %d: chart segments %s, JSON %s" % (plan["id"], list(segs), counts))
        desc = " ".join(n.text() for n in svgs[0].find("desc"))
        for state, n in counts.items():
            check("%d %s" % (n, state) in desc, "plan %d: <desc> lacks '%d %s'" % (plan["id"], n, state))
            if state in segs:
                ratios.append(float(segs[state].attrs["width"]) / n)
    check(not ratios or max(ratios) - min(ratios) < 0.01, "history bars are not on one scale")
    return len(sections), n_moves


def main():
    dom_path, json_path = sys.argv[1], sys.argv[2]
    builder = TreeBuilder()
    with open(dom_path, encoding="utf-8") as f:
        builder.feed(f.read())
    with open(json_path, encoding="utf-8") as f:
        doc = json.load(f)
    root = builder.root
    check_safety(root)
    check_structure(root)
    if "plans" in doc:
        n_plans, n_moves = check_history(root, doc)
        for f in failures:
            print("FAIL: %s: %s" % (dom_path, f))
        print("%s: %d plans, %d svg, %d moves%s" % (dom_path, n_plans, len(root.find("svg")),
                                                    n_moves, "" if failures else ": ok"))
        return 1 if failures else 0
    n_hosts, n_hidden = check_hosts(root, doc)
    n_moves = check_moves(root, doc)
    n_hot, n_viol = check_objectives(root, doc)
    n_unplaced = check_unplaced(root, doc)
    n_unread, n_warn = check_lists(root, doc)
    for f in failures:
        print("FAIL: %s: %s" % (dom_path, f))
    print("%s: %d charts (%d hosts hidden), %d svg, %d moves, %d hotspots, %d violations, "
          "%d unplaced, %d not read, %d warnings%s"
          % (dom_path, n_hosts, n_hidden, len(root.find("svg")), n_moves, n_hot, n_viol,
             n_unplaced, n_unread, n_warn, "" if failures else ": ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
