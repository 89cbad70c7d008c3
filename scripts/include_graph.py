#!/usr/bin/env python3
"""The include graph of gradflow's folders, drawn from the #include lines of the sources.

Each folder is a layer; a layer may include only itself and the layers below it:

    apps, bench, tests, examples, python   (clients: the command line, benchmarks, tests, bindings)
    experiments                            (trials, sweeps, summaries, plots)
    discrete                               (gradient descent)
    flow                                   (gradient flow)
    theory                                 (certificate, Clopper-Pearson, power iteration)
    problems                               (the problem families; problems/detail: kernels)
    core                                   (objective interface, status, stats, errors, names, ...)

Usage:
    scripts/include_graph.py --svg docs/include_graph.svg   # draw the picture
    scripts/include_graph.py --check                         # exit 1 on an upward include,
                                                             # a '../' include, a public header
                                                             # that includes a detail/ header, or a
                                                             # library folder that includes another
                                                             # folder's detail/ (core/detail excepted)
Standard library only (python3).
"""
import argparse
import collections
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
LAYERS = ["core", "problems", "theory", "flow", "discrete", "experiments"]
CLIENTS = ["apps", "bench", "tests", "examples", "python"]
RANK = {name: i for i, name in enumerate(LAYERS)}
RANK.update({name: len(LAYERS) for name in CLIENTS})
INSTALLED = set(LAYERS)  # headers installed for clients (detail/ excluded)
SOURCE = (".hpp", ".cpp", ".inc", ".h", ".cc")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def sources():
    for top in LAYERS + CLIENTS:
        base = os.path.join(ROOT, top)
        for folder, dirs, files in os.walk(base):
            dirs[:] = [d for d in dirs if d not in ("build", "corpus", "__pycache__")]
            for name in sorted(files):
                if name.endswith(SOURCE):
                    yield os.path.relpath(os.path.join(folder, name), ROOT)


def includes(path):
    with open(os.path.join(ROOT, path), encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield number, m.group(1), m.group(2)


def folder_of(path):
    return path.split("/", 1)[0]


def analyse():
    edges = collections.Counter()  # (from folder, to folder) -> number of includes
    problems = []
    for path in sources():
        src = folder_of(path)
        for number, bracket, target in includes(path):
            where = f"{path}:{number}"
            if "../" in target:
                problems.append(f"{where}: '../' include of {target} (write <gradflow/FOLDER/FILE.hpp>)")
            if not target.startswith("gradflow/"):
                continue
            rest = target[len("gradflow/"):]
            dst = folder_of(rest) if "/" in rest else "gradflow.hpp"
            if dst == "gradflow.hpp":
                if src in INSTALLED:
                    problems.append(f"{where}: a library file includes the umbrella header")
                continue
            if dst not in RANK:
                problems.append(f"{where}: include of an unknown folder: {target}")
                continue
            if RANK[dst] > RANK[src] or (src != dst and RANK[dst] == RANK[src] and dst in LAYERS):
                problems.append(f"{where}: upward include: {src}/ includes {target}")
            if (src in INSTALLED and path.endswith(".hpp") and "/detail/" not in path
                    and "/detail/" in rest):
                problems.append(f"{where}: public header includes the private {target}")
            # A folder's detail/ is its own: another library folder reaches it only through core/detail
            # (the shared kernels), never problems/detail or flow/detail.
            if (src in INSTALLED and src != dst and "/detail/" in rest and dst != "core"):
                problems.append(f"{where}: {src}/ includes another folder's private {target}")
            if src != dst:
                edges[(src, dst)] += 1
    return edges, problems


def svg(edges, path):
    """Layers stacked bottom (core) to top (clients); an arrow per folder pair, labelled with the
    number of includes. Upward arrows would be drawn red (there should be none)."""
    # The library and the command line; tests, benchmarks, examples and bindings may include any
    # layer and are left out of the picture.
    rows = [["core"], ["problems"], ["theory"], ["flow", "discrete"], ["experiments"], ["apps"]]
    box_w, box_h, gap_y, width = 150, 40, 70, 900
    pos = {}
    height = len(rows) * (box_h + gap_y) + 40
    for r, row in enumerate(rows):
        y = height - 40 - r * (box_h + gap_y) - box_h
        step = width / (len(row) + 1)
        for i, name in enumerate(row):
            pos[name] = (step * (i + 1) - box_w / 2, y)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="14">',
           '<defs><marker id="a" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto">'
           '<path d="M0,0 L10,4 L0,8 z" fill="#444"/></marker>'
           '<marker id="r" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto">'
           '<path d="M0,0 L10,4 L0,8 z" fill="#c00"/></marker></defs>',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           '<text x="10" y="20">gradflow: which folder includes which (arrow = includes; '
           'number = #include lines). Every arrow points down.</text>',
           f'<text x="10" y="{height - 12}" font-size="12">tests/, bench/, examples/ and python/ may include any '
           'folder (not drawn). Drawn by scripts/include_graph.py.</text>']
    drawn = [(e, c) for e, c in sorted(edges.items()) if e[0] in pos and e[1] in pos]
    fan_out = collections.Counter(src for (src, _), _ in drawn)
    fan_in = collections.Counter(dst for (_, dst), _ in drawn)
    seen_out, seen_in = collections.Counter(), collections.Counter()
    for (src, dst), count in sorted(drawn, key=lambda e: (pos[e[0][1]][0], -pos[e[0][1]][1])):
        (x1, y1), (x2, y2) = pos[src], pos[dst]
        # Spread the ends of the arrows along the boxes' edges.
        seen_out[src] += 1
        seen_in[dst] += 1
        ox = box_w * seen_out[src] / (fan_out[src] + 1)
        ix = box_w * seen_in[dst] / (fan_in[dst] + 1)
        sx, sy = x1 + ox, y1 + (box_h if y2 > y1 else 0)
        ex, ey = x2 + ix, y2 + (0 if y2 > y1 else box_h)
        if y1 == y2:
            sy = ey = y1 + box_h / 2
            sx, ex = (x1 + box_w, x2) if x2 > x1 else (x1, x2 + box_w)
        up = RANK[dst] > RANK[src]
        colour, marker = ("#c00", "r") if up else ("#888", "a")
        out.append(f'<line x1="{sx:.0f}" y1="{sy:.0f}" x2="{ex:.0f}" y2="{ey:.0f}" stroke="{colour}" '
                   f'stroke-width="1.2" marker-end="url(#{marker})"/>')
        out.append(f'<text x="{(sx + ex) / 2 + 4:.0f}" y="{(sy + ey) / 2:.0f}" fill="#555" '
                   f'font-size="11">{count}</text>')
    for name, (x, y) in pos.items():
        fill = "#eef3fb" if name in LAYERS else "#f4f4f4"
        out.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{box_w}" height="{box_h}" rx="6" '
                   f'fill="{fill}" stroke="#333"/>')
        out.append(f'<text x="{x + box_w / 2:.0f}" y="{y + 25:.0f}" text-anchor="middle">{name}/</text>')
    out.append("</svg>")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--svg", help="write the picture to this file")
    parser.add_argument("--check", action="store_true", help="exit 1 when the layering is broken")
    args = parser.parse_args()
    edges, problems = analyse()
    if args.svg:
        svg(edges, args.svg)
    if not args.svg or args.check:
        for (src, dst), count in sorted(edges.items(), key=lambda e: (RANK[e[0][0]], e[0])):
            print(f"{src:>12}/ -> {dst}/  ({count})")
    for problem in problems:
        print(problem, file=sys.stderr)
    if args.check and problems:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
