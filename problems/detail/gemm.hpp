// The network's matrix products (problems/mlp.cpp, problems/mlp_residual.cpp).
//
// gemm, the network's matrix products, runs on one of three kernels, chosen once per process at the
// first call: OpenBLAS (problems/detail/kernels_gemm_openblas.cpp; when the build found it, CMake
// option GRADFLOW_GEMM), one thread per call, with OpenBLAS's own choice of kernels for the processor;
// else Eigen compiled for x86-64-v3 (AVX2 and FMA; a translation unit of its own with Eigen's namespace
// renamed) when the processor has both; else Eigen for the baseline x86-64. The environment variable
// GRADFLOW_GEMM=eigen skips OpenBLAS, and GRADFLOW_SIMD=baseline forces Eigen's baseline code (it wins;
// "auto", the default, lets them choose; another value gets a warning on stderr and counts as "auto").
// The three round differently (blocking, fused multiply-adds), so bit-for-bit comparisons between
// machines need GRADFLOW_SIMD=baseline on both; on one machine every run gives the same bits with any
// choice, for any thread count. GRADFLOW_SIMD concerns gemm only: the kernels of core/detail/kernels.hpp
// (among them the explicit solvers' stage sums) give the same bits in both of their clones, so there
// is no other rounding for it to choose.
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

// Which gemm runs: "OpenBLAS 0.3.21 (Haswell kernels, one thread per call)", "Eigen, x86-64-v3 (AVX2,
// FMA)" or "Eigen, x86-64 baseline" (gradflow --version prints it).
const char* gemm_instruction_set();

}  // namespace gradflow::kernels
