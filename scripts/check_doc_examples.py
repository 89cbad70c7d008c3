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
    or names a file of the repository (scripts/, examples/, data/, bench/, docs/) that does not exist;
  - a command's page (in docs/reference/, named after it) has an option table ("| option | default | ...") whose
    option is not in `--help`, whose numeric default differs from the one `--help` shows, or the page
    does not mention an option that `--help` lists (descend, certify and probability: on their page or,
    for the problem options they share, on flow's), so the hand-written tables cannot drift from the program.
Blocks of program output or file formats are written ```text and not checked.
"""
import argparse
import glob
import os
import re
import sys

from cli_reference import COMMANDS, run as program_output  # the commands, and the program run as `gradflow`

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODE = {"cpp", "c++", "python", "py", "cmake", "pycon"}
SHELL = {"sh", "bash", "console", "shell"}
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


def help_text(binary, command):
    return program_output(binary, [command, "--help"])


def table_rows(text, header):
    """(line number, cells) of every body row of the Markdown tables whose header line starts with header."""
    in_table = False
    for number, line in enumerate(text.split("\n"), 1):
        if line.startswith(header):
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table and not line.startswith("|---"):
            yield number, [c.strip() for c in line.strip("|").split("|")]


def options_of(binary, command):
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", help_text(binary, command))) | {"-h", "--help"}


def listed_options(help_out):
    """The options --help lists (its own lines, "  --name TYPE=DEFAULT  text"), with their shown defaults."""
    listed = {}
    for m in re.finditer(r"^\s+(?:-\w,)?(--[a-z][a-z0-9-]*)(?:\s+[A-Z:]+(?:=(\S+))?)?", help_out, re.MULTILINE):
        listed[m.group(1)] = m.group(2)
    listed.pop("--help", None)
    return listed


PAGE_COMMANDS = {"flow": ["flow"], "descend": ["descend"], "certify": ["certify"], "probability": ["probability"],
                 "sweep": ["sweep", "compare-inits"]}


def check_option_tables(binary):
    """Problems of the hand-written option tables of the command pages of docs/reference/ against --help."""
    problems = []
    for page, commands in PAGE_COMMANDS.items():
        path = os.path.join(ROOT, "docs", "reference", page + ".md")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        listed = {}
        for command in commands:
            for option, default in listed_options(help_text(binary, command)).items():
                listed.setdefault(option, default)
        rel = os.path.relpath(path, ROOT)
        for number, cells in table_rows(text, "| option |"):
            options = re.findall(r"`(--[a-z][a-z0-9-]*)", cells[0])
            for option in options:
                if option not in listed:
                    problems.append(f"{rel}:{number}: {option}: in the option table, not in `gradflow "
                                    f"{'/'.join(commands)} --help`")
            if len(options) == 1 and len(cells) > 1 and listed.get(options[0]):
                shown = listed[options[0]]
                documented = cells[1].strip("` ")
                try:
                    if float(shown) != float(documented):
                        problems.append(f"{rel}:{number}: {options[0]}: default {documented} in the table, "
                                        f"{shown} in --help")
                except ValueError:
                    pass
        # descend, certify and probability take flow's problem options, which the flow page describes.
        shared = text
        if page in ("descend", "certify", "probability"):
            with open(os.path.join(ROOT, "docs/reference/flow.md"), encoding="utf-8") as f:
                shared += f.read()
        for option in listed:
            if not re.search(re.escape(option) + r"(?![a-z0-9-])", shared):
                problems.append(f"{rel}: {option} (in `gradflow {'/'.join(commands)} --help`) is not on the page")
    # The sweep file's keys: the hand-written table of docs/reference/sweep.md against `gradflow sweep --keys`.
    path = os.path.join(ROOT, "docs/reference/sweep.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    keys = {line.split("\t")[0] for line in program_output(binary, ["sweep", "--keys"]).splitlines()}
    for number, cells in table_rows(text, "| key |"):
        for key in re.findall(r"`([a-z][a-z-]*)`", cells[0]):
            if key not in keys:
                problems.append(f"docs/reference/sweep.md:{number}: key '{key}' is not a key of `gradflow sweep --keys`")
    for key in sorted(keys):
        if f"`{key}`" not in text:
            problems.append(f"docs/reference/sweep.md: the sweep-file key '{key}' is not on the page")
    return problems


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
    problems += check_option_tables(args.gradflow)
    for problem in problems:
        print(problem)
    print(f"check_doc_examples.py: {len(pages)} pages; {counts['included']} blocks included from examples, "
          f"{counts['readme']} README blocks equal to an example, {counts['shell']} shell blocks checked "
          f"against --help, {counts['text']} text blocks; {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
