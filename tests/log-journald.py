#!/usr/bin/env python3
"""log-journald.py VIRT_BALANCER INVENTORY: a fake journald for log-journald-test.sh.

Binds /run/systemd/journal/stdout (the stream journald gives services as
stderr) and /run/systemd/journal/socket (where sd_journal_send and GLib's
g_log_writer_journald send entries), runs `virt-balancer --inventory
INVENTORY evacuate kvm1` with its stderr connected to the stream, reads the
entries as they come (as journald does: a full queue would block the
sender), and checks what a real journald would store. Exits 1 with the
reasons on a failed check. Only run it in a private mount namespace.
"""
import os
import socket
import subprocess
import sys
import threading
import time

BASE = "/run/systemd/journal"
STARTED = "8b9cffdc71734627975ee78061e66872"
FINISHED = "f891585e309347a6bb6bd84144f75bd0"


def main():
    vb, inventory = sys.argv[1], sys.argv[2]
    datagrams = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    datagrams.bind(BASE + "/socket")
    stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stream.bind(BASE + "/stdout")
    stream.listen(1)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(BASE + "/stdout")
    server, _ = stream.accept()
    entries = []

    def read_entries():
        while True:
            data = datagrams.recv(1 << 20)
            fields = {}
            for line in data.decode().split("\n"):
                if "=" in line:
                    key, value = line.split("=", 1)
                    fields[key] = value
            entries.append(fields)

    threading.Thread(target=read_entries, daemon=True).start()
    proc = subprocess.run([vb, "--inventory", inventory, "evacuate", "kvm1"],
                          stdout=subprocess.DEVNULL, stderr=client.fileno(), check=False)
    client.close()
    time.sleep(0.5)
    server.settimeout(1)
    try:
        text = server.recv(1 << 20)
    except socket.timeout:
        text = b""
    errors = []
    if proc.returncode != 4:
        errors.append("evacuate exited %d, expected 4 (two guests cannot move)" % proc.returncode)
    if text:
        errors.append("text went to the stream instead of entries: %r" % text[:300])
    started = [e for e in entries if e.get("MESSAGE_ID") == STARTED]
    finished = [e for e in entries if e.get("MESSAGE_ID") == FINISHED]
    if len(started) != 4 or len(finished) != 4:
        errors.append("%d started and %d finished entries, expected 4 and 4 (of %d entries)"
                      % (len(started), len(finished), len(entries)))
    for e in started + finished:
        for key, want in (("PRIORITY", "6"), ("SYSLOG_IDENTIFIER", "virt-balancer"),
                          ("VB_FROM", "kvm1")):
            if e.get(key) != want:
                errors.append("%s=%r in %r" % (key, e.get(key), e))
        if e.get("VB_VM") not in ("app1", "web1", "web2", "old1") or "VB_CLI_STYLE" in e:
            errors.append("fields of %r" % e)
    if not any(e.get("MESSAGE", "").startswith("[") and "progress" in e["MESSAGE"]
               for e in entries):
        errors.append("no progress entry")
    for error in errors:
        print("FAIL:", error)
    print("log-journald: %d entries, %s" % (len(entries), "failed" if errors else "ok"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
