// The certificate (docs/theory.md §4 to §6; oracles §7.16 to §7.19 and §7.23 to §7.26): the Lipschitz
// bounds hold on sampled pairs, the certificate's algebra, the scale threshold against its closed form,
// the end-to-end guarantee for the flow and for descent, the cases the theory does not cover, and the
// Monte Carlo corollary's intervals and thread independence.
#include <gradflow/core/random.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/experiments/probability.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/least_squares.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/problems/quadratic.hpp>
#include <gradflow/theory/certificate.hpp>
#include <gradflow/theory/clopper_pearson.hpp>
#include "mlp_support.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include <boost/math/distributions/beta.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

using namespace gradflow;
using gradflow::test::mlp_architecture;

namespace {

double spectral(const Matrix& m) { return Eigen::JacobiSVD<Matrix>(m).singularValues()[0]; }

Vector random_in_ball(const Vector& center, double radius, Random& random) {
  Vector direction = random.normal_vector(center.size());
  direction.normalize();
  return center + radius * std::pow(random.uniform(), 1.0 / static_cast<double>(center.size())) * direction;
}

}  // namespace

// The two-sided Clopper-Pearson interval as docs/theory.md §6.2 writes it, from Boost's Beta quantiles:
// [Beta^-1(alpha/2; K, N - K + 1), Beta^-1(1 - alpha/2; K + 1, N - K)], 0 at K = 0 and 1 at K = N.
static std::pair<double, double> clopper_pearson_by_hand(long k, long n, double alpha) {
  using boost::math::beta_distribution;
  const double kd = static_cast<double>(k), nd = static_cast<double>(n);
  const double lower = k == 0 ? 0.0 : boost::math::quantile(beta_distribution<>(kd, nd - kd + 1), alpha / 2);
  const double upper = k == n ? 1.0 : boost::math::quantile(beta_distribution<>(kd + 1, nd - kd), 1 - alpha / 2);
  return {lower, upper};
}

TEST_CASE("The Lipschitz bound l(r) holds for random and near pairs in the ball (docs/theory.md §7.16)",
          "[certificate]") {
  const NetworkData data = synthetic_data(5, 8, 31);
  for (const Activation activation : {Activation::tanh, Activation::arctan, Activation::softplus, Activation::sigmoid,
                                      Activation::softplus_centered}) {
    for (const std::vector<Eigen::Index>& widths : {std::vector<Eigen::Index>{6}, {5, 4}, {4, 3, 3}}) {
      for (const InitScheme scheme : {InitScheme::positive, InitScheme::xavier_normal}) {
        const Mlp f(mlp_architecture(8, widths, activation), data.x, data.y);
        InitOptions init;
        init.scheme = scheme;
        init.seed = 2;
        init.output_scale = 3.0;
        const Vector theta0 = initialize(f.architecture(), init);
        const LipschitzBound bound = *f.jacobian_lipschitz_bound(theta0);
        Random random(41);
        INFO(to_string(activation) << ", depth " << widths.size() << ", " << to_string(scheme) << ": " << bound.kind);
        for (const double r : {0.05, 0.5, 2.0}) {
          const double l = bound.at(r);
          double worst = 0.0;
          for (int pair = 0; pair < 12; ++pair) {
            const Vector a = random_in_ball(theta0, r, random);
            // A far pair and a near pair (a tangent direction at a).
            const Vector b = pair % 2 == 0 ? random_in_ball(theta0, r, random)
                                           : Vector(a + 1e-4 * r * random.normal_vector(a.size()).normalized());
            if ((b - theta0).norm() > r) continue;
            const double ratio = spectral(f.jacobian(a) - f.jacobian(b)) / (a - b).norm();
            worst = std::max(worst, ratio);
          }
          CHECK(worst <= l);
          CHECK(bound.at(r) <= bound.at(2 * r));  // nondecreasing in r
        }
      }
    }
  }
}

