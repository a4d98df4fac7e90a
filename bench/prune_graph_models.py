#!/usr/bin/python3
"""The data and the models of bench/prune_graph_bench.sh (not a test).

  prune_graph_models.py data OUT --train N --test M
      Fashion-MNIST as 3x32x32: each 28x28 grey image zero-padded by 2 pixels and copied into
      three channels, written as RGB PNGs into OUT/train/<label>/ and OUT/test/<label>/ (the
      image-folder layout the studio's imagefolder reader takes), from the first N training
      and M test images.
  prune_graph_models.py train FOLDER OUT_DIR --epochs E --threads T
      Trains torchvision's resnet18 and mobilenet_v2 (10 classes) on FOLDER/train with Adam
      (lr 1e-3, batch 128, seed 0) on inputs in [0, 1], as a researcher would before bringing
      them to the studio, prints their accuracy on FOLDER/test and saves them scripted as
      OUT_DIR/resnet18.pt and OUT_DIR/mobilenet_v2.pt.
"""
import argparse
import gzip
import os
import sys

import numpy as np

IDX = '/usr/share/datasets/fashion-mnist'


def read_idx(name):
    with gzip.open(os.path.join(IDX, name), 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def write_folder(out, split, images, labels):
    from PIL import Image
    for i, (image, label) in enumerate(zip(images, labels)):
        folder = os.path.join(out, split, str(int(label)))
        os.makedirs(folder, exist_ok=True)
        padded = np.pad(image, 2)
        rgb = np.repeat(padded[:, :, None], 3, axis=2)
        Image.fromarray(rgb, 'RGB').save(os.path.join(folder, '%05d.png' % i))


def load_folder(folder):
    from PIL import Image
    xs, ys = [], []
    for label in sorted(os.listdir(folder)):
        for name in sorted(os.listdir(os.path.join(folder, label))):
            image = np.asarray(Image.open(os.path.join(folder, label, name)).convert('RGB'))
            xs.append(image.transpose(2, 0, 1))
            ys.append(int(label))
    return np.stack(xs).astype(np.float32) / 255.0, np.array(ys, np.int64)


def train(args):
    import torch
    import torchvision
    torch.set_num_threads(args.threads)
    x, y = load_folder(os.path.join(args.folder, 'train'))
    xt, yt = load_folder(os.path.join(args.folder, 'test'))
    x, y, xt, yt = map(torch.from_numpy, (x, y, xt, yt))
    for name in ('resnet18', 'mobilenet_v2'):
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)(num_classes=10)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        for epoch in range(args.epochs):
            model.train()
            order = torch.randperm(len(x))
            for start in range(0, len(x), 128):
                batch = order[start:start + 128]
                optimizer.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch])
                loss.backward()
                optimizer.step()
            print('%s: epoch %d/%d, last loss %.4f' % (name, epoch + 1, args.epochs, loss.item()),
                  file=sys.stderr, flush=True)
        model.eval()
        with torch.no_grad():
            correct = sum((model(xt[i:i + 256]).argmax(1) == yt[i:i + 256]).sum().item()
                          for i in range(0, len(xt), 256))
        print('%s: test accuracy %.4f after %d epochs' % (name, correct / len(xt), args.epochs))
        torch.jit.script(model).save(os.path.join(args.out, name + '.pt'))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest='command', required=True)
    data = sub.add_parser('data')
    data.add_argument('out')
    data.add_argument('--train', type=int, default=12000)
    data.add_argument('--test', type=int, default=2000)
    fit = sub.add_parser('train')
    fit.add_argument('folder')
    fit.add_argument('out')
    fit.add_argument('--epochs', type=int, default=3)
    fit.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    if args.command == 'data':
        write_folder(args.out, 'train', read_idx('train-images-idx3-ubyte.gz')[:args.train],
                     read_idx('train-labels-idx1-ubyte.gz')[:args.train])
        write_folder(args.out, 'test', read_idx('t10k-images-idx3-ubyte.gz')[:args.test],
                     read_idx('t10k-labels-idx1-ubyte.gz')[:args.test])
    else:
        train(args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
