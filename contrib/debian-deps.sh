#!/bin/sh
# Installs everything virt-balancer needs to build, test and run its lab of
# real libvirtd hosts on Debian 12. Run as root. Safe to run again.
# chromium (and python3 for the checker): tests/html-browser-test.sh renders
# the HTML report in it.
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    build-essential autoconf automake libtool autoconf-archive pkg-config git \
    libglib2.0-dev libvirt-dev libyaml-dev libsqlite3-dev libjson-glib-dev \
    libxml2-dev libsystemd-dev libsoup-3.0-dev check systemd scdoc bash-completion \
    libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients \
    qemu-system-x86 qemu-utils util-linux procps jq sqlite3 \
    python3-prometheus-client chromium chromium-driver python3 >/dev/null
echo "debian-deps: build and lab packages installed"
