// kernels::gemm on OpenBLAS (cblas_dgemm), compiled only when CMake found OpenBLAS (GRADFLOW_GEMM,
// CMakeLists.txt). Debian's threaded OpenBLAS (libopenblas0-pthread) is the one linked: it chooses its
// kernels for the processor at run time (DYNAMIC_ARCH) and is safe to call from several threads at
// once; Debian's serial build is not (it is built without USE_LOCKING, so concurrent callers race in
// its buffer allocator). gradflow's thread pool owns the threads: use() sets OpenBLAS to one thread, so
// every product runs on the calling thread and no two pools compete for the cores.
//
// Bits: OpenBLAS packs its operands (and its small-matrix kernels use unaligned loads), so a product's
// rounding depends on the values, the shapes and the leading dimensions only, on one machine and one
// OpenBLAS kernel set (tests/test_kernels.cpp checks it against the operands' addresses).
#include <gradflow/problems/detail/gemm.hpp>

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <string>

namespace gradflow::kernels::openblas {

bool fits(long m, long n, long k, long lda, long ldb, long ldc) {
  const long largest = std::max({m, n, k, lda, ldb, ldc});
  return largest <= INT_MAX;  // cblas takes int (LP64) sizes
}

void gemm_strided(bool transpose_a, bool transpose_b, long m, long n, long k, const double* a, long lda,
                  const double* b, long ldb, bool accumulate, double* c, long ldc) {
  if (m == 0 || n == 0) return;
  cblas_dgemm(CblasColMajor, transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0, a,
              static_cast<int>(std::max(lda, 1L)), b, static_cast<int>(std::max(ldb, 1L)), accumulate ? 1.0 : 0.0, c,
              static_cast<int>(std::max(ldc, 1L)));
}

void gemm(bool transpose_a, bool transpose_b, long m, long n, long k, const double* a, const double* b, bool accumulate,
          double* c) {
  gemm_strided(transpose_a, transpose_b, m, n, k, a, transpose_a ? k : m, b, transpose_b ? n : k, accumulate, c, m);
}

std::string use() {
  openblas_set_num_threads(1);
  const char* core = openblas_get_corename();
  const char* config = openblas_get_config();
  std::string name = "OpenBLAS";
  if (config != nullptr) {
    // "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64": the version is the second word.
    const std::string text = config;
    const auto start = text.find(' ');
    if (start != std::string::npos) name += " " + text.substr(start + 1, text.find(' ', start + 1) - start - 1);
  }
  name += std::string(" (") + (core != nullptr ? core : "unknown") + " kernels, one thread per call)";
  return name;
}

}  // namespace gradflow::kernels::openblas
