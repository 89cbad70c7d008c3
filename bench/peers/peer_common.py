"""What the peer scripts (flow_vs_scipy.py, descent_vs_torch.py) share: one-line errors, the retry
with the system python when the first python3 on PATH lacks the peer's packages, atomic CSV output,
the machine's description, and the honesty rules for the peer's BLAS and threads:

  * the thread variables (OPENBLAS/OMP/MKL_NUM_THREADS) are set from --threads before numpy loads
    (set_thread_variables), and per measurement through threadpoolctl (set_blas_threads), which also
    reports what each library really uses;
  * the BLAS the process loaded is printed, and a script refuses (exit 2, with the reason) to report
    ratios against the reference (netlib) BLAS unless --allow-reference-blas is given, in which case
    every ratio it prints carries REFERENCE_MARK (check_blas).

Imports nothing heavy: the scripts call set_thread_variables and import numpy after importing this."""

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


REFERENCE_MARK = "[reference BLAS]"
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
OPTIMIZED_BLAS = ("openblas", "mkl", "blis", "atlas")


def requested_threads(argv, default="1"):
    """The thread counts of --threads N[,M...] in argv (read before argparse, to set the variables before
    numpy loads); the default when absent or malformed (argparse then reports a malformed value)."""
    text = default
    for index, item in enumerate(argv):
        if item == "--threads" and index + 1 < len(argv):
            text = argv[index + 1]
        elif item.startswith("--threads="):
            text = item.split("=", 1)[1]
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        return [int(default)]
    return counts if counts and all(c >= 1 for c in counts) else [int(default)]


def set_thread_variables(count):
    """OPENBLAS/OMP/MKL_NUM_THREADS = count, before numpy, SciPy or torch load (their pools start with it)."""
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(count)


def parse_thread_list(text, option="--threads"):
    """N or N,M,...: positive integers, each once, in the order given."""
    counts = []
    for part in text.split(","):
        try:
            value = int(part)
        except ValueError:
            die(f"{option} must be a positive integer or a comma-separated list of them, got {text!r}")
        if value < 1:
            die(f"{option} values must be >= 1, got {text!r}")
        if value not in counts:
            counts.append(value)
    return counts


def set_blas_threads(count):
    """Sets the BLAS and OpenMP pools of this process to count threads (threadpoolctl); returns a line
    saying what each library now uses, or None without threadpoolctl (then only the variables set before
    numpy loaded apply)."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return None
    threadpool_limits(limits=count)
    parts = []
    for pool in threadpool_info():
        parts.append(f"{pool.get('internal_api')} ({os.path.basename(pool.get('filepath', '?'))}) "
                     f"{pool.get('num_threads')} thread(s)")
    return "; ".join(parts) if parts else "no BLAS or OpenMP pool found by threadpoolctl"


def blas_kind(libraries):
    """'optimized' (OpenBLAS, MKL, BLIS, ATLAS mapped), 'reference' (only Debian's netlib libblas.so.3 /
    liblapack.so.3 alternatives) or 'unknown' (no BLAS found in the maps)."""
    lowered = [path.lower() for path in libraries]
    if any(key in path for path in lowered for key in OPTIMIZED_BLAS):
        return "optimized"
    if any("/blas/libblas" in path or "/lapack/liblapack" in path for path in lowered):
        return "reference"
    return "unknown"


def check_blas(allow_reference, user):
    """Prints the BLAS/LAPACK libraries this process has mapped and what threadpoolctl sees; exits with
    status 2 when they are the reference BLAS and allow_reference is false. Returns the mark to append
    to every ratio: "" or " " + REFERENCE_MARK. user names who calls the BLAS ("numpy/SciPy", "torch")."""
    libraries = blas_libraries()
    kind = blas_kind(libraries)
    print(f"BLAS/LAPACK mapped by {user}: {', '.join(libraries) if libraries else 'none found'} ({kind})")
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                print(f"  threadpoolctl: {pool.get('internal_api')} {pool.get('version')} "
                      f"({pool.get('filepath')}), architecture {pool.get('architecture')}, "
                      f"{pool.get('num_threads')} thread(s)")
    except ImportError:
        print("  (threadpoolctl not installed: scripts/install-deps.sh --bench installs python3-threadpoolctl)")
    if kind == "reference":
        if not allow_reference:
            die(f"{user} is using the reference (netlib) BLAS ({', '.join(libraries)}): its dense products and "
                "factorizations are several times slower than an optimized BLAS, so ratios against it flatter "
                "gradflow. Install OpenBLAS (scripts/install-deps.sh --bench, or apt-get install "
                "libopenblas0-pthread) and check `update-alternatives --display libblas.so.3-x86_64-linux-gnu`, "
                "or pass --allow-reference-blas to measure anyway (every ratio is then marked "
                f"{REFERENCE_MARK})")
        print(f"  WARNING: reference BLAS allowed by --allow-reference-blas: every ratio below is marked "
              f"{REFERENCE_MARK}")
        return " " + REFERENCE_MARK
    if kind == "unknown":
        print("  note: no BLAS library found in this process's memory maps")
    return ""
