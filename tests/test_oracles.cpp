// Oracles for the places where a plausible one-point bug used to pass the whole suite (each was planted
// by hand and survived): the curve's rate bound, the certificate's strict inequality and the scale it
// returns, the quantile with infinities, the tie between step factors, Armijo's sufficient decrease,
// the steps to the target, whitening, the Lanczos residual and a failed tuned run. Each test compares
// with something computed here from the definition (docs/theory.md), not by the code under test.
// scripts/mutants.json lists these bugs among the mutants that scripts/mutants.py plants.
#include <gradflow/discrete/descend.hpp>
#include <gradflow/experiments/data_transform.hpp>
#include <gradflow/experiments/sweep_summary.hpp>
#include <gradflow/experiments/trial.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/problems/quadratic.hpp>
#include <gradflow/theory/certificate.hpp>
#include <gradflow/theory/lanczos.hpp>
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

using namespace gradflow;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

MlpArchitecture one_hidden(Eigen::Index d, Eigen::Index width) {
  MlpArchitecture a;
  a.input_dim = d;
  a.widths = {width};
  a.activation = Activation::tanh;
  return a;
}

// A positive initialization at 1.2 s*, where the flow's (or descent's) certificate holds.
InitOptions certified_positive(const Mlp& network, bool for_descent) {
  InitOptions init;
  init.scheme = InitScheme::positive;
  init.seed = 4;
  const ScaleSearch search = find_positive_scale(network, init, for_descent);
  REQUIRE(search.found);
  init.output_scale = 1.2 * search.scale;
  return init;
}

// The q-quantile of numpy's linear interpolation as the limit of replacing every +inf by a finite B
// that grows without bound: h = (n - 1) q, x_lo + (h - lo) (x_hi - x_lo). Any positive weight on B
// sends the value to +inf; zero weight leaves it finite.
double limit_quantile(std::vector<double> values, double q) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  constexpr double big = 1e300;
  for (double& v : values)
    if (v == kInf) v = big;
  std::sort(values.begin(), values.end());
  const double h = static_cast<double>(values.size() - 1) * q;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const auto hi = static_cast<std::size_t>(std::ceil(h));
  const double weight = h - std::floor(h);
  // Split so that (1 - w) B + w B does not round away from B.
  const double value = values[lo] == values[hi] ? values[lo] : values[lo] + weight * (values[hi] - values[lo]);
  return value > 1e200 ? kInf : value;
}

}  // namespace

TEST_CASE("The trial's curve bound is L0 exp(-2 mu t) with the certificate's mu, and the loss stays under it",
          "[oracle][trial]") {
  const NetworkData data = synthetic_data(4, 8, 17);
  const Mlp network(one_hidden(8, 6), data.x, data.y);
  for (const bool descent : {false, true}) {
    INFO((descent ? "descent" : "flow"));
    TrialSpec spec;
    spec.init = certified_positive(network, descent);
    spec.method = descent ? Method{StepRule::armijo} : Method{Solver::dopri5};
    spec.eps = 1e-4;
    spec.max_steps = descent ? 200 : 4000;  // descent keeps a row every max_steps / curve_points
    spec.curve_points = 40;
    const TrialResult r = run_trial(network, spec);
    REQUIRE(r.certified == 1);
    REQUIRE(r.curve.size() >= 5);
    const double mu = r.certificate.mu;
    REQUIRE(mu > 0.0);
    const double loss0 = network.loss(initialize(network.architecture(), spec.init));
    // Descent's bound is its rule's: Armijo (lr 1, b = c = 1/2) contracts by q = 1 - 2 c mu eta_min with
    // eta_min = min(lr, 2 b (1 - c) / beta_r) per iteration (docs/theory.md §2.4), not exp(-2 mu t).
    const double beta = r.certificate.beta;
    const double q = 1.0 - 2.0 * 0.5 * mu * std::min(1.0, 2.0 * 0.5 * 0.5 / beta);
    for (const CurvePoint& point : r.curve) {
      INFO("t = " << point.t << ", k = " << point.iter);
      const double expected =
          descent ? loss0 * std::pow(q, static_cast<double>(point.iter)) : loss0 * std::exp(-2.0 * mu * point.t);
      CHECK(point.bound == Approx(expected).epsilon(1e-12));
      CHECK(point.loss <= point.bound * (1.0 + 1e-6));
    }
    CHECK(r.curve.back().t > 0.0);
  }
}

