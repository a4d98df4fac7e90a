#!/usr/bin/python3
"""Static int8 of imported torchvision CNNs (issue 11 item 3): the studio's graph-mode path
against Python's quantize_jit on the same models, in one run.

    bench/int8_graph_bench.py --cli build/bin/modelstudio-cli \
        --latency-bench build/bin/latency_bench --out DIR [--epochs 3] [--rounds 7] [--studio-cnn]
        [--mobilenet-epochs N] [--studio-flags "--calibration-batches 30"]
        [--mobilenet-flags "--keep-float features.0,features.1"]

1. Writes an image folder from Fashion-MNIST as 32x32 RGB PNGs (DIR/folder: 600 training and
   100 test images per class) and trains ("fine-tunes") torchvision resnet18 and mobilenet_v2
   on it in Python (Adam, batch 64, --epochs; reused from DIR when already there).
2. Imports both into a fresh workspace and quantizes each with
   `modelstudio-cli compress --method quantize-static --dataset DIR/folder --threads 1`
   (the defaults: 10 batches of 32 calibration images, histogram observer, --engine auto).
3. The peer: Python's quantize_jit with the onednn default qconfig (histogram observer,
   per-channel weights) on 320 training images of the same folder.
4. Latency in the studio's own C++ process (bench/latency_bench: Model::load and predict, as
   serving runs a model), 1 thread, batch 8: fp32, the studio's int8 and Python's int8
   alternating within each of --rounds rounds; thread CPU time and wall time, per-round
   medians, the ratio as the median of the per-round ratios with their range.
5. Top-1 agreement with fp32 and accuracy on the folder's 1000 test images (Python), sizes,
   conversion times.
6. With --studio-cnn: the studio's Fashion-MNIST cnn quantized by both paths (--path spec,
   --path graph), compared the same way: what `--path auto` picks for a studio model.
"""
import argparse, glob, gzip, json, os, statistics, subprocess, sys, time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image

SRC = '/usr/share/datasets/fashion-mnist/'
NAMES = ['0-tshirt', '1-trouser', '2-pullover', '3-dress', '4-coat', '5-sandal', '6-shirt',
         '7-sneaker', '8-bag', '9-boot']


def idx(path):
    b = gzip.open(path).read()
    return (np.frombuffer(b, np.uint8, offset=16).reshape(-1, 28, 28) if b[3] == 3
            else np.frombuffer(b, np.uint8, offset=8))


def load_split(folder, split):
    files = sorted(glob.glob(os.path.join(folder, split, '*', '*.png')))
    x = np.stack([np.asarray(Image.open(f).convert('RGB'), dtype=np.float32).transpose(2, 0, 1)
                  / 255.0 for f in files])
    y = [NAMES.index(os.path.basename(os.path.dirname(f))) for f in files]
    return torch.tensor(x), torch.tensor(y)


def make_folder(folder):
    if os.path.exists(os.path.join(folder, 'imagefolder.json')):
        return
    for split, images, labels, per in [
            ('train', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 600),
            ('test', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 100)]:
        count = [0] * 10
        for x, y in zip(idx(SRC + images), idx(SRC + labels)):
            if count[y] >= per:
                continue
            count[y] += 1
            d = os.path.join(folder, split, NAMES[y])
            os.makedirs(d, exist_ok=True)
            Image.fromarray(x).resize((32, 32), Image.BILINEAR).convert('RGB').save(
                os.path.join(d, '%04d.png' % count[y]))
    json.dump({'size': [32, 32], 'color': 'rgb'},
              open(os.path.join(folder, 'imagefolder.json'), 'w'))


