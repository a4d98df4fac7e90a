#!/usr/bin/python3
"""The peer of bench/quantize_bench: Python's eager static quantization of the same trained cnn.

    bench/quantize_peer.py FP32.pt STUDIO_INT8.pt [--threads 1] [--rounds 5] [--reps 50]

Copies the weights of the studio's fp32 `cnn` artifact into the equivalent nn.Sequential, fuses
Conv+ReLU, quantizes it with torch.ao.quantization on oneDNN (its default qconfig: histogram
observer, per-channel weights), calibrated on the same number of training images as the studio
(320), then times fp32 TorchScript, the Python eager int8 model and the studio's int8 artifact
at batch 32 in alternating rounds, and reports test accuracy of the two int8 models.
"""
import argparse, gzip, statistics, struct, time

import numpy as np
import torch
import torch.ao.quantization as tq
import torch.nn as nn

DATA = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class Net(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
        self.quant = tq.QuantStub()
        self.conv1 = nn.Conv2d(1, 32, 5, padding=2)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(64 * 7 * 7, 10)
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        x = self.quant((x - self.mean) / self.std)
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.dequant(self.fc(self.flatten(x)))


def median_ms(m, x, reps):
    with torch.inference_mode():
        for _ in range(reps // 5 + 2):
            m(x)
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            m(x)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def accuracy(m, x, y):
    with torch.inference_mode():
        return (m(x).argmax(1) == y).float().mean().item()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("fp32")
    p.add_argument("studio_int8")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--reps", type=int, default=50)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.backends.quantized.engine = "onednn"

    train = torch.from_numpy(idx(f"{DATA}/train-images-idx3-ubyte.gz").copy()).float() / 255
    test = torch.from_numpy(idx(f"{DATA}/t10k-images-idx3-ubyte.gz").copy()).float() / 255
    labels = torch.from_numpy(idx(f"{DATA}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    train, test = train.unsqueeze(1), test.unsqueeze(1)

    fp32 = torch.jit.load(a.fp32).eval()
    studio = torch.jit.load(a.studio_int8).eval()
    net = Net(fp32.input_mean.clone(), fp32.input_std.clone()).eval()
    sd = {k: v for k, v in fp32.named_parameters()}
    with torch.no_grad():
        for ours, theirs in (("conv1", "conv2d0"), ("conv2", "conv2d3"), ("fc", "linear7")):
            getattr(net, ours).weight.copy_(sd[theirs + ".weight"])
            getattr(net, ours).bias.copy_(sd[theirs + ".bias"])
    net = tq.fuse_modules(net, [["conv1", "relu1"], ["conv2", "relu2"]])
    net.qconfig = tq.get_default_qconfig("onednn")
    prepared = tq.prepare(net)
    with torch.inference_mode():
        generator = torch.Generator().manual_seed(0)
        for i in range(10):
            prepared(train[torch.randint(len(train), (32,), generator=generator)])
    eager = tq.convert(prepared)

    x = test[:32]
    rounds = {"fp32": [], "python eager int8": [], "studio int8": []}
    for _ in range(a.rounds):
        rounds["fp32"].append(median_ms(fp32, x, a.reps))
        rounds["python eager int8"].append(median_ms(eager, x, a.reps))
        rounds["studio int8"].append(median_ms(studio, x, a.reps))
    print(f"{a.threads} thread(s), batch 32, {a.rounds} rounds x {a.reps} passes")
    print(f"test acc: fp32 {accuracy(fp32, test, labels):.4f}, python eager int8 "
          f"{accuracy(eager, test, labels):.4f}, studio int8 {accuracy(studio, test, labels):.4f}")
    print("| model | p50 b32 ms (median of rounds) | fp32 / model (median, range) |")
    print("|---|---|---|")
    for name, t in rounds.items():
        ratios = sorted(f / m for f, m in zip(rounds["fp32"], t))
        print(f"| {name} | {statistics.median(t):.3f} | {statistics.median(ratios):.2f}x "
              f"({ratios[0]:.2f}-{ratios[-1]:.2f}) |")


if __name__ == "__main__":
    main()
