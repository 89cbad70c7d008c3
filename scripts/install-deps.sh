#!/usr/bin/env bash
# Installs the Debian 12 packages gradflow needs, only those that are missing (idempotent).
# Needs root to install: it uses sudo when not run as root, and says so.
#
#   scripts/install-deps.sh           # what the build, the tests and the main job need
#   scripts/install-deps.sh --bench   # that, and what the benchmark peers need (bench/peers, BENCHMARKS.md)
#   scripts/install-deps.sh --coverage  # that, and gcovr (scripts/coverage.sh, the table in CONTRIBUTING.md)
#   scripts/install-deps.sh --docs    # that, and what the documentation site needs (scripts/docs.sh): doxygen,
#                                     # Sphinx, furo, Breathe, MyST
#
# --bench adds SciPy, PyTorch and an optimized BLAS (OpenBLAS, which numpy, SciPy and Debian's torch
# then load through the libblas.so.3 / liblapack.so.3 alternatives), threadpoolctl (the peer scripts
# read and set the BLAS thread count with it) and OpenMPI's mpirun (the sweep-scaling measurement,
# bench/cost_laws.py). It then prints which BLAS the alternatives select.
set -euo pipefail

usage() {
  echo "usage: scripts/install-deps.sh [--bench] [--coverage] [--docs]" >&2
  echo "  --bench     also install what the benchmark peers need (SciPy, PyTorch, OpenBLAS, threadpoolctl, mpirun, valgrind)" >&2
  echo "  --coverage  also install gcovr (scripts/coverage.sh)" >&2
  echo "  --docs      also install what the documentation site needs (doxygen, Sphinx, furo, Breathe, MyST: scripts/docs.sh)" >&2
}

bench=0
coverage=0
docs=0
for argument in "$@"; do
  case "$argument" in
    --bench) bench=1 ;;
    --coverage) coverage=1 ;;
    --docs) docs=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "install-deps.sh: error: unknown argument '$argument'" >&2
      usage
      exit 2
      ;;
  esac
done

packages=(
  build-essential cmake git            # compiler and build tools
  libboost-dev                         # Boost.Odeint (header-only)
  libeigen3-dev                        # Eigen
  libsundials-dev                      # SUNDIALS CVODE
  libcli11-dev                         # command line
  libopenblas-pthread-dev              # the network's matrix products (OpenBLAS's kernels for this processor)
  catch2                               # tests (Catch2 v2)
  libbenchmark-dev                     # Google Benchmark
  nlohmann-json3-dev                   # JSON summaries
  gnuplot-nox                          # the sweeps' plots (PNG and SVG)
  python3                              # tests/ and scripts/ helpers (layout and citation checks)
  python3-dev pybind11-dev             # the Python module (python/)
  python3-numpy python3-scipy          # the module's arrays, and its tests' oracles (and the peers)
  python3-pytest python3-hypothesis    # the module's tests (python/tests, run by ctest; hypothesis: the argument properties)
  python3-threadpoolctl                # the module's OpenBLAS leaves numpy's alone (test_matrix_products.py)
  python3-mypy                         # the stub checked against the module (mypy's stubtest, python/tests/test_stub.py)
  python3-venv python3-pip python3-wheel  # pip's way in, tested offline in a virtual environment (test_pip_install.py)
  python3-build                        # python3 -m build --no-isolation: the wheel the PyPA way (test_pip_install.py)
  python3-matplotlib                   # examples/python/plot_flow.py (and its test's image check)
  clang-format                         # the formatting check (.clang-format)
)
# libopenmpi-dev (MPI sweeps) arrives with libsundials-dev; without it the build still works.

if [ "$bench" -eq 1 ]; then
  packages+=(
    python3-torch                      # bench/peers/descent_vs_torch.py (and the module's autograd test)
    libopenblas0-pthread               # an optimized BLAS/LAPACK for both peers (else the reference one)
    python3-threadpoolctl              # the peers report and set the BLAS threads with it
    openmpi-bin                        # mpirun for the sweep-scaling part of bench/cost_laws.py
    valgrind                           # bench/overhead_instructions.py (instruction counts under callgrind)
  )
fi

if [ "$coverage" -eq 1 ]; then
  packages+=(gcovr)                    # scripts/coverage.sh: line and branch coverage per folder
fi

if [ "$docs" -eq 1 ]; then
  packages+=(
    doxygen                            # the C++ reference from the public headers (docs/Doxyfile)
    python3-sphinx furo                # the site and its theme
    python3-breathe                    # Doxygen's XML into Sphinx
    python3-myst-parser                # the pages are Markdown (MyST)
  )
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

report_blas() {
  # Which library the libblas.so.3 and liblapack.so.3 alternatives point to (what numpy, SciPy and
  # Debian's torch load). OpenBLAS registers itself with a higher priority than the reference BLAS,
  # so in the alternatives' auto mode it wins; a manual setting is left alone and reported.
  [ "$bench" -eq 1 ] || return 0
  local arch
  arch="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)"
  for name in libblas.so.3 liblapack.so.3; do
    local target
    target="$(readlink -f "/usr/lib/$arch/$name" 2>/dev/null || true)"
    echo "gradflow: $name -> ${target:-not found}"
    case "$target" in
      *openblas*) ;;
      *) echo "gradflow: warning: $name is not OpenBLAS; the peers will refuse to report ratios against it" \
              "(select it with: update-alternatives --config $name-$arch)" >&2 ;;
    esac
  done
}

if [ ${#missing[@]} -eq 0 ]; then
  if [ "$bench" -eq 1 ]; then
    echo "gradflow: all required Debian packages (with the benchmark peers') are installed."
  else
    echo "gradflow: all required Debian packages are installed."
  fi
  report_blas
  exit 0
fi

echo "gradflow: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  echo "gradflow: installing packages needs root; using sudo."
  as_root=(sudo)
else
  echo "gradflow: installing packages needs root, and sudo is not available." >&2
  echo "gradflow: run as root:  apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
report_blas
