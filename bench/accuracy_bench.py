#!/usr/bin/python3
"""Accuracy on the full Fashion-MNIST test set (10,000 images) after the issue's epoch budgets:
cnn 3 epochs (the dataset README's "2 Conv <100K parameters" row: 0.925), mlp 10 epochs (its
MLP 256-128-100 row: 0.883). Trains with the studio's defaults (Adam, lr 1e-3, batch 128,
10 % of the training images held out for validation, seed 0).

Usage: bench/accuracy_bench.py [--build build] [--threads 2]"""
import argparse, json, os, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BUDGETS = (("cnn", 3, 0.90, 0.925), ("mlp", 10, 0.88, 0.883))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    cli = os.path.join(args.build, "bin", "modelstudio-cli")
    rows = []
    with tempfile.TemporaryDirectory() as workspace:
        for arch, epochs, target, reference in BUDGETS:
            cmd = [cli, "train", "--arch", arch, "--epochs", str(epochs), "--seed", "0",
                   "--threads", str(args.threads), "--json", "--workspace", workspace]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
            final = None
            for line in proc.stdout:
                e = json.loads(line)
                if e["event"] == "epoch":
                    print(f"{arch} epoch {e['epoch']}/{epochs}: val_acc {e['val_acc']:.4f} "
                          f"test_acc {e['test_acc']:.4f} ({e['samples_per_s']:.0f} samples/s)",
                          flush=True)
                    final = e
            if proc.wait() != 0 or final is None:
                print(f"{arch}: training failed", file=sys.stderr)
                return 1
            rows.append((arch, epochs, final["test_acc"], target, reference))
    print()
    print("| arch | epochs | test accuracy | target | published reference |")
    print("|---|---|---|---|---|")
    for arch, epochs, acc, target, reference in rows:
        mark = "meets" if acc >= target else "MISSES"
        print(f"| {arch} | {epochs} | {acc:.4f} | >= {target} ({mark}) | {reference} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
