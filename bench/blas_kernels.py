#!/usr/bin/python3
"""BLAS kernels: what OpenBLAS's fallback costs and what the studio's restart gives back.

Debian 12's OpenBLAS (0.3.21) runs its Prescott (SSE3) kernels on CPUs it does not recognise;
the studio then restarts itself with the kernels the CPU's flags allow (core/common/
StartupTuning). On a machine OpenBLAS does recognise, the fallback is reproduced by pinning
OPENBLAS_CORETYPE=Prescott, which is exactly the kernel table such a machine gets. For each
kernel set (Prescott, the one the studio would choose, and OpenBLAS's own pick) this measures,
alternating kernel sets round by round:
  - a 512x512 fp32 matrix product (torch.mm in Python, 1 thread): GFLOP/s of CPU time, and its largest
    relative difference from a float64 product (the kernels must agree, not just be fast);
  - `modelstudio-cli train --threads 1` for mlp and cnn (batch 128, Adam): samples/s;
  - the Python peer (bench/peers/torch_peer_train.py, 1 thread) for mlp: samples/s.
The studio's runs use --blas-core KERNEL, which is what its automatic restart sets.

Usage: bench/blas_kernels.py [--build build] [--rounds 3] [--mlp-limit 12000]
                             [--cnn-limit 2000]
Figures are recorded in bench/README.md with the command that produced them."""
import argparse, json, os, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "peers", "torch_peer_train.py")

MATMUL = r"""
import json, time, torch
torch.set_num_threads(1)
torch.manual_seed(0)
a, b = torch.rand(512, 512) - 0.5, torch.rand(512, 512) - 0.5
ref = a.double() @ b.double()
for _ in range(3):
    c = a @ b
# CPU time of the one thread doing the work: it stays comparable when other programs share the
# cores (wall time would count the time slices they took).
n, t = 0, time.thread_time()
while time.thread_time() - t < 1.0:
    c = a @ b
    n += 1
dt = time.thread_time() - t
err = ((c.double() - ref).abs() / ref.abs().clamp(min=1e-3)).max().item()
print(json.dumps({"gflops": 2 * 512 ** 3 * n / dt / 1e9, "max_rel_err": err}))
"""


def env_with(core):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "MODELSTUDIO_RESTARTED")}
    if core:
        env["OPENBLAS_CORETYPE"] = core
    return env


def matmul(core):
    out = subprocess.run(["/usr/bin/python3", "-c", MATMUL], env=env_with(core), check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def studio(cli, workspace, arch, limit, core):
    out = subprocess.run([cli, "train", "--arch", arch, "--epochs", "1", "--limit", str(limit),
                          "--threads", "1", "--json", "--workspace", workspace,
                          "--blas-core", core or "off"],
                         env=env_with(None), check=True, capture_output=True, text=True).stdout
    rate, kernels = None, None
    for line in out.splitlines():
        event = json.loads(line)
        if event.get("event") == "start":
            kernels = event["runtime"].get("blas_core")
        if event.get("event") == "epoch":
            rate = event["samples_per_s"]
    return rate, kernels


def peer(limit, core):
    out = subprocess.run(["/usr/bin/python3", PEER, "mlp", "1", "1", str(limit)],
                         env=env_with(core), check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        event = json.loads(line)
        if "train_samples_per_s" in event:
            return event["train_samples_per_s"]
    raise RuntimeError(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mlp-limit", type=int, default=12000)
    ap.add_argument("--cnn-limit", type=int, default=2000)
    args = ap.parse_args()
    cli = os.path.abspath(os.path.join(args.build, "bin", "modelstudio-cli"))
    version = json.loads(subprocess.run([cli, "version", "--json", "--blas-core", "off"],
                                        env=env_with(None), check=True, capture_output=True,
                                        text=True).stdout)
    native = version["runtime"]["blas_core"]
    flags = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    avx512 = {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"} <= flags
    chosen = ("Cooperlake" if avx512 and "avx512_bf16" in flags else "SkylakeX" if avx512
              else "Haswell" if {"avx2", "fma"} <= flags else None)
    cores = ["Prescott"] + ([chosen] if chosen else []) + ([native] if native != chosen else [])
    work = tempfile.mkdtemp(prefix="blas-")
    ws = os.path.join(work, "ws")
    rows = {c: {"gflops": [], "err": [], "mlp": [], "cnn": [], "peer": [], "kernels": None}
            for c in cores}
    for r in range(args.rounds):
        for core in cores:
            m = matmul(core)
            rows[core]["gflops"].append(m["gflops"])
            rows[core]["err"].append(m["max_rel_err"])
            rate, kernels = studio(cli, ws, "mlp", args.mlp_limit, core)
            rows[core]["mlp"].append(rate)
            rows[core]["kernels"] = kernels
            rows[core]["cnn"].append(studio(cli, ws, "cnn", args.cnn_limit, core)[0])
            rows[core]["peer"].append(peer(args.mlp_limit, core))
            print(f"  round {r + 1} {core}: {m['gflops']:.1f} GFLOP/s, mlp "
                  f"{rows[core]['mlp'][-1]:,.0f}, cnn {rows[core]['cnn'][-1]:,.0f}, peer mlp "
                  f"{rows[core]['peer'][-1]:,.0f}", file=sys.stderr, flush=True)
    med = statistics.median
    base = rows["Prescott"]
    print(f"\nCPU flags: {'AVX-512' if avx512 else 'AVX2+FMA' if chosen else 'no AVX2'}; "
          f"OpenBLAS's own pick: {native}; the studio's choice after a Prescott fallback: "
          f"{chosen}; {args.rounds} rounds, medians")
    print("| kernels | ran as | 512x512 GFLOP/s | max rel. err vs fp64 | studio mlp samples/s | "
          "studio cnn samples/s | Python mlp samples/s | mlp vs Prescott |")
    print("|---|---|---|---|---|---|---|---|")
    for core in cores:
        x = rows[core]
        print(f"| {core} | {x['kernels']} | {med(x['gflops']):.1f} | {max(x['err']):.1e} | "
              f"{med(x['mlp']):,.0f} | {med(x['cnn']):,.0f} | {med(x['peer']):,.0f} | "
              f"{med(x['mlp']) / med(base['mlp']):.2f}x |")


if __name__ == "__main__":
    main()
