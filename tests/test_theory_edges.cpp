// theory/ at its edges: the certificate's verdict texts show its numbers (checked against the algebra of
// docs/theory.md §4.2), its degenerate inputs (sigma0 = 0, r0 = 0) and the scale search's failure paths;
// Clopper-Pearson at N = 1 and its refusals; the power iteration and Lanczos on zero, non-finite and
// tiny operators; the observables' names, obstacles, memory estimate and the Gram matrix from products.
#include <gradflow/core/function_objective.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/core/residual_objective.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/least_squares.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/problems/quadratic.hpp>
#include <gradflow/theory/certificate.hpp>
#include <gradflow/theory/clopper_pearson.hpp>
#include <gradflow/theory/lanczos.hpp>
#include <gradflow/theory/observables.hpp>
#include <gradflow/theory/power_iteration.hpp>
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <variant>

using namespace gradflow;
using gradflow::test::number_after;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// The inputs of the algebra test in tests/test_certificate.cpp: sigma0 = 3, ||J0|| = 7, l = 1.5 constant,
// so max phi = sigma0^2 / (4 l) = 1.5 at r* = sigma0 / (2 l) = 1, mu = (sigma0 - l r*)^2 = 2.25.
CertificateInputs constant_l_inputs(double residual_norm) {
  CertificateInputs in;
  in.sigma0 = 3.0;
  in.residual_norm = residual_norm;
  in.loss0 = 0.5 * residual_norm * residual_norm;
  in.jacobian_norm = 7.0;
  in.lipschitz.at = [](double) { return 1.5; };
  in.lipschitz.kind = "constant";
  return in;
}

MlpArchitecture tanh_net(Eigen::Index d, std::vector<Eigen::Index> widths) {
  MlpArchitecture a;
  a.input_dim = d;
  a.widths = std::move(widths);
  a.activation = Activation::tanh;
  return a;
}

// r(theta) = A theta_{0..n-1} - y for theta of any length p >= n: J = [A 0], given only by its products,
// so that n p can exceed the dense-Jacobian limit while the products stay cheap.
class WidePadded final : public ResidualObjective {
 public:
  WidePadded(Matrix a, Eigen::Index p) : a_(std::move(a)), p_(p) {}
  std::string name() const override { return "wide-padded"; }
  Eigen::Index dimension() const override { return p_; }
  Eigen::Index num_residuals() const override { return a_.rows(); }
  void residuals(const ConstVectorView& theta, VectorView r) const override { r = a_ * theta.head(a_.cols()); }
  void jv(const ConstVectorView&, const ConstVectorView& v, VectorView out) const override {
    out = a_ * v.head(a_.cols());
  }
  void jtv(const ConstVectorView&, const ConstVectorView& w, VectorView out) const override {
    out.setZero();
    out.head(a_.cols()) = a_.transpose() * w;
  }

 private:
  Matrix a_;
  Eigen::Index p_;
};

FunctionObjective bowl() {
  // L = x^2 + 10 y^2: Hessian diag(2, 20).
  return FunctionObjective(2,
                           [](ConstVectorView x, VectorView g) {
                             g << 2 * x[0], 20 * x[1];
                             return x[0] * x[0] + 10 * x[1] * x[1];
                           })
      .with_name("bowl");
}

}  // namespace

