"""Writes a small, imbalanced image-classification set in torchvision's ImageFolder layout
from Debian's dataset-fashion-mnist (MIT; `apt-get install dataset-fashion-mnist`), using
its training file only: for each chosen class, the first N images of that class as
28x28 grayscale PNGs, split into train/ and test/ folders (no image in both).

    python3 scripts/fashion-mnist-folder.py OUT_DIR [--classes 0,1,7] [--train 60,30,10] [--test 50]

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
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--classes", default="0,1,7")
    parser.add_argument("--train", default="60,30,10", help="training images per class")
    parser.add_argument("--test", type=int, default=50, help="test images per class")
    args = parser.parse_args()
    classes = [int(c) for c in args.classes.split(",")]
    train = [int(n) for n in args.train.split(",")]
    images, rows, cols = read_idx(os.path.join(SOURCE, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(SOURCE, "train-labels-idx1-ubyte.gz"))
    for c, n_train in zip(classes, train):
        indices = [i for i, label in enumerate(labels) if label == c][:n_train + args.test]
        for split, chosen in [("train", indices[:n_train]), ("test", indices[n_train:])]:
            folder = os.path.join(args.out, split, NAMES[c])
            os.makedirs(folder, exist_ok=True)
            for i in chosen:
                with open(os.path.join(folder, f"{i:05d}.png"), "wb") as f:
                    f.write(png(images[i], cols, rows))


if __name__ == "__main__":
    main()
