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

Usage: bench/contention.py [--build build] [--hogs 2] [--rounds 1] [--archs mlp,cnn]
                           [--mlp-limit 6000] [--cnn-limit 1500] [--serve-seconds 8]
                           [--only quiet|hog] [--label TEXT]
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
    ap.add_argument("--label", default="", help="a name for this build in the output")
    args = ap.parse_args()

    cli = os.path.abspath(os.path.join(args.build, "bin", "modelstudio-cli"))
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: bash scripts/setup.sh")
    cores = os.cpu_count()
    env = dict(os.environ)
    work = tempfile.mkdtemp(prefix="contention-")
    workspace = os.path.join(work, "ws")
    script = os.path.join(work, "infer.lua")
    serve_bench.write_wrk_script(script, serve_bench.sample_pixels())
    ensure_serve_model(cli, workspace)
    bound_s = 3600

    configs = [("studio", 1), ("studio", 2), ("studio", None), ("python", 1), ("python", cores)]
    results = {}   # (arch, who, threads, "quiet"|"hog") -> [samples/s]
    notes = {}
    for round_ in range(args.rounds):
        for arch in args.archs.split(","):
            limit = args.mlp_limit if arch == "mlp" else args.cnn_limit
            for phase in ("quiet", "hog"):
                hog = Hog(args.hogs if phase == "hog" else 0, bound_s)
                with hog:
                    for who, threads in configs:
                        if who == "studio":
                            rate, runtime, contention = studio_train(cli, workspace, arch, limit,
                                                                     threads, env)
                            notes[(arch, who, threads, phase)] = (runtime, contention)
                        else:
                            rate = peer_train(arch, limit, threads)
                        results.setdefault((arch, who, threads, phase), []).append(rate)
                        print(f"  round {round_ + 1} {phase:5} {arch} {who} threads={threads}: "
                              f"{fmt_rate(rate)} samples/s", file=sys.stderr, flush=True)
        for phase in ("quiet", "hog"):
            with Hog(args.hogs if phase == "hog" else 0, bound_s):
                r = serve_once(cli, workspace, script, args.serve_seconds, args.connections)
            results.setdefault(("serve", phase), []).append(r)
            print(f"  round {round_ + 1} {phase:5} serve: {r['rps']:,.0f} req/s p50 "
                  f"{r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms", file=sys.stderr, flush=True)

    med = lambda xs: statistics.median(xs)  # noqa: E731
    print(f"\n{args.label} cores={cores} hogs={args.hogs} rounds={args.rounds} "
          f"(fair share = quiet 1-thread x {cores} / {args.hogs + 1})")
    print("| arch | who | threads | quiet samples/s | hog samples/s | hog/quiet | "
          "hog/fair share | studio's choice under hog |")
    print("|---|---|---|---|---|---|---|---|")
    for arch in args.archs.split(","):
        fair = {}
        for who in ("studio", "python"):
            q1 = med(results[(arch, who, 1, "quiet")])
            fair[who] = q1 * cores / (args.hogs + 1)
        for who, threads in configs:
            q = med(results[(arch, who, threads, "quiet")])
            h = med(results[(arch, who, threads, "hog")])
            label = "default" if threads is None else str(threads)
            if who == "python" and threads == cores:
                label = f"{cores} (PyTorch default)"
            choice = ""
            if who == "studio":
                runtime, contention = notes[(arch, who, threads, "hog")]
                parts = [f"threads {runtime.get('threads')}"]
                if runtime.get("omp_wait_policy"):
                    parts.append(f"wait {runtime['omp_wait_policy']}")
                if contention:
                    parts.append(f"pressure {contention.get('cpu_pressure_pct')} %")
                choice = ", ".join(parts)
            print(f"| {arch} | {who} | {label} | {q:,.0f} | {h:,.0f} | {h / q:.2f} | "
                  f"{h / fair[who]:.2f} | {choice} |")
    print()
    print("| serving | req/s | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for phase in ("quiet", "hog"):
        rs = results[("serve", phase)]
        print(f"| {phase} | {med([r['rps'] for r in rs]):,.0f} | "
              f"{med([r['p50_ms'] for r in rs]):.2f} | {med([r['p99_ms'] for r in rs]):.2f} |")
    q99 = med([r["p99_ms"] for r in results[("serve", "quiet")]])
    h99 = med([r["p99_ms"] for r in results[("serve", "hog")]])
    print(f"\nserving p99 under the hog: {h99 / q99:.2f}x its quiet p99")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