TEST_CASE("Certificate algebra: max phi = sigma0^2 / (4 l) and the radii solve phi = ||r0|| (docs/theory.md §7.17)",
          "[certificate]") {
  CertificateInputs in;
  in.sigma0 = 3.0;
  in.residual_norm = 0.5;
  in.loss0 = 0.125;
  in.jacobian_norm = 7.0;
  const double l = 1.5;
  in.lipschitz.at = [l](double) { return l; };
  in.lipschitz.kind = "constant";
  const Certificate c = certify(in);
  REQUIRE(c.applies);
  CHECK(c.holds);  // 9 > 4 * 1.5 * 0.5 = 3
  CHECK(c.phi_max == Approx(9.0 / (4 * l)).epsilon(1e-12));
  CHECK(c.radius == Approx(3.0 / (2 * l)).epsilon(1e-6));
  CHECK(c.mu == Approx(9.0 / 4).epsilon(1e-7));  // r* is found to sqrt(eps): phi is flat at its maximum
  CHECK(c.travel == Approx(2 * 0.5 / 3.0).epsilon(1e-6));
  CHECK(c.criterion_rhs == Approx(4 * l * 0.5));
  const double root = std::sqrt(9.0 - 4 * l * 0.5);
  CHECK(c.radius_low == Approx((3.0 - root) / (2 * l)).epsilon(1e-9));
  CHECK(c.radius_high == Approx((3.0 + root) / (2 * l)).epsilon(1e-9));
  CHECK(c.radius_low * (3.0 - l * c.radius_low) == Approx(0.5).epsilon(1e-9));
  // Descent: 9 > 8 * 1.5 * 0.5 = 6, with beta_r = (||J0|| + l r)^2 + l (||r0|| + ||J0|| r + l r^2 / 2).
  CHECK(c.descent_holds);
  const double r = c.radius;
  CHECK(c.beta == Approx(std::pow(7.0 + l * r, 2) + l * (0.5 + 7.0 * r + l * r * r / 2)).epsilon(1e-12));
  CHECK(c.step == Approx(1 / c.beta));
  CHECK(c.descent_q == Approx(1 - c.mu / c.beta));
  // Fails when sigma0^2 <= 4 l ||r0||; descent alone fails between 4 and 8.
  in.residual_norm = 1.6;  // 4 l ||r0|| = 9.6 > 9
  CHECK_FALSE(certify(in).holds);
  in.residual_norm = 1.2;  // 7.2 < 9 < 14.4
  const Certificate between = certify(in);
  CHECK(between.holds);
  CHECK_FALSE(between.descent_holds);
}

TEST_CASE(
    "Least squares is certified with l = 0 and mu = s_n^2, and its flow stays within the travel (docs/theory.md §7.23)",
    "[certificate]") {
  Random random(51);
  const Matrix x = random.normal_matrix(4, 10);
  const LeastSquares f(x, random.normal_vector(4));
  const Vector theta0 = random.normal_vector(10);
  const Certificate c = certify(f, theta0);
  REQUIRE(c.applies);
  CHECK(c.holds);
  CHECK(c.descent_holds);
  CHECK(c.mu == Approx(*f.known().mu).epsilon(1e-12));
  CHECK(c.travel == Approx(std::sqrt(2 * f.loss(theta0) / *f.known().mu)).epsilon(1e-12));
  FlowOptions o;
  o.t_end = 30 / c.mu;
  o.mu = c.mu;
  o.radius = c.travel;
  const FlowResult r = simulate_flow(f, theta0, o);
  CHECK(r.bound_holds == true);
  CHECK(r.radius_holds == true);
}

