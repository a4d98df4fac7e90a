#!/usr/bin/python3
"""The peer of bench/explain_bench.cpp: the same attribution maps in plain PyTorch (no Captum),
on the same files, for one 28x28 input of uniform values in [0, 1] (its own generator: the
speed does not depend on the values). Integrated gradients: 50 points a_k =
k/49 from the black baseline, all in one batched forward and backward, trapezoid weights.
Occlusion of the int8 file: window 4, stride 2 (13 x 13 windows), all occluded copies in one
batched forward. Prints {"ig_ms", "occlusion_ms"}: medians of REPS runs after two warm-ups.

usage: explain_peer.py FP32.pt INT8.pt THREADS REPS
"""
import json
import statistics
import sys
import time

import torch


def integrated_gradients(model, x, steps=50):
    alphas = torch.linspace(0, 1, steps).view(-1, 1, 1, 1)
    w = torch.full((steps,), 1.0 / (steps - 1))
    w[0] /= 2
    w[-1] /= 2
    with torch.no_grad():
        target = int(model(x).argmax(1))
    path = (alphas * x).requires_grad_(True)
    grads, = torch.autograd.grad(model(path)[:, target].sum(), path)
    return x[0] * (grads * w.view(-1, 1, 1, 1)).sum(0)


def occlusion(model, x, window=4, stride=2):
    starts = list(range(0, 28 - window + 1, stride))
    if starts[-1] + window < 28:
        starts.append(28 - window)
    with torch.no_grad():
        ref = model(x)[0]
        target = int(ref.argmax())
        batch = x.repeat(len(starts) ** 2, 1, 1, 1)
        k = 0
        for r in starts:
            for c in starts:
                batch[k, :, r:r + window, c:c + window] = 0
                k += 1
        drops = ref[target] - model(batch)[:, target]
        total = torch.zeros(28, 28, dtype=torch.float64)
        count = torch.zeros(28, 28, dtype=torch.float64)
        k = 0
        for r in starts:
            for c in starts:
                total[r:r + window, c:c + window] += float(drops[k])
                count[r:r + window, c:c + window] += 1
                k += 1
    return total / count


def median_ms(fn, reps):
    for _ in range(2):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def main():
    fp32, int8, threads, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    x = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    model = torch.jit.load(fp32).eval()
    torch.backends.quantized.engine = torch.jit.load(int8).quantized_engine
    quantized = torch.jit.load(int8).eval()
    print(json.dumps({'ig_ms': median_ms(lambda: integrated_gradients(model, x), reps),
                      'occlusion_ms': median_ms(lambda: occlusion(quantized, x), reps)}))


main()