TEST_CASE("The verdict of a certified run shows mu, the travel, the descent step and q (docs/theory.md §4.2, §4.3)",
          "[certificate]") {
  const Certificate c = certify(constant_l_inputs(0.5));  // 1.5 > 2 x 0.5: both hold
  REQUIRE(c.holds);
  REQUIRE(c.descent_holds);
  const std::string verdict = c.verdict();
  CHECK_THAT(verdict, Catch::StartsWith("certified: gradient flow converges linearly to zero loss"));
  CHECK(number_after(verdict, "(mu = ") == Approx(2.25).epsilon(1e-5));
  CHECK(number_after(verdict, ") within ") == Approx(0.5 / 1.5).epsilon(1e-5));  // ||r0|| / (sigma0 - l r*)
  // beta_r at r* = 1: (7 + 1.5)^2 + 1.5 (0.5 + 7 + 0.75) = 84.625.
  CHECK(number_after(verdict, "step 1/beta_r = ") == Approx(1.0 / 84.625).epsilon(1e-5));
  CHECK(number_after(verdict, "certified (q = ") == Approx(1.0 - 2.25 / 84.625).epsilon(1e-7));
  CHECK_FALSE(Catch::Contains("not certified").match(verdict));
  // values() carries every field by name, with the verdict.
  const NamedValues values = c.values();
  CHECK(values.size() == 28);  // the 27 members and the verdict
  bool found = false;
  for (const NamedValue& v : values) {
    if (v.name == "verdict") {
      found = true;
      CHECK(std::get<std::string>(v.value) == verdict);
    }
    if (v.name == "phi_max") CHECK(std::get<double>(v.value) == Approx(1.5).epsilon(1e-12));
    if (v.name == "lipschitz_kind") CHECK(std::get<std::string>(v.value) == "constant");
  }
  CHECK(found);
}

TEST_CASE("The verdict when only the flow, or nothing, is certified shows max phi against ||r0||", "[certificate]") {
  const Certificate between = certify(constant_l_inputs(1.2));  // 1.2 < 1.5 <= 2.4
  REQUIRE(between.holds);
  REQUIRE_FALSE(between.descent_holds);
  CHECK_THAT(between.verdict(),
             Catch::StartsWith("certified: ") && Catch::EndsWith("; descent not certified (needs max phi > 2 ||r0||)"));
  CHECK(number_after(between.verdict(), ") within ") == Approx(1.2 / 1.5).epsilon(1e-5));
  const Certificate neither = certify(constant_l_inputs(1.6));  // 1.5 <= 1.6
  REQUIRE_FALSE(neither.holds);
  const std::string verdict = neither.verdict();
  CHECK_THAT(verdict, Catch::StartsWith("not certified: max_r phi(r) = ") &&
                          Catch::EndsWith("; descent not certified (needs max phi > 2 ||r0||)"));
  CHECK(number_after(verdict, "max_r phi(r) = ") == Approx(1.5).epsilon(1e-5));
  CHECK(number_after(verdict, "<= ||r0|| = ") == Approx(1.6).epsilon(1e-5));
  CHECK(std::isnan(neither.radius_low));
  CHECK(std::isnan(neither.radius_high));
}

TEST_CASE("sigma0 = 0 certifies nothing (phi(r) = -l r^2 <= 0) and r0 = 0 is certified with an infinite margin",
          "[certificate]") {
  CertificateInputs in = constant_l_inputs(0.5);
  in.sigma0 = 0.0;
  const Certificate zero_sigma = certify(in);
  CHECK(zero_sigma.applies);
  CHECK_FALSE(zero_sigma.holds);
  CHECK_FALSE(zero_sigma.descent_holds);
  CHECK(zero_sigma.phi_max == 0.0);
  CHECK(std::isnan(zero_sigma.mu));
  CHECK(zero_sigma.criterion_lhs == 0.0);
  CHECK(number_after(zero_sigma.verdict(), "<= ||r0|| = ") == Approx(0.5));
  // At a zero of the loss: holds, with admissible radii (0, sigma0 / l) where phi(r) = r (3 - 1.5 r) > 0.
  const Certificate at_zero = certify(constant_l_inputs(0.0));
  CHECK(at_zero.holds);
  CHECK(at_zero.descent_holds);
  CHECK(at_zero.margin == kInf);
  CHECK(at_zero.descent_margin == kInf);
  CHECK(at_zero.radius_low == 0.0);
  CHECK(at_zero.radius_high == Approx(2.0).epsilon(1e-9));
  CHECK(at_zero.travel == 0.0);
}