TEST_CASE(
    "The scale search matches the closed form s* = min_r (||y|| + (A + B r) r^2) / (r (k0 - B nu r)) (docs/theory.md "
    "§7.24)",
    "[certificate]") {
  const NetworkData data = synthetic_data(6, 12, 61);
  const Mlp f(mlp_architecture(12, {10}, Activation::tanh), data.x, data.y);
  InitOptions init;
  init.scheme = InitScheme::positive;
  init.seed = 5;
  const ScaleSearch search = find_positive_scale(f, init);
  REQUIRE(search.found);
  // The closed form, from docs/theory.md §5.5 (one hidden layer, sigma(0) = 0).
  const Vector v = initialize(f.architecture(), init).tail(10);  // output weights at s = 1
  const double nu = v.cwiseAbs().maxCoeff();
  const double lambda_min = Eigen::SelfAdjointEigenSolver<Matrix>(data.x * data.x.transpose()).eigenvalues()[0];
  const double k0 = 1.0 * v.norm() * std::sqrt(lambda_min);  // tanh'(0) = 1
  const double s1 = 1.0, s2 = 4.0 / (3.0 * std::sqrt(3.0));
  const double a = std::sqrt(2.0) * s1 * spectral(data.x);
  const double b = s2 * data.x.rowwise().norm().maxCoeff() * data.x.norm();
  double best = 1e300;
  const double r_max = k0 / (b * nu);
  for (int i = 1; i < 200000; ++i) {
    const double r = r_max * i / 200000.0;
    best = std::min(best, (data.y.norm() + (a + b * r) * r * r) / (r * (k0 - b * nu * r)));
  }
  CHECK(search.scale == Approx(best).epsilon(1e-4));
  // Monotone: it fails just below and holds above.
  init.output_scale = 0.99 * search.scale;
  CHECK_FALSE(certify(f, initialize(f.architecture(), init)).holds);
  init.output_scale = 1.5 * search.scale;
  CHECK(certify(f, initialize(f.architecture(), init)).holds);
  init.output_scale = -1.5 * search.scale;
  CHECK(certify(f, initialize(f.architecture(), init)).holds);
}

