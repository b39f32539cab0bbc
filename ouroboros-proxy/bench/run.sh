#!/usr/bin/env bash
# Loopback benchmark: nginx direct (the physical limit), HAProxy with `send-proxy` and
# its defaults (the peer's data plane), and ouroboros-proxy (release build), measured in
# interleaved rounds so that drift on the machine hits all three alike. The order changes
# every round (rotated every other round, reversed in between; with three contenders six
# rounds run all six orders), so that no contender always runs right after the same other
# one: on a shared 2-core machine, what ran just before moves a result by up to a tenth.
#
# Needs: nginx, haproxy, wrk, curl, ip (Debian: nginx-light haproxy wrk curl iproute2), cargo.
# Knobs (environment): ROUNDS (12), DURATION seconds per wrk run (5), CONNECTIONS (50),
# BULK_MIB size of the bulk download (256), BULK_RUNS downloads per round whose median
# counts (3), OURS_ARGS extra relay flags (for example --worker-threads=2), OURS_WRAP a
# command that execs the relay (for example "chrt -b 0"), CARGO_TARGET_DIR. URING=1 and
# EPOLL=1 add measuring sketches as further contenders, each reported against HAProxy:
# the relay's data path on io_uring (bench/uring-sketch) and on a bare epoll loop without
# an async runtime (bench/epoll-sketch). CONGESTION (cubic, the kernel's own default) is
# the TCP congestion control of the loopback the measurement runs on: the run happens in
# a private network namespace whose loopback uses it, which needs root or unprivileged
# user namespaces; where neither is available the host's loopback is used, and the report
# says so. CONGESTION=host keeps the host's choice. A host that defaults to BBR without
# the fq qdisc paces every loopback flow with timers, which caps bulk transfers (nginx
# direct included) far below what the machine moves with cubic: nginx direct is then no
# longer the physical limit the comparison is anchored to.
set -euo pipefail

ROUNDS=${ROUNDS:-12}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-50}
BULK_MIB=${BULK_MIB:-256}
BULK_RUNS=${BULK_RUNS:-3}
OURS_ARGS=${OURS_ARGS:-}
OURS_WRAP=${OURS_WRAP:-}
URING=${URING:-}
EPOLL=${EPOLL:-}
CONGESTION=${CONGESTION:-cubic}
[ "$CONGESTION" = host ] && CONGESTION=""
sketches=""
[ -n "$URING" ] && sketches="$sketches uring"
[ -n "$EPOLL" ] && sketches="$sketches epoll"

here=$(cd "$(dirname "$0")" && pwd)
workspace=$(cd "$here/../.." && pwd)
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
haproxy_bin=$(command -v haproxy || echo /usr/sbin/haproxy)
for tool in "$nginx_bin" "$haproxy_bin" wrk curl cargo; do
    command -v "$tool" >/dev/null || { echo "bench-proxy: $tool not found (apt-get install nginx-light haproxy wrk curl)" >&2; exit 2; }
done

target_dir=${CARGO_TARGET_DIR:-$workspace/target}
proxy_bin="$target_dir/release/ouroboros-proxy"
declare -A sketch_port sketch_pid
# Built before any namespace change: the private namespace has no network to fetch with.
if [ -z "${BENCH_IN_NAMESPACE:-}" ]; then
    echo "building ouroboros-proxy (release)..." >&2
    (cd "$workspace" && cargo build --release -q -p ouroboros-proxy --bin ouroboros-proxy)
    for sketch in $sketches; do
        echo "building the $sketch sketch (release)..." >&2
        CARGO_TARGET_DIR="$target_dir/$sketch-sketch" cargo build --release -q --manifest-path "$here/$sketch-sketch/Cargo.toml"
    done
fi

