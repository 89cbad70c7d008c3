#!/usr/bin/env python3
"""Mutation testing for gradflow: plant one realistic bug at a time and check the test suite sees it.

Each mutant of scripts/mutants.json replaces one exact piece of text ("find", which must occur exactly
once in its file) by another ("replace"): a sign error, a factor of 2, an off-by-one, a skipped check.
For every mutant the harness writes the mutated file, rebuilds the build tree incrementally, runs the
mutant's quick tests (its "tests" regex) and then the whole suite, and restores the file. A mutant is

  KILLED     a test failed or timed out (an infinite loop counts as killed, by the ctest timeout);
  SURVIVED   every test passed: the suite cannot tell this bug from the real code;
  EQUIVALENT listed with "equivalent": a change with no observable difference, skipped;
  NOCOMPILE  the mutated tree does not build (a bad entry: reported, not counted);
  STALE      its find text is no longer in the file, or is there more than once (an error, not a kill).

The kill rate is killed / (killed + survived). The exit status is 0 when it is at least --target
percent and no mutant was STALE or NOCOMPILE (unless --allow-errors), 1 otherwise, 2 when the
unmutated tree does not build or its suite is not green, 3 when a file could not be restored
safely, 130 when interrupted.

Safety: the original bytes of the file being mutated are kept in memory and in
<build-dir>/mutant-backup/ (with a record of both hashes) before the mutant is written; the file is
restored in a finally block and on SIGINT, SIGTERM and SIGHUP; a backup left by a crashed or killed
run is restored at the next start. Nothing runs through a shell. The only files written are the
listed mutant files (and only while a mutant is applied), files under the build directory and
--json-out. At the end every touched file is compared (SHA-256) with its content at the start.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_LIST = REPO / "scripts" / "mutants.json"
DEFAULT_BUILD = "build/mutants"
DEFAULT_EXCLUDE = r"^(fuzz|install|layout|docs)\."
REQUIRED_KEYS = ("id", "file", "find", "replace", "bug")
OPTIONAL_KEYS = ("tests", "equivalent")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
LIST_FORMAT = 1

EXIT_OK, EXIT_BELOW_TARGET, EXIT_BASELINE, EXIT_RESTORE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class Interrupted(Exception):
    """SIGTERM or SIGHUP: unwinds like KeyboardInterrupt, so that the finally blocks restore."""


class RestoreError(Exception):
    """A file could not be restored safely (it is left as it is; the backup says what to do)."""


# ---------------------------------------------------------------------------------------------------
# The mutant list


@dataclass
class Mutant:
    id: str
    file: str
    find: str
    replace: str
    bug: str
    tests: str | None = None
    equivalent: str | None = None

    @property
    def path(self) -> Path:
        return REPO / self.file


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_list(path: Path) -> tuple[list[Mutant], list[str]]:
    """The mutants and the problems of the list's shape (not of the source files)."""
    problems: list[str] = []
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return [], [f"{path}: cannot read the list: {e}"]
    if not isinstance(document, dict) or document.get("format") != LIST_FORMAT:
        problems.append(f'{path}: expected an object with "format": {LIST_FORMAT}')
    entries = document.get("mutants") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return [], problems + [f'{path}: expected "mutants": [...]']
    mutants: list[Mutant] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"mutants[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: not an object")
            continue
        name = entry.get("id")
        if isinstance(name, str):
            where = f"{where} ({name})"
        bad = False
        for key in REQUIRED_KEYS:
            # replace may be empty (a deleted line); every other key must say something
            if not isinstance(entry.get(key), str) or (not entry[key] and key != "replace"):
                problems.append(f'{where}: the key "{key}" is missing or not a non-empty string')
                bad = True
        for key in OPTIONAL_KEYS:
            if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
                problems.append(f'{where}: "{key}" must be a non-empty string when given')
                bad = True
        unknown = set(entry) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS)
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)}")
        if bad:
            continue
        if not ID_PATTERN.match(entry["id"]):
            problems.append(f"{where}: the id must match {ID_PATTERN.pattern}")
        if entry["id"] in seen:
            problems.append(f"{where}: the id is listed twice")
        seen.add(entry["id"])
        if entry["find"] == entry["replace"]:
            problems.append(f"{where}: replace equals find (not a mutant)")
        if "\n" in entry["bug"]:
            problems.append(f"{where}: bug must be one line")
        if "tests" in entry:
            try:
                re.compile(entry["tests"])
            except re.error as e:
                problems.append(f'{where}: "tests" is not a regular expression: {e}')
        mutants.append(Mutant(**{k: entry[k] for k in REQUIRED_KEYS + OPTIONAL_KEYS if k in entry}))
    return mutants, problems