TEST_CASE(
    "End to end: tanh at s = 1.05 s*: the flow and descent stay within the certified radius and under the certified "
    "bound (docs/theory.md §7.18)",
    "[certificate]") {
  const NetworkData data = synthetic_data(6, 12, 71);
  for (const std::vector<Eigen::Index>& widths : {std::vector<Eigen::Index>{10}, {8, 6}}) {
    const Mlp f(mlp_architecture(12, widths, Activation::tanh), data.x, data.y);
    InitOptions init;
    init.scheme = InitScheme::positive;
    init.seed = 8;
    INFO("depth " << widths.size());
    const ScaleSearch flow_scale = find_positive_scale(f, init);
    REQUIRE(flow_scale.found);
    init.output_scale = 1.05 * flow_scale.scale;
    Vector theta0 = initialize(f.architecture(), init);
    const Certificate c = certify(f, theta0);
    REQUIRE(c.holds);
    for (const Solver solver : {Solver::dopri5, Solver::cvode_bdf}) {
      FlowOptions o;
      o.solver = solver;
      o.t_end = 25.0 / c.mu;
      o.rtol = 1e-10;
      o.atol = 1e-14;
      o.mu = c.mu;
      o.radius = c.travel;
      const FlowResult r = simulate_flow(f, theta0, o);
      INFO(to_string(solver) << ": " << r.message);
      REQUIRE(r.succeeded());
      CHECK(r.bound_holds == true);
      CHECK(r.radius_holds == true);
      CHECK(r.path_length <= c.travel);
      // The final point against the certified bound, with the allowance the library itself uses for
      // "within the solver's tolerance" (flow/detail/trajectory_monitor.cpp): 10 rtol relative and a
      // roundoff floor of 16 eps L0. At t_end the bound is L0 e^-50, about 5e-22, far below what
      // rtol = 1e-10 controls, so a tighter absolute floor would test the rounding of the integrator.
      CHECK(r.loss_final <= r.loss0 * std::exp(-2 * c.mu * r.t_final) * (1 + 10 * o.rtol) +
                                16 * std::numeric_limits<double>::epsilon() * r.loss0);
    }
    const ScaleSearch descent_scale = find_positive_scale(f, init, /*for_descent=*/true);
    REQUIRE(descent_scale.found);
    CHECK(descent_scale.scale > flow_scale.scale);
    init.output_scale = 1.05 * descent_scale.scale;
    theta0 = initialize(f.architecture(), init);
    const Certificate cd = certify(f, theta0);
    REQUIRE(cd.descent_holds);
    DescentOptions d;
    d.step = StepRule::inverse_smoothness;
    d.mu = cd.mu;
    d.beta = cd.beta;
    d.ball_radius = cd.descent_radius;
    d.stop.max_steps = 3000;
    const DescentResult r = descend(f, theta0, d);
    REQUIRE(r.succeeded());
    REQUIRE(r.guarantee.q);
    CHECK(*r.guarantee.q == Approx(cd.descent_q));
    CHECK(*r.guarantee.radius == Approx(cd.descent_travel));
    {
      // q and the radius by hand from docs/theory.md §4.2, §4.3 and §2.3, with sigma0 and ||J0|| from an SVD of
      // the formed Jacobian and ||r0|| from the predictions; only r* and the bound l(r*) are the library's.
      const Eigen::JacobiSVD<Matrix> svd(f.jacobian(theta0));
      const double sigma0 = svd.singularValues()[data.x.rows() - 1];
      const double j0 = svd.singularValues()[0];
      const double r0 = (f.predict(theta0) - data.y).norm();
      const double radius = cd.descent_radius;
      const double l = f.jacobian_lipschitz_bound(theta0)->at(radius);
      const double mu = std::pow(sigma0 - l * radius, 2);  // mu_r = (sigma0 - l r)^2
      const double beta = std::pow(j0 + l * radius, 2) + l * (r0 + j0 * radius + l * radius * radius / 2);
      CHECK(cd.mu == Approx(mu).epsilon(1e-9));
      CHECK(cd.beta == Approx(beta).epsilon(1e-9));
      // eta = 1/beta_r: q = 1 - mu / beta_r (also q(eta) = 1 - mu eta (2 - beta eta) of §2.2 at eta = 1/beta).
      const double eta = 1.0 / beta;
      CHECK(1.0 - *r.guarantee.q == Approx(mu / beta).epsilon(1e-8));
      CHECK(1.0 - *r.guarantee.q == Approx(mu * eta * (2.0 - beta * eta)).epsilon(1e-8));
      // The path stays within 2 ||r0|| / (sigma0 - l r) = 2 sqrt(2 L0 / mu).
      CHECK(*r.guarantee.radius == Approx(2.0 * r0 / (sigma0 - l * radius)).epsilon(1e-8));
      CHECK(r.loss0 == Approx(0.5 * r0 * r0).epsilon(1e-12));
    }
    CHECK(r.bound_holds == true);
    CHECK(r.radius_holds == true);
    CHECK(r.path_length <= cd.descent_travel);
  }
}

TEST_CASE(
    "The certificate says why the theory does not apply: n > d, relu, biases, no residual structure (docs/theory.md "
    "§7.25)",
    "[certificate]") {
  const NetworkData wide = synthetic_data(12, 5, 81);
  InitOptions init;
  init.scheme = InitScheme::positive;
  init.output_scale = 100;
  const Mlp too_many(mlp_architecture(5, {8}, Activation::tanh), wide.x, wide.y);
  Certificate c = certify(too_many, initialize(too_many.architecture(), init));
  CHECK_FALSE(c.applies);
  CHECK_THAT(c.why_not, Catch::Contains("n = 12 > d = 5"));
  CHECK_THAT(c.verdict(), Catch::Contains("does not apply"));
  const NetworkData data = synthetic_data(4, 8, 82);
  const Mlp relu(mlp_architecture(8, {6}, Activation::relu), data.x, data.y);
  c = certify(relu, initialize(relu.architecture(), init));
  CHECK_FALSE(c.applies);
  CHECK_THAT(c.why_not, Catch::Contains("relu"));
  MlpArchitecture with_bias = mlp_architecture(8, {6}, Activation::tanh);
  with_bias.bias = true;
  const Mlp biased(with_bias, data.x, data.y);
  CHECK_THAT(certify(biased, initialize(with_bias, init)).why_not, Catch::Contains("biases"));
  const Quadratic q = Quadratic::generated(4, 10, 1);
  c = certify(q, Vector::Ones(4));
  CHECK_FALSE(c.applies);
  CHECK_THAT(c.why_not, Catch::Contains("no residual structure"));
  const LocalEstimate e = estimate_local_constants(q, Vector::Ones(4), 0.5, 50, 3);
  CHECK(e.mu_estimate >= 0.1 * (1 - 1e-12));  // the quadratic is 0.1-PL everywhere
  CHECK(e.beta_estimate <= 1.0 + 1e-9);
  // sigma(0) != 0: no threshold, and the centred activation is offered.
  const Mlp softplus(mlp_architecture(8, {6}, Activation::softplus), data.x, data.y);
  const ScaleSearch search = find_positive_scale(softplus, init);
  CHECK_FALSE(search.found);
  CHECK_THAT(search.why_not, Catch::Contains("softplus-centered"));
  const Mlp centred(mlp_architecture(8, {6}, Activation::softplus_centered), data.x, data.y);
  CHECK(find_positive_scale(centred, init).found);
  CHECK(value_at_zero(Activation::softplus_centered) == 0.0);
}

