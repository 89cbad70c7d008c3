// kernels::gemm for the baseline instruction set, and the choice between it and the AVX2 + FMA one.
#include <gradflow/problems/detail/gemm.hpp>

#include <cstdio>
#include <cstdlib>
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

namespace {

using Gemm = void (*)(bool, bool, long, long, long, const double*, const double*, bool, double*);
using GemmStrided = void (*)(bool, bool, long, long, long, const double*, long, const double*, long, bool, double*,
                             long);

struct Choice {
  Gemm gemm = baseline::gemm;
  GemmStrided gemm_strided = baseline::gemm_strided;
  const char* name = "x86-64 baseline";
};

Choice choose() {
  Choice choice;
  const char* variable = std::getenv("GRADFLOW_SIMD");
  const std::string_view setting = variable != nullptr ? variable : "";
  if (!setting.empty() && setting != "baseline" && setting != "auto") {
    std::fprintf(stderr, "gradflow: warning: GRADFLOW_SIMD=%s is neither \"baseline\" nor \"auto\"; using auto\n",
                 variable);
  }
#ifdef GRADFLOW_HAVE_X86_64_V3
  const bool baseline_forced = setting == "baseline";
  __builtin_cpu_init();
  if (!baseline_forced && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    choice.gemm = x86_64_v3::gemm;
    choice.gemm_strided = x86_64_v3::gemm_strided;
    choice.name = "x86-64-v3 (AVX2, FMA)";
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
  chosen().gemm(transpose_a, transpose_b, m, n, k, a, b, accumulate, c);
}

void gemm_strided(bool transpose_a, bool transpose_b, long m, long n, long k, const double* a, long lda,
                  const double* b, long ldb, bool accumulate, double* c, long ldc) {
  chosen().gemm_strided(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, accumulate, c, ldc);
}

const char* gemm_instruction_set() { return chosen().name; }

}  // namespace gradflow::kernels
