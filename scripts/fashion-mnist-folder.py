"""Writes image-classification sets in torchvision's ImageFolder layout from Debian's
dataset-fashion-mnist (MIT, Zalando Research; `apt-get install dataset-fashion-mnist`) as
28x28 grayscale PNGs.

    # The shipped long-tailed example (examples/fashion_mnist_lt): train/ holds, from the
    # package's training file, the first 400 images of class 0 down to the first 8 of class
    # 9 (a geometric tail); test/ holds the first 100 images of each class of its test file.
    python3 scripts/fashion-mnist-folder.py examples/fashion_mnist_lt --long-tail

    # A small set for experiments, from the training file only (train and test disjoint).
    python3 scripts/fashion-mnist-folder.py OUT --classes 0,1,7 --train 60,30,10 --test 50

Standard library only (gzip, struct, zlib).
"""
import argparse
import gzip
import os
import struct
import zlib

SOURCE = "/usr/share/datasets/fashion-mnist"
NAMES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
         "bag", "ankle-boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2049:
        return list(data[8:8 + count])
    rows, cols = struct.unpack(">II", data[8:16])
    size = rows * cols
    return [data[16 + i * size:16 + (i + 1) * size] for i in range(count)], rows, cols


def png(pixels, width, height):
    raw = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def load(part):
    images, rows, cols = read_idx(os.path.join(SOURCE, f"{part}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(SOURCE, f"{part}-labels-idx1-ubyte.gz"))
    return images, labels, rows, cols


def write(out, split, images, labels, rows, cols, counts, skip=None):
    skip = skip or {}
    for c, n in counts.items():
        indices = [i for i, label in enumerate(labels) if label == c][skip.get(c, 0):][:n]
        folder = os.path.join(out, split, NAMES[c])
        os.makedirs(folder, exist_ok=True)
        for i in indices:
            with open(os.path.join(folder, f"{i:05d}.png"), "wb") as f:
                f.write(png(images[i], cols, rows))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--long-tail", action="store_true")
    parser.add_argument("--classes", default="0,1,7")
    parser.add_argument("--train", default="60,30,10", help="training images per class")
    parser.add_argument("--test", type=int, default=50, help="test images per class")
    args = parser.parse_args()
    train = load("train")
    if args.long_tail:
        counts = {c: round(400 * (8 / 400) ** (c / 9)) for c in range(10)}
        write(args.out, "train", *train, counts)
        write(args.out, "test", *load("t10k"), {c: 100 for c in range(10)})
        return
    classes = [int(c) for c in args.classes.split(",")]
    counts = dict(zip(classes, [int(n) for n in args.train.split(",")]))
    write(args.out, "train", *train, counts)
    write(args.out, "test", *train, {c: args.test for c in classes}, skip=counts)


if __name__ == "__main__":
    main()