if [ -n "$CONGESTION" ] && [ -z "${BENCH_IN_NAMESPACE:-}" ]; then
    as_root=()
    [ "$(id -u)" = 0 ] || as_root=(--map-root-user)
    if command -v ip >/dev/null && unshare --net "${as_root[@]}" true 2>/dev/null; then
        exec unshare --net "${as_root[@]}" env BENCH_IN_NAMESPACE=1 bash "$0" "$@"
    fi
    echo "bench-proxy: no private network namespace here (needs root or unprivileged user namespaces, and ip from iproute2); measuring on the host's loopback and its congestion control instead of $CONGESTION" >&2
    CONGESTION=""
fi
if [ -n "${BENCH_IN_NAMESPACE:-}" ]; then
    ip link set lo up
    { echo "$CONGESTION" >/proc/sys/net/ipv4/tcp_congestion_control; } 2>/dev/null ||
        { echo "bench-proxy: cannot select congestion control $CONGESTION (see /proc/sys/net/ipv4/tcp_available_congestion_control)" >&2; exit 2; }
fi
congestion=$(cat /proc/sys/net/ipv4/tcp_congestion_control 2>/dev/null || echo unknown)

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
        shuf -i 20000-60000 -n 1
}

wait_port() {
    for _ in $(seq 1 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "bench-proxy: nothing listening on $1" >&2
    exit 1
}

direct_port=$(free_port)
pp_port=$(free_port)
haproxy_port=$(free_port)
ours_port=$(free_port)
ours_health=$(free_port)

mkdir -p "$work/www"
head -c $((BULK_MIB * 1024 * 1024)) /dev/urandom >"$work/www/bulk.bin"
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root root;"
cat >"$work/nginx.conf" <<EOF
daemon off;
worker_processes 1;
$user_line
pid $work/nginx.pid;
error_log stderr crit;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    sendfile on;
    client_body_temp_path $work/tmp_body; proxy_temp_path $work/tmp_proxy; fastcgi_temp_path $work/tmp_fastcgi;
    uwsgi_temp_path $work/tmp_uwsgi; scgi_temp_path $work/tmp_scgi;
    server { listen 127.0.0.1:$direct_port; root $work/www; location = /echo { return 200 "ok\n"; } }
    server { listen 127.0.0.1:$pp_port proxy_protocol; root $work/www; location = /echo { return 200 "ok\n"; } }
}
EOF
"$nginx_bin" -p "$work" -c "$work/nginx.conf" -e stderr &
pids+=($!)

# The peer's configuration: frontend/backend pairs only, `send-proxy`, no tuning.
cat >"$work/haproxy.cfg" <<EOF
frontend http
    bind 127.0.0.1:$haproxy_port
    mode tcp
    default_backend ingress_http
backend ingress_http
    mode tcp
    server ingress 127.0.0.1:$pp_port send-proxy
EOF
"$haproxy_bin" -db -f "$work/haproxy.cfg" 2>"$work/haproxy.log" &
haproxy_pid=$!
pids+=($haproxy_pid)

$OURS_WRAP "$proxy_bin" --listen-http=127.0.0.1:$ours_port --listen-https= --listen-health=127.0.0.1:$ours_health \
    --target-host=127.0.0.1 --target-http-port=$pp_port --log-level=warn $OURS_ARGS 2>"$work/ours.log" &
ours_pid=$!
pids+=($ours_pid)

targets="direct haproxy ours"
for sketch in $sketches; do
    sketch_port[$sketch]=$(free_port)
    "$target_dir/$sketch-sketch/release/$sketch-sketch" --listen-http=127.0.0.1:${sketch_port[$sketch]} \
        --target-http-port=$pp_port 2>"$work/$sketch.log" &
    sketch_pid[$sketch]=$!
    pids+=($!)
    targets="$targets $sketch"
    wait_port "${sketch_port[$sketch]}"
done

for port in $direct_port $pp_port $haproxy_port $ours_port; do wait_port "$port"; done

port_of() { case $1 in direct) echo "$direct_port" ;; haproxy) echo "$haproxy_port" ;; ours) echo "$ours_port" ;; *) echo "${sketch_port[$1]}" ;; esac; }
pid_of() { case $1 in direct) echo "" ;; haproxy) echo "$haproxy_pid" ;; ours) echo "$ours_pid" ;; *) echo "${sketch_pid[$1]}" ;; esac; }

