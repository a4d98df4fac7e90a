#!/usr/bin/python3
"""Language-model benchmark: the studio's gpt against bench/peers/lm_peer.py, in one run.

Both train the peer's configuration on Debian's fortunes with the byte tokenizer and the same
split (4 layers, 4 heads, n_embd 128, context 128, batch 32, AdamW lr 1e-3 -> 1e-4 cosine after
100 warm-up steps, weight decay 0.1 on matrices, beta2 0.99, gradient norm clipped to 1, no
dropout), one thread, for --steps steps with an evaluation every --eval-every (the studio: one
epoch per evaluation). Reported per side: training tokens/s (training time only, evaluations
excluded), validation loss on the peer's 64 evenly spaced windows after the last step, and
generation tokens/s at batch 1 and 1 thread, prompt "Q: ", temperature 0.8, top-k 40, with the
key/value cache and recomputing the context (the peer: best of 2 after a warm-up; the studio:
best of 2 `generate --json` processes, counting from the second token so the first call's
TorchScript profiling is left out as the peer's warm-up leaves it out; the first-token time is
printed beside).

With --int8, each side also makes a dynamic int8 variant of its trained model (int8 Linear
layers; the studio: `compress --method quantize-dynamic`, engine auto, chosen by measuring a
one-token call; the peer: torch.quantization.quantize_dynamic under each engine) and reports its
validation loss, file size and cached generation tokens/s, so the studio's int8 is compared with
the peer's int8 on the engine the studio chose.

Speed on a shared machine drifts: the two trainings run one after the other (the studio first,
then the peer, or the other way round with --peer-first), so compare ratios from one run only.

Usage: bench/lm_bench.py [--build build] [--steps 2000] [--eval-every 250] [--generate 500]
                         [--int8] [--peer-first | --concurrent] [--keep WORKSPACE]
Figures are recorded in bench/README.md with the command that produced them."""
import argparse, concurrent.futures, json, os, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = dict(n_layer=4, n_head=4, n_embd=128, block=128, batch=32, lr=1e-3, min_lr=1e-4,
              warmup=100)


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