TEST_CASE("Clopper-Pearson intervals: K = 0 of N = 10 at alpha = 0.05 has upper 0.308497 (docs/theory.md §7.19)",
          "[certificate]") {
  Interval i = clopper_pearson(0, 10, 0.05);
  CHECK(i.lower == 0.0);
  CHECK(i.upper == Approx(1 - std::pow(0.025, 0.1)).epsilon(1e-12));
  CHECK(i.upper == Approx(0.308497).margin(1e-6));
  i = clopper_pearson(10, 10, 0.05);
  CHECK(i.upper == 1.0);
  CHECK(i.lower == Approx(std::pow(0.025, 0.1)).epsilon(1e-12));
  i = clopper_pearson(5, 10, 0.05);
  CHECK(i.lower == Approx(0.187086).margin(1e-6));
  CHECK(i.upper == Approx(0.812914).margin(1e-6));
  CHECK_THROWS_AS(clopper_pearson(11, 10, 0.05), std::invalid_argument);
}

TEST_CASE(
    "The Monte Carlo corollary gives the same draws on 1 and 2 threads, with intervals around the fractions "
    "(docs/theory.md §7.26)",
    "[certificate]") {
  const NetworkData data = synthetic_data(5, 10, 91);
  const Mlp f(mlp_architecture(10, {8}, Activation::tanh), data.x, data.y);
  InitOptions init;
  init.scheme = InitScheme::positive;
  init.output_scale = 400;
  ProbabilityOptions o;
  o.draws = 12;
  o.steps = 200;
  o.eps = 1e-3;
  o.descent.step = StepRule::armijo;
  o.descent.lr = 1.0;
  o.threads = 1;
  const ProbabilityResult one = estimate_probability(f, init, o);
  o.threads = 2;
  const ProbabilityResult two = estimate_probability(f, init, o);
  REQUIRE(one.draws.size() == 12);
  for (std::size_t j = 0; j < 12; ++j) {
    CHECK(one.draws[j].certified == two.draws[j].certified);
    CHECK(one.draws[j].reached == two.draws[j].reached);
    CHECK(one.draws[j].loss_final == two.draws[j].loss_final);
    CHECK(one.draws[j].init_seed == derive_seed(init.seed, j));
  }
  CHECK(one.certified == two.certified);
  const double fraction = static_cast<double>(one.certified) / 12.0;
  CHECK(one.certified_interval.lower <= fraction);
  CHECK(one.certified_interval.upper >= fraction);
  CHECK(one.reached_interval.lower <= static_cast<double>(one.reached) / 12.0);
  // A large positive scale is certified at every draw, and descent then converges at every draw.
  CHECK(one.certified == 12);
  CHECK(one.reached == 12);
  // Each draw against its own recomputation: sigma0 from an SVD of the Jacobian at the draw's
  // initialization, L0 from its predictions, reached from its final loss against eps L0.
  long certified = 0, reached = 0;
  for (std::size_t j = 0; j < 12; ++j) {
    InitOptions draw_init = init;
    draw_init.seed = derive_seed(init.seed, j);
    const Vector theta0 = initialize(f.architecture(), draw_init);
    const Eigen::JacobiSVD<Matrix> svd(f.jacobian(theta0));
    INFO("draw " << j);
    CHECK(one.draws[j].sigma0 == Approx(svd.singularValues()[4]).epsilon(1e-9));
    CHECK(one.draws[j].loss0 == Approx(0.5 * (f.predict(theta0) - data.y).squaredNorm()).epsilon(1e-12));
    CHECK(one.draws[j].reached == (one.draws[j].loss_final <= o.eps * one.draws[j].loss0));
    CHECK(one.draws[j].iterations <= o.steps);
    certified += one.draws[j].certified ? 1 : 0;
    reached += one.draws[j].reached ? 1 : 0;
  }
  CHECK(one.certified == certified);
  CHECK(one.reached == reached);
  // The intervals against the Beta quantiles of docs/theory.md §6.2 (K = N: [(alpha/2)^(1/N), 1]).
  const auto [certified_lower, certified_upper] = clopper_pearson_by_hand(certified, 12, o.alpha);
  CHECK(one.certified_interval.lower == Approx(certified_lower).epsilon(0).margin(1e-9));
  CHECK(one.certified_interval.upper == Approx(certified_upper).epsilon(0).margin(1e-9));
  CHECK(one.certified_interval.lower == Approx(std::pow(o.alpha / 2, 1.0 / 12)).epsilon(0).margin(1e-9));
  const auto [reached_lower, reached_upper] = clopper_pearson_by_hand(reached, 12, o.alpha);
  CHECK(one.reached_interval.lower == Approx(reached_lower).epsilon(0).margin(1e-9));
  CHECK(one.reached_interval.upper == Approx(reached_upper).epsilon(0).margin(1e-9));

  // A scale between the draws' own thresholds s*_j certifies exactly the draws whose threshold is below it
  // (the condition is monotone in s, docs/theory.md §5.5): half of them, and 0 < K < N exercises both ends
  // of the interval.
  std::vector<double> thresholds;
  for (std::size_t j = 0; j < 12; ++j) {
    InitOptions draw_init = init;
    draw_init.seed = derive_seed(init.seed, j);
    const ScaleSearch search = find_positive_scale(f, draw_init);
    REQUIRE(search.found);
    thresholds.push_back(search.scale);
  }
  std::vector<double> sorted = thresholds;
  std::sort(sorted.begin(), sorted.end());
  REQUIRE(sorted[6] > sorted[5] * (1 + 1e-6));
  init.output_scale = 0.5 * (sorted[5] + sorted[6]);
  o.threads = 2;
  const ProbabilityResult half = estimate_probability(f, init, o);
  REQUIRE(half.draws.size() == 12);
  long expected = 0;
  for (std::size_t j = 0; j < 12; ++j) {
    INFO("draw " << j << ": s* = " << thresholds[j] << ", s = " << init.output_scale);
    CHECK(half.draws[j].certified == (thresholds[j] < init.output_scale));
    expected += thresholds[j] < init.output_scale ? 1 : 0;
  }
  CHECK(expected == 6);
  CHECK(half.certified == 6);
  const auto [half_lower, half_upper] = clopper_pearson_by_hand(6, 12, o.alpha);
  CHECK(half.certified_interval.lower == Approx(half_lower).epsilon(0).margin(1e-9));
  CHECK(half.certified_interval.upper == Approx(half_upper).epsilon(0).margin(1e-9));
  long half_reached = 0;
  for (const DrawResult& draw : half.draws) half_reached += draw.reached ? 1 : 0;
  CHECK(half.reached == half_reached);
  const auto [reached_half_lower, reached_half_upper] = clopper_pearson_by_hand(half_reached, 12, o.alpha);
  CHECK(half.reached_interval.lower == Approx(reached_half_lower).epsilon(0).margin(1e-9));
  CHECK(half.reached_interval.upper == Approx(reached_half_upper).epsilon(0).margin(1e-9));
}

