// The few inner loops that dominate the cost of the built-in problems and of the flow's field, written so
// that one portable binary runs them with the widest vector instructions the machine has. The network's
// matrix products are in problems/detail/gemm.hpp.
//
// matvec and tanh_with_derivative give the same bits on every machine. Each is compiled twice (GCC's target_clones on
// x86-64: the baseline x86-64 and x86-64-v3, i.e. AVX2) and the loader picks the clone once, when the program starts.
// The translation unit is compiled with -ffp-contract=off, so neither clone fuses a multiply and an add; the kernels
// only vectorize across independent outputs and never reorder a sum. Every output is therefore computed by the same
// sequence of IEEE operations in both clones: the results are identical bit for bit, whichever clone runs. Other
// compilers and targets get the baseline loop.
//
// sin_cos feeds the Karimi problem. (Eigen 3.4 vectorizes sin and tanh for float only, and the C
// library's are scalar calls: hence tanh_with_derivative and sin_cos here.)
//
#pragma once

namespace gradflow::kernels {

// y = A x for a column-major rows x cols matrix A (Eigen's default layout). y must not alias A or x.
void matvec(const double* a, long rows, long cols, const double* x, double* y);

// value[i] = tanh(z[i]) and, when first is not null, first[i] = tanh'(z[i]) = 1 / cosh^2(z[i]), for
// i < n. Accurate to a few units in the last place of the value (tests/test_kernels.cpp checks 4)
// and to a few units of relative error in the derivative, including where tanh rounds to +-1 and
// 1 - tanh^2 would lose every digit; tanh(+-0) = +-0, tanh(+-inf) = +-1, NaN stays NaN.
void tanh_with_derivative(const double* z, double* value, double* first, long n);

// sin_x[i] = sin(x[i]) and cos_x[i] = cos(x[i]) for i < n, to a few units in the last place
// (tests/test_kernels.cpp checks 4 on random arguments with |x| <= 1e5); within about 1e-15 of a
// multiple of pi/2 the absolute error stays below 1e-30 but the relative one can grow. Beyond
// |x| = 1e5 the C library's sin and cos. sin(+-0) = +-0; inf and NaN give NaN.
void sin_cos(const double* x, double* sin_x, double* cos_x, long n);

// v[i] = -g[i] for i < n, and the return value sum g[i]^2, in one pass (the gradient flow's velocity
// and the squared norm that tells whether the gradient is usable: it is not finite for an Inf or NaN
// entry, nor when the entries are finite but the norm overflows). The sum is taken in eight partial
// sums in a fixed order: the same bits in both clones, not those of Eigen's squaredNorm.
double negate_and_squared_norm(const double* g, double* v, long n);

}  // namespace gradflow::kernels