TEST_CASE("A descent run's certified column is Theorem 2 for the step that ran, recomputed by hand",
          "[oracle][trial]") {
  const NetworkData data = synthetic_data(4, 8, 17);
  const Mlp network(one_hidden(8, 6), data.x, data.y);
  TrialSpec spec;
  spec.init = certified_positive(network, true);
  spec.method = Method{StepRule::fixed};
  spec.eps = 1e-4;
  spec.max_steps = 50;
  spec.curve_points = 10;
  const Certificate c = certify(network, initialize(network.architecture(), spec.init));
  REQUIRE(c.applies);
  REQUIRE(c.descent_holds);
  const double mu = c.mu, beta = c.beta, r_star = c.descent_radius;
  const double rho0 = std::sqrt(2.0 * c.loss0 / mu);
  // Theorem 2 for a fixed eta: 0 < eta beta < 2 and rho0 / (1 - beta eta / 2) < r*.
  const auto theorem2 = [&](double eta) { return eta * beta < 2.0 && rho0 / (1.0 - beta * eta / 2.0) < r_star; };
  for (const double factor : {0.25, 1.0, 1.5, 1.9, 2.5, 4.0}) {
    const double eta = factor / beta;
    INFO("eta = " << factor << " / beta_r");
    spec.lr = eta;
    const TrialResult r = run_trial(network, spec);
    CHECK(r.certified == (theorem2(eta) ? 1 : 0));
    if (factor == 1.0) CHECK(r.certified == 1);  // eta = 1/beta_r: the certificate's own condition
    if (factor >= 2.0) CHECK(r.certified == 0);  // eta beta_r >= 2: no guarantee at all
    if (r.certified == 1) {
      const double q = 1.0 - mu * eta * (2.0 - beta * eta);
      for (const CurvePoint& point : r.curve) {
        CHECK(point.bound == Approx(c.loss0 * std::pow(q, static_cast<double>(point.iter))).epsilon(1e-12));
        CHECK(point.loss <= point.bound * (1.0 + 1e-9));
      }
    } else {
      for (const CurvePoint& point : r.curve) CHECK(std::isnan(point.bound));
    }
  }
}

TEST_CASE("The flow certificate needs max phi > ||r0|| strictly: at phi_max = ||r0|| exactly it does not hold",
          "[oracle][certificate]") {
  // l(r) = 1, sigma0 = 2: phi(r) = r (2 - r), largest at r = 1 where it is 1 = ||r0||.
  CertificateInputs in;
  in.residual_norm = 1.0;
  in.loss0 = 0.5;
  in.sigma0 = 2.0;
  in.jacobian_norm = 3.0;
  in.lipschitz.at = [](double) { return 1.0; };
  in.lipschitz.kind = "constant";
  const Certificate at_edge = certify(in);
  CHECK(at_edge.phi_max == Approx(1.0).epsilon(1e-12));
  CHECK(at_edge.radius == Approx(1.0).epsilon(1e-6));
  CHECK_FALSE(at_edge.holds);
  CHECK_FALSE(at_edge.descent_holds);
  // Just below the edge it holds, with mu = (sigma0 - l r*)^2 = 1 (docs/theory.md §4.2).
  in.residual_norm = 0.999;
  in.loss0 = 0.5 * 0.999 * 0.999;
  const Certificate inside = certify(in);
  CHECK(inside.holds);
  CHECK(inside.mu == Approx(1.0).epsilon(1e-6));  // r* to the search's precision
  // Descent needs max phi > 2 ||r0||: at ||r0|| = 1/2 exactly it does not hold, just below it does.
  in.residual_norm = 0.5;
  in.loss0 = 0.125;
  CHECK(certify(in).holds);
  CHECK_FALSE(certify(in).descent_holds);
  in.residual_norm = 0.499;
  CHECK(certify(in).descent_holds);
}

