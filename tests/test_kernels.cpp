// core/detail/kernels.hpp: the vectorized tanh against long-double tanhl and 1/coshl^2, the matrix-vector
// product against a long-double sum, and the clone the loader picked against the baseline x86-64 code
// compiled from the same source (tests/kernels_baseline.cpp): identical bits.
#include <gradflow/core/detail/kernels.hpp>
#include <gradflow/core/objective.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/problems/detail/gemm.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <tuple>
#include <vector>

namespace gradflow_test::baseline_kernels {
void matvec(const double* a, long rows, long cols, const double* x, double* y);
void tanh_with_derivative(const double* z, double* value, double* first, long n);
void sin_cos(const double* x, double* sin_x, double* cos_x, long n);
double negate_and_squared_norm(const double* g, double* v, long n);
}  // namespace gradflow_test::baseline_kernels

namespace {

using gradflow::Random;

// Arguments spread over every scale that matters: |z| from 1e-300 to 1e3 on a log scale, both signs,
// and a uniform band where tanh bends.
std::vector<double> tanh_arguments() {
  Random random(11);
  std::vector<double> z;
  for (int i = 0; i < 100000; ++i) {
    const double magnitude = std::pow(10.0, -300.0 + 303.0 * random.uniform());
    z.push_back(random.uniform() < 0.5 ? -magnitude : magnitude);
  }
  for (int i = 0; i < 100000; ++i) z.push_back(-25.0 + 50.0 * random.uniform());
  return z;
}

// The distance to the reference in units of the last place of the double nearest to it.
double ulps(double value, long double reference) {
  const double nearest = static_cast<double>(reference);
  const double magnitude = std::abs(nearest);
  const double ulp = magnitude == 0.0 ? std::numeric_limits<double>::denorm_min()
                                      : std::nextafter(magnitude, std::numeric_limits<double>::infinity()) - magnitude;
  return static_cast<double>(std::abs(static_cast<long double>(value) - reference) / ulp);
}

}  // namespace

TEST_CASE("kernels::tanh_with_derivative is accurate to 4 ulps, its derivative to 1e-15 relative", "[kernels]") {
  const std::vector<double> z = tanh_arguments();
  std::vector<double> value(z.size()), first(z.size());
  gradflow::kernels::tanh_with_derivative(z.data(), value.data(), first.data(), static_cast<long>(z.size()));
  double worst_value = 0.0;
  double worst_first = 0.0;
  for (std::size_t i = 0; i < z.size(); ++i) {
    const long double x = z[i];
    worst_value = std::max(worst_value, ulps(value[i], std::tanh(x)));
    if (std::abs(z[i]) > 350.0) {  // sech^2 < 1e-303: the kernel clamps there (see kernels.cpp)
      CHECK(first[i] < 1e-300);
      continue;
    }
    const long double c = std::cosh(x);
    const long double sech2 = 1.0L / (c * c);
    worst_first = std::max(worst_first, static_cast<double>(std::abs(first[i] - sech2) / sech2));
  }
  INFO("worst value error " << worst_value << " ulps, worst derivative error " << worst_first << " relative");
  CHECK(worst_value <= 4.0);
  CHECK(worst_first <= 1e-15);

  // Without the derivative: the same values.
  std::vector<double> alone(z.size());
  gradflow::kernels::tanh_with_derivative(z.data(), alone.data(), nullptr, static_cast<long>(z.size()));
  CHECK(std::memcmp(alone.data(), value.data(), sizeof(double) * z.size()) == 0);
}

