// Compiled with -ffp-contract=off and -fno-trapping-math (see CMakeLists.txt): the first keeps the
// two clones bit-identical (kernels.hpp), the second lets GCC vectorize the branch-free selects below.
#ifndef GRADFLOW_KERNELS_NAMESPACE
#include <gradflow/core/detail/kernels.hpp>
#endif

#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>

// Not under ThreadSanitizer: the clones' ifunc resolvers run while the program is loaded, before the
// sanitizer's runtime is, and their instrumentation crashes there (the baseline alone gives the same bits).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(GRADFLOW_NO_CLONES) && \
    !defined(__SANITIZE_THREAD__)
#define GRADFLOW_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define GRADFLOW_CLONES
#endif

// tests/kernels_baseline.cpp compiles this file a second time, baseline only and in a namespace of
// its own, to check that the clones agree bit for bit.
#ifndef GRADFLOW_KERNELS_NAMESPACE
#define GRADFLOW_KERNELS_NAMESPACE gradflow::kernels
#endif

namespace GRADFLOW_KERNELS_NAMESPACE {
namespace {

// ln 2 split in two: the last 20 bits of kLn2High are zero, so k * kLn2High is exact for |k| < 2^20.
constexpr double kInvLn2 = 1.4426950408889634074;
constexpr double kLn2High = 6.93147180369123816490e-01;
constexpr double kLn2Low = 1.90821492927058770002e-10;
// Adding 1.5 * 2^52 rounds a double of magnitude < 2^51 to an integer k, which then sits in the low
// bits of the sum's representation.
constexpr double kRoundShift = 6755399441055744.0;
constexpr std::uint64_t kRoundShiftBits = 0x4338000000000000ULL;
// For |z| beyond this, tanh(z) rounds to +-1 and 1/cosh^2(z) < 1e-303; clamping keeps 2^k normal.
constexpr double kClamp = 350.0;

// 1/n!, exactly as the double nearest to it: 1.0 / n! with n! exact (n <= 18 < 2^53).
constexpr double inverse_factorial(int n) {
  double factorial = 1.0;
  for (int i = 2; i <= n; ++i) factorial *= i;
  return 1.0 / factorial;
}

// The coefficients c_0..c_{N-1} of a Taylor polynomial in u with c_j = sign^j / (first + step j)!.
template <std::size_t N>
constexpr std::array<double, N> taylor_coefficients(int first, int step, double sign) {
  std::array<double, N> c{};
  double s = 1.0;
  for (std::size_t j = 0; j < N; ++j) {
    c[j] = s * inverse_factorial(first + step * static_cast<int>(j));
    s *= sign;
  }
  return c;
}

// c_0 + u (c_1 + u (c_2 + ...)), Horner's rule from the highest coefficient down.
template <std::size_t N>
inline double horner(double u, const std::array<double, N>& c) {
  double q = c[N - 1];
  for (std::size_t j = N - 1; j-- > 0;) q = c[j] + u * q;
  return q;
}

// e^r - 1 = r (1 + r/2! + r^2/3! + ... + r^12/13!)
constexpr auto kExpm1 = taylor_coefficients<13>(1, 1, 1.0);
// sin r = r - r^3 (1/3! - r^2/5! + ... - r^14/17!)
constexpr auto kSin = taylor_coefficients<8>(3, 2, -1.0);
// cos r = 1 - r^2 (1/2! - r^2/4! + ... + r^16/18!)
constexpr auto kCos = taylor_coefficients<9>(2, 2, -1.0);

struct TanhPair {
  double value;
  double first;
};

// With a = |z| and m = expm1(-2a):
//   tanh(a) = (1 - e^{-2a}) / (1 + e^{-2a}) = -m / (2 + m),
//   1/cosh^2(a) = 4 e^{-2a} / (1 + e^{-2a})^2 = 4 (1 + m) / (2 + m)^2.
// Both are free of cancellation: m is in (-1, 0] and is computed to a few ulps relative, including
// for tiny a. m comes from -2a = k ln 2 + r with |r| <= ln 2 / 2:
//   expm1(-2a) = 2^k (e^r - 1) + (2^k - 1),
// with e^r - 1 = r (1 + r/2 + r^2/6 + ... + r^12/13!), whose truncation error is below 2e-17
// relative for |r| <= ln 2 / 2. No branches, so the loops below vectorize.
inline TanhPair tanh_pair(double z) {
  const double a = std::fabs(z);
  const double clamped = a < kClamp ? a : kClamp;  // NaN becomes kClamp here and is restored below
  const double y = -2.0 * clamped;
  const double shifted = y * kInvLn2 + kRoundShift;
  const double k = shifted - kRoundShift;
  const double r = (y - k * kLn2High) - k * kLn2Low;
  const double em1_r = r * horner(r, kExpm1);  // e^r - 1
  // 2^k, built from k's bits: k is in [-1010, 0], so the biased exponent k + 1023 is in [13, 1023].
  const std::uint64_t k_bits = std::bit_cast<std::uint64_t>(shifted) - kRoundShiftBits;
  const double scale = std::bit_cast<double>((k_bits + 1023) << 52);
  const double m = scale * em1_r + (scale - 1.0);  // expm1(-2a)
  const double e = scale * em1_r + scale;          // exp(-2a) = 1 + m, without the rounding of 1 + m
  const double inverse = 1.0 / (2.0 + m);
  const double t = -m * inverse;
  const double first = (4.0 * e) * (inverse * inverse);
  const bool is_number = z == z;
  return {is_number ? std::copysign(t, z) : z, is_number ? first : z};
}

// pi/2 in three parts: the first two have 33 significant bits, so k times either is exact for
// |k| < 2^20; the three add up to pi/2 within 1e-37.
constexpr double kTwoOverPi = 0.63661977236758134308;
constexpr double kPiOver2Part1 = 0x1.921fb544p+0;
constexpr double kPiOver2Part2 = 0x1.0b4611a6p-34;
constexpr double kPiOver2Part3 = 0x1.3198a2e037073p-69;
// Up to here the reduction above is accurate (|k| < 2^17); beyond it, sin_cos calls the C library.
constexpr double kSinCosFastLimit = 1e5;

struct SinCos {
  double sin;
  double cos;
};

// x = k pi/2 + r with |r| <= pi/4 (Cody and Waite's reduction with the three parts above), then the
// Taylor polynomials of sin r (to r^17) and cos r (to r^18), whose truncation errors are below
// 1e-19 on |r| <= pi/4, and the quadrant k mod 4 picks and signs them. No branches.
inline SinCos sin_cos_pair(double x) {
  const double shifted = x * kTwoOverPi + kRoundShift;
  const double k = shifted - kRoundShift;
  const double r = ((x - k * kPiOver2Part1) - k * kPiOver2Part2) - k * kPiOver2Part3;
  const double r2 = r * r;
  const double sin_r = r - (r * r2) * horner(r2, kSin);
  const double cos_r = 1.0 - r2 * horner(r2, kCos);
  const std::uint64_t quadrant = std::bit_cast<std::uint64_t>(shifted) - kRoundShiftBits;  // k mod 2^64
  const bool odd = (quadrant & 1U) != 0;
  const double sin_abs = odd ? cos_r : sin_r;
  const double cos_abs = odd ? sin_r : cos_r;
  // sin x = sin r, cos r, -sin r, -cos r and cos x = cos r, -sin r, -cos r, sin r for k mod 4 = 0..3.
  const double sin_x = (quadrant & 2U) != 0 ? -sin_abs : sin_abs;
  // sin(-0) = -0: the polynomial's last addition would give +0.
  return {x == 0.0 ? x : sin_x, ((quadrant + 1U) & 2U) != 0 ? -cos_abs : cos_abs};
}

// out[i] = (c0 x0[i] + c1 x1[i]) + ... for a fixed number of terms: a left fold, so the sum runs from
// the first term to the last. The loop carries no dependence even when out is one of the x (element i
// is read before it is written), which ivdep tells the vectorizer instead of a run-time overlap check.
template <std::size_t... J>
[[gnu::always_inline]] inline void scale_sum_fixed(double* out, const double* c, const double* const* x, long n,
                                                   std::index_sequence<J...>) {
  const double a[] = {c[J]...};
  const double* p[] = {x[J]...};
#pragma GCC ivdep
  for (long i = 0; i < n; ++i) out[i] = (... + (a[J] * p[J][i]));
}

template <std::size_t N>
[[gnu::always_inline]] inline void scale_sum_n(double* out, const double* c, const double* const* x, long n) {
  scale_sum_fixed(out, c, x, n, std::make_index_sequence<N>());
}

}  // namespace

GRADFLOW_CLONES void matvec(const double* __restrict a, long rows, long cols, const double* __restrict x,
                            double* __restrict y) {
  for (long i = 0; i < rows; ++i) y[i] = 0.0;
  // Four columns at a time: y is read and written once per four columns. Each y[i] is summed in the
  // same order in every clone.
  long j = 0;
  for (; j + 4 <= cols; j += 4) {
    const double* a0 = a + j * rows;
    const double* a1 = a0 + rows;
    const double* a2 = a1 + rows;
    const double* a3 = a2 + rows;
    const double x0 = x[j], x1 = x[j + 1], x2 = x[j + 2], x3 = x[j + 3];
    for (long i = 0; i < rows; ++i) y[i] = y[i] + ((a0[i] * x0 + a1[i] * x1) + (a2[i] * x2 + a3[i] * x3));
  }
  for (; j < cols; ++j) {
    const double* a0 = a + j * rows;
    const double x0 = x[j];
    for (long i = 0; i < rows; ++i) y[i] = y[i] + a0[i] * x0;
  }
}

GRADFLOW_CLONES void tanh_with_derivative(const double* __restrict z, double* __restrict value,
                                          double* __restrict first, long n) {
  if (first) {
    for (long i = 0; i < n; ++i) {
      const TanhPair p = tanh_pair(z[i]);
      value[i] = p.value;
      first[i] = p.first;
    }
  } else {
    for (long i = 0; i < n; ++i) value[i] = tanh_pair(z[i]).value;
  }
}

GRADFLOW_CLONES void sin_cos(const double* __restrict x, double* __restrict sin_x, double* __restrict cos_x, long n) {
  for (long i = 0; i < n; ++i) {
    const SinCos p = sin_cos_pair(x[i]);
    sin_x[i] = p.sin;
    cos_x[i] = p.cos;
  }
  // Large arguments need a longer reduction than the one above: the C library's (rare; not vectorized).
  for (long i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > kSinCosFastLimit) {
      sin_x[i] = std::sin(x[i]);
      cos_x[i] = std::cos(x[i]);
    }
  }
}

