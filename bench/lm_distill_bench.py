#!/usr/bin/python3
"""Distillation of a gpt into a smaller gpt against the same student trained alone.

The teacher is a version in a COPY of --teacher-workspace (the workspace is never written: it is
copied to --workspace first), e.g. bench/lm_bench.py --keep's `bench-gpt:1` (2,000 steps on
fortunes, 875,264 parameters). The student is --student (default bench/student-gpt-quarter.json:
4 layers, 4 heads, n_embd 64, context 128: 241,024 parameters, 27.5 % of the teacher's). Both
runs take the teacher's training settings (lm_bench.py's: batch 32, AdamW lr 1e-3 -> 1e-4 cosine
after 100 warm-up steps, weight decay 0.1 on matrices, beta2 0.99, gradient norm clipped to 1,
seed 0, one thread) for --steps steps (--eval-every per epoch):
  distilled: compress TEACHER --method distill --student-arch STUDENT --alpha A --temperature T
  alone:     train --dataset fortunes --task lm --arch STUDENT (the same windows and initial
             weights: distill at --alpha 0 is this run, tst_lmdistill checks it)
and prints each one's validation loss (the teacher's 64 evenly spaced validation windows), the
teacher's on the same windows, and the wall time. --concurrent runs the two at once (one core
each). Figures are recorded in bench/README.md with the command that produced them.

Usage: bench/lm_distill_bench.py --teacher-workspace WS [--teacher bench-gpt:1]
           [--workspace DIR] [--student FILE] [--steps 1000] [--eval-every 250]
           [--alpha 0.5] [--temperature 1] [--concurrent] [--build build]"""
import argparse, concurrent.futures, json, os, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
SETTINGS = ["--batch-size", "32", "--optimizer", "adamw", "--lr", "1e-3", "--min-lr", "1e-4",
            "--weight-decay", "0.1", "--beta2", "0.99", "--schedule", "cosine",
            "--warmup-steps", "100", "--clip-grad-norm", "1", "--threads", "1", "--seed", "0"]


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


def run(cmd):
    start = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), done.stderr[-2000:]))
    return json_lines(done.stdout), time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--teacher-workspace", required=True)
    ap.add_argument("--teacher", default="bench-gpt:1")
    ap.add_argument("--workspace", default="")
    ap.add_argument("--student", default=os.path.join(HERE, "student-gpt-quarter.json"))
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--alpha", default="0.5")
    ap.add_argument("--temperature", default="1")
    ap.add_argument("--concurrent", action="store_true")
    a = ap.parse_args()
    if a.steps % a.eval_every:
        sys.exit("--steps must be a multiple of --eval-every")
    cli = os.path.join(a.build, "bin", "modelstudio-cli")
    ws = a.workspace or tempfile.mkdtemp(prefix="lm-distill-")
    if os.path.exists(os.path.join(ws, "registry.db")):
        sys.exit("%s already holds a workspace; give an empty --workspace" % ws)
    shutil.copytree(a.teacher_workspace, ws, dirs_exist_ok=True)
    epochs = ["--epochs", str(a.steps // a.eval_every), "--steps-per-epoch", str(a.eval_every)]
    distill = [cli, "compress", a.teacher, "--method", "distill", "--student-arch", a.student,
               "--alpha", a.alpha, "--temperature", a.temperature, "--name", "distilled",
               "--workspace", ws, "--json"] + epochs + SETTINGS
    alone = [cli, "train", "--dataset", "fortunes", "--task", "lm", "--arch", a.student,
             "--name", "alone", "--workspace", ws, "--json"] + epochs + SETTINGS
    with concurrent.futures.ThreadPoolExecutor(2 if a.concurrent else 1) as pool:
        jobs = {"distilled": pool.submit(run, distill), "alone": pool.submit(run, alone)}
        results = {k: f.result() for k, f in jobs.items()}
    (d_events, d_s), (a_events, a_s) = results["distilled"], results["alone"]
    d_end, a_end = d_events[-1], next(e for e in a_events if e.get("event") == "finished")
    a_val = [e["val_loss"] for e in a_events if e.get("event") == "epoch"]
    d_val = [e["val_loss"] for e in d_events if e.get("event") == "epoch"]
    out = {"teacher": a.teacher, "student": os.path.basename(a.student), "steps": a.steps,
           "alpha": float(a.alpha), "temperature": float(a.temperature),
           "teacher_val_loss": round(d_end["metrics"]["source_val_loss"], 4),
           "teacher_parameters": d_end["details"]["teacher_parameters"],
           "student_parameters": d_end["details"]["student_parameters"],
           "distilled_val_loss": round(d_end["metrics"]["val_loss"], 4),
           "alone_val_loss": round(a_val[-1], 4),
           "distilled_by_epoch": [round(v, 4) for v in d_val],
           "alone_by_epoch": [round(v, 4) for v in a_val],
           "distilled_s": round(d_s), "alone_s": round(a_s),
           "versions": [d_end["version"], a_end["version"]], "workspace": ws}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
