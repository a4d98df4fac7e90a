#!/usr/bin/python3
"""Sweep benchmark: `modelstudio-cli sweep` against Optuna (TPE + successive halving).

The issue 12 space on Fashion-MNIST (mlp, --limit 12000, 4 epochs, 16 trials, 2 in parallel,
1 thread each), for each seed:
  - the studio: `sweep --config` with the model-based sampler (dlib) and ASHA (min 1 epoch,
    reduction 3), and with "early_stop": "none" (for the ASHA-vs-none comparison);
  - the peer: bench/peers/optuna_peer_sweep.py (Optuna 3.1 TPE, SuccessiveHalvingPruner with
    min_resource 1 and reduction_factor 3, threads n_jobs=2), the same space, split and init.
Printed per seed and as medians: the best trial's validation accuracy, the trial-epochs spent,
wall time, and where the studio's trial time went (from every trial's `metrics`, which the
sweep records for finished and stopped trials alike): `wall_s` from the trial's launch (the
sampler's proposal) to its command's end in the slot's process, `train_s` its epochs'
training, `score_s` their scoring (the validation split every epoch, the test split after the
last one: `train --test-at-end`), `write_s` its checkpoint and curve writes; the overhead is
what is left (the proposal, the hand-over, the run's set-up, registry writes, a stop's
latency). A slot's process starts once per sweep (LibTorch's start-up and the data read, the
sweep's `process_start_s`): its first trial waits for it, so the overhead is shown for the
trials that ran in a started process and, separately, the start-up as a share of all trial
time. Optuna's figures exclude its own start (import, data read: its `load_s`).
Needs the built CLI (--build) and python3-optuna (scripts/setup.sh).
Usage: bench/sweep_bench.py [--build build] [--seeds 0,1,2] [--trials 16] [--epochs 4]
                            [--limit 12000] [--parallel 2] [--startup N]
                            [--searches "studio asha,optuna sha,studio none"] [--sampler model]
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
        "sampler": args.sampler,
        "early_stop": ({"rule": "asha", "min_epochs": 1, "reduction": 3}
                       if early_stop == "asha" else {"rule": "none"}),
    }
    if args.sampler == "model" and args.startup:
        sweep["startup_trials"] = args.startup
    path = os.path.join(ws, f"sweep-{early_stop}-{seed}.json")
    with open(path, "w") as f:
        json.dump(sweep, f)
    out = subprocess.run([cli, "sweep", "--config", path, "--json", "--no-register",
                          "--workspace", ws], check=True, capture_output=True, text=True).stdout
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    end = lines[-1]
    trials = [t for t in lines if t.get("event") == "trial"]
    timed = [t["metrics"] for t in trials if "wall_s" in t.get("metrics", {})]
    warm = [m for m in timed if m.get("process_trial", 1) > 1]
    def total(ms, key):
        return sum(m.get(key, 0.0) for m in ms)
    overhead = [m["wall_s"] - m["train_s"] - m["score_s"] - m.get("write_s", 0.0) for m in warm]
    return {"best": end["best"]["value"], "trial_epochs": end["trial_epochs"],
            "wall_s": end["wall_s"], "trials": len(timed), "warm_trials": len(warm),
            "trial_wall_s": total(timed, "wall_s"), "write_s": total(timed, "write_s"),
            "warm_wall_s": total(warm, "wall_s"), "warm_overhead_s": sum(overhead),
            "overhead_ms_median": 1000 * statistics.median(overhead) if overhead else 0.0,
            "process_start_s": end.get("process_start_s", 0.0),
            "processes": end.get("processes", 0), "sweep_cpu_s": end.get("sweep_cpu_s", 0.0)}


def optuna(seed, args, pruner):
    out = subprocess.run(["/usr/bin/python3", PEER, "--seed", str(seed), "--trials",
                          str(args.trials), "--epochs", str(args.epochs), "--limit",
                          str(args.limit), "--parallel", str(args.parallel), "--threads", "1",
                          "--pruner", pruner, "--json"],
                         check=True, capture_output=True, text=True).stdout
    end = [json.loads(l) for l in out.splitlines() if l.strip()][-1]
    return {"best": end["best"]["value"], "trial_epochs": end["trial_epochs"],
            "wall_s": end["wall_s"], "load_s": end.get("load_s", 0.0)}


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
    ap.add_argument("--sampler", default="model", choices=["model", "random", "grid"],
                    help="the studio's sampler (default model: dlib)")
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
            if r.get("warm_trials"):
                r["overhead_share"] = r["warm_overhead_s"] / r["warm_wall_s"]
                r["write_share"] = r["write_s"] / r["trial_wall_s"]
                r["start_share"] = r["process_start_s"] / r["trial_wall_s"]
                extra = (f"; {r['trials']} trials, {r['warm_trials']} in a started process: "
                         f"overhead {r['overhead_ms_median']:.0f} ms median, "
                         f"{100 * r['overhead_share']:.1f} % of their time; writes "
                         f"{100 * r['write_share']:.1f} %; {r['processes']} process starts "
                         f"{r['process_start_s']:.2f} s ({100 * r['start_share']:.1f} % of all "
                         f"trial time); sweep CPU {r['sweep_cpu_s']:.2f} s")
            elif "load_s" in r:
                extra = f" (+ {r['load_s']:.1f} s import and data read before)"
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
        if not o:
            continue
        w = [r["write_share"] for r in rs]
        st = [r["start_share"] for r in rs]
        ms = [r["overhead_ms_median"] for r in rs]
        print(f"{name}: overhead per trial in a started process {100 * med(o):.1f} % of its "
              f"time ({100 * min(o):.1f}-{100 * max(o):.1f} %; median {med(ms):.0f} ms); "
              f"checkpoint and curve writes {100 * med(w):.1f} %; process start-up once per "
              f"slot {100 * med(st):.1f} % of all trial time ({100 * min(st):.1f}-"
              f"{100 * max(st):.1f} %)")


if __name__ == "__main__":
    main()