def source_path(mutant: Mutant) -> tuple[Path | None, str | None]:
    """The mutant's file, resolved inside the repository, or why it is not acceptable."""
    rel = Path(mutant.file)
    if rel.is_absolute() or ".." in rel.parts:
        return None, f"file {mutant.file!r} must be a path relative to the repository, without '..'"
    path = (REPO / rel).resolve()
    if REPO not in path.parents:
        return None, f"file {mutant.file!r} resolves outside the repository"
    if path.parts[len(REPO.parts)] == "build":
        return None, f"file {mutant.file!r} is in the build tree, not a source"
    if not path.is_file():
        return None, f"file {mutant.file!r} does not exist"
    return path, None


def occurrences(mutant: Mutant, text: str) -> int:
    return text.count(mutant.find)


def check_source(mutant: Mutant) -> str | None:
    """None when the mutant can be applied now, else the reason (STALE)."""
    path, why = source_path(mutant)
    if why:
        return why
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return f"cannot read {mutant.file}: {e}"
    count = occurrences(mutant, text)
    if count == 0:
        return "text not found"
    if count > 1:
        return f"text ambiguous ({count} occurrences)"
    return None


# ---------------------------------------------------------------------------------------------------
# Writing and restoring files


@contextmanager
def signals_blocked():
    """SIGINT/SIGTERM/SIGHUP are held (not lost) while a file is being written."""
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def write_in_place(path: Path, data: bytes) -> None:
    """Writes the file's bytes in place (same inode and mode) and moves its mtime forward, so that the
    build sees a change: after a mutant the restored file is newer than the objects built from the
    mutant, and make recompiles it (never an object built from a mutant taken for an up-to-date one)."""
    before = path.stat().st_mtime_ns
    with open(path, "r+b") as f:
        f.write(data)
        f.truncate()
        f.flush()
        os.fsync(f.fileno())
    stamp = max(time.time_ns(), before + 1_000_000_000)
    os.utime(path, ns=(stamp, stamp))