TEST_CASE("ProbabilityOptions::validate names the field of each invalid value, the descent's as descent.<field>",
          "[certificate]") {
  const auto field_for = [](auto&& change) {
    ProbabilityOptions o;
    change(o);
    const auto error = o.validate();
    return error ? error->field : std::string("valid");
  };
  CHECK(field_for([](ProbabilityOptions&) {}) == "valid");
  CHECK(field_for([](ProbabilityOptions& o) { o.draws = 0; }) == "draws");
  CHECK(field_for([](ProbabilityOptions& o) { o.draws = 10000001; }) == "draws");
  CHECK(field_for([](ProbabilityOptions& o) { o.draws = 10000000; }) == "valid");
  CHECK(field_for([](ProbabilityOptions& o) { o.alpha = 0.0; }) == "alpha");
  CHECK(field_for([](ProbabilityOptions& o) { o.alpha = 1.0; }) == "alpha");
  CHECK(field_for([](ProbabilityOptions& o) { o.alpha = NAN; }) == "alpha");
  CHECK(field_for([](ProbabilityOptions& o) { o.eps = 0.0; }) == "eps");
  CHECK(field_for([](ProbabilityOptions& o) { o.eps = 1.0; }) == "eps");
  CHECK(field_for([](ProbabilityOptions& o) { o.steps = 0; }) == "steps");
  CHECK(field_for([](ProbabilityOptions& o) { o.threads = -1; }) == "threads");
  CHECK(field_for([](ProbabilityOptions& o) { o.descent.lr = 0.0; }) == "descent.lr");
  CHECK(field_for([](ProbabilityOptions& o) { o.descent.armijo_b = 1.0; }) == "descent.armijo_b");
  // Set per draw from steps and eps: their values in descent are not used.
  CHECK(field_for([](ProbabilityOptions& o) { o.descent.stop.max_steps = 0; }) == "valid");
  CHECK(field_for([](ProbabilityOptions& o) { o.descent.stop.loss_tol = -1.0; }) == "valid");
  ProbabilityOptions o;
  o.draws = 0;
  REQUIRE(o.validate());
  CHECK(o.validate()->message() == "draws = 0: must be in [1, 1e7]");
}

