#!/usr/bin/python3
"""Contention benchmark: training and serving beside a CPU hog, against the quiet machine.

A desktop shares its cores with a browser, a compiler, another run. This starts HOGS busy-loop
processes (`sh -c 'while :; do :; done'`, nice 0, each killed by this script and bounded by a
timeout of its own) and measures, quiet and then under the hog:
  - training: `modelstudio-cli train --arch A --epochs 1 --limit L` (mlp and cnn) with
    --threads 1, --threads 2 and the default (no --threads), samples/s from the epoch event;
  - the Python peer (bench/peers/torch_peer_train.py, the plain PyTorch loop) with 1 thread and
    with PyTorch's default (all cores), on the same images;
  - serving: `modelstudio-cli serve` (default flags) under wrk (2 connections, batch-1 v2
    requests): requests/s, p50 and p99.
Each figure is printed against the quiet figure of the same configuration and against the fair
share: the quiet 1-thread figure x cores / (hogs + 1), what one process would get if the kernel
shared the cores evenly between it and the hogs. The studio's start event says which threads
and wait policy it chose (the `runtime` object).

With --build A,B (two builds, e.g. before and after a change) every round measures both, in
turns, so that the machine's drift hits them alike; the tables are printed per build.

Usage: bench/contention.py [--build build[,build2]] [--label NAME[,NAME2]] [--hogs 2]
                           [--rounds 1] [--archs mlp,cnn] [--mlp-limit 6000]
                           [--cnn-limit 1500] [--serve-seconds 8]
Figures are recorded in bench/README.md with the command that produced them."""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import serve_bench  # noqa: E402  (free_port, wait_http, run_wrk, write_wrk_script, stop)

PEER = os.path.join(HERE, "peers", "torch_peer_train.py")


class Hog:
    """N busy-loop processes at nice 0; each also dies on its own after `bound_s`."""

    def __init__(self, count, bound_s):
        self.count, self.bound_s, self.procs = count, bound_s, []

    def __enter__(self):
        for _ in range(self.count):
            self.procs.append(subprocess.Popen(
                ["timeout", str(self.bound_s), "sh", "-c", "while :; do :; done"],
                start_new_session=True))
        time.sleep(0.5)   # let them reach the run queue before anything is measured
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            try:
                os.killpg(p.pid, 9)
            except ProcessLookupError:
                pass
            p.wait()
        self.procs = []


def studio_train(cli, workspace, arch, limit, threads, env):
    cmd = [cli, "train", "--arch", arch, "--epochs", "1", "--limit", str(limit), "--json",
           "--workspace", workspace, "--name", f"contention-{arch}"]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    rate, runtime, contention = None, {}, None
    for line in out.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "start":
            runtime = event.get("runtime", {})
            runtime["threads"] = event.get("threads")
        if event.get("event") == "epoch":
            rate = event.get("samples_per_s")
            contention = event.get("contention")
    return rate, runtime, contention