def train(arch, x, y, epochs, path):
    if os.path.exists(path):
        return
    torch.manual_seed(0)
    m = getattr(torchvision.models, arch)(num_classes=10)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    m.train()
    start = time.time()
    for epoch in range(epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            b = order[i:i + 64]
            loss = F.cross_entropy(m(x[b]), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        print('  %s epoch %d: loss %.3f (%.0f s)' % (arch, epoch + 1, loss.item(),
                                                    time.time() - start), flush=True)
    torch.jit.script(m.eval()).save(path)


def cli(args, ws):
    r = subprocess.run([ARGS.cli] + args + ['--workspace', ws], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit('modelstudio-cli %s failed: %s' % (' '.join(args), r.stderr))
    return r.stdout


def python_peer(fp32_path, calib, out, reduce_range):
    """quantize_jit with get_default_qconfig('onednn'), or the same with 7-bit activations
    (what Python's own warning recommends on a CPU without VNNI, as this one is)."""
    from torch.ao.quantization import (HistogramObserver, QConfig, get_default_qconfig,
                                       quantize_jit)
    torch.backends.quantized.engine = 'onednn'
    m = torch.jit.load(fp32_path).eval()
    qconfig = get_default_qconfig('onednn')
    if reduce_range:
        qconfig = QConfig(activation=HistogramObserver.with_args(reduce_range=True),
                          weight=qconfig.weight)
    start = time.time()

    def run(model, data):
        with torch.no_grad():
            for i in range(0, len(data), 32):
                model(data[i:i + 32])
    q = quantize_jit(m, {'': qconfig}, run, [calib])
    seconds = time.time() - start
    q.save(out)
    return seconds


def agreement(fp32_path, int8_path, x, y):
    torch.backends.quantized.engine = 'onednn'
    a = torch.jit.load(fp32_path).eval()
    b = torch.jit.load(int8_path).eval()
    with torch.no_grad():
        pa = torch.cat([a(x[i:i + 100]) for i in range(0, len(x), 100)]).argmax(1)
        pb = torch.cat([b(x[i:i + 100]) for i in range(0, len(x), 100)]).argmax(1)
    return ((pa == pb).float().mean().item(), (pa == y).float().mean().item(),
            (pb == y).float().mean().item())


def latency_rounds(files, shape):
    """Per-round medians (ms) of each file's forward at `shape`, one thread, in the studio's
    process (bench/latency_bench: Model::load + Model::predict, files alternating per round)."""
    r = subprocess.run([ARGS.latency_bench] + files + [
        '--shape', ','.join(map(str, shape)), '--threads', '1', '--rounds', str(ARGS.rounds),
        '--reps', str(ARGS.reps)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit('latency_bench failed: %s' % r.stderr)
    return json.loads(r.stdout.splitlines()[-1])


def report(title, rows, lat, base):
    print('\n### %s\n' % title)
    print('| model | engine | p50 ms, thread CPU (wall) | fp32 / model, CPU (median, range of '
          '%d rounds) | fp32 / model, wall | top-1 agreement with fp32 | test acc | size (MiB) | '
          'conversion (s) |' % ARGS.rounds)
    print('|---|---|---|---|---|---|---|---|---|')
    for name, path, engine, agree, acc, conv in rows:
        cpu = [b / v for b, v in zip(lat[base]['cpu_ms'], lat[path]['cpu_ms'])]
        wall = [b / v for b, v in zip(lat[base]['wall_ms'], lat[path]['wall_ms'])]
        print('| %s | %s | %.2f (%.2f) | %.2fx (%.2f-%.2f) | %.2fx (%.2f-%.2f) | %s | %.4f | '
              '%.1f | %s |' % (
                  name, engine, statistics.median(lat[path]['cpu_ms']),
                  statistics.median(lat[path]['wall_ms']), statistics.median(cpu), min(cpu),
                  max(cpu), statistics.median(wall), min(wall), max(wall),
                  '-' if agree is None else '%.2f %%' % (100 * agree), acc,
                  os.path.getsize(path) / 2**20, '-' if conv is None else conv))


def imported_cnns(ws):
    folder = os.path.join(ARGS.out, 'folder')
    make_folder(folder)
    xtr, ytr = load_split(folder, 'train')
    xte, yte = load_split(folder, 'test')
    torch.set_num_threads(ARGS.train_threads)
    for arch in ['resnet18', 'mobilenet_v2']:
        name = arch.replace('_', '')
        fp32 = os.path.join(ARGS.out, arch + '.pt')
        epochs = ARGS.mobilenet_epochs if arch == 'mobilenet_v2' else ARGS.epochs
        print('training %s (%d epochs, %d images)' % (arch, epochs, len(xtr)), flush=True)
        train(arch, xtr, ytr, epochs, fp32)
        cli(['import', fp32, '--name', name, '--input-shape', '1,3,32,32'], ws)
        start = time.time()
        out = cli(['compress', name + ':1', '--method', 'quantize-static', '--dataset', folder,
                   '--threads', '1', '--json'] + ARGS.studio_flags.split()
                  + (ARGS.mobilenet_flags.split() if arch == 'mobilenet_v2' else []), ws)
        wall = time.time() - start
        end = json.loads(out.splitlines()[-1])
        d = end['details']
        int8 = end['model_path']
        torch.set_num_threads(1)
        g = torch.Generator().manual_seed(0)
        calib = xtr[torch.randperm(len(xtr), generator=g)[:320]]
        peer = os.path.join(ARGS.out, arch + '-quantize_jit.pt')
        peer_s = python_peer(fp32, calib, peer, False)
        peer7 = os.path.join(ARGS.out, arch + '-quantize_jit-reduce.pt')
        peer7_s = python_peer(fp32, calib, peer7, True)
        torch.set_num_threads(ARGS.train_threads)
        a_ours = agreement(fp32, int8, xte, yte)
        a_peer = agreement(fp32, peer, xte, yte)
        a_peer7 = agreement(fp32, peer7, xte, yte)
        lat = latency_rounds([fp32, int8, peer, peer7], [8, 3, 32, 32])
        print('\nstudio details: %s' % json.dumps({k: d.get(k) for k in [
            'engine_forward_ms', 'engine_agreement', 'calibration_s', 'conversion_s',
            'clipped_activations', 'reduce_range', 'ops']}))
        report('%s (imported, fine-tuned %d epochs on the folder)' % (arch, epochs), [
            ('fp32', fp32, '-', None, a_ours[1], None),
            ('studio quantize-static (graph)', int8, d['quantized_engine'], a_ours[0],
             a_ours[2], '%.1f (calibration %.1f + conversion %.1f; job %.1f wall)' % (
                 d['calibration_s'] + d['conversion_s'], d['calibration_s'], d['conversion_s'],
                 wall)),
            ('Python quantize_jit (onednn default qconfig)', peer, 'onednn', a_peer[0],
             a_peer[2], '%.1f' % peer_s),
            ('Python quantize_jit (same, reduce_range=True)', peer7, 'onednn', a_peer7[0],
             a_peer7[2], '%.1f' % peer7_s)], lat, fp32)


def studio_cnn(ws):
    cli(['train', '--arch', 'cnn', '--epochs', '3', '--threads', '2', '--name', 'cnn'], ws)
    fp32 = json.loads(cli(['show', 'cnn:1', '--json'], ws))['artifact_path']
    x = torch.tensor(idx(SRC + 't10k-images-idx3-ubyte.gz')).float()[:, None] / 255.0
    y = torch.tensor(idx(SRC + 't10k-labels-idx1-ubyte.gz')).long()
    rows = [('fp32', fp32, '-', None, agreement(fp32, fp32, x, y)[1], None)]
    for path in ['spec', 'graph']:
        out = cli(['compress', 'cnn:1', '--method', 'quantize-static', '--path', path,
                   '--engine', 'onednn', '--threads', '1', '--json'], ws)
        end = json.loads(out.splitlines()[-1])
        a = agreement(fp32, end['model_path'], x, y)
        rows.append(('quantize-static --path %s' % path, end['model_path'], 'onednn', a[0], a[2],
                     None))
    lat = latency_rounds([r[1] for r in rows], [8, 1, 28, 28])
    report('the studio cnn (Fashion-MNIST, 3 epochs): spec path against graph path', rows, lat,
           fp32)


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--cli', required=True)
    p.add_argument('--latency-bench', required=True, help='build/bin/latency_bench')
    p.add_argument('--out', required=True)
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--rounds', type=int, default=7)
    p.add_argument('--reps', type=int, default=30)
    p.add_argument('--train-threads', type=int, default=2)
    p.add_argument('--mobilenet-epochs', type=int, default=None,
                   help="mobilenet_v2's training epochs (default: --epochs)")
    p.add_argument('--studio-flags', default='',
                   help="more flags for the studio's quantize-static, e.g. "
                        "'--calibration-batches 30'")
    p.add_argument('--mobilenet-flags', default='',
                   help="flags for mobilenet_v2's quantize-static only, e.g. "
                        "'--keep-float features.0,features.1'")
    p.add_argument('--studio-cnn', action='store_true')
    ARGS = p.parse_args()
    if ARGS.mobilenet_epochs is None:
        ARGS.mobilenet_epochs = ARGS.epochs
    os.makedirs(ARGS.out, exist_ok=True)
    ws = os.path.join(ARGS.out, 'ws-%d' % int(time.time()))
    imported_cnns(ws)
    if ARGS.studio_cnn:
        studio_cnn(ws)
