// kernels::gemm for the baseline instruction set, and the choice between it, the AVX2 + FMA one and
// OpenBLAS (problems/detail/gemm.hpp).
#include <gradflow/problems/detail/gemm.hpp>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>

#define GRADFLOW_GEMM_VARIANT baseline
#include <gradflow/problems/detail/kernels_gemm.inc>

namespace gradflow::kernels {

#ifdef GRADFLOW_HAVE_X86_64_V3
namespace x86_64_v3 {
void gemm(bool transpose_a, bool transpose_b, long m, long n, long k, const double* a, const double* b, bool accumulate,
          double* c);
void gemm_strided(bool transpose_a, bool transpose_b, long m, long n, long k, const double* a, long lda,
                  const double* b, long ldb, bool accumulate, double* c, long ldc);
}  // namespace x86_64_v3
#endif

#ifdef GRADFLOW_HAVE_OPENBLAS
namespace openblas {
bool fits(long m, long n, long k, long lda, long ldb, long ldc);
void gemm(bool transpose_a, bool transpose_b, long m, long n, long k, const double* a, const double* b, bool accumulate,
          double* c);
void gemm_strided(bool transpose_a, bool transpose_b, long m, long n, long k, const double* a, long lda,
                  const double* b, long ldb, bool accumulate, double* c, long ldc);
std::string use();
}  // namespace openblas
#endif

namespace {

// OpenBLAS pays a fixed cost per call (its argument checks, buffer handling, packing) that Eigen's
// small-product paths do not: below this many multiply-adds (m n k) the Eigen kernel runs even when
// OpenBLAS was chosen. On the 32 x 64 x 64 x 1 network (products of 64 x 32 x 64 = 131,072), 2000
// descent steps took 0.081 s with Eigen's products and 0.096 s with OpenBLAS's (the best of 3, a loaded
// machine); from 256 x 64 x 256 (4.2 million) on OpenBLAS is the faster (bench/peers/gemm_rate.py). The
// threshold depends on the shapes only, so a run keeps its bits for any thread count.
#ifdef GRADFLOW_HAVE_OPENBLAS
constexpr double kOpenBlasMinMultiplyAdds = 1e6;

bool large(long m, long n, long k) {
  return static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) >= kOpenBlasMinMultiplyAdds;
}
#endif

using Gemm = void (*)(bool, bool, long, long, long, const double*, const double*, bool, double*);
using GemmStrided = void (*)(bool, bool, long, long, long, const double*, long, const double*, long, bool, double*,
                             long);

struct Choice {
  Gemm gemm = baseline::gemm;
  GemmStrided gemm_strided = baseline::gemm_strided;
  std::string name = "Eigen, x86-64 baseline";
  bool openblas = false;
};

// The environment variable's value, "auto" when unset; a value that is not one of `known` gets a
// warning on stderr and counts as "auto".
std::string_view setting(const char* variable, std::initializer_list<std::string_view> known) {
  const char* value = std::getenv(variable);
  const std::string_view text = value != nullptr ? value : "auto";
  if (text == "auto") return text;
  std::string names;
  for (const std::string_view name : known) {
    if (text == name) return text;
    names += std::string(names.empty() ? "" : ", ") + "\"" + std::string(name) + "\"";
  }
  std::fprintf(stderr, "gradflow: warning: %s=%s is none of %s, \"auto\"; using auto\n", variable, value,
               names.c_str());
  return "auto";
}

Choice choose() {
  Choice choice;
  // GRADFLOW_SIMD=baseline: Eigen's baseline code, the same bits on every x86-64 machine (it wins over
  // GRADFLOW_GEMM). GRADFLOW_GEMM=eigen: Eigen even where OpenBLAS was built in.
  const bool baseline_forced = setting("GRADFLOW_SIMD", {"baseline"}) == "baseline";
  const bool eigen_forced = setting("GRADFLOW_GEMM", {"eigen", "openblas"}) == "eigen";
#ifdef GRADFLOW_HAVE_X86_64_V3
  __builtin_cpu_init();
  if (!baseline_forced && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    choice.gemm = x86_64_v3::gemm;
    choice.gemm_strided = x86_64_v3::gemm_strided;
    choice.name = "Eigen, x86-64-v3 (AVX2, FMA)";
  }
#endif
#ifdef GRADFLOW_HAVE_OPENBLAS
  if (!baseline_forced && !eigen_forced) {
    choice.name = openblas::use() + " from 1e6 multiply-adds, " + choice.name + " below";
    choice.openblas = true;
  }
#else
  const char* asked = std::getenv("GRADFLOW_GEMM");
  if (!eigen_forced && asked != nullptr && std::string_view(asked) == "openblas") {
    std::fprintf(stderr,
                 "gradflow: warning: GRADFLOW_GEMM=openblas, but this build has no OpenBLAS (CMake option "
                 "GRADFLOW_GEMM); using Eigen\n");
  }
#endif
  return choice;
}

const Choice& chosen() {
  static const Choice choice = choose();
  return choice;
}

}  // namespace

void gemm(bool transpose_a, bool transpose_b, long m, long n, long k, const double* a, const double* b, bool accumulate,
          double* c) {
  const Choice& choice = chosen();
#ifdef GRADFLOW_HAVE_OPENBLAS
  if (choice.openblas && large(m, n, k) && openblas::fits(m, n, k, m, k, n)) {
    openblas::gemm(transpose_a, transpose_b, m, n, k, a, b, accumulate, c);
    return;
  }
#endif
  choice.gemm(transpose_a, transpose_b, m, n, k, a, b, accumulate, c);
}

void gemm_strided(bool transpose_a, bool transpose_b, long m, long n, long k, const double* a, long lda,
                  const double* b, long ldb, bool accumulate, double* c, long ldc) {
  const Choice& choice = chosen();
#ifdef GRADFLOW_HAVE_OPENBLAS
  if (choice.openblas && large(m, n, k) && openblas::fits(m, n, k, lda, ldb, ldc)) {
    openblas::gemm_strided(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, accumulate, c, ldc);
    return;
  }
#endif
  choice.gemm_strided(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, accumulate, c, ldc);
}

const char* gemm_instruction_set() { return chosen().name.c_str(); }

}  // namespace gradflow::kernels
