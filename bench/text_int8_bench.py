#!/usr/bin/python3
"""Dynamic int8 of an imported text classifier, through the CLI as a user would run it.

    /usr/bin/python3 bench/text_int8_bench.py [--build build] [--rounds 5] [--batch 32]
        [--length 128] [--threads 1]

Scripts a two-layer nn.TransformerEncoder text classifier in Python (embedding of 8,000 ids,
d_model 256, 8 heads, feed-forward 1,024, mean pooling, Linear to 4 classes), imports it with
`modelstudio-cli import --input-shape 1,LENGTH --input-dtype int64`, makes its
`compress --method quantize-dynamic` variant, and times both with `modelstudio-cli bench`
(int64 ids of the recorded shape, no dataset) in alternating rounds: fp32 then int8, then int8
then fp32, and so on. Prints each round's p50 at the batch size and the median of the per-round
ratios fp32 / int8 with their range, the artifact sizes, and the largest difference of the two
versions' outputs on a fixed batch relative to the fp32 output's scale.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

MAKE = r'''
import sys, torch
torch.manual_seed(0)
class TextClassifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(8000, 256)
        layer = torch.nn.TransformerEncoderLayer(256, nhead=8, dim_feedforward=1024,
                                                 dropout=0.0, batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, num_layers=2)
        self.head = torch.nn.Linear(256, 4)
    def forward(self, ids):
        return self.head(self.encoder(self.embed(ids)).mean(dim=1))
torch.jit.script(TextClassifier().eval()).save(sys.argv[1])
'''

COMPARE = r'''
import json, sys, torch
g = torch.Generator().manual_seed(3)
x = torch.randint(0, 8000, (8, int(sys.argv[3])), generator=g)
with torch.no_grad():
    a = torch.jit.load(sys.argv[1]).eval()(x)
    torch.backends.quantized.engine = sys.argv[4]
    b = torch.jit.load(sys.argv[2]).eval()(x)
print(json.dumps({"max_abs": float((a - b).abs().max()), "scale": float(a.abs().max()),
                  "argmax_agree": float((a.argmax(1) == b.argmax(1)).float().mean())}))
'''


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def last_json(text):
    lines = [l for l in text.splitlines() if l.startswith("{")]
    return json.loads(lines[-1])


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=os.path.join(here, "build"))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--length", type=int, default=128)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repetitions", type=int, default=20)
    a = p.parse_args()
    cli = os.path.join(a.build, "bin", "modelstudio-cli")
    tmp = tempfile.mkdtemp(prefix="text-int8-bench-")
    ws = ["--workspace", os.path.join(tmp, "ws")]
    model = os.path.join(tmp, "textcls.pt")
    script = os.path.join(tmp, "make.py")
    open(script, "w").write(MAKE)
    run(["/usr/bin/python3", script, model])
    fp32 = last_json(run([cli, "import", model, "--name", "textcls", "--input-shape",
                          "1,%d" % a.length, "--input-dtype", "int64", "--json"] + ws))
    fp32_ref = fp32["ref"]
    out = run([cli, "compress", fp32_ref, "--method", "quantize-dynamic", "--name",
               "textcls-int8", "--json"] + ws)
    finished = [json.loads(l) for l in out.splitlines() if l.startswith("{")][-1]
    int8_ref = finished["version"]

    def p50(ref):
        res = last_json(run([cli, "bench", ref, "--batch-sizes", str(a.batch), "--threads",
                             str(a.threads), "--repetitions", str(a.repetitions),
                             "--no-accuracy", "--json"] + ws))
        return res["latency"][0]["p50_ms"], res

    ratios, rows = [], []
    info = {}
    for i in range(a.rounds):
        order = [fp32_ref, int8_ref] if i % 2 == 0 else [int8_ref, fp32_ref]
        t = {}
        for ref in order:
            t[ref], info[ref] = p50(ref)
        ratios.append(t[fp32_ref] / t[int8_ref])
        rows.append((i + 1, t[fp32_ref], t[int8_ref], ratios[-1]))
    print("round | fp32 p50 ms | int8 p50 ms | fp32 / int8")
    for r in rows:
        print("%5d | %11.3f | %11.3f | %.2fx" % r)
    print("median fp32 / int8 at batch %d, length %d, %d thread(s): %.2fx (%.2f-%.2f)"
          % (a.batch, a.length, a.threads, statistics.median(ratios), min(ratios), max(ratios)))
    for ref in (fp32_ref, int8_ref):
        print("%s: %.1f KiB" % (ref, info[ref]["size_bytes"] / 1024))
    engine = finished["details"]["quantized_engine"]
    print("int8 variant: %d Linear layers int8, %d left fp32, %d fused fast paths bypassed, "
          "engine %s" % (len(finished["details"]["quantized_layers"]),
                         finished["details"]["linear_left_fp32"],
                         finished["details"].get("fused_fast_paths_bypassed", 0), engine))
    paths = [json.loads(run([cli, "show", r, "--json"] + ws))["artifact_path"]
             for r in (fp32_ref, int8_ref)]
    cmp_script = os.path.join(tmp, "compare.py")
    open(cmp_script, "w").write(COMPARE)
    print("outputs:", run(["/usr/bin/python3", cmp_script, paths[0], paths[1],
                           str(a.length), engine]).strip())
    print("workspace:", tmp, file=sys.stderr)


if __name__ == "__main__":
    main()
