// The explicit solvers' stage arithmetic (kernels::scale_sum and kernels::scale_sum_swap, used by
// flow/odeint_backend.cpp's StageOperations): the bits of odeint's own default_operations on Eigen
// vectors for every number of terms odeint uses (the round-off bound against the plain algebra is 0
// ulps, docs/theory.md §7.39), in either clone; the rounding of one stage sum against the exact sum;
// and dopri5 with these stage sums against the quadratic's closed-form flow.
#include <gradflow/core/detail/kernels.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/quadratic.hpp>

#include <boost/numeric/odeint/algebra/default_operations.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

namespace gradflow_test::baseline_kernels {
void scale_sum(double* out, const double* c, const double* const* x, int terms, long n);
void scale_sum_swap(double* a, double* b, const double* x, double c0, double c1, long n);
double scaled_squared_sum(const double* e, const double* x, double atol, double rtol, long n);
}  // namespace gradflow_test::baseline_kernels

namespace {

using gradflow::Random;
using gradflow::Vector;
namespace odeint = boost::numeric::odeint;

// The plain algebra evaluates with Eigen's packets: the portable build's SSE2 (2 doubles, no fused
// multiply-add), which the kernels reproduce bit for bit. A build for the machine (GRADFLOW_NATIVE) may
// fuse or widen Eigen's packets; there the comparisons with Eigen are to round-off, not to the bit.
constexpr bool kPortableEigen = Eigen::internal::packet_traits<double>::size == 2
#ifdef __FMA__
                                && false
#endif
    ;

bool same_bits(const Vector& a, const Vector& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0;
}

// c[0] x[0] + c[1] x[1] + ... as one Eigen expression, the left fold that odeint's
// default_operations::scale_sumN writes out (t1 = m_alpha1 * t2 + m_alpha2 * t3 + ...).
template <std::size_t... J>
Vector eigen_sum(const std::vector<double>& c, const std::vector<Vector>& x, std::index_sequence<J...>) {
  return (... + (c[J] * x[J]));
}

template <std::size_t N>
Vector eigen_sum_n(const std::vector<double>& c, const std::vector<Vector>& x) {
  return eigen_sum(c, x, std::make_index_sequence<N>());
}

Vector eigen_reference(const std::vector<double>& c, const std::vector<Vector>& x) {
  switch (x.size()) {
    case 1:
      return eigen_sum_n<1>(c, x);
    case 2:
      return eigen_sum_n<2>(c, x);
    case 3:
      return eigen_sum_n<3>(c, x);
    case 4:
      return eigen_sum_n<4>(c, x);
    case 5:
      return eigen_sum_n<5>(c, x);
    case 6:
      return eigen_sum_n<6>(c, x);
    case 7:
      return eigen_sum_n<7>(c, x);
    case 8:
      return eigen_sum_n<8>(c, x);
    case 9:
      return eigen_sum_n<9>(c, x);
    case 10:
      return eigen_sum_n<10>(c, x);
    case 11:
      return eigen_sum_n<11>(c, x);
    case 12:
      return eigen_sum_n<12>(c, x);
    case 13:
      return eigen_sum_n<13>(c, x);
    case 14:
      return eigen_sum_n<14>(c, x);
    default:
      FAIL("no reference for " << x.size() << " terms");
      return {};
  }
}

Vector kernel_sum(const std::vector<double>& c, const std::vector<Vector>& x, bool baseline = false) {
  std::vector<const double*> p;
  for (const Vector& v : x) p.push_back(v.data());
  const long n = x.front().size();
  Vector out(n);
  const int terms = static_cast<int>(x.size());
  if (baseline) {
    gradflow_test::baseline_kernels::scale_sum(out.data(), c.data(), p.data(), terms, n);
  } else {
    gradflow::kernels::scale_sum(out.data(), c.data(), p.data(), terms, n);
  }
  return out;
}

// Stage-sum-like factors: a leading 1 (the state) and step-scaled coefficients of both signs, or all
// random.
std::vector<double> factors(Random& random, int terms, bool leading_one) {
  std::vector<double> c;
  for (int j = 0; j < terms; ++j) c.push_back(j == 0 && leading_one ? 1.0 : 0.37 * random.normal());
  return c;
}

}  // namespace

