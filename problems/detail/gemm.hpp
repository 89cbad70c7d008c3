// The network's matrix products (problems/mlp.cpp, problems/mlp_residual.cpp).
//
// gemm, the network's matrix products, is Eigen's, compiled twice: for the baseline x86-64 and, in a
// translation unit of its own with Eigen's namespace renamed, for x86-64-v3 (AVX2 and FMA). The
// first call picks the second when the processor has AVX2 and FMA, unless the environment variable
// GRADFLOW_SIMD is "baseline" ("auto", the default, lets it choose; another value gets a warning on
// stderr and counts as "auto"). The two round differently (fused multiply-adds, other blocking), so
// bit-for-bit comparisons between machines need GRADFLOW_SIMD=baseline on both; on one machine every
// run gives the same bits either way. GRADFLOW_SIMD concerns gemm only: the kernels of
// core/detail/kernels.hpp (among them the explicit solvers' stage sums) give the same bits in both of
// their clones, so there is no other rounding for it to choose.
#pragma once

namespace gradflow::kernels {

// C = op(A) op(B) (accumulate false) or C += op(A) op(B), with C m x n, op(A) m x k, op(B) k x n,
// every matrix column-major and contiguous. A is stored as m x k, or as k x m when transpose_a (then
// op(A) = A^T); likewise B as k x n, or n x k when transpose_b. A row-major r x c matrix is the same
// memory as a column-major c x r one: pass it with the transpose flag flipped. C must not alias A or B.
void gemm(bool transpose_a, bool transpose_b, long m, long n, long k, const double* a, const double* b, bool accumulate,
          double* c);

// gemm on submatrices: the stored columns of A, B and C start lda, ldb and ldc entries apart (each at
// least the stored row count), as for a block of rows of a larger column-major matrix. With every
// leading dimension equal to the stored row count it is gemm. Like gemm, the result depends only on
// the values, the shapes and the leading dimensions, not on where the operands sit in memory.
void gemm_strided(bool transpose_a, bool transpose_b, long m, long n, long k, const double* a, long lda,
                  const double* b, long ldb, bool accumulate, double* c, long ldc);

// Which gemm runs on this machine: "x86-64-v3 (AVX2, FMA)" or "x86-64 baseline".
const char* gemm_instruction_set();

}  // namespace gradflow::kernels