// A bound with l(0) = 0 but l(r) > 0 for r > 0 is valid (nondecreasing); the search for r* must not start
// from sigma0 / l(0) = inf (it returned r* = inf and phi_max = -inf before).
TEST_CASE("A bound with l(0) = 0 < l(r): max phi is still r (sigma0 - l(r) r) at its maximum", "[certificate]") {
  CertificateInputs in = constant_l_inputs(0.5);
  in.lipschitz.at = [](double r) { return r; };  // phi(r) = r (3 - r^2): max 2 at r = 1
  const Certificate c = certify(in);
  CHECK(c.phi_max == Approx(2.0).epsilon(1e-9));
  CHECK(c.radius == Approx(1.0).epsilon(1e-6));
  CHECK(c.holds);
  CHECK(c.mu == Approx(4.0).epsilon(1e-6));  // (sigma0 - l(r*) r*)^2 = (3 - 1)^2
  // The admissible radii end where r (3 - r^2) = ||r0|| = 1/2 above r* = 1: the largest root of r^3 - 3 r + 1/2,
  // 2 cos(arccos(-1/4) / 3) (the trigonometric solution of a depressed cubic).
  CHECK(c.radius_high == Approx(2.0 * std::cos(std::acos(-0.25) / 3.0)).epsilon(1e-6));
}

TEST_CASE("certify() refuses theta0 of the wrong dimension, naming both sizes", "[certificate]") {
  Random random(401);
  const LeastSquares f(random.normal_matrix(3, 5), random.normal_vector(3));
  try {
    certify(f, Vector::Zero(4));
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(e.what(), Catch::Contains("theta0 has 4 entries, the problem has dimension 5"));
  }
  CHECK(certify(f, Vector::Zero(5)).applies);
}

TEST_CASE("The scale search refuses a non-positive scheme and passes on the certificate's obstacle", "[certificate]") {
  const NetworkData data = synthetic_data(4, 8, 402);
  const Mlp f(tanh_net(8, {6}), data.x, data.y);
  InitOptions init;
  init.scheme = InitScheme::xavier_normal;
  ScaleSearch search = find_positive_scale(f, init);
  CHECK_FALSE(search.found);
  CHECK_THAT(search.why_not, Catch::Contains("--init positive"));
  // relu has sigma(0) = 0, so the search starts, and the certificate's own reason comes back.
  MlpArchitecture relu = tanh_net(8, {6});
  relu.activation = Activation::relu;
  const Mlp g(relu, data.x, data.y);
  init.scheme = InitScheme::positive;
  search = find_positive_scale(g, init);
  CHECK_FALSE(search.found);
  CHECK_THAT(search.why_not, Catch::Contains("relu"));
}

TEST_CASE("The scale search gives up past 2^80 when ||y|| is out of reach, and halves down when s = 1 already holds",
          "[certificate]") {
  // At the positive initialization the outputs are 0 for every s (W_1 = 0, tanh(0) = 0): ||r0|| = ||y||, and
  // max phi grows with s. With ||y|| ~ 1e30, no s up to 2^80 ~ 1.2e24 reaches it.
  NetworkData data = synthetic_data(4, 8, 403);
  InitOptions init;
  init.scheme = InitScheme::positive;
  init.seed = 4;
  {
    const Mlp far(tanh_net(8, {6}), data.x, 1e30 * data.y);
    const ScaleSearch search = find_positive_scale(far, init);
    CHECK_FALSE(search.found);
    CHECK_THAT(search.why_not, Catch::StartsWith("no scale up to "));
    CHECK(number_after(search.why_not, "no scale up to ") == Approx(std::ldexp(1.0, 80)).epsilon(1e-2));
    init.output_scale = std::ldexp(1.0, 80);
    CHECK_FALSE(certify(far, initialize(far.architecture(), init)).holds);
  }
  // With ||y|| ~ 1e-6 the certificate holds at s = 1 and the threshold is below it.
  const Mlp near(tanh_net(8, {6}), data.x, 1e-6 * data.y);
  for (const bool for_descent : {false, true}) {
    INFO("for_descent " << for_descent);
    init.output_scale = 1.0;
    const ScaleSearch search = find_positive_scale(near, init, for_descent);
    REQUIRE(search.found);
    CHECK(search.scale < 0.25);  // at least two halvings from s = 1
    const auto holds_at = [&](double s) {
      InitOptions o = init;
      o.output_scale = s;
      const Certificate c = certify(near, initialize(near.architecture(), o));
      return for_descent ? c.descent_holds : c.holds;
    };
    CHECK(holds_at(search.scale));
    CHECK(holds_at(1.0));
    CHECK_FALSE(holds_at(0.999 * search.scale));
    CHECK((for_descent ? search.certificate.descent_holds : search.certificate.holds));
  }
}