# utime+stime of a process and its threads, in clock ticks.
cpu_ticks() { [ -n "$1" ] && awk '{ print $14 + $15 }' "/proc/$1/stat" || echo 0; }

# wrk → "<req/s> <p99 ms> <requests>"
run_wrk() {
    local port=$1
    shift
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "http://127.0.0.1:$port/echo" | awk '
        /Requests\/sec/ { rps = $2 }
        /requests in/ { n = $1 }
        $1 == "99%" { v = $2; unit = v; gsub(/[0-9.]/, "", unit); gsub(/[a-z]/, "", v);
                      ms = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : v }
        END { printf "%s %s %s\n", rps, ms, n }'
}

# CPU time (clock ticks) spread over units of work (requests, MiB) → µs per unit.
per_unit_us() { awk -v t="$1" -v hz="$hz" -v n="$2" 'BEGIN { if (n > 0) printf "%.3f", t / hz * 1e6 / n; else print 0 }'; }

# BULK_RUNS downloads → the median speed in MiB/s. One transfer takes a fraction of a
# second and its speed depends on where the scheduler puts client, proxy and nginx, so a
# single download per round would mostly measure that placement.
run_bulk() {
    for _ in $(seq 1 "$BULK_RUNS"); do
        curl -s -o /dev/null -w '%{speed_download}\n' "http://127.0.0.1:$1/bulk.bin"
    done | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", ((NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) / 1048576 }'
}

