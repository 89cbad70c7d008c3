#!/usr/bin/env python3
"""Converts, once, two small real data sets from the files of Debian's python3-sklearn into the CSV
files of data/ (one sample per row, the last column the target, a header row), as gradflow's --data
reads them:

  data/digits.csv         the first 32 images of scikit-learn's copy of the UCI optical
                          recognition of handwritten digits test set: 64 pixel intensities (0..16)
                          and the digit (0..9)
  data/breast_cancer.csv  the first 24 samples of scikit-learn's copy of the UCI Breast Cancer
                          Wisconsin (Diagnostic) data: 30 features and the class (0 malignant,
                          1 benign)

  data/digits_all.csv, data/breast_cancer_all.csv
                          every sample of the two (1797 x 64 and 569 x 30), for held-out error
                          (compare-inits --holdout: train on a few, test on the rest)

The first two have fewer samples than features (n <= d), the regime of the theory (docs/theory.md §5).
Usage (needs python3-sklearn's data files only, not sklearn itself):
  scripts/convert_sklearn_data.py [--source /usr/lib/python3/dist-packages/sklearn/datasets/data]
"""
import argparse
import csv
import gzip
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
FEATURES = ["radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity",
            "concave_points", "symmetry", "fractal_dimension"]


def write(path, header, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="/usr/lib/python3/dist-packages/sklearn/datasets/data")
    args = parser.parse_args()
    digits = os.path.join(args.source, "digits.csv.gz")
    cancer = os.path.join(args.source, "breast_cancer.csv")
    for path in (digits, cancer):
        if not os.path.isfile(path):
            print(f"convert_sklearn_data: {path} not found (apt-get install python3-sklearn)", file=sys.stderr)
            return 2
    with gzip.open(digits, "rt") as f:
        rows = [line.strip().split(",") for line in f if line.strip()]
    rows = [[str(int(float(v))) for v in r] for r in rows]
    write(os.path.join(ROOT, "data", "digits.csv"), [f"pixel_{i}" for i in range(64)] + ["digit"], rows[:32])
    write(os.path.join(ROOT, "data", "digits_all.csv"), [f"pixel_{i}" for i in range(64)] + ["digit"], rows)
    with open(cancer) as f:
        lines = [line.strip().split(",") for line in f if line.strip()]
    body = lines[1:25]  # the first line is "569,30,malignant,benign"
    header = ([f"mean_{x}" for x in FEATURES] + [f"se_{x}" for x in FEATURES] + [f"worst_{x}" for x in FEATURES]
              + ["benign"])
    write(os.path.join(ROOT, "data", "breast_cancer.csv"), header, body)
    write(os.path.join(ROOT, "data", "breast_cancer_all.csv"), header, lines[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
