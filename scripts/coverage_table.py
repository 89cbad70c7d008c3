#!/usr/bin/env python3
"""Prints line and branch coverage per top-level folder from a gcovr JSON report (scripts/coverage.sh).

A line counts when gcov saw it as code; a branch counts per outcome (taken or not). The folders are
the library's (core, problems, theory, flow, discrete, experiments), the command line (apps) and the
Python module's bindings (python/src). Exits 1 when a folder named by --require is under its floor.
"""
import argparse
import json
import sys
from collections import OrderedDict

FOLDERS = ["core", "problems", "theory", "flow", "discrete", "experiments", "apps", "python/src"]


def folder_of(path):
    for folder in FOLDERS:
        if path.startswith(folder + "/"):
            return folder
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", help="gcovr --json output")
    parser.add_argument("--require", action="append", default=[], metavar="FOLDER=BRANCH%",
                        help="fail when FOLDER's branch coverage is under BRANCH%% (repeatable)")
    args = parser.parse_args()
    with open(args.report, encoding="utf-8") as fh:
        report = json.load(fh)
    totals = OrderedDict((folder, [0, 0, 0, 0]) for folder in FOLDERS)  # lines, covered, branches, taken
    for entry in report["files"]:
        folder = folder_of(entry["file"])
        if folder is None:
            continue
        t = totals[folder]
        for line in entry["lines"]:
            if line.get("gcovr/noncode"):
                continue
            t[0] += 1
            t[1] += 1 if line["count"] > 0 else 0
            for branch in line.get("branches", []):
                t[2] += 1
                t[3] += 1 if branch["count"] > 0 else 0
    all_t = [sum(t[i] for t in totals.values()) for i in range(4)]

    def pct(a, b):
        return 100.0 * a / b if b else float("nan")

    print("| folder | lines | line % | branches | branch % |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for folder, t in list(totals.items()) + [("all", all_t)]:
        print(f"| {folder} | {t[0]} | {pct(t[1], t[0]):.1f} | {t[2]} | {pct(t[3], t[2]):.1f} |")
    status = 0
    for requirement in args.require:
        folder, _, floor = requirement.partition("=")
        if folder not in totals or not floor:
            print(f"coverage_table.py: error: --require {requirement!r}: expected FOLDER=PERCENT with FOLDER one of "
                  f"{', '.join(FOLDERS)}", file=sys.stderr)
            return 2
        t = totals[folder]
        if pct(t[3], t[2]) < float(floor):
            print(f"coverage_table.py: {folder}: branch coverage {pct(t[3], t[2]):.1f}% < {floor}%", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