TEST_CASE("The scale search returns an s* at which the certificate holds, and fails half a percent below",
          "[oracle][certificate]") {
  const NetworkData data = synthetic_data(5, 10, 23);
  const Mlp network(one_hidden(10, 8), data.x, data.y);
  for (const bool descent : {false, true}) {
    INFO((descent ? "descent" : "flow"));
    InitOptions init;
    init.scheme = InitScheme::positive;
    init.seed = 9;
    const ScaleSearch search = find_positive_scale(network, init, descent);
    REQUIRE(search.found);
    init.output_scale = search.scale;
    const Certificate at = certify(network, initialize(network.architecture(), init));
    CHECK((descent ? at.descent_holds : at.holds));
    CHECK((descent ? search.certificate.descent_holds : search.certificate.holds));
    init.output_scale = 0.995 * search.scale;
    const Certificate below = certify(network, initialize(network.architecture(), init));
    CHECK_FALSE((descent ? below.descent_holds : below.holds));
  }
}

TEST_CASE("quantile() is the limit of numpy's linear interpolation with every +inf a growing finite value",
          "[oracle][summary]") {
  std::mt19937_64 random(5);
  std::uniform_real_distribution<double> uniform(1.0, 100.0);
  for (std::size_t n = 1; n <= 12; ++n) {
    for (std::size_t infinite = 0; infinite <= n; ++infinite) {
      std::vector<double> values;
      for (std::size_t i = 0; i < n; ++i) values.push_back(i < infinite ? kInf : std::round(uniform(random)));
      if (n > 2) values[n / 2] = values[n / 2 - 1];  // a repeated value (or two infinities side by side)
      std::shuffle(values.begin(), values.end(), random);
      for (const double q : {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0}) {
        INFO("n = " << n << ", infinite = " << infinite << ", q = " << q);
        std::vector<double> copy = values;
        const double got = quantile(copy, q);
        const double expected = limit_quantile(values, q);
        CHECK_FALSE(std::isnan(got));
        if (std::isinf(expected)) {
          CHECK(got == kInf);
        } else {
          CHECK(got == Approx(expected).epsilon(1e-14));
        }
      }
    }
  }
  std::vector<double> example = {kInf, 2.0, 1.0};
  CHECK(quantile(example, 0.5) == 2.0);  // the middle of three, not 2 + 0 x inf
  std::vector<double> none;
  CHECK(std::isnan(quantile(none, 0.5)));
}

TEST_CASE("A tie in median steps goes to the smaller step factor c, whatever the grid's order", "[oracle][summary]") {
  // Both qualify (all converged) with the same median: the smaller c wins.
  std::vector<StepFactorResult> grid = {{2.0, 1.0, 30.0}, {0.5, 1.0, 40.0}, {1.0, 1.0, 30.0}};
  for (int order = 0; order < 2; ++order) {
    std::string choice;
    const std::size_t best = choose_best_c(grid, 0.9, &choice);
    CHECK(grid[best].c == 1.0);
    CHECK_THAT(choice, Catch::Contains("lowest median steps"));
    std::reverse(grid.begin(), grid.end());
  }
  // None qualifies: the highest converged fraction, then the lowest median, then the smaller c.
  grid = {{3.0, 0.5, 20.0}, {1.5, 0.5, 20.0}, {1.0, 0.2, 5.0}, {2.0, 0.5, 25.0}};
  for (int order = 0; order < 2; ++order) {
    std::string choice;
    const std::size_t best = choose_best_c(grid, 0.9, &choice);
    CHECK(grid[best].c == 1.5);
    CHECK_THAT(choice, !Catch::Contains("lowest median steps with"));
    std::reverse(grid.begin(), grid.end());
  }
}