GRADFLOW_CLONES double negate_and_squared_norm(const double* __restrict g, double* __restrict v, long n) {
  // Eight partial sums in a fixed order, combined in a fixed order: the same bits in both clones.
  double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) {
      v[i + j] = -g[i + j];
      s[j] += g[i + j] * g[i + j];
    }
  }
  for (int j = 0; i < n; ++i, ++j) {
    v[i] = -g[i];
    s[j] += g[i] * g[i];
  }
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

GRADFLOW_CLONES void scale_sum(double* out, const double* c, const double* const* x, int terms, long n) {
  switch (terms) {
    case 1:
      return scale_sum_n<1>(out, c, x, n);
    case 2:
      return scale_sum_n<2>(out, c, x, n);
    case 3:
      return scale_sum_n<3>(out, c, x, n);
    case 4:
      return scale_sum_n<4>(out, c, x, n);
    case 5:
      return scale_sum_n<5>(out, c, x, n);
    case 6:
      return scale_sum_n<6>(out, c, x, n);
    case 7:
      return scale_sum_n<7>(out, c, x, n);
    case 8:
      return scale_sum_n<8>(out, c, x, n);
    case 9:
      return scale_sum_n<9>(out, c, x, n);
    case 10:
      return scale_sum_n<10>(out, c, x, n);
    case 11:
      return scale_sum_n<11>(out, c, x, n);
    case 12:
      return scale_sum_n<12>(out, c, x, n);
    case 13:
      return scale_sum_n<13>(out, c, x, n);
    case 14:
      return scale_sum_n<14>(out, c, x, n);
    default:
      return;  // not reached: the callers pass 1 to kMaxScaleSumTerms terms
  }
}

