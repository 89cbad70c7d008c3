"""What the peer scripts (flow_vs_scipy.py, descent_vs_torch.py) share: one-line errors, the retry
with the system python when the first python3 on PATH lacks the peer's packages, atomic CSV output,
and the machine's description. Imports nothing heavy: the scripts set their thread variables and
import numpy after importing this."""

import csv
import os
import platform
import sys
import tempfile

SYSTEM_PYTHON = "/usr/bin/python3"  # the interpreter Debian's python3-scipy and python3-torch serve
PROG = "peer"  # the script's name, set by the script before anything is reported


def die(message):
    """Report a user error in one line and exit with status 2."""
    sys.stderr.write(f"{PROG}: error: {message}\n")
    sys.exit(2)


def retry_with_system_python(exc, flag, what, install):
    """After `import` of the peer's packages failed with exc: run the script again, once, with the
    system python when another one is running (e.g. a pyenv python3 first on PATH); else die
    naming what is missing (`what`) and how to install it (`install`)."""
    other = os.path.exists(SYSTEM_PYTHON) and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON)
    if other and not os.environ.get(flag):
        sys.stderr.write(f"{PROG}: note: {sys.executable} has no {what} ({exc}); re-running with {SYSTEM_PYTHON}\n")
        sys.stderr.flush()
        os.environ[flag] = "1"
        try:
            os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(sys.argv[0])] + sys.argv[1:])
        except OSError:
            pass
    die(
        f"{what} cannot be imported by {sys.executable} ({exc}); install them with `{install}`"
        + (f" and run the script with {SYSTEM_PYTHON}" if other else "")
    )


def last_line(text):
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def write_csv_atomically(path, rows, fields):
    """rows (dicts) under the header fields, written to a temporary file and renamed: whole or not at all."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            for row in rows:
                out = {}
                for key in fields:
                    value = row[key]
                    if value is None:
                        value = ""
                    elif isinstance(value, float):
                        value = repr(value)
                    out[key] = value
                writer.writerow(out)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_libraries():
    """The BLAS/LAPACK shared libraries this process has loaded (Linux), resolved."""
    found = []
    try:
        with open("/proc/self/maps", encoding="utf-8") as fh:
            for line in fh:
                fields = line.split()
                if len(fields) < 6:
                    continue
                base = os.path.basename(fields[-1]).lower()
                if not base.startswith("lib") or ".cpython-" in base:
                    continue  # Python extension modules wrap the library, they are not it
                if any(key in base for key in ("blas", "lapack", "mkl", "blis", "atlas")):
                    path = os.path.realpath(fields[-1])
                    if path not in found:
                        found.append(path)
    except OSError:
        pass
    return found