class Backup:
    """<build-dir>/mutant-backup: the original of the file being mutated and a record of both hashes."""

    def __init__(self, build_dir: Path):
        self.dir = build_dir / "mutant-backup"
        self.record = self.dir / "active.json"

    def copy_of(self, rel: str) -> Path:
        return self.dir / "files" / rel

    def save(self, mutant: Mutant, original: bytes, mutated: bytes) -> None:
        copy = self.copy_of(mutant.file)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(original)
        record = {
            "id": mutant.id,
            "file": mutant.file,
            "original_sha256": sha256(original),
            "mutant_sha256": sha256(mutated),
            "copy": str(copy),
            "saved": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        atomic_write_text(self.record, json.dumps(record, indent=2) + "\n")

    def clear(self, rel: str) -> None:
        self.record.unlink(missing_ok=True)
        self.copy_of(rel).unlink(missing_ok=True)

    def recover(self) -> None:
        """Restores a file left mutated by an interrupted run; raises RestoreError when unsafe."""
        if not self.record.exists():
            return
        record = json.loads(self.record.read_text(encoding="utf-8"))
        rel = record["file"]
        path = REPO / rel
        copy = self.copy_of(rel)
        original = copy.read_bytes()
        if sha256(original) != record["original_sha256"]:
            raise RestoreError(f"the backup {copy} does not match its recorded hash: restore {rel} by hand "
                               f"(git diff {rel}), then delete {self.record}")
        current = path.read_bytes()
        if sha256(current) == record["original_sha256"]:
            print(f"backup: {rel} already holds its original text (mutant {record['id']}); backup removed")
        elif sha256(current) == record["mutant_sha256"]:
            with signals_blocked():
                write_in_place(path, original)
            if sha256(path.read_bytes()) != record["original_sha256"]:
                raise RestoreError(f"restoring {rel} from {copy} failed")
            print(f"backup: restored {rel} from an interrupted run (it held mutant {record['id']})")
        else:
            raise RestoreError(f"{rel} holds neither its original text nor mutant {record['id']} (edited since?): "
                               f"compare it with {copy} and restore it by hand, then delete {self.record}")
        self.clear(rel)


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# The mutants written and not yet restored: restore_pending() puts them back whatever unwinds (an
# interrupt can land between two statements of a finally block).
PENDING: list["Applied"] = []


def restore_pending() -> None:
    for applied in list(PENDING):
        applied.restore()


class Applied:
    """One mutant written into its file; restore() puts the original back (idempotent)."""

    def __init__(self, mutant: Mutant, backup: Backup | None):
        self.mutant = mutant
        self.path = mutant.path
        self.backup = backup
        self.original = self.path.read_bytes()
        text = self.original.decode("utf-8")
        if occurrences(mutant, text) != 1:
            raise ValueError("find text not unique")
        self.mutated = text.replace(mutant.find, mutant.replace, 1).encode("utf-8")
        self.active = False

    def apply(self) -> None:
        with signals_blocked():
            if self.backup:
                self.backup.save(self.mutant, self.original, self.mutated)
            self.active = True
            PENDING.append(self)
            write_in_place(self.path, self.mutated)

    def restore(self) -> None:
        if not self.active:
            return
        with signals_blocked():
            current = self.path.read_bytes()
            if current == self.original:  # the write never happened (interrupted before it)
                self.active = False
                PENDING.remove(self)
                if self.backup:
                    self.backup.clear(self.mutant.file)
                return
            if current != self.mutated:
                self.active = False  # left as it is: not retried
                PENDING.remove(self)
                backup = f"; the original is kept in {self.backup.copy_of(self.mutant.file)}" if self.backup else ""
                raise RestoreError(f"{self.mutant.file} changed while mutant {self.mutant.id} was applied (edited by "
                                   f"someone else?): it is left as it is{backup}")
            write_in_place(self.path, self.original)
            if self.path.read_bytes() != self.original:
                raise RestoreError(f"{self.mutant.file}: the restored bytes differ from the original")
            self.active = False
            PENDING.remove(self)
            if self.backup:
                self.backup.clear(self.mutant.file)


# ---------------------------------------------------------------------------------------------------
# Running commands


@dataclass
class Completed:
    returncode: int
    output: str
    seconds: float
    timed_out: bool = False


def kill_group(process: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def run(args: list[str], log: Path, timeout: float | None = None) -> Completed:
    """Runs args (no shell) in its own process group, output to log; the group is killed on a
    timeout or when this process is interrupted."""
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with open(log, "w", encoding="utf-8", errors="replace") as out:
        out.write("$ " + " ".join(args) + "\n")
        out.flush()
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        timed_out = False
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(process)
        except BaseException:
            kill_group(process)
            raise
    output = log.read_text(encoding="utf-8", errors="replace")
    return Completed(process.returncode if not timed_out else -1, output, time.monotonic() - start, timed_out)


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def failed_tests(junit: Path, output: str) -> list[str]:
    """The failed tests' names: from ctest's JUnit file, else from its console output."""
    names: list[str] = []
    try:
        root = ET.parse(junit).getroot()
        for case in root.iter("testcase"):
            status = case.get("status", "")
            if status == "fail" or case.find("failure") is not None or case.find("error") is not None:
                names.append(case.get("name", "?"))
    except (OSError, ET.ParseError):
        pass
    if names:
        return names
    for m in re.finditer(r"Test\s+#\s*\d+:\s+(.*?)\s+\.*\s*\*\*\*(\w+)", output):
        names.append(m.group(1).strip())
    if not names:
        section = output.split("The following tests FAILED:", 1)
        if len(section) == 2:
            for line in section[1].splitlines():
                m = re.match(r"^\s*\d+\s+-\s+(.*?)\s+\(([^)]*)\)\s*$", line)
                if m:
                    names.append(m.group(1))
    return names


@dataclass
class TestRun:
    passed: bool
    failed: list[str]
    seconds: float
    note: str = ""
    none_found: bool = False


def ctest(opts: argparse.Namespace, build: Path, log: Path, regex: str | None, per_test_timeout: int) -> TestRun:
    junit = log.with_suffix(".junit.xml")
    junit.unlink(missing_ok=True)
    args = ["ctest", "--test-dir", str(build), "-j", str(opts.jobs), "--stop-on-failure", "--timeout",
            str(per_test_timeout), "--no-tests=ignore", "--output-junit", str(junit)]
    if regex:
        args += ["-R", regex]
    if opts.exclude_regex:
        args += ["-E", opts.exclude_regex]
    done = run(args, log, timeout=opts.suite_timeout)
    none_found = "No tests were found" in done.output
    if done.timed_out:
        return TestRun(False, [f"the suite timeout of {opts.suite_timeout:g} s"], done.seconds, "suite timeout")
    if done.returncode == 0:
        return TestRun(True, [], done.seconds, none_found=none_found)
    failed = failed_tests(junit, done.output)
    note = "" if failed else f"ctest exit {done.returncode}, no failed test named (see {log})"
    return TestRun(False, failed, done.seconds, note, none_found)


# ---------------------------------------------------------------------------------------------------
# The build tree


def configure_and_build(opts: argparse.Namespace, build: Path, logs: Path) -> None:
    if not (build / "CMakeCache.txt").exists():
        print(f"configuring {build} (Release, benchmarks off, tests and the Python module on)")
        args = ["cmake", "-S", str(REPO), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release", "-DGRADFLOW_BUILD_BENCH=OFF",
                "-DGRADFLOW_BUILD_TESTS=ON", "-DGRADFLOW_BUILD_CLI=ON", "-DGRADFLOW_PYTHON=ON"] + opts.cmake_arg
        done = run(args, logs / "configure.log")
        if done.returncode != 0:
            raise BaselineError(f"cmake configure failed (log {logs / 'configure.log'}):\n{tail(done.output)}")
    print(f"building the unmutated tree in {build} (-j{opts.jobs}) ...", flush=True)
    done = run(["cmake", "--build", str(build), "-j", str(opts.jobs)], logs / "baseline-build.log")
    if done.returncode != 0:
        raise BaselineError(f"the unmutated tree does not build (log {logs / 'baseline-build.log'}):\n"
                            f"{tail(done.output)}")
    print(f"  built in {done.seconds:.0f} s")
    listing = run(["ctest", "--test-dir", str(build), "-N"], logs / "test-list.log")
    names = re.findall(r"Test\s+#\s*\d+:\s+(.*)", listing.output)
    python = sum(1 for n in names if n.startswith("python."))
    print(f"  {len(names)} tests registered ({python} python.*)")
    if not python:
        print("  warning: no python.* tests: the Python module or pytest is missing, python/src mutants will "
              "survive (scripts/install-deps.sh)")


class BaselineError(Exception):
    pass


# ---------------------------------------------------------------------------------------------------
# The run


@dataclass
class Result:
    id: str
    file: str
    status: str
    seconds: float = 0.0
    killed_by: str | None = None
    phase: str | None = None
    detail: str = ""
    bug: str = ""

    def line(self) -> str:
        if self.status == "KILLED":
            by = f"by {self.killed_by}, " if self.killed_by else ""
            return f"KILLED     {self.id}  ({by}{self.seconds:.1f} s)"
        if self.status == "SURVIVED":
            return f"SURVIVED   {self.id}  ({self.seconds:.1f} s)"
        if self.status == "EQUIVALENT":
            return f"EQUIVALENT {self.id}  (skipped: {self.detail})"
        if self.status == "NOCOMPILE":
            return f"NOCOMPILE  {self.id}  ({self.detail})"
        return f"{self.status:<10} {self.id}  ({self.detail})"


def test_mutant(opts: argparse.Namespace, build: Path, logs: Path, mutant: Mutant, backup: Backup) -> Result:
    start = time.monotonic()
    result = Result(mutant.id, mutant.file, "SURVIVED", bug=mutant.bug)
    try:
        applied = Applied(mutant, backup)
    except ValueError:
        return Result(mutant.id, mutant.file, "STALE", detail=f"text not found / ambiguous in {mutant.file}",
                      bug=mutant.bug)
    try:
        applied.apply()
        done = run(["cmake", "--build", str(build), "-j", str(opts.jobs)], logs / f"{mutant.id}.build.log")
        if done.returncode != 0:
            result.status = "NOCOMPILE"
            result.detail = f"build failed, log {logs / (mutant.id + '.build.log')}"
            return result
        phases = []
        if mutant.tests:
            phases.append(("quick", mutant.tests, opts.quick_timeout))
        phases.append(("suite", None, opts.test_timeout))
        for phase, regex, limit in phases:
            outcome = ctest(opts, build, logs / f"{mutant.id}.{phase}.log", regex, limit)
            if phase == "quick" and outcome.none_found:
                print(f"  note: the tests regex of {mutant.id} matches no test: {regex!r}")
            if not outcome.passed:
                result.status = "KILLED"
                result.phase = phase
                result.killed_by = outcome.failed[0] if outcome.failed else None
                result.detail = outcome.note
                return result
        return result
    finally:
        applied.restore()
        result.seconds = time.monotonic() - start


def dry_run(mutants: list[Mutant]) -> int:
    """Applies every mutant, checks the file changed as intended, restores it and checks its hash: the
    apply/restore machinery without a build (no backup directory is written)."""
    bad = 0
    for mutant in mutants:
        why = check_source(mutant)
        if why:
            print(f"STALE      {mutant.id}  ({why})")
            bad += 1
            continue
        applied = Applied(mutant, None)
        before = sha256(applied.original)
        ok = False
        try:
            applied.apply()
            now = mutant.path.read_bytes()
            ok = now != applied.original and now == applied.mutated and mutant.replace in now.decode("utf-8")
        finally:
            applied.restore()
        after = sha256(mutant.path.read_bytes())
        if ok and after == before:
            print(f"OK         {mutant.id}  (applied, changed, restored: sha256 {after[:12]} as before)")
        else:
            print(f"FAIL       {mutant.id}  (changed as intended: {ok}; hash restored: {after == before})")
            bad += 1
    print(f"dry run: {len(mutants) - bad} of {len(mutants)} mutants apply and restore cleanly")
    return 0 if bad == 0 else 1


def print_list(mutants: list[Mutant]) -> None:
    width = max((len(m.id) for m in mutants), default=10)
    for m in mutants:
        flag = "  [equivalent]" if m.equivalent else ""
        print(f"{m.id:<{width}}  {m.file}{flag}\n{'':<{width}}  {m.bug}")
    by_folder: dict[str, int] = {}
    for m in mutants:
        folder = m.file.split("/")[0] if not m.file.startswith("python/src") else "python/src"
        by_folder[folder] = by_folder.get(folder, 0) + 1
    counts = ", ".join(f"{k} {v}" for k, v in sorted(by_folder.items()))
    equivalent = sum(1 for m in mutants if m.equivalent)
    print(f"{len(mutants)} mutants ({equivalent} equivalent): {counts}")


def check_list(path: Path) -> int:
    mutants, problems = load_list(path)
    for m in mutants:
        why = check_source(m)
        if why:
            problems.append(f"{m.id}: {m.file}: {why}")
    for p in problems:
        print(f"problem: {p}")
    if problems:
        print(f"{path}: {len(problems)} problem(s) in {len(mutants)} mutants")
        return 1
    print(f"{path}: {len(mutants)} mutants, every find text occurs exactly once in its file")
    return 0


def select(mutants: list[Mutant], opts: argparse.Namespace) -> list[Mutant]:
    chosen = mutants
    if opts.only:
        wanted = [x.strip() for x in opts.only.split(",") if x.strip()]
        known = {m.id for m in mutants}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise SystemExit(f"mutants.py: --only: unknown id(s): {', '.join(unknown)}")
        chosen = [m for m in chosen if m.id in wanted]
    if opts.match:
        pattern = re.compile(opts.match)
        chosen = [m for m in chosen if pattern.search(m.id)]
    return chosen


def resolve_build_dir(text: str) -> Path:
    build = Path(text)
    if not build.is_absolute():
        build = REPO / build
    build = build.resolve()
    if build == REPO or build in REPO.parents:
        raise SystemExit(f"mutants.py: --build-dir {build} would be the repository itself or above it")
    if build != REPO and REPO in build.parents and build.parts[len(REPO.parts)] != "build":
        raise SystemExit(f"mutants.py: --build-dir {build} must lie under build/ or outside the repository")
    return build


def snapshot(mutants: list[Mutant]) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for m in mutants:
        if m.file not in hashes and m.path.is_file():
            hashes[m.file] = sha256(m.path.read_bytes())
    return hashes


def summarize(results: list[Result], opts: argparse.Namespace, interrupted: bool) -> tuple[float | None, int]:
    count = {s: sum(1 for r in results if r.status == s)
             for s in ("KILLED", "SURVIVED", "EQUIVALENT", "NOCOMPILE", "STALE")}
    scored = count["KILLED"] + count["SURVIVED"]
    rate = 100.0 * count["KILLED"] / scored if scored else None
    errors = count["NOCOMPILE"] + count["STALE"]
    print()
    print("summary" + (" (interrupted: partial)" if interrupted else ""))
    print("  " + ", ".join(f"{k.lower()} {v}" for k, v in count.items()))
    if rate is None:
        print("  kill rate: undefined (no mutant was killed or survived)")
    else:
        print(f"  kill rate: {count['KILLED']} / {scored} = {rate:.1f}% (target {opts.target:g}%)")
    survivors = [r for r in results if r.status == "SURVIVED"]
    if survivors:
        print("  survivors (bugs the suite does not see):")
        for r in survivors:
            print(f"    {r.id} ({r.file}): {r.bug}")
    if errors:
        print("  errors (not counted): " + ", ".join(f"{r.id} {r.status}" for r in results
                                                       if r.status in ("NOCOMPILE", "STALE")))
    return rate, errors


def write_json(path: str, results: list[Result], rate: float | None, opts: argparse.Namespace, tree_ok: bool) -> None:
    document = {
        "format": 1,
        "repository": str(REPO),
        "build_dir": str(opts.build_dir_path),
        "target_percent": opts.target,
        "kill_rate_percent": rate,
        "tree_restored": tree_ok,
        "counts": {s: sum(1 for r in results if r.status == s)
                   for s in ("KILLED", "SURVIVED", "EQUIVALENT", "NOCOMPILE", "STALE")},
        "results": [r.__dict__ for r in results],
    }
    out = Path(path)
    if not out.is_absolute():
        out = Path.cwd() / out
    atomic_write_text(out, json.dumps(document, indent=2) + "\n")
    print(f"results written to {out}")


def verify_tree(start: dict[str, str]) -> bool:
    def current(rel: str) -> str:
        try:
            return sha256((REPO / rel).read_bytes())
        except OSError:
            return "missing"

    changed = [rel for rel, digest in start.items() if current(rel) != digest]
    if changed:
        print(f"working tree: {len(changed)} of {len(start)} touched files differ from the start: {', '.join(changed)}"
              " (every restore was verified byte for byte: changed by someone else during the run?)")
        return False
    print(f"working tree: all {len(start)} touched files are byte-identical to the start (SHA-256 checked)")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/mutants.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__,
        epilog=f"""
The list (default {DEFAULT_LIST.relative_to(REPO)}): {{"format": 1, "mutants": [{{"id", "file", "find",
"replace", "bug", optional "tests" (a ctest -R regex of the tests most likely to kill it, run first),
optional "equivalent" (why the change cannot be observed: the mutant is skipped)}}]}}.

Why --exclude-regex defaults to {DEFAULT_EXCLUDE}: the layout.* and docs.* tests read the source
text itself (clang-format conformance, the include graph, citations), so a mutated line can fail
them for its formatting rather than for its behaviour (a kill that proves nothing about the tests),
and the install.* and fuzz.* tests build and install whole trees or run libFuzzer for minutes,
checking packaging rather than the mutated logic. Give --exclude-regex '' to run everything.

Examples:
  scripts/mutants.py --check                       # the list is well formed and current
  scripts/mutants.py --list
  scripts/mutants.py                               # every mutant, build dir {DEFAULT_BUILD}
  scripts/mutants.py --only s30-theory-cert-flow-strict,s30-discrete-armijo-c-half --skip-baseline
  scripts/mutants.py --match '^s30-' --json-out mutants-result.json
""")
    parser.add_argument("--list-file", default=str(DEFAULT_LIST), help="the mutant list (JSON)")
    parser.add_argument("--build-dir", default=DEFAULT_BUILD,
                        help="the build tree of the mutants, relative to the repository unless absolute; configured "
                             "on first use (Release, GRADFLOW_BUILD_BENCH=OFF, tests and Python module on) "
                             f"(default {DEFAULT_BUILD})")
    parser.add_argument("--cmake-arg", action="append", default=[], metavar="ARG",
                        help="an extra argument of the first cmake configure (repeatable), e.g. -DGRADFLOW_WITH_MPI=OFF")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                        help="parallel build jobs and ctest -j (default: the number of CPUs, %(default)s)")
    parser.add_argument("--only", metavar="ID[,ID...]", help="run only these mutants")
    parser.add_argument("--match", metavar="REGEX", help="run only the mutants whose id matches (re.search)")
    parser.add_argument("--list", action="store_true", help="print the mutants and exit")
    parser.add_argument("--check", action="store_true",
                        help="check the list (required keys, unique ids, every find text exactly once in its file) "
                             "without building; exit 1 on a problem")
    parser.add_argument("--target", type=float, default=90.0,
                        help="the kill rate in percent below which the exit status is 1 (default %(default)s)")
    parser.add_argument("--exclude-regex", default=DEFAULT_EXCLUDE,
                        help="ctest -E for every test run (default %(default)s; see below)")
    parser.add_argument("--quick-timeout", type=int, default=600,
                        help="ctest --timeout (s) per test of a mutant's quick tests (default %(default)s); a mutant "
                             "that hangs is KILLED by the timeout")
    parser.add_argument("--test-timeout", type=int, default=900,
                        help="ctest --timeout (s) per test of the whole suite (default %(default)s)")
    parser.add_argument("--suite-timeout", type=float, default=4 * 3600,
                        help="a safety limit (s) on one whole ctest run; past it the mutant is KILLED "
                             "(default %(default)s)")
    parser.add_argument("--skip-baseline", action="store_true",
                        help="do not run the whole suite on the unmutated tree first (it is still built)")
    parser.add_argument("--allow-errors", action="store_true",
                        help="STALE or NOCOMPILE mutants do not by themselves make the exit status 1")
    parser.add_argument("--json-out", metavar="FILE", help="write the results as JSON (written whole, atomically)")
    parser.add_argument("--dry-run", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.jobs < 1:
        parser.error("--jobs must be >= 1")

    list_path = Path(opts.list_file)
    if opts.check:
        return check_list(list_path)
    mutants, problems = load_list(list_path)
    if problems:
        for p in problems:
            print(f"problem: {p}")
        return 1
    mutants = select(mutants, opts)
    if opts.list:
        print_list(mutants)
        return 0
    if not mutants:
        print("no mutant selected")
        return 1

    build = resolve_build_dir(opts.build_dir)
    opts.build_dir_path = build
    for m in mutants:
        path, why = source_path(m)
        if why:
            print(f"problem: {m.id}: {why}")
            return 1
        if build in path.parents:
            print(f"problem: {m.id}: {m.file} lies in the build directory")
            return 1

    def on_signal(signum, _frame):
        raise Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    backup = Backup(build)
    try:
        backup.recover()
    except RestoreError as e:
        print(f"mutants.py: {e}")
        return EXIT_RESTORE

    if opts.dry_run:
        try:
            return dry_run(mutants)
        except (KeyboardInterrupt, Interrupted):
            restore_pending()
            print("interrupted (every file applied so far was restored)")
            return EXIT_INTERRUPTED

    start_hashes = snapshot(mutants)
    logs = build / "mutant-logs"
    results: list[Result] = []
    interrupted = False
    restore_failed = False
    try:
        configure_and_build(opts, build, logs)
        if not opts.skip_baseline:
            print("running the whole suite on the unmutated tree (it must be green) ...", flush=True)
            baseline = ctest(opts, build, logs / "baseline.suite.log", None, opts.test_timeout)
            if not baseline.passed:
                raise BaselineError("the unmutated suite is not green: " + (", ".join(baseline.failed) or baseline.note)
                                    + f" (log {logs / 'baseline.suite.log'}); fix it before mutating")
            print(f"  green in {baseline.seconds:.0f} s")
        print(f"{len(mutants)} mutants, build dir {build}, -j{opts.jobs}, excluding '{opts.exclude_regex}'")
        for mutant in mutants:
            if mutant.equivalent:
                result = Result(mutant.id, mutant.file, "EQUIVALENT", detail=mutant.equivalent, bug=mutant.bug)
            elif why := check_source(mutant):
                result = Result(mutant.id, mutant.file, "STALE", detail=f"{why} in {mutant.file}", bug=mutant.bug)
            else:
                result = test_mutant(opts, build, logs, mutant, backup)
            results.append(result)
            print(result.line(), flush=True)
    except BaselineError as e:
        print(f"mutants.py: {e}")
        return EXIT_BASELINE
    except RestoreError as e:
        print(f"mutants.py: RESTORE FAILED: {e}")
        restore_failed = True
    except (KeyboardInterrupt, Interrupted) as e:
        interrupted = True
        print(f"\ninterrupted ({e or 'SIGINT'}): restoring the mutated file")
    finally:
        try:
            restore_pending()
        except RestoreError as e:
            print(f"mutants.py: RESTORE FAILED: {e}")
            restore_failed = True

    rate, errors = summarize(results, opts, interrupted)
    tree_ok = verify_tree(start_hashes)
    if tree_ok and results and not interrupted and not opts.dry_run:
        # The build tree holds the last mutant's objects: rebuild the restored sources, so that a ctest run
        # in it afterwards tests the real code, not a mutant.
        print(f"rebuilding the restored tree in {build} ...", flush=True)
        rebuilt = run(["cmake", "--build", str(build), "-j", str(opts.jobs)], logs / "final-build.log")
        if rebuilt.returncode != 0:
            print(f"mutants.py: warning: the restored tree did not rebuild (log {logs / 'final-build.log'}): "
                  f"{build} may still hold a mutant's objects")
    if opts.json_out:
        write_json(opts.json_out, results, rate, opts, tree_ok)
    if restore_failed:
        return EXIT_RESTORE
    if interrupted:
        return EXIT_INTERRUPTED
    if rate is None or rate < opts.target or (errors and not opts.allow_errors):
        return EXIT_BELOW_TARGET
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