TEST_CASE("kernels::tanh_with_derivative at the special values", "[kernels]") {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> z{0.0, -0.0, 19.5, -19.5, 400.0, -1e300, inf, -inf, nan, 5e-324};
  std::vector<double> value(z.size()), first(z.size());
  gradflow::kernels::tanh_with_derivative(z.data(), value.data(), first.data(), static_cast<long>(z.size()));
  CHECK(value[0] == 0.0);
  CHECK_FALSE(std::signbit(value[0]));
  CHECK(value[1] == 0.0);
  CHECK(std::signbit(value[1]));
  CHECK(first[0] == 1.0);
  CHECK(value[2] == 1.0);  // tanh rounds to 1 beyond 19.06
  CHECK(value[3] == -1.0);
  CHECK(first[2] == Approx(4.0 * std::exp(-39.0)).epsilon(1e-14));  // sech^2 keeps its digits there
  for (int i : {4, 5, 6, 7}) {
    CHECK(std::abs(value[i]) == 1.0);
    CHECK(first[i] >= 0.0);
    CHECK(first[i] < 1e-300);
  }
  CHECK(value[5] == -1.0);
  CHECK(value[7] == -1.0);
  CHECK(std::isnan(value[8]));
  CHECK(std::isnan(first[8]));
  CHECK(value[9] == 5e-324);
  CHECK(first[9] == 1.0);
}

TEST_CASE("kernels::matvec agrees with a long-double sum on every shape", "[kernels]") {
  Random random(12);
  for (const auto& [rows, cols] :
       std::vector<std::pair<long, long>>{{1, 1}, {3, 5}, {7, 4}, {5, 9}, {200, 200}, {201, 203}}) {
    const gradflow::Matrix a = random.normal_matrix(rows, cols);
    const gradflow::Vector x = random.normal_vector(cols);
    gradflow::Vector y(rows);
    gradflow::kernels::matvec(a.data(), rows, cols, x.data(), y.data());
    for (long i = 0; i < rows; ++i) {
      long double sum = 0.0L;
      long double magnitude = 0.0L;
      for (long j = 0; j < cols; ++j) {
        sum += static_cast<long double>(a(i, j)) * x[j];
        magnitude += std::abs(static_cast<long double>(a(i, j)) * x[j]);
      }
      // The classical bound for a recursive sum of cols products.
      const long double bound = static_cast<long double>(cols + 1) * std::numeric_limits<double>::epsilon() * magnitude;
      INFO(rows << " x " << cols << ", row " << i);
      CHECK(std::abs(y[i] - sum) <= bound);
    }
  }
}

TEST_CASE("kernels: the clone picked for this machine gives the baseline's bits", "[kernels]") {
  Random random(13);
  const long rows = 203;
  const long cols = 101;
  const gradflow::Matrix a = random.normal_matrix(rows, cols);
  const gradflow::Vector x = random.normal_vector(cols);
  gradflow::Vector picked(rows), baseline(rows);
  gradflow::kernels::matvec(a.data(), rows, cols, x.data(), picked.data());
  gradflow_test::baseline_kernels::matvec(a.data(), rows, cols, x.data(), baseline.data());
  CHECK(std::memcmp(picked.data(), baseline.data(), sizeof(double) * rows) == 0);

  const std::vector<double> z = tanh_arguments();
  const long n = static_cast<long>(z.size());
  std::vector<double> value(z.size()), first(z.size()), value_baseline(z.size()), first_baseline(z.size());
  gradflow::kernels::tanh_with_derivative(z.data(), value.data(), first.data(), n);
  gradflow_test::baseline_kernels::tanh_with_derivative(z.data(), value_baseline.data(), first_baseline.data(), n);
  CHECK(std::memcmp(value.data(), value_baseline.data(), sizeof(double) * z.size()) == 0);
  CHECK(std::memcmp(first.data(), first_baseline.data(), sizeof(double) * z.size()) == 0);

  // tanh's arguments serve for sin_cos too (the C library takes over beyond 1e5 in both).
  std::vector<double> s(z.size()), c(z.size()), s_baseline(z.size()), c_baseline(z.size());
  gradflow::kernels::sin_cos(z.data(), s.data(), c.data(), n);
  gradflow_test::baseline_kernels::sin_cos(z.data(), s_baseline.data(), c_baseline.data(), n);
  CHECK(std::memcmp(s.data(), s_baseline.data(), sizeof(double) * z.size()) == 0);
  CHECK(std::memcmp(c.data(), c_baseline.data(), sizeof(double) * z.size()) == 0);
}

