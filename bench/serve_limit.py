#!/usr/bin/python3
"""Serving near its limit: `serve` under wrk against the studio's own in-process throughput.

For each --threads value, --rounds rounds alternate (in-process first, then served first, ...):
  in-process: `modelstudio-cli bench MODEL --batch-sizes 32 --threads T` (samples/s at batch 32,
              the issue's peer);
  served:     bench/serve_profile.sh (serve MODEL --threads T [FLAGS], wrk -t2 -cC, batch-1 v2
              infer requests): req/s, p50, p99, mean batch, CPU per request by thread.
The ratio is served req/s over in-process samples/s, per round; the median and range are printed.
wrk, the server and the in-process bench share the machine's cores.

Usage: bench/serve_limit.py CLI WORKSPACE [--model cnn] [--threads 1,2] [--rounds 3]
                            [--duration 10] [--connections 32] [-- extra serve flags]"""
import argparse, json, os, re, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))


def inprocess(cli, ws, model, threads):
    out = subprocess.run([cli, "bench", model, "--batch-sizes", "32", "--threads", str(threads),
                          "--repetitions", "200", "--no-accuracy", "--json", "--workspace", ws],
                         check=True, capture_output=True, text=True).stdout
    for line in reversed(out.splitlines()):
        if line.startswith("{") and "latency" in line:
            return json.loads(line)["latency"][0]["throughput_per_s"]
    sys.exit("no throughput in: " + out[-500:])


def served(cli, ws, model, threads, args, extra):
    line = subprocess.run([os.path.join(HERE, "serve_profile.sh"), cli, ws, "--model", model,
                           "--threads", str(threads), "--connections", str(args.connections),
                           "--duration", str(args.duration)] + extra,
                          check=True, capture_output=True, text=True).stdout.strip().splitlines()
    text = next(l for l in line if l.startswith("req/s"))
    rps = float(re.search(r"req/s ([0-9,]+)", text).group(1).replace(",", ""))
    return rps, text


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cli")
    ap.add_argument("workspace")
    ap.add_argument("--model", default="cnn")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args(argv)
    rows = []
    for t in [int(x) for x in args.threads.split(",")]:
        ratios, rates, limits, lines = [], [], [], []
        for r in range(args.rounds):
            if r % 2 == 0:
                limit = inprocess(args.cli, args.workspace, args.model, t)
                rps, line = served(args.cli, args.workspace, args.model, t, args, extra)
            else:
                rps, line = served(args.cli, args.workspace, args.model, t, args, extra)
                limit = inprocess(args.cli, args.workspace, args.model, t)
            ratios.append(rps / limit)
            rates.append(rps)
            limits.append(limit)
            lines.append(line)
            print(f"threads {t} round {r + 1}: in-process batch 32 {limit:,.0f} samples/s; "
                  f"served {line}; ratio {rps / limit:.2f}", flush=True)
        rows.append((t, rates, limits, ratios, lines))
    print()
    flags = " ".join(extra) if extra else "(defaults)"
    print(f"| --threads | served req/s (median, range) | in-process batch 32 samples/s | "
          f"served / in-process | p50, p99 (median round) |")
    print("|---|---|---|---|---|")
    for t, rates, limits, ratios, lines in rows:
        mid = lines[sorted(range(len(rates)), key=lambda i: rates[i])[len(rates) // 2]]
        lat = re.search(r"p50 (\S+)\s+p99 (\S+)", mid)
        print(f"| {t} | {statistics.median(rates):,.0f} ({min(rates):,.0f}-{max(rates):,.0f}) | "
              f"{statistics.median(limits):,.0f} ({min(limits):,.0f}-{max(limits):,.0f}) | "
              f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}) | "
              f"{lat.group(1)}, {lat.group(2)} |")
    print(f"\nserve flags: {flags}; wrk -t2 -c{args.connections} -d{args.duration}s")


if __name__ == "__main__":
    sys.exit(main())
