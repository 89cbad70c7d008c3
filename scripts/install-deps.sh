#!/usr/bin/env bash
# Installs the Debian 12 packages gradflow needs, only those that are missing (idempotent).
# Needs root to install: it uses sudo when not run as root, and says so.
set -euo pipefail

packages=(
  build-essential cmake git            # compiler and build tools
  libboost-dev                         # Boost.Odeint (header-only)
  libeigen3-dev                        # Eigen
  libsundials-dev                      # SUNDIALS CVODE
  libcli11-dev                         # command line
  catch2                               # tests (Catch2 v2)
  libbenchmark-dev                     # Google Benchmark
  nlohmann-json3-dev                   # JSON summaries
  gnuplot-nox                          # the sweeps' plots (PNG and SVG)
  python3                              # tests/ and scripts/ helpers (layout and citation checks)
  clang-format                         # the formatting check (.clang-format)
)
# libopenmpi-dev (MPI sweeps) arrives with libsundials-dev; without it the build still works.

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "gradflow: all required Debian packages are installed."
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