TEST_CASE("estimate_local_constants without a known L_min gives beta but no mu (NaN)", "[certificate]") {
  const FunctionObjective f = bowl();
  const LocalEstimate e = estimate_local_constants(f, Vector::Ones(2), 0.5, 10, 5);
  CHECK(std::isnan(e.mu_estimate));
  CHECK(e.beta_estimate == Approx(20.0).epsilon(1e-5));
  CHECK(e.samples == 10);
  CHECK(e.radius == 0.5);
  // With L_min = 0 known: mu between the extreme eigenvalues' halves... exactly in [2/2, 20/2]; the start at the
  // minimizer itself (L - L_min = 0) gives no quotient and is skipped.
  const FunctionObjective known = bowl().with_known({.min_value = 0.0});
  const LocalEstimate at_min = estimate_local_constants(known, Vector::Zero(2), 0.5, 20, 5);
  CHECK(std::isfinite(at_min.mu_estimate));
  CHECK(at_min.mu_estimate >= 2.0 * (1 - 1e-12));
  CHECK(at_min.mu_estimate <= 20.0 * (1 + 1e-12));
}

TEST_CASE("estimate_local_constants with 0 samples is theta0's quotient alone, k samples cost k + 1 gradients",
          "[certificate]") {
  // L = 1/2 (2 x^2 + 20 y^2) (bowl()), L_min = 0: at theta0 = (1, 1) the PL quotient is
  // ||g||^2 / (2 L) = (4 + 400) / (2 x 11) by hand.
  std::size_t gradients = 0;
  const FunctionObjective counted =
      FunctionObjective(2, [&gradients](ConstVectorView x, VectorView g) {
        ++gradients;
        g << 2 * x[0], 20 * x[1];
        return x[0] * x[0] + 10 * x[1] * x[1];
      }).with_hessian_vector([](ConstVectorView, ConstVectorView v, VectorView out) {
          out << 2 * v[0], 20 * v[1];
        }).with_known({.min_value = 0.0});
  const LocalEstimate alone = estimate_local_constants(counted, Vector::Ones(2), 0.5, 0, 5);
  CHECK(alone.mu_estimate == Approx(404.0 / 22.0).epsilon(1e-14));
  gradients = 0;
  const LocalEstimate seven = estimate_local_constants(counted, Vector::Ones(2), 0.5, 7, 5);
  CHECK(gradients == 8);  // theta0 and the 7 samples (the power iterations use Hessian-vector products)
  CHECK(seven.mu_estimate <= alone.mu_estimate);  // the minimum over more points
}