TEST_CASE("Armijo: every step satisfies L(theta - eta g) <= L - c eta ||g||^2 and the step before it did not",
          "[oracle][discrete]") {
  const Matrix a = test::spd_matrix((Vector(6) << 0.05, 0.3, 1.0, 2.0, 5.0, 9.0).finished(), 31);
  const Quadratic quadratic(a);
  Vector theta0(6);
  theta0 << 1.0, -2.0, 0.5, 3.0, -1.0, 2.0;
  for (const double c : {0.5, 0.3}) {
    for (const double b : {0.5, 0.7}) {
      INFO("c = " << c << ", b = " << b);
      DescentOptions o;
      o.step = StepRule::armijo;
      o.lr = 1.0;
      o.armijo_b = b;
      o.armijo_c = c;
      o.stop.max_steps = 60;
      o.stop.loss_tol = 0.0;
      o.stop.grad_tol = 0.0;
      o.save.every_steps = 1;
      o.save.states = true;
      const DescentResult run = descend(quadratic, theta0, o);
      REQUIRE(run.rows.size() >= 30);
      long backtracked = 0;
      for (std::size_t k = 0; k + 1 < run.rows.size(); ++k) {
        const Vector theta = run.states.col(static_cast<Eigen::Index>(k));
        const Vector g = a * theta;  // the quadratic's gradient, by hand: L = theta^T A theta / 2
        const double loss = 0.5 * theta.dot(a * theta);
        const double eta = run.rows[k + 1].step_size;
        INFO("k = " << k << ", eta = " << eta);
        REQUIRE(eta > 0.0);
        CHECK(eta <= o.lr);
        const Vector next = run.states.col(static_cast<Eigen::Index>(k + 1));
        CHECK((next - (theta - eta * g)).norm() <= 1e-12 * (1.0 + theta.norm()));
        const double next_loss = 0.5 * next.dot(a * next);
        CHECK(next_loss <= loss - c * eta * g.squaredNorm() + 1e-14 * loss);
        if (eta < o.lr) {  // backtracked: the trial before, eta / b, failed the test
          ++backtracked;
          const Vector larger = theta - (eta / b) * g;
          CHECK(0.5 * larger.dot(a * larger) > loss - c * (eta / b) * g.squaredNorm());
        }
      }
      CHECK(backtracked > 0);
    }
  }
}

TEST_CASE("The trial's steps_to_eps is the first iteration (or accepted flow step) whose loss reaches the target",
          "[oracle][trial]") {
  const NetworkData data = synthetic_data(4, 8, 29);
  const Mlp network(one_hidden(8, 6), data.x, data.y);
  TrialSpec spec;
  spec.init.scheme = InitScheme::xavier_normal;
  spec.init.seed = 3;
  spec.method = Method{StepRule::fixed};
  spec.lr = 0.2;
  spec.eps = 1e-3;
  spec.max_steps = 20000;
  spec.measure_beta0 = false;
  const TrialResult trial = run_trial(network, spec);
  REQUIRE(trial.reached);
  // The same descent by hand, every row kept: the first row under eps L0.
  const Vector theta0 = initialize(network.architecture(), spec.init);
  DescentOptions o;
  o.step = StepRule::fixed;
  o.lr = 0.2;
  o.stop.loss_tol = 0.0;
  o.stop.grad_tol = 0.0;
  o.save.every_steps = 1;
  o.stop.max_steps = trial.steps_to_eps + 5;
  const DescentResult run = descend(network, theta0, o);
  const double target = 1e-3 * network.loss(theta0);
  long first = -1;
  for (const Row& row : run.rows) {
    if (row.loss <= target) {
      first = row.iter;
      break;
    }
  }
  CHECK(first == trial.steps_to_eps);
  CHECK(trial.steps == trial.steps_to_eps);
  CHECK(trial.stats.num_gradient_evals >= trial.steps_to_eps);

  // The flow: the accepted steps of the same solver run to the same target.
  spec.method = Method{Solver::dopri5};
  spec.t_end = 1e5;
  const TrialResult flow_trial = run_trial(network, spec);
  REQUIRE(flow_trial.reached);
  FlowOptions f;
  f.solver = Solver::dopri5;
  f.t_end = 1e5;
  f.stop.loss_tol = target;
  f.stop.max_steps = spec.max_steps;
  const FlowResult flow = simulate_flow(network, theta0, f);
  CHECK(flow_trial.steps_to_eps == flow.stats.num_steps);
  CHECK(flow.rows.size() == static_cast<std::size_t>(flow.stats.num_steps) + 1);  // a row per accepted step
  CHECK(flow.rows.back().loss <= target);
  CHECK(flow.rows[flow.rows.size() - 2].loss > target);
}

