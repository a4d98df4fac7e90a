#!/usr/bin/env bash
# Where a served request's time goes: CPU time per thread of `modelstudio-cli serve` (from
# /proc/PID/task/*/stat, before and after a wrk run) and of wrk itself, per 1,000 requests,
# and with --perf the top symbols per thread (perf record, user and kernel).
#
# usage: bench/serve_profile.sh CLI WORKSPACE [--threads N] [--connections C] [--duration S]
#                               [--perf] [--model cnn] [extra serve flags...]
# The workspace must hold the model (bench/serve_bench.py trains one). Prints one line of
# figures and, with --perf, the symbols. Figures in bench/README.md name the command.
set -euo pipefail
cli=$1; ws=$2; shift 2
threads=1; conns=32; duration=10; perf=""; model=cnn; extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --threads) threads=$2; shift 2;;
    --connections) conns=$2; shift 2;;
    --duration) duration=$2; shift 2;;
    --perf) perf=1; shift;;
    --model) model=$2; shift 2;;
    *) extra+=("$1"); shift;;
  esac
done
here="$(cd "$(dirname "$0")" && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/post.lua" <<'EOF'
import gzip, json, sys
try:
    raw = gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz").read(800)[16:]
except OSError:
    raw = bytes((i * 37) % 255 for i in range(784))
body = json.dumps({"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32",
                               "data": [round(b / 255.0, 4) for b in raw]}]},
                  separators=(",", ":"))
open(sys.argv[1], "w").write('wrk.method = "POST"\nwrk.headers["Content-Type"] = '
                             '"application/json"\nwrk.body = [[%s]]\n' % body)
EOF
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$cli" serve "$model" --port "$port" --threads "$threads" --workspace "$ws" "${extra[@]}" \
  > "$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 300); do
  curl -sf -o /dev/null "localhost:$port/v2/health/ready" && break
  sleep 0.2
done
url="http://127.0.0.1:$port/v2/models/$model/infer"
wrk -t2 -c"$conns" -d3s -s "$tmp/post.lua" "$url" > /dev/null   # warm-up
ticks() {   # "tid name utime+stime" per thread, in clock ticks
  for t in /proc/"$1"/task/*; do
    awk '{ match($0, /\) /); split(substr($0, RSTART + 2), f, " ");
           print FILENAME, f[12] + f[13] }' "$t/stat" 2>/dev/null | sed 's|/proc/[0-9]*/task/||; s|/stat||'
  done
}
ticks "$pid" > "$tmp/before"
[ -n "$perf" ] && { perf record -F 999 -g -o "$tmp/perf.data" -p "$pid" -- sleep "$duration" \
  > /dev/null 2>&1 & perfpid=$!; }
/usr/bin/time -f "%U %S" -o "$tmp/wrk.cpu" \
  wrk -t2 -c"$conns" -d"${duration}s" --latency -s "$tmp/post.lua" "$url" > "$tmp/wrk.txt"
ticks "$pid" > "$tmp/after"
[ -n "$perf" ] && wait "$perfpid"
metrics=$(curl -s "localhost:$port/metrics")
kill -INT "$pid"; wait "$pid" || true
hz=$(getconf CLK_TCK)
/usr/bin/python3 - "$tmp" "$hz" "$pid" "$metrics" <<'EOF'
import re, sys
tmp, hz, pid, metrics = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
wrk = open(f"{tmp}/wrk.txt").read()
rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", wrk).group(1))
reqs = int(re.search(r"(\d+) requests in", wrk).group(1))
lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", wrk, re.M))
def parse(path):
    return {l.split()[0]: int(l.split()[1]) for l in open(path) if l.strip()}
before, after = parse(f"{tmp}/before"), parse(f"{tmp}/after")
# The main thread (tid == pid) runs the event loop; the busiest other thread is the batch
# worker (intra-op threads of LibTorch, if any, are counted with the rest).
used = {t: (after[t] - before.get(t, 0)) / hz for t in after}
loop = used.pop(pid, 0.0)
worker_tid = max(used, key=used.get) if used else None
worker = used.pop(worker_tid, 0.0) if worker_tid else 0.0
rest = sum(used.values())
u, s = map(float, open(f"{tmp}/wrk.cpu").read().split())
sums = {m.group(1): float(m.group(2)) for m in re.finditer(
    r"^modelstudio_batch_size_(sum|count)\{[^}]*\} (\S+)", metrics, re.M)}
batch = sums.get("sum", 0) / sums["count"] if sums.get("count") else float("nan")
per = 1000.0 / reqs
print(f"req/s {rps:,.0f}  p50 {lat.get('50')}  p99 {lat.get('99')}  mean batch {batch:.1f}  "
      f"CPU ms per request: event loop {loop * per:.3f}, batch worker {worker * per:.3f}, "
      f"other server threads {rest * per:.3f}, wrk {(u + s) * per:.3f}")
EOF
if [ -n "$perf" ]; then
  echo "perf samples by thread (pid = the event loop's tid is the process id) and library:"
  perf report -i "$tmp/perf.data" --no-children --sort pid,dso --stdio -g none 2>/dev/null \
    | grep '%' | head -16
  echo "top symbols:"
  perf report -i "$tmp/perf.data" --no-children --sort pid,dso,sym --stdio -g none 2>/dev/null \
    | grep '%' | head -30
fi
