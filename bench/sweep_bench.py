#!/usr/bin/python3
"""Sweep benchmark: `modelstudio-cli sweep` against Optuna (TPE + successive halving).

The issue 12 space on Fashion-MNIST (mlp, --limit 12000, 4 epochs, 16 trials, 2 in parallel,
1 thread each), for each seed:
  - the studio: `sweep --config` with the model-based sampler (dlib) and ASHA (min 1 epoch,
    reduction 3), and with "early_stop": "none" (for the ASHA-vs-none comparison);
  - the peer: bench/peers/optuna_peer_sweep.py (Optuna 3.1 TPE, SuccessiveHalvingPruner with
    min_resource 1 and reduction_factor 3, threads n_jobs=2), the same space, split and init.
Printed per seed and as medians: the best trial's validation accuracy, the trial-epochs spent,
wall time, and the studio's time per trial (from every trial's `metrics`, which the sweep
records for finished and stopped trials alike): `wall_s` from the trial's launch to its
process's end (the sweep starts the next trial's process, which starts LibTorch and reads the
data, while the running ones train), `train_s` its epochs' training, `score_s` their scoring
(the validation split every epoch, the test split after the last one: `train --test-at-end`),
and the overhead, what is left (what of the start and the data read was not done ahead,
registry and checkpoint writes, the process's exit), as a share of the trial's time.
Needs the built CLI (--build) and python3-optuna (scripts/setup.sh).
Usage: bench/sweep_bench.py [--build build] [--seeds 0,1,2] [--trials 16] [--epochs 4]
                            [--limit 12000] [--parallel 2] [--startup N]
                            [--searches "studio asha,optuna sha,studio none"]
Figures are recorded in bench/README.md with the command that produced them."""
import argparse, json, os, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "peers", "optuna_peer_sweep.py")


def studio(cli, ws, seed, args, early_stop):
    sweep = {
        "name": f"bench-{early_stop}-{seed}",
        "train": {"dataset": "fashion-mnist", "arch": "mlp", "epochs": args.epochs,
                  "limit": args.limit, "seed": seed},
        "space": {
            "lr": {"log_uniform": [1e-4, 1e-2]},
            "batch_size": {"choice": [32, 64, 128]},
            "weight_decay": {"log_uniform": [1e-6, 1e-3]},
            "optimizer": {"choice": ["adam", "sgd"]},
            "arch.width": {"int_log_uniform": [32, 512]},
            "arch.dropout": {"uniform": [0.0, 0.5]},
        },
        "objective": {"metric": "val_acc", "goal": "max"},
        "trials": args.trials, "parallel": args.parallel, "seed": seed, "threads": 1,
        "sampler": "model", "startup_trials": args.startup,
        "early_stop": ({"rule": "asha", "min_epochs": 1, "reduction": 3}
                       if early_stop == "asha" else {"rule": "none"}),
    }
    path = os.path.join(ws, f"sweep-{early_stop}-{seed}.json")
    with open(path, "w") as f:
        json.dump(sweep, f)
    out = subprocess.run([cli, "sweep", "--config", path, "--json", "--no-register",
                          "--workspace", ws], check=True, capture_output=True, text=True).stdout
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    end = lines[-1]
    trials = [t for t in lines if t.get("event") == "trial"]
    timed = [t["metrics"] for t in trials if "wall_s" in t.get("metrics", {})]
    wall = sum(m["wall_s"] for m in timed)
    train = sum(m["train_s"] for m in timed)
    score = sum(m["score_s"] for m in timed)
    return {"best": end["best"]["value"], "trial_epochs": end["trial_epochs"],
            "wall_s": end["wall_s"], "trials": len(timed), "trial_wall_s": wall,
            "train_s": train, "score_s": score}


def optuna(seed, args, pruner):
    out = subprocess.run(["/usr/bin/python3", PEER, "--seed", str(seed), "--trials",
                          str(args.trials), "--epochs", str(args.epochs), "--limit",
                          str(args.limit), "--parallel", str(args.parallel), "--threads", "1",
                          "--pruner", pruner, "--json"],
                         check=True, capture_output=True, text=True).stdout
    end = [json.loads(l) for l in out.splitlines() if l.strip()][-1]
    return {"best": end["best"]["value"], "trial_epochs": end["trial_epochs"],
            "wall_s": end["wall_s"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--limit", type=int, default=12000)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--startup", type=int, default=0,
                    help="the studio's random start-up trials before dlib (Optuna's TPE: 10)")
    ap.add_argument("--searches", default="studio asha,optuna sha,studio none",
                    help="which of the three searches to run (comma-separated)")
    args = ap.parse_args()
    wanted = [w.strip() for w in args.searches.split(",")]
    cli = os.path.abspath(os.path.join(args.build, "bin", "modelstudio-cli"))
    ws = tempfile.mkdtemp(prefix="sweep-bench-")
    rows = {"studio asha": [], "studio none": [], "optuna sha": []}
    for seed in [int(s) for s in args.seeds.split(",")]:
        for name, run in (("studio asha", lambda: studio(cli, ws, seed, args, "asha")),
                          ("optuna sha", lambda: optuna(seed, args, "sha")),
                          ("studio none", lambda: studio(cli, ws, seed, args, "none"))):
            if name not in wanted:
                continue
            r = run()
            rows[name].append(r)
            extra = ""
            if r.get("trials"):
                n = r["trials"]
                overhead = r["trial_wall_s"] - r["train_s"] - r["score_s"]
                r["overhead_share"] = overhead / r["trial_wall_s"]
                extra = (f"; per trial {r['trial_wall_s'] / n:.2f} s: training "
                         f"{r['train_s'] / n:.2f}, scoring {r['score_s'] / n:.2f}, overhead "
                         f"{overhead / n:.2f} s ({100 * r['overhead_share']:.1f} %)")
            print(f"  seed {seed} {name}: best val_acc {r['best']:.4f}, "
                  f"{r['trial_epochs']} trial-epochs, {r['wall_s']:.1f} s{extra}",
                  file=sys.stderr, flush=True)
    med = statistics.median
    print(f"\n{args.trials} trials, {args.epochs} epochs, mlp --limit {args.limit}, "
          f"{args.parallel} parallel x 1 thread; studio start-up trials {args.startup}; "
          f"seeds {args.seeds}; medians (range)")
    print("| search | best val_acc | trial-epochs | wall s |")
    print("|---|---|---|---|")
    for name, rs in rows.items():
        if not rs:
            continue
        b = [r["best"] for r in rs]
        e = [r["trial_epochs"] for r in rs]
        w = [r["wall_s"] for r in rs]
        print(f"| {name} | {med(b):.4f} ({min(b):.4f}-{max(b):.4f}) | {med(e):.0f} "
              f"({min(e)}-{max(e)}) | {med(w):.0f} ({min(w):.0f}-{max(w):.0f}) |")
    for name, rs in rows.items():
        o = [r["overhead_share"] for r in rs if "overhead_share" in r]
        if o:
            print(f"{name}: overhead per trial {100 * med(o):.1f} % of its time "
                  f"({100 * min(o):.1f}-{100 * max(o):.1f} %)")


if __name__ == "__main__":
    main()