GRADFLOW_CLONES void scale_sum_swap(double* __restrict a, double* __restrict b, const double* __restrict x, double c0,
                                    double c1, long n) {
  for (long i = 0; i < n; ++i) {
    const double old = a[i];
    a[i] = c0 * b[i] + c1 * x[i];
    b[i] = old;
  }
}

GRADFLOW_CLONES double scaled_squared_sum(const double* __restrict e, const double* __restrict x, double atol,
                                          double rtol, long n) {
  const auto term = [=](long i) {
    const double q = e[i] / (atol + rtol * std::fabs(x[i]));
    return q * q;
  };
  // Eigen's reduction (Redux.h, LinearVectorizedTraversal) with 2-lane packets: lanes 0, 1 of the first
  // accumulator and 2, 3 of the second take the entries i = 0, 1, 2, 3 (mod 4) up to the last multiple
  // of 4; the accumulators are added, then one more pair when n mod 4 >= 2, the two lanes, and the last
  // entry when n is odd. With fewer than 4 entries: the first pair, then the rest in turn.
  if (n < 2) return n == 1 ? term(0) : 0.0;
  const long end4 = n / 4 * 4;
  const long end2 = n / 2 * 2;
  double r0, r1;
  if (end2 > 2) {
    double s[4] = {term(0), term(1), term(2), term(3)};
    for (long i = 4; i < end4; i += 4) {
      for (int k = 0; k < 4; ++k) s[k] += term(i + k);
    }
    r0 = s[0] + s[2];
    r1 = s[1] + s[3];
    if (end2 > end4) {
      r0 += term(end4);
      r1 += term(end4 + 1);
    }
  } else {
    r0 = term(0);
    r1 = term(1);
  }
  double sum = r0 + r1;
  for (long i = end2; i < n; ++i) sum += term(i);
  return sum;
}

}  // namespace GRADFLOW_KERNELS_NAMESPACE
