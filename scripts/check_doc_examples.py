#!/usr/bin/env python3
"""Every code block of the documentation is an example the test suite runs, or checked against the program.

    scripts/check_doc_examples.py --gradflow build/release/gradflow

Reads README.md, CONTRIBUTING.md and every page of docs/ (Markdown), and fails, naming the file and
line, when:
  - a C++, Python or CMake block is written inline in a page of docs/ instead of included with
    {literalinclude} from examples/ (README.md, which GitHub shows without includes, may hold a block
    only when it is exactly the text of a file in examples/);
  - a {literalinclude} names a file that does not exist or that the test suite does not run: a C++
    example must be built by examples/CMakeLists.txt (the installed-package test runs each), a Python
    example must be run by python/tests/test_examples.py, a command-line example is in examples/cli/
    (each script runs as the ctest docs.cli_example.NAME; a file beside them counts when a script uses it);
  - a shell block calls `gradflow COMMAND` with an option that `gradflow COMMAND --help` does not list,
    or names a file of the repository (scripts/, examples/, data/, bench/, docs/) that does not exist.
Blocks of program output or file formats are written ```text and not checked.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODE = {"cpp", "c++", "python", "py", "cmake", "pycon"}
SHELL = {"sh", "bash", "console", "shell"}
COMMANDS = ["flow", "descend", "certify", "probability", "sweep", "compare-inits"]
fence = re.compile(r"^(\s*)(```+|~~~+)\s*(\{[\w-]+\}|[\w+-]*)\s*(.*)$")


def blocks(path):
    """(line number, info, argument, body lines) of every fenced block of a Markdown file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = fence.match(lines[i])
        if not m:
            i += 1
            continue
        marker, info, argument = m.group(2), m.group(3), m.group(4).strip()
        body, j = [], i + 1
        while j < len(lines) and not lines[j].strip().startswith(marker):
            body.append(lines[j])
            j += 1
        yield i + 1, info, argument, body
        i = j + 1


def options_of(binary, command):
    out = subprocess.run(["gradflow", command, "--help"], executable=binary, capture_output=True, text=True,
                         timeout=60, check=True).stdout
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", out)) | {"-h", "--help"}


def run_examples():
    """The examples the test suite runs: C++ built by examples/CMakeLists.txt, Python named in
    python/tests/test_examples.py, every script of examples/cli/."""
    with open(os.path.join(ROOT, "examples", "CMakeLists.txt"), encoding="utf-8") as f:
        cmake = f.read()
    m = re.search(r"foreach\(example ([^)]*)\)", cmake)
    cpp = {f"examples/{name}.cpp" for name in (m.group(1).split() if m else [])}
    with open(os.path.join(ROOT, "python", "tests", "test_examples.py"), encoding="utf-8") as f:
        tests = f.read()
    python = {f"examples/python/{os.path.basename(p)}" for p in glob.glob(os.path.join(ROOT, "examples/python/*.py"))
              if os.path.basename(p) in tests}
    scripts = glob.glob(os.path.join(ROOT, "examples/cli/*.sh"))
    cli = {os.path.relpath(p, ROOT) for p in scripts}
    script_text = ""
    for p in scripts:
        with open(p, encoding="utf-8") as f:
            script_text += f.read()
    # A file beside the scripts (a sweep file, say) counts when a script uses it.
    cli |= {os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "examples/cli/*"))
            if os.path.basename(p) in script_text}
    return cpp | python | cli | {"examples/CMakeLists.txt"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gradflow", required=True, help="the built program (its --help lists the options)")
    args = parser.parse_args()
    options = {command: options_of(args.gradflow, command) for command in COMMANDS}
    examples = run_examples()
    example_texts = {}
    for path in glob.glob(os.path.join(ROOT, "examples", "**", "*"), recursive=True):
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                example_texts[f.read().rstrip("\n")] = os.path.relpath(path, ROOT)
    pages = ["README.md", "CONTRIBUTING.md"] + sorted(
        os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True))
    problems, counts = [], {"included": 0, "shell": 0, "text": 0, "readme": 0}
    for page in pages:
        for line, info, argument, body in blocks(os.path.join(ROOT, page)):
            where = f"{page}:{line}"
            if info == "{literalinclude}":
                target = os.path.normpath(os.path.join(os.path.dirname(os.path.join(ROOT, page)), argument))
                rel = os.path.relpath(target, ROOT)
                if not os.path.isfile(target):
                    problems.append(f"{where}: literalinclude of {argument}: no such file")
                elif rel not in examples:
                    problems.append(f"{where}: literalinclude of {rel}: not an example the test suite runs")
                counts["included"] += 1
            elif info in CODE or (info in SHELL and page == "README.md" and "\n".join(body) in example_texts):
                if page == "README.md" and "\n".join(body).rstrip("\n") in example_texts:
                    counts["readme"] += 1
                    continue
                problems.append(f"{where}: a ```{info} block written inline; include it from examples/ "
                                f"with {{literalinclude}} (README.md: the exact text of a file in examples/)")
            elif info in SHELL:
                counts["shell"] += 1
                text = re.sub(r"\\\n", " ", "\n".join(body))
                for command_line in text.split("\n"):
                    code = command_line.split("#", 1)[0]
                    for m in re.finditer(r"(?:^|[\s/;$])gradflow\s+([a-z-]+)((?:\s+[^\s;|&]+)*)", code):
                        command, rest = m.group(1), m.group(2)
                        if command not in options:
                            if command.startswith("-"):
                                continue
                            problems.append(f"{where}: 'gradflow {command}': no such command")
                            continue
                        for option in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", rest):
                            if option not in options[command]:
                                problems.append(f"{where}: 'gradflow {command} {option}': "
                                                f"not an option of `gradflow {command} --help`")
                    for path in re.findall(r"(?<![\w./-])((?:scripts|examples|data|bench|docs)/[\w./-]+\.\w+)", code):
                        if not os.path.exists(os.path.join(ROOT, path)):
                            problems.append(f"{where}: {path}: no such file")
            else:
                counts["text"] += 1
    for problem in problems:
        print(problem)
    print(f"check_doc_examples.py: {len(pages)} pages; {counts['included']} blocks included from examples, "
          f"{counts['readme']} README blocks equal to an example, {counts['shell']} shell blocks checked "
          f"against --help, {counts['text']} text blocks; {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