# The contenders in the order round $1 runs them.
round_order() {
    local round=$1
    shift
    local -a order=("$@") rotated=()
    local i
    local k=$(((round - 1) / 2 % ${#order[@]}))
    rotated=("${order[@]:k}" "${order[@]:0:k}")
    if ((round % 2 == 0)); then
        for ((i = ${#rotated[@]} - 1; i >= 0; i--)); do printf '%s\n' "${rotated[i]}"; done
    else
        printf '%s\n' "${rotated[@]}"
    fi
}

results="$work/results"
: >"$results"
hz=$(getconf CLK_TCK)
for round in $(seq 1 "$ROUNDS"); do
    for target in $(round_order "$round" $targets); do
        port=$(port_of $target)
        pid=$(pid_of $target)
        before=$(cpu_ticks "$pid")
        read -r ka_rps ka_p99 ka_n < <(run_wrk "$port")
        between=$(cpu_ticks "$pid")
        read -r cpr_rps cpr_p99 cpr_n < <(run_wrk "$port" -H "Connection: close")
        after=$(cpu_ticks "$pid")
        bulk=$(run_bulk "$port")
        bulk_cpu_us=$(per_unit_us $(($(cpu_ticks "$pid") - after)) $((BULK_MIB * BULK_RUNS)))
        cpu_us=$(per_unit_us $((after - before)) $((ka_n + cpr_n)))
        ka_cpu_us=$(per_unit_us $((between - before)) "$ka_n")
        cpr_cpu_us=$(per_unit_us $((after - between)) "$cpr_n")
        echo "$round $target $ka_rps $ka_p99 $cpr_rps $cpr_p99 $bulk $cpu_us $ka_cpu_us $cpr_cpu_us $bulk_cpu_us" >>"$results"
        echo "round $round $target: keep-alive ${ka_rps} req/s (p99 ${ka_p99} ms, cpu ${ka_cpu_us} µs/req), conn-per-request ${cpr_rps} req/s (p99 ${cpr_p99} ms, cpu ${cpr_cpu_us} µs/req), bulk ${bulk} MiB/s (cpu ${bulk_cpu_us} µs/MiB), cpu ${cpu_us} µs/req" >&2
    done
done

rss_kib() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }
haproxy_rss=$(rss_kib "$haproxy_pid")
ours_rss=$(rss_kib "$ours_pid")

# Medians per target and metric, then ratios ours/HAProxy and their spread over the rounds.
awk -v hr="$haproxy_rss" -v or="$ours_rss" -v sketches="$sketches" -v rounds="$ROUNDS" -v congestion="$congestion" '
    function median(key,   n, i, j, t, a) {
        n = split(values[key], a, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    # The spread of the per-round ratios, "min-max": how far one round can mislead.
    function spread(target, m,   n, i, h, o, r, lo, hi) {
        n = split(values["haproxy," m], h, " ")
        split(values[target "," m], o, " ")
        for (i = 1; i <= n; i++) {
            if (h[i] <= 0) continue
            r = o[i] / h[i]
            if (lo == "" || r < lo) lo = r
            if (hi == "" || r > hi) hi = r
        }
        return (lo == "") ? "-" : sprintf("%.2f-%.2f", lo, hi)
    }
    function ratio(m,   h) { h = median("haproxy," m); return h > 0 ? median("ours," m) / h : 0 }
    function verdict(name, r, op, bound,   met) {
        met = (op == ">=") ? r >= bound : r <= bound
        printf "%-30s %8.3f  target %s %-4s %s\n", name, r, op, bound, (met ? "met" : "MISSED")
    }
    # Fields 3.. of a result line are the metrics, in the order of `names` below.
    { for (m = 3; m <= NF; m++) values[$2 "," m] = values[$2 "," m] " " $m }
    END {
        last = 2 + split("keep-alive req/s,keep-alive p99 ms,conn-per-request req/s,conn-per-request p99 ms,bulk MiB/s,CPU µs/request,keep-alive CPU µs/request,conn-per-req CPU µs/request,bulk CPU µs/MiB", names, ",")
        printf "\nMedians of %d interleaved rounds (loopback, TCP congestion control %s)\n", rounds, congestion
        printf "%-30s %14s %14s %14s %18s %14s\n", "metric", "nginx direct", "HAProxy", "ouroboros", "ouroboros/HAProxy", "per round"
        for (m = 3; m <= last; m++) {
            d = median("direct," m); h = median("haproxy," m); o = median("ours," m)
            printf "%-30s %14.2f %14.2f %14.2f %18.2f %14s\n", names[m - 2], (m >= 8 ? 0 : d), h, o, (h > 0 ? o / h : 0), spread("ours", m)
        }
        printf "%-30s %14s %14.1f %14.1f %18.2f\n", "peak RSS MiB", "-", hr / 1024, or / 1024, (hr > 0 ? or / hr : 0)
        # The targets, judged on the unrounded ratios of this run alone.
        printf "\nTargets (ouroboros/HAProxy, this run)\n"
        verdict("keep-alive req/s", ratio(3), ">=", 1.1)
        verdict("conn-per-request req/s", ratio(5), ">=", 1.0)
        verdict("bulk MiB/s", ratio(7), ">=", 1.5)
        verdict("CPU per request", ratio(8), "<=", 0.8)
        verdict("peak RSS", (hr > 0 ? or / hr : 0), "<=", 1)
        count = split(sketches, sketch, " ")
        for (k = 1; k <= count; k++) {
            printf "\n%-30s %14s %18s %14s\n", (sketch[k] == "uring" ? "io_uring" : sketch[k]) " sketch", "median", "sketch/HAProxy", "per round"
            for (m = 3; m <= last; m++) {
                h = median("haproxy," m); u = median(sketch[k] "," m)
                printf "%-30s %14.2f %18.2f %14s\n", names[m - 2], u, (h > 0 ? u / h : 0), spread(sketch[k], m)
            }
        }
    }' "$results"
if [ "$congestion" = bbr ] && ! tc qdisc show dev lo 2>/dev/null | grep -qw fq; then
    echo "note: loopback runs BBR without the fq qdisc here, so the kernel paces every flow with timers, which caps bulk transfers for all contenders. The default CONGESTION=cubic measures the data planes instead." >&2
fi