TEST_CASE("kernels::negate_and_squared_norm negates exactly, sums the squares to round-off, and flags overflow",
          "[kernels]") {
  Random random(15);
  for (const long n : {0L, 1L, 7L, 8L, 9L, 200L, 4161L}) {
    const gradflow::Vector g = random.normal_vector(n);
    gradflow::Vector v(n), v_baseline(n);
    const double sum = gradflow::kernels::negate_and_squared_norm(g.data(), v.data(), n);
    const double sum_baseline =
        gradflow_test::baseline_kernels::negate_and_squared_norm(g.data(), v_baseline.data(), n);
    INFO("n = " << n);
    CHECK(v == -g);
    CHECK(std::memcmp(&sum, &sum_baseline, sizeof sum) == 0);  // the same bits in both clones
    long double exact = 0.0L;
    for (long i = 0; i < n; ++i) exact += static_cast<long double>(g[i]) * g[i];
    CHECK(std::abs(static_cast<long double>(sum) - exact) <=
          static_cast<long double>(n + 1) * std::numeric_limits<double>::epsilon() * exact);
  }
  // Finite entries whose squares overflow, an Inf and a NaN: the sum is not finite.
  for (const double bad : {1e300, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
    gradflow::Vector g = gradflow::Vector::Ones(19), v(19);
    g[11] = bad;
    CHECK_FALSE(std::isfinite(gradflow::kernels::negate_and_squared_norm(g.data(), v.data(), 19)));
  }
}

TEST_CASE("kernels::gemm agrees with Eigen's product for every transpose and for accumulation", "[kernels]") {
  Random random(14);
  const long m = 37, n = 29, k = 45;
  INFO("instruction set: " << gradflow::kernels::gemm_instruction_set());
  for (const bool ta : {false, true}) {
    for (const bool tb : {false, true}) {
      const gradflow::Matrix a = random.normal_matrix(ta ? k : m, ta ? m : k);
      const gradflow::Matrix b = random.normal_matrix(tb ? n : k, tb ? k : n);
      const gradflow::Matrix op_a = ta ? gradflow::Matrix(a.transpose()) : a;
      const gradflow::Matrix op_b = tb ? gradflow::Matrix(b.transpose()) : b;
      const gradflow::Matrix expected = op_a * op_b;
      gradflow::Matrix c(m, n);
      gradflow::kernels::gemm(ta, tb, m, n, k, a.data(), b.data(), false, c.data());
      INFO("transpose_a " << ta << ", transpose_b " << tb);
      CHECK((c - expected).norm() <= 1e-13 * expected.norm());
      const gradflow::Matrix start = random.normal_matrix(m, n);
      c = start;
      gradflow::kernels::gemm(ta, tb, m, n, k, a.data(), b.data(), true, c.data());
      CHECK((c - (start + expected)).norm() <= 1e-13 * expected.norm());
    }
  }
}

TEST_CASE("kernels::sin_cos is accurate to 4 ulps, and is the C library's beyond 1e5", "[kernels]") {
  Random random(15);
  std::vector<double> x;
  for (int i = 0; i < 100000; ++i) {
    const double magnitude = std::pow(10.0, -300.0 + 305.0 * random.uniform());  // up to 1e5
    x.push_back(random.uniform() < 0.5 ? -magnitude : magnitude);
  }
  for (int i = 0; i < 100000; ++i) x.push_back(-10.0 + 20.0 * random.uniform());
  for (int i = 0; i < 1000; ++i) x.push_back(std::pow(10.0, 5.0 + 295.0 * random.uniform()));
  std::vector<double> s(x.size()), c(x.size());
  gradflow::kernels::sin_cos(x.data(), s.data(), c.data(), static_cast<long>(x.size()));
  double worst = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::abs(x[i]) > 1e5) {
      CHECK(s[i] == std::sin(x[i]));
      CHECK(c[i] == std::cos(x[i]));
      continue;
    }
    const long double xl = x[i];
    worst = std::max({worst, ulps(s[i], std::sin(xl)), ulps(c[i], std::cos(xl))});
  }
  INFO("worst error " << worst << " ulps");
  CHECK(worst <= 4.0);

  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> special{0.0, -0.0, inf, -inf, std::numeric_limits<double>::quiet_NaN()};
  std::vector<double> ss(special.size()), cs(special.size());
  gradflow::kernels::sin_cos(special.data(), ss.data(), cs.data(), static_cast<long>(special.size()));
  CHECK(ss[0] == 0.0);
  CHECK_FALSE(std::signbit(ss[0]));
  CHECK(ss[1] == 0.0);
  CHECK(std::signbit(ss[1]));
  CHECK(cs[0] == 1.0);
  CHECK(cs[1] == 1.0);
  for (int i : {2, 3, 4}) {
    CHECK(std::isnan(ss[i]));
    CHECK(std::isnan(cs[i]));
  }
}

