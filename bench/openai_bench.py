#!/usr/bin/python3
"""Serving a language model: aggregate tokens/s and time to first token with 1 and N concurrent
streams on `/v1/completions`, continuous batching against the same server interleaving the
streams one row per decode step (`serve --no-batch-generations`), in one run.

The model: a gpt of the default shape (lm_peer.py's, 875,264 parameters, block_size 128)
trained here for a few steps on `fortunes` unless --model names a version of --workspace (the
weights do not matter for speed). Each stream is one streamed request (`stream: true`,
`max_tokens` --max-tokens, temperature 1, its own seed); a stream's time to first token is from
sending the request to the first chunk with text; aggregate tokens/s is the tokens of every
stream (their usage chunks) over the round's wall time. The client is Python's stdlib
(http.client, one thread per stream) on the same cores as the server: with 2 cores the client
takes some of the server's time. The configurations alternate for --rounds rounds; each row is
the median over rounds, and the ratios are medians of per-round ratios.

Usage: bench/openai_bench.py [--build build] [--workspace DIR] [--model REF] [--streams 1,16]
                             [--max-tokens 128] [--rounds 3] [--threads 1]
Figures are recorded in bench/README.md with the command that produced them."""
import argparse, http.client, json, os, socket, statistics, subprocess, sys, tempfile, threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train(cli, workspace):
    subprocess.run([cli, "--workspace", workspace, "train", "--dataset", "fortunes", "--task",
                    "lm", "--arch", "gpt", "--epochs", "1", "--steps-per-epoch", "20",
                    "--threads", "2", "--name", "bench-gpt"],
                   check=True, stdout=subprocess.DEVNULL)
    return "bench-gpt"


class Server:
    def __init__(self, cli, workspace, model, threads, batched):
        self.port = free_port()
        args = [cli, "--workspace", workspace, "serve", model, "--port", str(self.port),
                "--threads", str(threads), "--max-tokens-cap", "4096", "--json"]
        if not batched:
            args.append("--no-batch-generations")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        line = self.proc.stdout.readline()
        if '"listening"' not in line:
            raise SystemExit("serve did not start: " + line)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def stream(port, model, seed, max_tokens, out):
    body = json.dumps({"model": model, "prompt": "Q: ", "max_tokens": max_tokens,
                       "temperature": 1.0, "seed": seed, "stream": True,
                       "stream_options": {"include_usage": True}})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    first, tokens = None, 0
    for raw in resp:   # the SSE lines
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if chunk.get("usage"):
            tokens = chunk["usage"]["completion_tokens"]
        elif first is None and chunk["choices"] and chunk["choices"][0].get("text"):
            first = time.perf_counter() - start
    conn.close()
    out.append((first if first is not None else time.perf_counter() - start, tokens))


def round_of(port, model, streams, max_tokens, seed0):
    results, threads = [], []
    start = time.perf_counter()
    for i in range(streams):
        t = threading.Thread(target=stream, args=(port, model, seed0 + i, max_tokens, results))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    tokens = sum(n for _, n in results)
    return tokens / wall, [f for f, _ in results], tokens


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--workspace")
    ap.add_argument("--model")
    ap.add_argument("--streams", default="1,16")
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    cli = os.path.join(a.build, "bin", "modelstudio-cli")
    workspace = a.workspace or tempfile.mkdtemp(prefix="openai-bench-")
    model = a.model or train(cli, workspace)
    counts = [int(x) for x in a.streams.split(",")]
    configs = [(batched, n) for n in counts for batched in (True, False) if batched or n > 1]
    rows = {c: {"tps": [], "ttft": []} for c in configs}
    ratios = {n: [] for n in counts if n > 1}
    servers = {b: Server(cli, workspace, model, a.threads, b) for b in (True, False)}
    try:
        round_of(servers[True].port, model, 2, 8, 0)    # warm-up
        round_of(servers[False].port, model, 2, 8, 0)
        for r in range(a.rounds):
            order = configs if r % 2 == 0 else list(reversed(configs))
            measured = {}
            for batched, n in order:
                tps, ttft, _ = round_of(servers[batched].port, model, n, a.max_tokens, 100 * r)
                rows[(batched, n)]["tps"].append(tps)
                rows[(batched, n)]["ttft"].extend(ttft)
                measured[(batched, n)] = tps
            for n in ratios:
                ratios[n].append((measured[(True, n)] / measured[(True, 1)],
                                  measured[(True, n)] / measured[(False, n)]))
    finally:
        for s in servers.values():
            s.stop()
    print(f"model {model}, max_tokens {a.max_tokens}, server threads {a.threads}, "
          f"{a.rounds} rounds")
    print(f"{'streams':>8} {'batching':>12} {'tokens/s':>10} {'TTFT p50 ms':>12} "
          f"{'TTFT p99 ms':>12}")
    for batched, n in configs:
        row = rows[(batched, n)]
        print(f"{n:>8} {'continuous' if batched else 'interleaved':>12} "
              f"{statistics.median(row['tps']):>10.0f} {1000 * pct(row['ttft'], 0.5):>12.1f} "
              f"{1000 * pct(row['ttft'], 0.99):>12.1f}")
    for n, values in ratios.items():
        vs_one = sorted(v[0] for v in values)
        vs_peer = sorted(v[1] for v in values)
        print(f"{n} streams: {statistics.median(vs_one):.2f}x one stream "
              f"({vs_one[0]:.2f}-{vs_one[-1]:.2f}), {statistics.median(vs_peer):.2f}x "
              f"interleaved ({vs_peer[0]:.2f}-{vs_peer[-1]:.2f})")


if __name__ == "__main__":
    sys.exit(main())