TEST_CASE("kernels::scale_sum gives the bits of odeint's plain stage sums on Eigen vectors, in both clones",
          "[kernels][stage]") {
  Random random(26);
  for (const long n : {1L, 2L, 3L, 4L, 5L, 7L, 8L, 9L, 200L, 4161L}) {
    for (int terms = 1; terms <= gradflow::kernels::kMaxScaleSumTerms; ++terms) {
      for (const bool leading_one : {true, false}) {
        INFO("n = " << n << ", terms = " << terms << ", leading one: " << leading_one);
        const std::vector<double> c = factors(random, terms, leading_one);
        std::vector<Vector> x;
        for (int j = 0; j < terms; ++j) x.push_back(random.normal_vector(n) * std::pow(10.0, 3 * random.normal()));
        const Vector picked = kernel_sum(c, x);
        CHECK(same_bits(picked, kernel_sum(c, x, true)));
        if (kPortableEigen) CHECK(same_bits(picked, eigen_reference(c, x)));
        // The output may be one of the inputs (odeint's in-place steps): the first or the last.
        for (const int alias : {0, terms - 1}) {
          std::vector<Vector> y = x;
          std::vector<const double*> p;
          for (const Vector& v : y) p.push_back(v.data());
          gradflow::kernels::scale_sum(y[static_cast<std::size_t>(alias)].data(), c.data(), p.data(), terms, n);
          CHECK(same_bits(y[static_cast<std::size_t>(alias)], picked));
        }
      }
    }
  }
}

TEST_CASE("kernels::scale_sum is odeint's default_operations for dopri5's and fehlberg78's sums", "[kernels][stage]") {
  if (!kPortableEigen) return;
  // odeint's own operations objects, literally, on the sums the steppers form (dt = 0.3).
  Random random(27);
  const long n = 4160;
  std::vector<Vector> x;
  for (int j = 0; j < 14; ++j) x.push_back(random.normal_vector(n));
  const double dt = 0.3;
  Vector plain(n);
  // dopri5's fifth stage: x + dt (b51 k1 + b52 k2 + b53 k3 + b54 k4).
  const std::vector<double> c5{1.0, dt * 19372.0 / 6561.0, dt * -25360.0 / 2187.0, dt * 64448.0 / 6561.0,
                               dt * -212.0 / 729.0};
  odeint::default_operations::scale_sum5<double, double, double, double, double>(c5[0], c5[1], c5[2], c5[3], c5[4])(
      plain, x[0], x[1], x[2], x[3], x[4]);
  CHECK(same_bits(kernel_sum(c5, {x[0], x[1], x[2], x[3], x[4]}), plain));
  // dopri5's error estimate: six stages, no state.
  const std::vector<double> c6{dt * 71.0 / 57600.0,      dt * -71.0 / 16695.0, dt * 71.0 / 1920.0,
                               dt * -17253.0 / 339200.0, dt * 22.0 / 525.0,    dt * -1.0 / 40.0};
  odeint::default_operations::scale_sum6<double, double, double, double, double, double>(
      c6[0], c6[1], c6[2], c6[3], c6[4], c6[5])(plain, x[0], x[1], x[2], x[3], x[4], x[5]);
  CHECK(same_bits(kernel_sum(c6, {x[0], x[1], x[2], x[3], x[4], x[5]}), plain));
  // dopri5's dense output: seven terms.
  std::vector<double> c7{1.0};
  for (int j = 1; j < 7; ++j) c7.push_back(dt * 0.1 * j);
  odeint::default_operations::scale_sum7<double, double, double, double, double, double, double>(
      c7[0], c7[1], c7[2], c7[3], c7[4], c7[5], c7[6])(plain, x[0], x[1], x[2], x[3], x[4], x[5], x[6]);
  CHECK(same_bits(kernel_sum(c7, {x[0], x[1], x[2], x[3], x[4], x[5], x[6]}), plain));
  // fehlberg78's last stage: the state and 13 stages.
  std::vector<double> c14{1.0};
  for (int j = 1; j < 14; ++j) c14.push_back(dt * (j % 3 == 0 ? -1.0 : 1.0) / (j + 1.0));
  odeint::default_operations::scale_sum14<double, double, double, double, double, double, double, double, double,
                                          double, double, double, double, double>(
      c14[0], c14[1], c14[2], c14[3], c14[4], c14[5], c14[6], c14[7], c14[8], c14[9], c14[10], c14[11], c14[12],
      c14[13])(plain, x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10], x[11], x[12], x[13]);
  CHECK(same_bits(kernel_sum(c14, x), plain));
}