def run_peer(steps, eval_every, generate, int8):
    cmd = ["/usr/bin/python3", os.path.join(HERE, "peers", "lm_peer.py"), "--steps", str(steps),
           "--eval-every", str(eval_every), "--threads", "1", "--generate", str(generate)]
    if int8:
        cmd.append("--int8")
    events = json_lines(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    finished = next(e for e in events if e.get("event") == "finished")
    gen = {e["kv_cache"]: e["tokens_per_s"] for e in events
           if e.get("event") == "generate" and e.get("model") == "fp32"}
    params = next(e for e in events if e.get("event") == "model")["params"]
    out = {"params": params, "train_tokens_per_s": finished["train_tokens_per_s"],
           "val_loss": finished["val_loss"], "train_s": finished["train_s"],
           "gen_cached": gen.get(True), "gen_full": gen.get(False)}
    for e in events:
        if e.get("event") == "int8":
            out.setdefault("int8", {})[e["engine"]] = {
                "val_loss_delta": round(e["val_loss"] - e["fp32_val_loss"], 4),
                "size_ratio": round(e["fp32_size_bytes"] / e["size_bytes"], 2)}
        elif e.get("event") == "int8_speed":
            out["int8"][e["engine"]]["gen_cached"] = e["cached_tokens_per_s"]
    return out


def generation_speed(cli, workspace, version, generate, cached):
    """Best of 2 `generate --json` processes: steady tokens/s (from the second token), the
    first token's time and the text."""
    runs = []
    for _ in range(2):
        cmd = [cli, "generate", version, "--workspace", workspace, "--json",
               "--prompt", "Q: ", "--max-tokens", str(generate), "--temperature", "0.8",
               "--top-k", "40", "--threads", "1", "--seed", "1234"]
        if not cached:
            cmd.append("--no-cache")
        end = json_lines(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)[-1]
        steady = (end["completion_tokens"] - 1) / (end["total_s"] - end["first_token_s"])
        runs.append((steady, end["first_token_s"], end["text"]))
    return max(runs)


def studio_int8(cli, workspace, version, generate):
    cmd = [cli, "compress", version, "--method", "quantize-dynamic", "--workspace", workspace,
           "--threads", "1", "--json"]
    end = json_lines(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)[-1]
    sizes = {}
    for ref in (version, end["version"]):
        shown = json.loads(subprocess.run([cli, "show", ref, "--workspace", workspace, "--json"],
                                          check=True, capture_output=True, text=True).stdout)
        sizes[ref] = os.path.getsize(shown["artifact_path"])
    best = generation_speed(cli, workspace, end["version"], generate, True)
    return {"version": end["version"], "engine": end["details"]["quantized_engine"],
            "engine_forward_ms": end["details"].get("engine_forward_ms"),
            "val_loss_delta": round(end["metrics"]["val_loss_delta"], 4),
            "size_ratio": round(sizes[version] / sizes[end["version"]], 2),
            "gen_cached": round(best[0], 1)}


def run_studio(cli, workspace, steps, eval_every, generate, int8):
    c = CONFIG
    cmd = [cli, "train", "--workspace", workspace, "--json", "--dataset", "fortunes",
           "--task", "lm", "--arch", "gpt", "--n-layer", str(c["n_layer"]),
           "--n-head", str(c["n_head"]), "--n-embd", str(c["n_embd"]),
           "--block-size", str(c["block"]), "--dropout", "0", "--batch-size", str(c["batch"]),
           "--epochs", str(steps // eval_every), "--steps-per-epoch", str(eval_every),
           "--optimizer", "adamw", "--lr", str(c["lr"]), "--min-lr", str(c["min_lr"]),
           "--weight-decay", "0.1", "--beta2", "0.99", "--schedule", "cosine",
           "--warmup-steps", str(c["warmup"]), "--clip-grad-norm", "1", "--threads", "1",
           "--seed", "0", "--name", "bench-gpt"]
    events = json_lines(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    start = next(e for e in events if e.get("event") == "start")
    epochs = [e for e in events if e.get("event") == "epoch"]
    finished = next(e for e in events if e.get("event") == "finished")
    train_s = sum(e["epoch_s"] for e in epochs)
    out = {"params": start["params"], "version": finished["version"],
           "train_tokens_per_s": round(steps * c["batch"] * c["block"] / train_s),
           "val_loss": round(epochs[-1]["val_loss"], 4), "train_s": round(train_s, 1)}
    for cached in (True, False):
        best = generation_speed(cli, workspace, finished["version"], generate, cached)
        out["gen_cached" if cached else "gen_full"] = round(best[0], 1)
        out["first_token_ms_cached" if cached else "first_token_ms_full"] = round(best[1] * 1e3)
        if cached:
            out["sample"] = "Q: " + best[2]
    if int8:
        out["int8"] = studio_int8(cli, workspace, finished["version"], generate)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--generate", type=int, default=500)
    ap.add_argument("--peer-first", action="store_true")
    ap.add_argument("--concurrent", action="store_true",
                    help="run both sides at once, one core each (half the wall time; both "
                         "see the same machine, so the ratios hold on a machine with two "
                         "free cores)")
    ap.add_argument("--int8", action="store_true", help="also compare dynamic int8 variants")
    ap.add_argument("--keep", default="", help="workspace to keep the studio's version in")
    a = ap.parse_args()
    if a.steps % a.eval_every:
        sys.exit("--steps must be a multiple of --eval-every")
    cli = os.path.join(a.build, "bin", "modelstudio-cli")
    workspace = a.keep or tempfile.mkdtemp(prefix="lm-bench-")
    run = {"peer": lambda: run_peer(a.steps, a.eval_every, a.generate, a.int8),
           "studio": lambda: run_studio(cli, workspace, a.steps, a.eval_every, a.generate,
                                        a.int8)}
    order = ("peer", "studio") if a.peer_first else ("studio", "peer")
    if a.concurrent:
        print("running both at once ...", file=sys.stderr, flush=True)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            futures = {who: pool.submit(run[who]) for who in order}
            results = {who: f.result() for who, f in futures.items()}
    else:
        results = {}
        for who in order:
            print(f"running {who} ...", file=sys.stderr, flush=True)
            results[who] = run[who]()
    s, p = results["studio"], results["peer"]
    summary = {"steps": a.steps, "studio": s, "peer": p,
               "train_ratio": round(s["train_tokens_per_s"] / p["train_tokens_per_s"], 3),
               "val_loss_delta": round(s["val_loss"] - p["val_loss"], 4),
               "gen_cached_ratio": round(s["gen_cached"] / p["gen_cached"], 3),
               "gen_full_ratio": round(s["gen_full"] / p["gen_full"], 3)}
    if a.int8:
        engine = s["int8"]["engine"]
        summary["int8_gen_cached_ratio_same_engine"] = round(
            s["int8"]["gen_cached"] / p["int8"][engine]["gen_cached"], 3)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
