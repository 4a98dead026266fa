#!/bin/bash
# lab.sh: a lab of real, privileged libvirtd "hosts" on one machine, for
# virt-balancer's end-to-end tests and for people who want to try it.
#
# Each host is one `libvirtd --timeout 0` in its own mount namespace
# (unshare -m --propagation private) with its own directories bind-mounted
# over /etc/libvirt, /run, /var/lib/libvirt, /var/cache/libvirt and
# /var/log/libvirt, its own host UUID, its own socket in a folder outside the
# bind mounts (so it is reachable from here), its own migration port range and
# a `default` dir storage pool at /var/lib/libvirt/images. All hosts share the
# loopback network, so migrations go to tcp://127.0.0.1.
#
# Invariants: everything a lab owns lives in its DIR (marker file .vb-lab);
# processes are ended only by the pids recorded there (libvirtd) or found in
# the lab's own pid files (QEMU), each checked against /proc before a signal;
# mounts exist only inside the hosts' namespaces and vanish with them.
# `stop` works after a partial start; `start` refuses a DIR that holds a lab.
#
# Needs root, util-linux (unshare), libvirt-daemon, libvirt-clients and
# qemu-system-x86 (contrib/debian-deps.sh). See `lab.sh help`.
set -euo pipefail

PROG=${0##*/}
NS_URI="https://virt-balancer.org/xmlns/balancer/1"
SLOT_ROOT=${VB_LAB_SLOT_ROOT:-/tmp/virt-balancer-lab-slots}
PORT_FIRST=49200      # first migration port of slot 0
PORTS_PER_HOST=16
MAX_HOSTS=10
MAX_SLOTS=60
GUEST_CPU=${VB_LAB_GUEST_CPU:-}
WAIT_SECONDS=${VB_LAB_WAIT_SECONDS:-120}
# QEMU capabilities probed by one host, reused by the next ones (libvirt checks
# each cached file against the binaries, kernel and CPU, and re-probes stale ones).
CAPS_CACHE=${VB_LAB_CAPS_CACHE:-/var/tmp/virt-balancer-lab-qemu-caps}
BIND_TARGETS="/etc/libvirt /run /var/lib/libvirt /var/cache/libvirt /var/log/libvirt"

usage() {
    cat <<EOF
Usage: $PROG COMMAND [OPTIONS]

Commands:
  start  [--hosts N] [--dir DIR] [--tcg] [--policy FILE] [--guests]
         Start N (default 3) libvirtd hosts lab1..labN; write DIR/lab.env and
         DIR/virt-balancer.yaml (pool "lab"). --tcg (or VB_LAB_TCG=1) forces
         <domain type='qemu'> guests, as on machines without /dev/kvm.
         --guests then runs "guests --disk" (guests piled on lab1).
  guests [--dir DIR] [--layout C1,C2,...] [--memory MIB] [--prefix P] [--disk]
         [--cpu MODE]
         Define and start guests P01, P02, ...: Ci guests on host labi
         (default layout 4,1, i.e. piled on lab1), MIB each (default 64),
         labels web/db alternating. --disk adds guest "${VB_LAB_DISK_GUEST:-disk1}" on lab1
         with a 64 MiB qcow2 volume in lab1's default pool.
  guest  --host NAME --name GUEST [--dir DIR] [--memory MIB] [--vcpus N]
         [--disk-mib MIB] [--tag TAG]... [--label LABEL]... [--no-start]
         [--cpu MODE]
         Define (and start) one guest on one host.
  Guests have no <cpu> element (QEMU's default model) unless --cpu MODE or
  \$VB_LAB_GUEST_CPU gives <cpu mode='MODE'/>: host-passthrough (KVM only)
  or maximum (KVM or TCG). host-model fails under nested KVM.
  migrate GUEST FROM TO [--dir DIR] [--storage]
         Live-migrate GUEST (virsh migrate --live --p2p --persistent
         --undefinesource --migrateuri tcp://127.0.0.1 [--copy-storage-all]).
  kill-host NAME [--dir DIR]
         Kill one host's libvirtd (by its recorded pid); its guests keep running.
  status [--dir DIR]    Hosts, pids, whether they answer, their guests.
  stop   [--dir DIR]    Destroy guests, kill every libvirtd and QEMU of the lab
         by recorded pid, remove the lab's state. Safe after a partial start.

DIR defaults to \$VB_LAB_DIR or /tmp/virt-balancer-lab.
Connect with: virsh -c "\$(. DIR/lab.env; echo "\$VB_LAB_URI_1")" list
EOF
}

die() { echo "$PROG: $*" >&2; exit 1; }
say() { echo "$PROG: $*" >&2; }
# elapsed T0: seconds since T0 (a `date +%s.%N`), to 0.01 s.
elapsed() { awk -v t0="$1" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.2f", t1 - t0 }'; }

# ------------------------------------------------------------------ helpers

# pid_is PID WORD: true when PID is alive and its command line holds WORD.
pid_is() {
    local pid=$1 word=$2 cmd
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [ -r "/proc/$pid/cmdline" ] || return 1
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmd == *"$word"* ]]
}

# end_pid PID WORD: TERM, wait up to 10 s, then KILL; only if pid_is PID WORD.
end_pid() {
    local pid=$1 word=$2 i
    pid_is "$pid" "$word" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        pid_is "$pid" "$word" || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        pid_is "$pid" "$word" || return 0
        sleep 0.1
    done
    say "warning: pid $pid ($word) did not exit"
}

host_dir() { echo "$LAB_DIR/$1"; }
host_uri() { echo "qemu+unix:///system?socket=$(host_dir "$1")/sock/libvirt-sock"; }
vsh() { local h=$1; shift; timeout 60 virsh -q -c "$(host_uri "$h")" "$@"; }

# The lab's hosts, from its folders (works after a partial start).
lab_hosts() {
    local d
    for d in "$LAB_DIR"/lab*/; do
        [ -d "$d" ] || continue
        d=${d%/}
        echo "${d##*/}"
    done | sort -V
}

host_pid() {
    local f
    f="$(host_dir "$1")/libvirtd.pid"
    [ -s "$f" ] && cat "$f"
    return 0
}

host_alive() { pid_is "$(host_pid "$1")" libvirtd; }

require_lab() {
    [ -f "$LAB_DIR/.vb-lab" ] || die "no lab in $LAB_DIR (start one with: $PROG start --dir $LAB_DIR)"
}

require_host() {
    require_lab
    [ -d "$(host_dir "$1")" ] || die "no host $1 in the lab at $LAB_DIR"
    host_alive "$1" || die "host $1 is not running"
}

domain_type() {
    local t
    t=$(sed -n "s/^VB_LAB_DOMAIN_TYPE=//p" "$LAB_DIR/.vb-lab" 2>/dev/null)
    echo "${t:-qemu}"
}

# ------------------------------------------------------- migration port slots
# Labs running at once (parallel `make check`) need distinct migration port
# ranges: each lab claims a slot with an atomic mkdir; a slot whose lab folder
# no longer names it is stale and reclaimed.

claim_slot() {
    local s owner
    mkdir -p "$SLOT_ROOT"
    for ((s = 0; s < MAX_SLOTS; s++)); do
        if mkdir "$SLOT_ROOT/$s" 2>/dev/null; then
            echo "$LAB_DIR" >"$SLOT_ROOT/$s/owner"
            echo "$s"
            return 0
        fi
        owner=$(cat "$SLOT_ROOT/$s/owner" 2>/dev/null || true)
        if [ -n "$owner" ] && [ "$(cat "$owner/.slot" 2>/dev/null)" != "$s" ]; then
            rm -rf "${SLOT_ROOT:?}/$s"
            ((s--)) || true
        fi
    done
    die "no free migration port slot in $SLOT_ROOT (too many labs at once?)"
}

release_slot() {
    local s
    s=$(cat "$LAB_DIR/.slot" 2>/dev/null || true)
    [[ $s =~ ^[0-9]+$ ]] || return 0
    if [ "$(cat "$SLOT_ROOT/$s/owner" 2>/dev/null)" = "$LAB_DIR" ]; then
        rm -rf "${SLOT_ROOT:?}/$s"
    fi
}

# ------------------------------------------------------------------- start

ensure_system() {
    local d
    [ "$(id -u)" = 0 ] || die "must run as root (privileged libvirtd)"
    for d in unshare libvirtd virsh qemu-img; do
        command -v "$d" >/dev/null || die "$d not found (run contrib/debian-deps.sh)"
    done
    # A privileged libvirtd resolves its default user before reading qemu.conf.
    if ! getent passwd libvirt-qemu >/dev/null; then
        useradd -r -M -s /usr/sbin/nologin libvirt-qemu
    fi
    for d in $BIND_TARGETS; do
        mkdir -p "$d"
    done
}

write_host_conf() {
    local h=$1 idx=$2 slot=$3 hd pmin
    hd=$(host_dir "$h")
    pmin=$((PORT_FIRST + slot * MAX_HOSTS * PORTS_PER_HOST + (idx - 1) * PORTS_PER_HOST))
    cat >"$hd/etc/libvirtd.conf" <<EOF
# $h of the virt-balancer lab at $LAB_DIR (written by $PROG)
host_uuid = "$(cat /proc/sys/kernel/random/uuid)"
unix_sock_dir = "$hd/sock"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0777"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
    cat >"$hd/etc/qemu.conf" <<EOF
# $h of the virt-balancer lab at $LAB_DIR (written by $PROG)
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
stdio_handler = "file"
migration_port_min = $pmin
migration_port_max = $((pmin + PORTS_PER_HOST - 1))
EOF
    echo "$pmin-$((pmin + PORTS_PER_HOST - 1))" >"$hd/migration-ports"
}

# launch_host NAME: starts its libvirtd in a new mount namespace, detached
# from our session; the pid is written by the shell that then execs libvirtd.
launch_host() {
    local h=$1 hd script t
    hd=$(host_dir "$h")
    # (A TCG lab on a KVM machine leaves /dev/kvm visible to its hosts: hiding
    # it behind /dev/null makes libvirt think KVM became usable and re-probe
    # QEMU, about 18 s, at every guest start.)
    # shellcheck disable=SC2016 # expanded by the inner shell
    script='set -e; hd=$1
        echo $$ >"$hd/libvirtd.pid"
        mount --bind "$hd/etc" /etc/libvirt
        mount --bind "$hd/run" /run
        mount --bind "$hd/lib" /var/lib/libvirt
        mount --bind "$hd/cache" /var/cache/libvirt
        mount --bind "$hd/log" /var/log/libvirt
        exec libvirtd --timeout 0'
    setsid unshare -m --propagation private /bin/sh -c "$script" sh "$hd" \
        </dev/null >"$hd/libvirtd.out" 2>&1 &
    for ((t = 0; t < 50; t++)); do
        [ -s "$hd/libvirtd.pid" ] && return 0
        sleep 0.1
    done
    die "$h: libvirtd did not start (see $hd/libvirtd.out)"
}

wait_host() {
    local h=$1 hd t
    hd=$(host_dir "$h")
    for ((t = 0; t < WAIT_SECONDS * 5; t++)); do
        if ! host_alive "$h"; then
            tail -n 20 "$hd/libvirtd.out" "$hd/log/libvirtd.log" >&2 2>/dev/null || true
            die "$h: libvirtd exited during start (logs in $hd)"
        fi
        if timeout 10 virsh -c "$(host_uri "$h")" version >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    die "$h: libvirtd does not answer after $WAIT_SECONDS s (logs in $hd)"
}

setup_pool() {
    local h=$1
    vsh "$h" pool-define-as default dir --target /var/lib/libvirt/images >/dev/null
    vsh "$h" pool-start default >/dev/null
    vsh "$h" pool-autostart default >/dev/null
}

# One cache per guest type: hosts without KVM probe other capabilities.
caps_cache() { echo "$CAPS_CACHE-$(domain_type)"; }

seed_caps() {
    local hd=$1
    mkdir -p "$hd/cache/qemu/capabilities"
    cp "$(caps_cache)"/*.xml "$hd/cache/qemu/capabilities/" 2>/dev/null || true
}

# Keeps lab1's probed capabilities for the next labs; one file at a time with
# a rename, so labs starting at once never read a half-written file.
save_caps() {
    local f tmp cache
    cache=$(caps_cache)
    mkdir -p "$cache"
    for f in "$(host_dir lab1)"/cache/qemu/capabilities/*.xml; do
        [ -f "$f" ] || continue
        tmp="$cache/.tmp.$$"
        cp "$f" "$tmp" && mv -f "$tmp" "$cache/${f##*/}"
    done
}

write_outputs() {
    local n=$1 policy=$2 h i
    {
        echo "# virt-balancer lab (written by $PROG); source it from a shell"
        echo "VB_LAB_DIR='$LAB_DIR'"
        echo "VB_LAB_HOSTS=$n"
        echo "VB_LAB_DOMAIN_TYPE=$(domain_type)"
        for ((i = 1; i <= n; i++)); do
            h=lab$i
            echo "VB_LAB_NAME_$i=$h"
            echo "VB_LAB_URI_$i='$(host_uri "$h")'"
            echo "VB_LAB_PID_$i=$(host_pid "$h")"
            echo "VB_LAB_MIGRATION_PORTS_$i=$(cat "$(host_dir "$h")/migration-ports")"
        done
    } >"$LAB_DIR/lab.env"
    {
        echo "# virt-balancer's main config for the lab at $LAB_DIR (written by $PROG)"
        echo "driver: libvirt"
        echo "pools:"
        echo "  - name: lab"
        echo "    shared_storage: false"
        echo "    hosts:"
        for ((i = 1; i <= n; i++)); do
            echo "      - name: lab$i"
            echo "        uri: \"$(host_uri "lab$i")\""
            echo "        migration_host: 127.0.0.1"
        done
        [ -z "$policy" ] || echo "policy: \"$policy\""
        echo "database: \"$LAB_DIR/state.db\""
    } >"$LAB_DIR/virt-balancer.yaml"
}

cmd_start() {
    local n=3 tcg=${VB_LAB_TCG:-0} policy="" guests=0 slot i h hd t0 type
    while [ $# -gt 0 ]; do
        case $1 in
        --hosts) n=${2:?--hosts needs a number}; shift 2 ;;
        --dir) LAB_DIR=${2:?--dir needs a folder}; shift 2 ;;
        --tcg) tcg=1; shift ;;
        --guests) guests=1; shift ;;
        --policy) policy=$(realpath "${2:?--policy needs a file}"); shift 2 ;;
        *) die "start: unknown option $1" ;;
        esac
    done
    if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt $MAX_HOSTS ]; then
        die "--hosts must be 1..$MAX_HOSTS"
    fi
    ensure_system
    mkdir -p "$LAB_DIR"
    LAB_DIR=$(realpath "$LAB_DIR")
    for t in $BIND_TARGETS; do
        case "$LAB_DIR/" in "$t"/*) die "the lab folder must not be under $t" ;; esac
    done
    [ ${#LAB_DIR} -le 70 ] || die "lab folder path too long for a unix socket: $LAB_DIR"
    if [ -e "$LAB_DIR/.vb-lab" ]; then
        for h in $(lab_hosts); do
            host_alive "$h" && die "a lab is already running in $LAB_DIR ($PROG stop --dir $LAB_DIR first)"
        done
        die "$LAB_DIR holds a stopped lab's state ($PROG stop --dir $LAB_DIR cleans it)"
    fi
    type=qemu
    [ "$tcg" = 1 ] || { [ -r /dev/kvm ] && [ -w /dev/kvm ] && type=kvm; }
    printf 'VB_LAB_DOMAIN_TYPE=%s\n' "$type" >"$LAB_DIR/.vb-lab"
    # From here on the folder is ours: a failed start cleans up after itself.
    trap 'start_failed' EXIT
    slot=$(claim_slot)
    echo "$slot" >"$LAB_DIR/.slot"
    t0=$(date +%s.%N)
    # lab1 first: on a machine without cached QEMU capabilities it probes
    # them (about 25 s) and the other hosts then start from its cache.
    for ((i = 1; i <= n; i++)); do
        h=lab$i
        hd=$(host_dir "$h")
        mkdir -p "$hd"/{etc,run,lib/images,cache,log,sock}
        write_host_conf "$h" "$i" "$slot"
        seed_caps "$hd"
        launch_host "$h"
        if [ "$i" = 1 ]; then
            wait_host lab1
            save_caps
        fi
    done
    for ((i = 1; i <= n; i++)); do
        [ "$i" = 1 ] || wait_host "lab$i"
        setup_pool "lab$i"
    done
    write_outputs "$n" "$policy"
    say "$n hosts up in $(elapsed "$t0") s ($type guests); config: $LAB_DIR/virt-balancer.yaml"
    [ $guests = 0 ] || cmd_guests --disk
    trap - EXIT
}

start_failed() {
    local rc=$?
    trap - EXIT
    [ "$rc" = 0 ] && return 0
    say "start failed; stopping what was started"
    (cmd_stop) || true
    exit "$rc"
}

# ------------------------------------------------------------------ guests

# domain_xml NAME MEMORY_MIB VCPUS DISK_PATH TAGS LABELS (comma-separated lists)
domain_xml() {
    local name=$1 mem=$2 vcpus=$3 disk=$4 tags=$5 labels=$6 x
    echo "<domain type='$(domain_type)'>"
    echo "  <name>$name</name>"
    echo "  <memory unit='MiB'>$mem</memory>"
    echo "  <vcpu>$vcpus</vcpu>"
    [ -z "$GUEST_CPU" ] || echo "  <cpu mode='$GUEST_CPU'/>"
    echo "  <metadata>"
    echo "    <vb:balancer xmlns:vb=\"$NS_URI\">"
    for x in ${tags//,/ }; do echo "      <vb:tag>$x</vb:tag>"; done
    for x in ${labels//,/ }; do echo "      <vb:label>$x</vb:label>"; done
    echo "    </vb:balancer>"
    echo "  </metadata>"
    echo "  <os><type arch='x86_64' machine='pc'>hvm</type></os>"
    echo "  <on_poweroff>destroy</on_poweroff>"
    echo "  <on_crash>destroy</on_crash>"
    echo "  <devices>"
    if [ -n "$disk" ]; then
        echo "    <disk type='file' device='disk'>"
        echo "      <driver name='qemu' type='qcow2'/>"
        echo "      <source file='$disk'/>"
        echo "      <target dev='vda' bus='virtio'/>"
        echo "    </disk>"
    fi
    echo "    <memballoon model='virtio'><stats period='2'/></memballoon>"
    echo "  </devices>"
    echo "</domain>"
}

# define_guest HOST NAME MEM VCPUS DISK_MIB TAGS LABELS START(0/1)
define_guest() {
    local h=$1 name=$2 mem=$3 vcpus=$4 disk_mib=$5 tags=$6 labels=$7 start=$8
    local disk="" xml
    if [ "$disk_mib" -gt 0 ]; then
        vsh "$h" vol-create-as default "$name.qcow2" "${disk_mib}M" --format qcow2 >/dev/null
        disk=/var/lib/libvirt/images/$name.qcow2
    fi
    xml="$(host_dir "$h")/$name.xml"
    domain_xml "$name" "$mem" "$vcpus" "$disk" "$tags" "$labels" >"$xml"
    vsh "$h" define "$xml" >/dev/null
    [ "$start" = 0 ] || vsh "$h" start "$name" >/dev/null
}

cmd_guest() {
    local h="" name="" mem=64 vcpus=1 disk=0 tags="" labels="" start=1
    while [ $# -gt 0 ]; do
        case $1 in
        --dir) LAB_DIR=${2:?}; shift 2 ;;
        --host) h=${2:?}; shift 2 ;;
        --name) name=${2:?}; shift 2 ;;
        --memory) mem=${2:?}; shift 2 ;;
        --vcpus) vcpus=${2:?}; shift 2 ;;
        --disk-mib) disk=${2:?}; shift 2 ;;
        --tag) tags="$tags,${2:?}"; shift 2 ;;
        --label) labels="$labels,${2:?}"; shift 2 ;;
        --no-start) start=0; shift ;;
        --cpu) GUEST_CPU=${2:?}; shift 2 ;;
        *) die "guest: unknown option $1" ;;
        esac
    done
    if [ -z "$h" ] || [ -z "$name" ]; then
        die "guest needs --host and --name"
    fi
    [[ $mem =~ ^[0-9]+$ && $vcpus =~ ^[0-9]+$ && $disk =~ ^[0-9]+$ ]] ||
        die "--memory, --vcpus and --disk-mib take whole numbers"
    require_host "$h"
    define_guest "$h" "$name" "$mem" "$vcpus" "$disk" "${tags#,}" "${labels#,}" "$start"
}

cmd_guests() {
    local layout=4,1 mem=64 prefix=g disk=0 counts i c k=0 h label t0
    while [ $# -gt 0 ]; do
        case $1 in
        --dir) LAB_DIR=${2:?}; shift 2 ;;
        --layout) layout=${2:?}; shift 2 ;;
        --memory) mem=${2:?}; shift 2 ;;
        --prefix) prefix=${2:?}; shift 2 ;;
        --disk) disk=1; shift ;;
        --cpu) GUEST_CPU=${2:?}; shift 2 ;;
        *) die "guests: unknown option $1" ;;
        esac
    done
    [[ $mem =~ ^[0-9]+$ ]] || die "--memory takes MiB"
    require_lab
    IFS=, read -r -a counts <<<"$layout"
    t0=$(date +%s.%N)
    for ((i = 0; i < ${#counts[@]}; i++)); do
        h=lab$((i + 1))
        c=${counts[$i]}
        [[ $c =~ ^[0-9]+$ ]] || die "--layout takes counts like 4,1,0"
        [ "$c" = 0 ] || require_host "$h"
        while [ "$c" -gt 0 ]; do
            k=$((k + 1))
            if ((k % 2)); then label=web; else label=db; fi
            define_guest "$h" "$(printf '%s%02d' "$prefix" "$k")" "$mem" 1 0 "" "$label" 1
            c=$((c - 1))
        done
    done
    if [ $disk = 1 ]; then
        require_host lab1
        define_guest lab1 "${VB_LAB_DISK_GUEST:-disk1}" 64 1 64 "" storage 1
        k=$((k + 1))
    fi
    say "$k guests started in $(elapsed "$t0") s"
}

# ----------------------------------------------------------------- migrate

cmd_migrate() {
    local args=() storage=() t0
    while [ $# -gt 0 ]; do
        case $1 in
        --dir) LAB_DIR=${2:?}; shift 2 ;;
        --storage) storage=(--copy-storage-all); shift ;;
        -*) die "migrate: unknown option $1" ;;
        *) args+=("$1"); shift ;;
        esac
    done
    [ ${#args[@]} = 3 ] || die "migrate needs GUEST FROM TO"
    require_host "${args[1]}"
    require_host "${args[2]}"
    t0=$(date +%s.%N)
    vsh "${args[1]}" migrate --live --p2p --persistent --undefinesource \
        "${storage[@]}" "${args[0]}" "$(host_uri "${args[2]}")" \
        --migrateuri tcp://127.0.0.1
    say "migrated ${args[0]} ${args[1]} -> ${args[2]} in $(elapsed "$t0") s"
}

# -------------------------------------------------------------- kill, stop

cmd_kill_host() {
    local h=""
    while [ $# -gt 0 ]; do
        case $1 in
        --dir) LAB_DIR=${2:?}; shift 2 ;;
        *) h=$1; shift ;;
        esac
    done
    [ -n "$h" ] || die "kill-host needs a host name"
    require_host "$h"
    end_pid "$(host_pid "$h")" libvirtd
    say "$h: libvirtd stopped (its guests keep running)"
}

# QEMU processes of host H, from the pid files its libvirtd wrote.
host_qemu_pids() {
    local f
    for f in "$(host_dir "$1")"/run/libvirt/qemu/*.pid; do
        [ -s "$f" ] && echo "$(cat "$f") $(basename "$f" .pid)"
    done
    return 0
}

stop_host() {
    local h=$1 pid name
    if host_alive "$h"; then
        for name in $(vsh "$h" list --name 2>/dev/null); do
            vsh "$h" destroy "$name" >/dev/null 2>&1 || true
        done
        end_pid "$(host_pid "$h")" libvirtd
    fi
    # Guests left running by a libvirtd that died or was killed.
    while read -r pid name; do
        [ -n "$pid" ] || continue
        end_pid "$pid" "guest=$name"
    done < <(host_qemu_pids "$h")
}

cmd_stop() {
    local h
    while [ $# -gt 0 ]; do
        case $1 in
        --dir) LAB_DIR=${2:?}; shift 2 ;;
        *) die "stop: unknown option $1" ;;
        esac
    done
    [ -d "$LAB_DIR" ] || { say "no lab at $LAB_DIR"; return 0; }
    LAB_DIR=$(realpath "$LAB_DIR")
    [ -f "$LAB_DIR/.vb-lab" ] || die "$LAB_DIR is not a lab folder (no .vb-lab); refusing to touch it"
    for h in $(lab_hosts); do
        stop_host "$h"
    done
    release_slot
    for h in $(lab_hosts); do
        rm -rf "${LAB_DIR:?}/$h"
    done
    rm -f "$LAB_DIR"/{lab.env,virt-balancer.yaml,.slot,.vb-lab}
    rm -f "$LAB_DIR"/state.db*
    rmdir "$LAB_DIR" 2>/dev/null || true
    say "lab at $LAB_DIR stopped"
}

cmd_status() {
    local h state
    while [ $# -gt 0 ]; do
        case $1 in
        --dir) LAB_DIR=${2:?}; shift 2 ;;
        *) die "status: unknown option $1" ;;
        esac
    done
    require_lab
    for h in $(lab_hosts); do
        if ! host_alive "$h"; then
            state="down"
        elif timeout 10 virsh -c "$(host_uri "$h")" version >/dev/null 2>&1; then
            state="up"
        else
            state="not answering"
        fi
        echo "$h pid=$(host_pid "$h") $state uri=$(host_uri "$h")"
        [ "$state" != up ] || vsh "$h" list --all | sed 's/^/    /'
    done
}

# --------------------------------------------------------------------- main

LAB_DIR=${VB_LAB_DIR:-/tmp/virt-balancer-lab}
[ $# -ge 1 ] || { usage >&2; exit 2; }
cmd=$1
shift
case $cmd in
start) cmd_start "$@" ;;
guests) cmd_guests "$@" ;;
guest) cmd_guest "$@" ;;
migrate) cmd_migrate "$@" ;;
kill-host) cmd_kill_host "$@" ;;
stop) cmd_stop "$@" ;;
status) cmd_status "$@" ;;
help | -h | --help) usage ;;
*) usage >&2; exit 2 ;;
esac