TEST_CASE("kernels::gemm gives the same bits wherever its operands sit in memory", "[kernels]") {
  // Eigen's vectorized products peel iterations up to a packet boundary, so without the aligned
  // copies of kernels_gemm.inc the last bits would depend on the addresses (and differ between
  // allocations, runs and threads). The shapes are the network's (width 8, 6 samples of 12
  // features) and a larger one; every operand is placed at every 8-byte offset modulo 32 bytes.
  Random random(16);
  const std::vector<std::tuple<bool, bool, long, long, long>> shapes{
      {true, false, 8, 6, 12}, {true, false, 1, 6, 8}, {false, false, 8, 6, 1}, {false, false, 12, 6, 8},
      {false, true, 12, 8, 6}, {false, true, 8, 1, 6}, {true, true, 5, 7, 9},   {true, false, 37, 29, 45}};
  for (const auto& [ta, tb, m, n, k] : shapes) {
    const gradflow::Matrix a = ta ? random.normal_matrix(k, m) : random.normal_matrix(m, k);
    const gradflow::Matrix b = tb ? random.normal_matrix(n, k) : random.normal_matrix(k, n);
    const gradflow::Matrix start = random.normal_matrix(m, n);
    std::vector<double> reference;
    for (int shifts = 0; shifts < 64; ++shifts) {
      const long sa = shifts % 4, sb = (shifts / 4) % 4, sc = shifts / 16;
      std::vector<double> a_buffer(a.size() + 4), b_buffer(b.size() + 4), c_buffer(m * n + 4), d_buffer(m * n + 4);
      std::copy(a.data(), a.data() + a.size(), a_buffer.begin() + sa);
      std::copy(b.data(), b.data() + b.size(), b_buffer.begin() + sb);
      std::copy(start.data(), start.data() + start.size(), c_buffer.begin() + sc);
      double* c = c_buffer.data() + sc;
      double* d = d_buffer.data() + sc;
      gradflow::kernels::gemm(ta, tb, m, n, k, a_buffer.data() + sa, b_buffer.data() + sb, true, c);
      gradflow::kernels::gemm(ta, tb, m, n, k, a_buffer.data() + sa, b_buffer.data() + sb, false, d);
      std::vector<double> result(c, c + m * n);
      result.insert(result.end(), d, d + m * n);
      if (reference.empty()) {
        reference = result;
      } else {
        INFO(m << " x " << n << " x " << k << ", transposes " << ta << tb << ", offsets " << sa << sb << sc);
        CHECK(std::memcmp(result.data(), reference.data(), sizeof(double) * result.size()) == 0);
      }
    }
  }
}
