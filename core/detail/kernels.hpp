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

// The stage sums of the explicit Runge-Kutta methods (odeint's scale_sumN, flow/odeint_backend.cpp):
// out[i] = (...((c[0] x[0][i] + c[1] x[1][i]) + c[2] x[2][i]) + ...) + c[terms-1] x[terms-1][i] for i < n,
// with 1 <= terms <= kMaxScaleSumTerms: every product rounded, the sum taken from left to right, no fused
// multiply-add. That is the sequence of IEEE operations of odeint's default_operations on Eigen vectors
// (Eigen evaluates c1 * x1 + c2 * x2 + ... term by term in that order), so the stage sums give the bits
// of odeint's own arithmetic in both clones, only at the machine's vector width (4 doubles with AVX2
// where Eigen's portable build uses SSE2's 2). out may be one of the x[j] (each out[i] is written after
// its inputs are read) but must not overlap them otherwise.
constexpr int kMaxScaleSumTerms = 14;
void scale_sum(double* out, const double* c, const double* const* x, int terms, long n);

// The modified midpoint step of Bulirsch-Stoer (odeint's scale_sum_swap2): with old = a[i],
// a[i] = c0 b[i] + c1 x[i] and b[i] = old, for i < n; a, b and x must not overlap. The same operations
// as odeint's, without its temporary copy of a.
void scale_sum_swap(double* a, double* b, const double* x, double c0, double c1, long n);

// sum_i (e[i] / (atol + rtol |x[i]|))^2 for i < n (0 when n = 0): the sum of the adaptive Runge-Kutta
// steppers' RMS error norm (flow/odeint_backend.cpp). The same operations, summed in the same order, as
// Eigen's portable (SSE2) evaluation of (e.array() / (atol + rtol * x.array().abs())).square().sum():
// four running sums over blocks of four entries (Eigen's two accumulators of two lanes), then a last
// pair and the last entry. So it gives the bits of that Eigen expression in a build without -march,
// and the same bits in both clones.
double scaled_squared_sum(const double* e, const double* x, double atol, double rtol, long n);

}  // namespace gradflow::kernels