TEST_CASE("Whitening is (X X^T)^{-1/2} X, from an eigendecomposition of X X^T", "[oracle][compare]") {
  const NetworkData data = synthetic_data(5, 9, 41);
  const NetworkData white = transform_inputs(data, Preprocess::whiten);
  const Eigen::SelfAdjointEigenSolver<Matrix> eigen(data.x * data.x.transpose());
  const Vector inv_sqrt = eigen.eigenvalues().cwiseSqrt().cwiseInverse();
  const Matrix expected = eigen.eigenvectors() * inv_sqrt.asDiagonal() * eigen.eigenvectors().transpose() * data.x;
  CHECK((white.x - expected).norm() <= 1e-10 * expected.norm());
  CHECK((white.y - data.y).norm() == 0.0);
}

TEST_CASE("Lanczos's residual bounds are ||A v - theta v|| of the Ritz pairs it returns", "[oracle][observables]") {
  Vector spectrum(40);
  for (Eigen::Index i = 0; i < 40; ++i) spectrum[i] = 1.0 + static_cast<double>(i * i) / 16.0;
  const Matrix a = test::spd_matrix(spectrum, 47);
  const auto apply = [&](const Vector& v, Vector& out) { out = a * v; };
  Vector start = Vector::Ones(40);
  for (const int iterations : {4, 7, 12}) {
    INFO("iterations " << iterations);
    LanczosOptions o;
    o.max_iterations = iterations;
    o.min_iterations = iterations;
    o.rtol = 1e-300;  // never converged: the residuals are large and distinct
    const LanczosResult r = lanczos_extremes(apply, 40, start, o);
    REQUIRE(r.v_max.size() == 40);
    REQUIRE(r.v_min.size() == 40);
    const double direct_max = (a * r.v_max - r.max * r.v_max).norm();
    const double direct_min = (a * r.v_min - r.min * r.v_min).norm();
    CHECK(direct_max > 1e-6);
    CHECK(r.residual_max == Approx(direct_max).epsilon(1e-6));
    CHECK(r.residual_min == Approx(direct_min).epsilon(1e-6));
    // Ritz values lie inside the spectrum (interlacing).
    CHECK(r.max <= spectrum.maxCoeff() * (1.0 + 1e-12));
    CHECK(r.min >= spectrum.minCoeff() * (1.0 - 1e-12));
  }
}

TEST_CASE("A failed tuned run counts as infinitely many steps: failures at one c do not make it the best",
          "[oracle][summary]") {
  std::vector<RunRecord> records;
  const auto add = [&](double c, long seed, bool reached, long steps) {
    RunRecord r;
    r.run = {InitScheme::positive,
             8,
             1,
             Activation::tanh,
             seed,
             Method{StepRule::fixed},
             *DatasetSpec::from_string("synthetic:4x8"),
             c};
    r.reached = reached;
    r.steps_to_eps = reached ? steps : -1;
    r.steps = steps;
    r.grad_evals = steps + 1;
    records.push_back(r);
  };
  for (long s = 0; s < 10; ++s) {
    add(1.0, s, true, 100 + s);       // all converge, median 104.5
    add(2.0, s, s % 2 == 0, 50 + s);  // half fail: median between 58 and +inf -> +inf
  }
  SummaryOptions options;
  options.min_converged = 0.5;  // both qualify: the medians decide
  const std::vector<SummaryRow> rows = summarize(records, options);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].lr_c == 1.0);
  CHECK(rows[0].steps.median == 104.5);
  CHECK(rows[0].converged == 10);
}

TEST_CASE("The summary counts as certified only the runs whose certificate holds, not those it does not apply to",
          "[oracle][summary]") {
  std::vector<RunRecord> records;
  for (long s = 0; s < 6; ++s) {
    RunRecord r;
    r.run = {InitScheme::xavier_normal,
             8,
             1,
             Activation::tanh,
             s,
             Method{StepRule::armijo},
             *DatasetSpec::from_string("synthetic:4x8"),
             0.0};
    r.certified = s < 2 ? 1 : (s < 4 ? 0 : -1);  // 2 hold, 2 do not, 2 not applicable
    r.reached = true;
    r.steps_to_eps = 10 + s;
    r.steps = 10 + s;
    records.push_back(r);
  }
  const std::vector<SummaryRow> rows = summarize(records);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].certified == 2);
  CHECK(rows[0].runs == 6);
}
