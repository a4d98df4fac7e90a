#!/usr/bin/python3
"""Training benchmark: ModelStudio's trainer against the plain Python PyTorch loop, in one run.

For each architecture it runs `modelstudio-cli train` and the peer (bench/peers/torch_peer_train.py:
same architecture, batch 128, Adam, lr 1e-3, full 60,000 training images, same thread count),
and prints samples/s of both, their ratio, the test accuracy of both, and the fraction of this
machine's fp32 matrix-product peak each reaches (peak measured here, in this run, with torch.mm
on the same LibTorch and BLAS).

Speed on a shared virtual machine drifts by tens of percent over minutes, so the two loops run
alternately for several rounds (ours first, then the peer first, ...) and the ratio reported is
the median of the per-round ratios, with its range.

Usage: bench/train_bench.py [--build build] [--threads 1] [--mlp-epochs 3] [--cnn-epochs 1]
                            [--rounds 3]
Figures are recorded in bench/README.md with the command that produced them."""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))


def matmul_peak_gflops(threads):
    import torch
    torch.set_num_threads(threads)
    n = 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        torch.mm(a, b)
    best = float("inf")
    for _ in range(10):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


def conv_rate_gflops(threads):
    """Forward rate of the cnn's dominant layer (5x5, 32->64 channels, 14x14, batch 128) in
    oneDNN: on this machine direct convolution runs above the matrix-product peak, which is why
    the cnn's fraction of that peak can pass 100 %."""
    import torch
    torch.set_num_threads(threads)
    x, w = torch.randn(128, 32, 14, 14), torch.randn(64, 32, 5, 5)
    for _ in range(3):
        torch.conv2d(x, w, padding=2)
    best = float("inf")
    for _ in range(10):
        t0 = time.perf_counter()
        torch.conv2d(x, w, padding=2)
        best = min(best, time.perf_counter() - t0)
    return 2 * 128 * 64 * 14 * 14 * 32 * 25 / best / 1e9


def run_studio(cli, arch, epochs, threads, workspace):
    cmd = [cli, "train", "--dataset", "fashion-mnist", "--arch", arch, "--epochs", str(epochs),
           "--batch-size", "128", "--lr", "0.001", "--optimizer", "adam", "--seed", "0",
           "--validation-fraction", "0", "--threads", str(threads), "--json",
           "--workspace", workspace]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    start = next(e for e in events if e["event"] == "start")
    epochs = [e for e in events if e["event"] == "epoch"]
    return start, epochs


def run_peer(arch, epochs, threads):
    cmd = ["/usr/bin/python3", os.path.join(HERE, "peers", "torch_peer_train.py"), arch,
           str(epochs), str(threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    return lines[0], lines[1:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mlp-epochs", type=int, default=3)
    ap.add_argument("--cnn-epochs", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    cli = os.path.join(args.build, "bin", "modelstudio-cli")
    peak = matmul_peak_gflops(args.threads)
    print(f"fp32 matmul peak ({args.threads} thread(s), 2048x2048 torch.mm): {peak:.1f} GFLOP/s")
    print(f"oneDNN 5x5 convolution forward (the cnn's second layer, batch 128): "
          f"{conv_rate_gflops(args.threads):.1f} GFLOP/s")
    rows = []
    with tempfile.TemporaryDirectory() as workspace:
        for arch, epochs in (("mlp", args.mlp_epochs), ("cnn", args.cnn_epochs)):
            if epochs < 1:
                continue
            ratios, ours_all, peer_all = [], [], []
            for r in range(args.rounds):
                order = ("studio", "peer") if r % 2 == 0 else ("peer", "studio")
                for who in order:
                    if who == "studio":
                        start, ours = run_studio(cli, arch, epochs, args.threads, workspace)
                    else:
                        info, peer = run_peer(arch, epochs, args.threads)
                # Median over epochs: robust to one disturbed epoch.
                ours_sps = statistics.median(e["samples_per_s"] for e in ours)
                peer_sps = statistics.median(e["train_samples_per_s"] for e in peer)
                ours_all.append(ours_sps)
                peer_all.append(peer_sps)
                ratios.append(ours_sps / peer_sps)
                print(f"  {arch} round {r + 1}: studio {ours_sps:,.0f}, python {peer_sps:,.0f} "
                      f"samples/s, ratio {ratios[-1]:.3f}", flush=True)
            ours_sps = statistics.median(ours_all)
            peer_sps = statistics.median(peer_all)
            # Training costs about 3x the forward pass (forward + two products backward),
            # 2 FLOPs per multiply-accumulate.
            flops_per_sample = 6 * start["macs"]
            rows.append({
                "arch": arch, "params": start["params"], "peer_params": info["params"],
                "epochs": epochs, "threads": args.threads, "rounds": args.rounds,
                "studio_samples_per_s": round(ours_sps), "peer_samples_per_s": round(peer_sps),
                "ratio": round(statistics.median(ratios), 3),
                "ratio_min": round(min(ratios), 3), "ratio_max": round(max(ratios), 3),
                "studio_peak_fraction": round(ours_sps * flops_per_sample / (peak * 1e9), 3),
                "peer_peak_fraction": round(peer_sps * flops_per_sample / (peak * 1e9), 3),
                "studio_test_acc": ours[-1]["test_acc"], "peer_test_acc": peer[-1]["test_acc"],
            })
            print(json.dumps(rows[-1]), flush=True)
    print()
    print("| arch | params | threads | studio samples/s | Python samples/s | ratio (median, range) | "
          "studio % of peak | Python % of peak | studio test acc | Python test acc |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['arch']} | {r['params']:,} | {r['threads']} | {r['studio_samples_per_s']:,} | "
              f"{r['peer_samples_per_s']:,} | {r['ratio']:.2f}x ({r['ratio_min']:.2f}-{r['ratio_max']:.2f}) | "
              f"{100 * r['studio_peak_fraction']:.1f} % | {100 * r['peer_peak_fraction']:.1f} % | "
              f"{r['studio_test_acc']:.4f} | {r['peer_test_acc']:.4f} |")


if __name__ == "__main__":
    sys.exit(main())
