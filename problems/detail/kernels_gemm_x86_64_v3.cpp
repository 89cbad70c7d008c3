// kernels::gemm for x86-64-v3 (AVX2 + FMA): compiled with -march=x86-64-v3 and only called when the
// processor has both (kernels_gemm.cpp checks). Eigen is renamed in this translation unit, so none of
// its inline functions compiled for AVX2 can be merged by the linker with the baseline copies that
// the rest of the library uses: every vague-linkage symbol this file emits is in the renamed
// namespace (tests/check_kernel_symbols.cmake checks the object file). It is compiled with -O2 in
// every configuration: unoptimized, the standard library's small inline functions (std::min,
// std::bad_alloc's constructor) would be emitted as weak symbols compiled for AVX2.
#define Eigen gradflow_eigen_x86_64_v3
#define GRADFLOW_GEMM_VARIANT x86_64_v3
#define GRADFLOW_GEMM_ALIGNMENT 32  // AVX packets: see kernels_gemm.inc
#include <gradflow/problems/detail/kernels_gemm.inc>