def peer_train(arch, limit, threads):
    out = subprocess.run(["/usr/bin/python3", PEER, arch, "1", str(threads), str(limit)],
                         check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        event = json.loads(line)
        if "train_samples_per_s" in event:
            return event["train_samples_per_s"]
    raise RuntimeError("the peer printed no epoch: " + out)


def ensure_serve_model(cli, workspace):
    subprocess.run([cli, "train", "--arch", "cnn", "--epochs", "1", "--limit", "600",
                    "--name", "cnn", "--workspace", workspace, "--json"],
                   check=True, capture_output=True)


def serve_once(cli, workspace, script, seconds, connections):
    log = tempfile.TemporaryFile("w+")
    port = serve_bench.free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([cli, "serve", "cnn", "--port", str(port), "--workspace", workspace],
                            stdout=subprocess.DEVNULL, stderr=log, text=True,
                            env=serve_bench.server_env())
    try:
        serve_bench.wait_http(base + "/v2/health/ready", proc, log)
        url = base + "/v2/models/cnn/infer"
        serve_bench.run_wrk(url, script, connections, 2, threads=1)   # warm-up
        return serve_bench.run_wrk(url, script, connections, seconds, threads=1)
    finally:
        serve_bench.stop(proc)


def fmt_rate(x):
    return f"{x:,.0f}" if x is not None else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--hogs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--archs", default="mlp,cnn")
    ap.add_argument("--mlp-limit", type=int, default=6000)
    ap.add_argument("--cnn-limit", type=int, default=1500)
    ap.add_argument("--serve-seconds", type=int, default=8)
    ap.add_argument("--connections", type=int, default=2)
    ap.add_argument("--label", default="", help="names for the builds in the output")
    args = ap.parse_args()

    builds = [os.path.abspath(b) for b in args.build.split(",")]
    labels = args.label.split(",") if args.label else [os.path.basename(b) for b in builds]
    clis = [os.path.join(b, "bin", "modelstudio-cli") for b in builds]
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: bash scripts/setup.sh")
    cores = os.cpu_count()
    env = dict(os.environ)
    work = tempfile.mkdtemp(prefix="contention-")
    script = os.path.join(work, "infer.lua")
    serve_bench.write_wrk_script(script, serve_bench.sample_pixels())
    workspaces = [os.path.join(work, f"ws{i}") for i in range(len(clis))]
    for cli, ws in zip(clis, workspaces):
        ensure_serve_model(cli, ws)
    bound_s = 3600

    studio_configs = [1, 2, None]
    peer_configs = [1, cores]
    results = {}   # key -> [values]; studio keys carry the build index
    notes = {}
    add = lambda key, value: results.setdefault(key, []).append(value)  # noqa: E731
    for round_ in range(args.rounds):
        for arch in args.archs.split(","):
            limit = args.mlp_limit if arch == "mlp" else args.cnn_limit
            for phase in ("quiet", "hog"):
                with Hog(args.hogs if phase == "hog" else 0, bound_s):
                    for threads in studio_configs:
                        for i, (cli, ws) in enumerate(zip(clis, workspaces)):
                            rate, runtime, contention = studio_train(cli, ws, arch, limit,
                                                                     threads, env)
                            notes.setdefault((i, arch, threads, phase), []).append(
                                (runtime, contention))
                            add((i, arch, threads, phase), rate)
                            print(f"  round {round_ + 1} {phase:5} {arch} {labels[i]} "
                                  f"threads={threads}: {fmt_rate(rate)} samples/s "
                                  f"(ran on {runtime.get('threads')})",
                                  file=sys.stderr, flush=True)
                    for threads in peer_configs:
                        rate = peer_train(arch, limit, threads)
                        add(("python", arch, threads, phase), rate)
                        print(f"  round {round_ + 1} {phase:5} {arch} python threads={threads}: "
                              f"{fmt_rate(rate)} samples/s", file=sys.stderr, flush=True)
        for phase in ("quiet", "hog"):
            with Hog(args.hogs if phase == "hog" else 0, bound_s):
                for i, (cli, ws) in enumerate(zip(clis, workspaces)):
                    r = serve_once(cli, ws, script, args.serve_seconds, args.connections)
                    add((i, "serve", phase), r)
                    print(f"  round {round_ + 1} {phase:5} serve {labels[i]}: {r['rps']:,.0f} "
                          f"req/s p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms",
                          file=sys.stderr, flush=True)

    med = statistics.median
    span = lambda xs: f"{min(xs):,.0f}-{max(xs):,.0f}"  # noqa: E731
    print(f"\ncores={cores} hogs={args.hogs} rounds={args.rounds}, medians (range); fair share = "
          f"quiet 1-thread x {cores} / {args.hogs + 1}; mlp --limit {args.mlp_limit}, cnn "
          f"--limit {args.cnn_limit}, one epoch")
    print("| arch | build | threads | quiet samples/s | hog samples/s | hog / fair share | "
          "ran on (quiet; hog) |")
    print("|---|---|---|---|---|---|---|")
    for arch in args.archs.split(","):
        for i in range(len(clis)):
            fair = med(results[(i, arch, 1, "quiet")]) * cores / (args.hogs + 1)
            for threads in studio_configs:
                q = results[(i, arch, threads, "quiet")]
                h = results[(i, arch, threads, "hog")]
                ran = []
                for phase in ("quiet", "hog"):
                    used = sorted({str(n[0].get("threads")) for n in notes[(i, arch, threads,
                                                                           phase)]})
                    ran.append("/".join(used))
                label = "default" if threads is None else str(threads)
                print(f"| {arch} | {labels[i]} | {label} | {med(q):,.0f} ({span(q)}) | "
                      f"{med(h):,.0f} ({span(h)}) | {med(h) / fair:.2f} | {'; '.join(ran)} |")
        fair = med(results[("python", arch, 1, "quiet")]) * cores / (args.hogs + 1)
        for threads in peer_configs:
            q = results[("python", arch, threads, "quiet")]
            h = results[("python", arch, threads, "hog")]
            label = f"{threads} (PyTorch default)" if threads == cores else str(threads)
            print(f"| {arch} | Python peer | {label} | {med(q):,.0f} ({span(q)}) | "
                  f"{med(h):,.0f} ({span(h)}) | {med(h) / fair:.2f} | |")
    print()
    print("| serving (wrk, %d connections, batch-1) | build | req/s | p50 ms | p99 ms |"
          % args.connections)
    print("|---|---|---|---|---|")
    for i in range(len(clis)):
        for phase in ("quiet", "hog"):
            rs = results[(i, "serve", phase)]
            print(f"| {phase} | {labels[i]} | {med([r['rps'] for r in rs]):,.0f} | "
                  f"{med([r['p50_ms'] for r in rs]):.2f} | {med([r['p99_ms'] for r in rs]):.2f} |")
        q99 = med([r["p99_ms"] for r in results[(i, "serve", "quiet")]])
        h99 = med([r["p99_ms"] for r in results[(i, "serve", "hog")]])
        print(f"| p99 under the hog / quiet p99 | {labels[i]} | {h99 / q99:.2f}x | | |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