TEST_CASE("estimate_probability with invalid options returns invalid_options and runs nothing", "[certificate]") {
  const NetworkData data = synthetic_data(5, 10, 91);
  const Mlp f(mlp_architecture(10, {8}, Activation::tanh), data.x, data.y);
  InitOptions init;
  init.scheme = InitScheme::positive;
  ProbabilityOptions o;
  o.draws = 3;
  o.steps = 10;
  o.eps = 0.0;
  std::atomic<long> progress{0};
  ProbabilityResult r = estimate_probability(f, init, o, &progress);
  CHECK(r.status == Status::invalid_options);
  CHECK_FALSE(r.succeeded());
  CHECK_THAT(r.message, Catch::StartsWith("eps = 0: must be in (0, 1)"));
  CHECK(r.draws.empty());
  CHECK(progress.load() == 0);
  CHECK(r.certified == 0);
  CHECK(r.reached == 0);
  o.eps = 1e-3;
  o.descent.lr = -1.0;
  r = estimate_probability(f, init, o, &progress);
  CHECK(r.status == Status::invalid_options);
  CHECK_THAT(r.message, Catch::StartsWith("descent.lr = -1"));
  CHECK(progress.load() == 0);
  o.descent.lr = 0.1;
  r = estimate_probability(f, init, o, &progress);
  CHECK(r.status == Status::reached_max_iters);
  CHECK(r.succeeded());
  CHECK(r.draws.size() == 3);
  CHECK(progress.load() == 3);
}