TEST_CASE("Clopper-Pearson at N = 1 has the closed forms alpha/2 and 1 - alpha/2, and refuses bad k, n, alpha",
          "[certificate]") {
  // K = 0: [0, 1 - (alpha/2)^(1/N)]; K = N: [(alpha/2)^(1/N), 1].
  Interval i = clopper_pearson(0, 1, 0.1);
  CHECK(i.lower == 0.0);
  CHECK(i.upper == Approx(0.95).epsilon(1e-12));
  i = clopper_pearson(1, 1, 0.1);
  CHECK(i.lower == Approx(0.05).epsilon(1e-12));
  CHECK(i.upper == 1.0);
  const auto message = [](long k, long n, double alpha) {
    try {
      clopper_pearson(k, n, alpha);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK_THAT(message(0, 0, 0.05), Catch::Contains("n >= 1"));
  CHECK_THAT(message(-1, 5, 0.05), Catch::Contains("0 <= k <= n"));
  CHECK_THAT(message(6, 5, 0.05), Catch::Contains("0 <= k <= n"));
  for (const double alpha : {0.0, 1.0, -0.5, 2.0, kNaN}) {
    INFO("alpha = " << alpha);
    CHECK_THAT(message(2, 5, alpha), Catch::Contains("alpha must be in (0, 1)"));
  }
}

TEST_CASE("The power iteration on a zero, an infinite or a NaN Hessian stops at once and says so", "[certificate]") {
  const auto with_product = [](double value) {
    return bowl().with_hessian_vector(
        [value](ConstVectorView, ConstVectorView, VectorView hv) { hv.setConstant(value); });
  };
  SmoothnessEstimate e = estimate_smoothness(with_product(0.0), Vector::Ones(2), 1);
  CHECK(e.beta == 0.0);
  CHECK(e.converged);
  CHECK(e.iterations == 1);
  e = estimate_smoothness(with_product(kInf), Vector::Ones(2), 1);
  CHECK(e.beta == kInf);
  CHECK_FALSE(e.converged);
  CHECK(e.iterations == 1);
  e = estimate_smoothness(with_product(kNaN), Vector::Ones(2), 1);
  CHECK(std::isnan(e.beta));
  CHECK_FALSE(e.converged);
  // The bowl itself: beta = 20.
  e = estimate_smoothness(bowl(), Vector::Ones(2), 1);
  CHECK(e.converged);
  CHECK(e.beta == Approx(20.0).epsilon(1e-6));
}

TEST_CASE("Lanczos refuses a bad size, replaces a zero or non-finite start, and stops at a non-finite product",
          "[observables]") {
  const Vector lambda = (Vector(5) << -2.0, 0.5, 1.0, 3.0, 7.0).finished();
  const auto apply = [&](const Vector& v, Vector& out) { out = lambda.cwiseProduct(v); };
  const LanczosOptions options;
  CHECK_THROWS_WITH(lanczos_extremes(apply, 0, Vector(0), options), Catch::Contains("dimension must be >= 1"));
  CHECK_THROWS_WITH(lanczos_extremes(apply, 5, Vector::Ones(4), options), Catch::Contains("start vector"));
  for (const double fill : {0.0, kNaN, kInf}) {
    INFO("start filled with " << fill);
    const LanczosResult r = lanczos_extremes(apply, 5, Vector::Constant(5, fill), options);
    CHECK(r.converged);
    CHECK(r.min == Approx(-2.0).epsilon(1e-12));
    CHECK(r.max == Approx(7.0).epsilon(1e-12));
  }
  int calls = 0;
  const auto bad = [&](const Vector& v, Vector& out) {
    out = lambda.cwiseProduct(v);
    if (++calls == 2) out[1] = kNaN;
  };
  const LanczosResult r = lanczos_extremes(bad, 5, Vector::Ones(5), options);
  CHECK_FALSE(r.converged);
  CHECK(r.products == 2);
  CHECK(std::isnan(r.min));
  CHECK(std::isnan(r.max));
  CHECK(std::isnan(r.residual_min));
}

TEST_CASE("Lanczos: one extreme only, the budget, a full Krylov space, and a kept workspace", "[observables]") {
  const Vector lambda = Vector::LinSpaced(40, 1.0, 40.0);
  const auto apply = [&](const Vector& v, Vector& out) { out = lambda.cwiseProduct(v); };
  const Vector start = Random(404).normal_vector(40);
  LanczosOptions options;
  options.rtol = 1e-10;
  options.want_max = false;
  LanczosResult r = lanczos_extremes(apply, 40, start, options);
  CHECK(r.converged);
  CHECK(r.min == Approx(1.0).epsilon(1e-9));
  CHECK(r.v_max.size() == 0);
  CHECK((lambda.cwiseProduct(r.v_min) - r.min * r.v_min).norm() <= 1e-8);
  options.want_max = true;
  options.want_min = false;
  r = lanczos_extremes(apply, 40, start, options);
  CHECK(r.converged);
  CHECK(r.max == Approx(40.0).epsilon(1e-9));
  CHECK(r.v_min.size() == 0);
  // A budget of 3 products: not converged, and the Ritz values lie inside the spectrum (Rayleigh-Ritz).
  options.want_min = true;
  options.max_iterations = 3;
  r = lanczos_extremes(apply, 40, start, options);
  CHECK_FALSE(r.converged);
  CHECK(r.products == 3);
  CHECK(r.min > 1.0);
  CHECK(r.max < 40.0);
  // n = 4 with rtol = 0: the fourth product spans the whole space, and the values are exact.
  const Vector small = (Vector(4) << -1.0, 2.0, 2.5, 6.0).finished();
  LanczosOptions exact;
  exact.rtol = 0.0;
  exact.min_iterations = 4;
  r = lanczos_extremes([&](const Vector& v, Vector& out) { out = small.cwiseProduct(v); }, 4, Vector::Ones(4), exact);
  CHECK(r.converged);
  CHECK(r.products == 4);
  CHECK(r.min == Approx(-1.0).epsilon(1e-13));
  CHECK(r.max == Approx(6.0).epsilon(1e-13));
  // A workspace kept between runs gives the same results as a fresh one.
  LanczosWorkspace workspace;
  options.max_iterations = 0;
  const LanczosResult first = lanczos_extremes(apply, 40, start, options, &workspace);
  const LanczosResult second = lanczos_extremes(apply, 40, start, options, &workspace);
  const LanczosResult fresh = lanczos_extremes(apply, 40, start, options);
  CHECK(second.min == first.min);
  CHECK(second.max == first.max);
  CHECK(fresh.max == first.max);
  CHECK(second.products == first.products);
}

TEST_CASE("Observables: names round-trip, 'none' when empty, and obstacles name the problem", "[observables]") {
  CHECK(to_string(Observables{}) == "none");
  CHECK_FALSE(Observables{}.any());
  for (const std::string& name : observable_names()) {
    Observables what;
    REQUIRE(add_observable(what, name));
    CHECK(to_string(what) == name);
  }
  Observables all;
  CHECK_FALSE(add_observable(all, "sharpness3"));
  for (const std::string& name : observable_names()) add_observable(all, name);
  CHECK(to_string(all) == "sharpness2,condition");
  Observables ntk_and_sharpness;
  add_observable(ntk_and_sharpness, "ntk");
  add_observable(ntk_and_sharpness, "sharpness");
  CHECK(to_string(ntk_and_sharpness) == "ntk,sharpness");
  // The sharpness needs exact Hessian-vector products; the ntk residuals.
  const FunctionObjective f = bowl();
  Observables sharpness;
  sharpness.sharpness = true;
  CHECK_THAT(observe_obstacle(f, sharpness), Catch::Contains("exact Hessian-vector products; 'bowl' has none"));
  CHECK_THROWS_WITH(PathObserver(f, sharpness), Catch::StartsWith("PathObserver: the sharpness needs"));
  Observables condition;
  condition.condition = true;
  CHECK_THAT(observe_obstacle(f, condition), Catch::Contains("'bowl' has none"));
  CHECK(observe_obstacle(bowl().with_hessian_vector(
                             [](ConstVectorView, ConstVectorView v, VectorView hv) { hv << 2 * v[0], 20 * v[1]; }),
                         sharpness)
            .empty());
}

TEST_CASE("The observation's memory estimate: the dense Jacobian only when asked and small, Lanczos above 2000",
          "[observables]") {
  Observables ntk;
  ntk.ntk = true;
  CHECK(observe_memory(Observables{}, 100, 10, true).bytes() == 0);
  // n = 10, p = 100: the dense Jacobian adds its n p doubles.
  CHECK(observe_memory(ntk, 100, 10, true).bytes() == observe_memory(ntk, 100, 10, false).bytes() + 10 * 100 * 8);
  // n p above 5e7: no dense Jacobian whatever is asked.
  CHECK(observe_memory(ntk, 100000, 1000, true).bytes() == observe_memory(ntk, 100000, 1000, false).bytes());
  // Above 2000 residuals: no n x n Gram matrix (3 x 8 n^2 bytes would be 2.4 GB at n = 10^4), a basis instead.
  const std::uint64_t lanczos = observe_memory(ntk, 50, 10000, true).bytes();
  CHECK(lanczos == observe_memory(ntk, 50, 10000, false).bytes());
  CHECK(lanczos >= 300ull * 10000 * 8);
  CHECK(lanczos < 3ull * 10000 * 10000 * 8);
  Observables sharpness;
  sharpness.sharpness = true;
  CHECK(observe_memory(sharpness, 1000, 10, false).bytes() >= 300ull * 1000 * 8);
}

TEST_CASE("The ntk from n products J (J^T e_i) when n p is too large for a dense Jacobian equals eig(A A^T)",
          "[observables]") {
  // n = 40, p = 1.25e6 + 1: n p > 5e7, and no Gram formula of its own.
  const Eigen::Index n = 40, p = 1250001;
  const Matrix a = Random(405).normal_matrix(n, n);
  const WidePadded f(a, p);
  Observables what;
  what.condition = true;
  PathObserver observer(f, what);
  const Observed observed = observer.at(Vector::Zero(p));
  const Vector eig = Eigen::SelfAdjointEigenSolver<Matrix>(a * a.transpose(), Eigen::EigenvaluesOnly).eigenvalues();
  CHECK(observed.ntk_min == Approx(eig[0]).epsilon(1e-8));
  CHECK(observed.ntk_max == Approx(eig[n - 1]).epsilon(1e-12));
  CHECK(observed.condition == Approx(eig[n - 1] / eig[0]).epsilon(1e-8));
  CHECK(observer.counts().gram_products == n);
  CHECK(observer.counts().gram_matrices == 1);
  CHECK(std::isnan(observed.sharpness));
}

TEST_CASE("The condition is +inf when the ntk is singular", "[observables]") {
  // J = X = diag(3, 0): J J^T = diag(9, 0), formed and decomposed exactly.
  Matrix x = Matrix::Zero(2, 2);
  x(0, 0) = 3.0;
  const LeastSquares f(x, Vector::Ones(2));
  Observables what;
  what.condition = true;
  PathObserver observer(f, what);
  const Observed observed = observer.at(Vector::Ones(2));
  CHECK(observed.ntk_min == 0.0);
  CHECK(observed.ntk_max == Approx(9.0).epsilon(1e-15));
  CHECK(observed.condition == kInf);
}

TEST_CASE("sharpness2 warm-started from both Ritz vectors finds lambda_min and lambda_max of A again",
          "[observables]") {
  const Vector lambda = (Vector(6) << -0.0, 0.2, 0.5, 1.0, 2.0, 4.0).finished();
  const Quadratic q(test::spd_matrix(lambda, 406));
  Observables what;
  add_observable(what, "sharpness2");
  PathObserver observer(q, what);
  const Vector theta = Vector::Ones(6);
  const Observed cold = observer.at(theta);
  const long cold_products = observer.counts().hessian_vector;
  const Observed warm = observer.at(2 * theta);
  const long warm_products = observer.counts().hessian_vector - cold_products;
  CHECK(cold.sharpness == Approx(4.0).epsilon(1e-7));
  CHECK(warm.sharpness == Approx(4.0).epsilon(1e-7));
  CHECK(std::abs(cold.sharpness_min) < 1e-6);
  CHECK(std::abs(warm.sharpness_min) < 1e-6);
  CHECK(warm_products <= cold_products);
  CHECK(std::isnan(warm.ntk_min));
}

TEST_CASE("identity_violation() flags ||grad L||^2 < 2 ntk_min L and nothing at or above it", "[observables]") {
  // ntk_min = 1, L = 1: the identity asks ||grad L||^2 >= 2 (up to the relative slack kNtkIdentityRelative x ntk_max).
  Observed o;
  o.ntk_min = 1.0;
  o.ntk_max = 1.0;
  CHECK(identity_violation(o, 1.0, std::sqrt(2.0 * 1.01)).empty());
  CHECK(identity_violation(o, 1.0, std::sqrt(2.0)).empty());
  const std::string failed = identity_violation(o, 1.0, std::sqrt(1.5));
  CHECK_THAT(failed, Catch::Contains("||grad L||^2 = 1.5000000000e+00 < 2 L ntk_min = 2.0000000000e+00"));
  CHECK_THAT(failed, Catch::Contains("a bug in gradflow"));
  // Not observed (NaN ntk): nothing to check.
  o.ntk_min = std::numeric_limits<double>::quiet_NaN();
  CHECK(identity_violation(o, 1.0, 0.0).empty());
}
