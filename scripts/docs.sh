#!/usr/bin/env bash
# Builds the documentation site into build/docs/html (open build/docs/html/index.html in a browser):
# the C++ reference from the public headers (Doxygen, docs/Doxyfile), the pages of docs/ with the
# Python reference from the built module (Sphinx with MyST, Breathe and furo). Any warning of Doxygen
# or Sphinx (an undocumented public declaration, a broken link, a page outside every table of contents)
# fails the build.
#
#   scripts/docs.sh [--build DIR] [--out DIR] [--if-available]
#
# --build DIR      the CMake build whose Python module the reference documents (default build/release;
#                  configured with the release preset and the module built when it is not there yet)
# --out DIR        where the site goes (default build/docs: DIR/html, DIR/doxygen, DIR/doctrees)
# --if-available   when a documentation package is missing, say which and exit 77 (ctest's "skipped")
#
# Needs doxygen, python3-sphinx, furo, python3-breathe and python3-myst-parser:
# scripts/install-deps.sh --docs installs them.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/release
out=build/docs
if_available=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="${2:?docs.sh: --build needs a folder}"; shift 2 ;;
    --out) out="${2:?docs.sh: --out needs a folder}"; shift 2 ;;
    --if-available) if_available=1; shift ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "docs.sh: error: unknown argument '$1' (see scripts/docs.sh --help)" >&2; exit 2 ;;
  esac
done

python=/usr/bin/python3
missing=()
command -v doxygen >/dev/null 2>&1 || missing+=(doxygen)
for module in sphinx:python3-sphinx furo:furo breathe:python3-breathe myst_parser:python3-myst-parser; do
  "$python" -c "import ${module%%:*}" >/dev/null 2>&1 || missing+=("${module#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "docs.sh: the documentation needs the Debian packages ${missing[*]}; scripts/install-deps.sh --docs installs them" >&2
  [ "$if_available" -eq 1 ] && exit 77
  exit 3
fi

if ! ls "$build"/python/gradflow/_core*.so >/dev/null 2>&1; then
  echo "docs.sh: building the Python module in $build (its docstrings are the Python reference)"
  [ -f "$build/CMakeCache.txt" ] || cmake --preset release
  cmake --build "$build" --target gradflow_python -j "$(nproc)"
fi

mkdir -p "$out"
echo "docs.sh: the C++ reference (doxygen docs/Doxyfile -> $out/doxygen)"
{ cat docs/Doxyfile; echo "OUTPUT_DIRECTORY = $out/doxygen"; } | doxygen -
echo "docs.sh: the site (sphinx -W -> $out/html)"
GRADFLOW_DOXYGEN_XML="$(cd "$out" && pwd)/doxygen/xml" PYTHONPATH="$(cd "$build" && pwd)/python" \
  "$python" -m sphinx -W --keep-going -q -b html -d "$out/doctrees" docs "$out/html"
echo "docs.sh: the site is in $out/html; open $out/html/index.html"