TEST_CASE("One stage sum is within (terms - 1) u sum |c_j x_j| of the exact sum (docs/theory.md §7.39)",
          "[kernels][stage]") {
  // Left-to-right summation of rounded products: |computed - exact| <= gamma_N sum_j |c_j x_j[i]| with
  // gamma_N = N u / (1 - N u) (Higham, Accuracy and Stability, 3.1); the bound checked is N u.
  Random random(28);
  const double u = std::numeric_limits<double>::epsilon() / 2.0;
  const long n = 1000;
  for (int terms = 1; terms <= gradflow::kernels::kMaxScaleSumTerms; ++terms) {
    const std::vector<double> c = factors(random, terms, true);
    std::vector<Vector> x;
    for (int j = 0; j < terms; ++j) x.push_back(random.normal_vector(n));
    const Vector out = kernel_sum(c, x);
    for (long i = 0; i < n; ++i) {
      long double exact = 0.0L, magnitude = 0.0L;
      for (int j = 0; j < terms; ++j) {
        const long double term = static_cast<long double>(c[j]) * x[j][i];
        exact += term;
        magnitude += std::abs(term);
      }
      INFO("terms = " << terms << ", i = " << i);
      CHECK(std::abs(static_cast<long double>(out[i]) - exact) <= terms * u * magnitude);
    }
  }
}

TEST_CASE("kernels::scaled_squared_sum is Eigen's sum of the scaled squared errors, in both clones",
          "[kernels][stage]") {
  Random random(30);
  const double atol = 1e-10, rtol = 1e-8;
  std::vector<long> sizes;
  for (long n = 0; n <= 41; ++n) sizes.push_back(n);
  for (const long n : {199L, 200L, 201L, 202L, 4160L, 4161L, 4162L, 4163L}) sizes.push_back(n);
  for (const long n : sizes) {
    INFO("n = " << n);
    const Vector x = random.normal_vector(n) * 3.0;
    const Vector e = random.normal_vector(n) * 1e-9;
    const double sum = gradflow::kernels::scaled_squared_sum(e.data(), x.data(), atol, rtol, n);
    const double base = gradflow_test::baseline_kernels::scaled_squared_sum(e.data(), x.data(), atol, rtol, n);
    CHECK(std::memcmp(&sum, &base, sizeof sum) == 0);
    const double eigen = (e.array() / (atol + rtol * x.array().abs())).square().sum();
    if (kPortableEigen) {
      CHECK(std::memcmp(&sum, &eigen, sizeof sum) == 0);
    } else {
      CHECK(std::abs(sum - eigen) <= 1e-14 * eigen);
    }
  }
}

TEST_CASE("kernels::scale_sum_swap is odeint's scale_sum_swap2", "[kernels][stage]") {
  Random random(29);
  for (const long n : {1L, 5L, 4160L}) {
    const Vector a0 = random.normal_vector(n), b0 = random.normal_vector(n), x = random.normal_vector(n);
    const double c0 = 1.0, c1 = 0.0123;
    Vector a = a0, b = b0, a_plain = a0, b_plain = b0, a_base = a0, b_base = b0;
    gradflow::kernels::scale_sum_swap(a.data(), b.data(), x.data(), c0, c1, n);
    gradflow_test::baseline_kernels::scale_sum_swap(a_base.data(), b_base.data(), x.data(), c0, c1, n);
    odeint::default_operations::scale_sum_swap2<double, double>(c0, c1)(a_plain, b_plain, x);
    CHECK(same_bits(a, a_plain));
    CHECK(same_bits(b, b_plain));
    CHECK(same_bits(b, a0));
    CHECK(same_bits(a_base, a_plain));
    CHECK(same_bits(b_base, b_plain));
  }
}

TEST_CASE("dopri5 with the stage kernels follows the quadratic's closed-form flow, the same bits run after run",
          "[flow][stage]") {
  const gradflow::Quadratic q = gradflow::Quadratic::generated(200, 1e2, 0);
  const Vector theta0 = gradflow::default_theta0(q.dimension(), 0);
  gradflow::FlowOptions options;
  options.solver = gradflow::Solver::dopri5;
  options.t_end = 20.0;
  options.rtol = 1e-10;
  options.atol = 1e-12;
  options.save.times = {options.t_end};
  const gradflow::FlowResult first = gradflow::simulate_flow(q, theta0, options);
  REQUIRE(first.succeeded());
  const Vector exact = q.exact_flow(theta0, options.t_end);
  CHECK((first.theta - exact).norm() <= 10.0 * options.rtol * exact.norm());
  const gradflow::FlowResult again = gradflow::simulate_flow(q, theta0, options);
  CHECK(same_bits(again.theta, first.theta));
  CHECK(again.stats.num_gradient_evals == first.stats.num_gradient_evals);
}
