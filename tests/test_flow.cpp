// flow/: every solver against the closed forms of docs/theory.md §1 and §3 (oracles §7.2 to §7.5, §7.7,
// §7.9): the quadratic flow, the least-squares limit and path length, the rate bound, the order of the
// fixed-step methods, the stop conditions and the failure statuses.
#include <gradflow/core/random.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/karimi.hpp>
#include <gradflow/problems/least_squares.hpp>
#include <gradflow/problems/quadratic.hpp>
#include "flow_test_problems.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <Eigen/SVD>

#include <cmath>

using namespace gradflow;
using gradflow::test::relative_error;

namespace {

const std::vector<Solver> kAllSolvers{
    Solver::dopri5, Solver::cash_karp54, Solver::fehlberg78,       Solver::bulirsch_stoer, Solver::euler,
    Solver::rk4,    Solver::cvode_bdf,   Solver::cvode_bdf_krylov, Solver::cvode_adams};

Quadratic test_quadratic() {
  Vector lambda(8);
  lambda << 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0;
  Random random(41);
  return Quadratic(test::spd_matrix(lambda, 40), random.normal_vector(8));
}

FlowOptions accurate(Solver solver, double t_end) {
  FlowOptions o;
  o.solver = solver;
  o.t_end = t_end;
  o.rtol = 1e-10;
  o.atol = 1e-14;
  o.dt = 1e-3;
  return o;
}

// The time at which the exact quadratic flow's loss (or gradient norm) first falls to level:
// bisection on the exact solution, whose loss and gradient norm decrease monotonically.
double exact_crossing(const Quadratic& q, const Vector& theta0, double level, bool use_gradient) {
  const auto value = [&](double t) {
    Vector g(q.dimension());
    const double loss = q.loss_and_gradient(q.exact_flow(theta0, t), g);
    return use_gradient ? g.norm() : loss;
  };
  double lo = 0.0, hi = 1.0;
  while (value(hi) > level) hi *= 2.0;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (value(mid) > level ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace

TEST_CASE("Every adaptive solver follows the exact quadratic flow to within 10 rtol (docs/theory.md §7.2)", "[flow]") {
  const Quadratic q = test_quadratic();
  const Vector theta0 = Random(42).normal_vector(8);
  for (const Solver solver : kAllSolvers) {
    if (is_fixed_step(solver)) continue;
    const FlowOptions o = accurate(solver, 5.0);
    const FlowResult r = simulate_flow(q, theta0, o);
    INFO(to_string(solver) << ": " << r.message);
    REQUIRE(r.status == Status::reached_end_time);
    CHECK(r.t_final == 5.0);
    const Vector exact = q.exact_flow(theta0, 5.0);
    CHECK(relative_error(r.theta, exact) <= 10 * o.rtol);
    CHECK(r.stats.num_steps > 0);
    CHECK(r.stats.num_gradient_evals > r.stats.num_steps);
  }
}

TEST_CASE("The fixed-step solvers converge at their order: euler 1 rk4 4 (docs/theory.md §7.4)", "[flow]") {
  const Quadratic q = test_quadratic();
  const Vector theta0 = Random(43).normal_vector(8);
  const Vector exact = q.exact_flow(theta0, 1.0);
  for (const auto& [solver, order, h0] : {std::tuple{Solver::euler, 1.0, 0.05}, std::tuple{Solver::rk4, 4.0, 0.1}}) {
    std::vector<double> errors;
    for (int j = 0; j <= 3; ++j) {
      FlowOptions o;
      o.solver = solver;
      o.t_end = 1.0;
      o.dt = h0 / std::pow(2.0, j);
      const FlowResult r = simulate_flow(q, theta0, o);
      REQUIRE(r.status == Status::reached_end_time);
      CHECK(r.stats.num_steps == std::lround(1.0 / o.dt));
      errors.push_back((r.theta - exact).norm());
    }
    for (int j = 0; j < 3; ++j) {
      const double observed = std::log2(errors[j] / errors[j + 1]);
      INFO(to_string(solver) << " j = " << j << ", observed order " << observed);
      CHECK(observed >= 0.9 * order);
      CHECK(observed <= 1.1 * order);
    }
  }
}

TEST_CASE("Explicit Euler with step h gives the gradient-descent iterates bit for bit", "[flow]") {
  const Quadratic q = test_quadratic();
  const Vector theta0 = Random(44).normal_vector(8);
  FlowOptions o;
  o.solver = Solver::euler;
  o.dt = 0.125;
  o.t_end = 50 * o.dt;
  const FlowResult r = simulate_flow(q, theta0, o);
  REQUIRE(r.status == Status::reached_end_time);
  Vector theta = theta0, g(8);
  for (int k = 0; k < 50; ++k) {
    q.loss_and_gradient(theta, g);
    theta = theta - o.dt * g;
  }
  CHECK((r.theta - theta).cwiseAbs().maxCoeff() == 0.0);
  // And the quadratic's own closed form for descent, (I - hA)^k e0 (docs/theory.md §7.3).
  const Matrix step = Matrix::Identity(8, 8) - o.dt * q.matrix();
  Vector e = theta0 - q.theta_star();
  for (int k = 0; k < 50; ++k) e = step * e;
  CHECK(relative_error(r.theta - q.theta_star(), e) <= 100 * 50 * 2.2e-16);
}

TEST_CASE("Every solver keeps the loss under L0 exp(-2 mu t) (docs/theory.md §7.5) on the Karimi example decreasing",
          "[flow]") {
  const Karimi f(4);
  Vector theta0(4);
  theta0 << 2.2, -1.0, 3.5, 0.4;
  for (const Solver solver : kAllSolvers) {
    FlowOptions o = accurate(solver, 20.0);
    o.rtol = 1e-8;
    o.atol = 1e-12;
    o.dt = 1e-2;
    const FlowResult r = simulate_flow(f, theta0, o);
    INFO(to_string(solver) << ": " << r.message);
    REQUIRE(r.succeeded());
    REQUIRE(r.mu);
    CHECK(*r.mu == 1.0 / 32.0);
    REQUIRE(r.bound_holds);
    CHECK(*r.bound_holds);
    REQUIRE(r.rows.size() > 2);
    for (std::size_t i = 1; i < r.rows.size(); ++i) {
      const Row& row = r.rows[i];
      CHECK(row.loss <= r.loss0 * std::exp(-2.0 / 32.0 * row.t) * (1 + 10 * o.rtol));
      // Decreasing while the state is above the absolute tolerance (below it, error control no
      // longer resolves the decay and the iterates may wobble at the 1e-24 level).
      if (r.rows[i - 1].loss > 1e-18) CHECK(row.loss <= r.rows[i - 1].loss * (1 + 1e-12));
      CHECK(row.bound == Approx(r.loss0 * std::exp(-row.t / 16.0)).epsilon(1e-14));
      CHECK(row.pl_ratio >= 1.0 / 32.0);
    }
    // Path length <= sqrt(2 L0 / mu) (docs/theory.md §7.9).
    CHECK(r.path_length <= std::sqrt(2 * r.loss0 * 32.0) * (1 + 1e-6));
  }
}

TEST_CASE("The flow on least squares reaches the minimizer nearest theta0 (docs/theory.md §7.7)", "[flow]") {
  Random random(51);
  const Matrix x = random.normal_matrix(5, 12);
  const Vector y = random.normal_vector(5);
  const LeastSquares f(x, y);
  const Vector theta0 = random.normal_vector(12);
  const Matrix pinv = x.completeOrthogonalDecomposition().pseudoInverse();
  const Vector limit = theta0 + pinv * (y - x * theta0);
  const double mu = *f.known().mu;
  for (const Solver solver : {Solver::dopri5, Solver::fehlberg78, Solver::cvode_bdf, Solver::cvode_bdf_krylov}) {
    FlowOptions o = accurate(solver, 60.0 / mu);  // exp(-mu t) ~ 1e-26
    o.save.times = {1.0, 10.0};
    o.save.times.push_back(o.t_end);
    const FlowResult r = simulate_flow(f, theta0, o);
    INFO(to_string(solver) << ": " << r.message);
    REQUIRE(r.status == Status::reached_end_time);
    CHECK(relative_error(r.theta, limit) <= 1e-8);
    // Only the row space of X moved: (I - X^+ X)(theta - theta0) = 0.
    const Vector off_row_space = (Matrix::Identity(12, 12) - pinv * x) * (r.theta - theta0);
    CHECK(off_row_space.norm() <= 1e-8 * theta0.norm());
    // The recorded rows sit exactly at the requested times, on the exact SVD trajectory.
    REQUIRE(r.rows.size() == 4);
    CHECK(r.rows[1].t == 1.0);
    CHECK(r.rows[2].t == 10.0);
    CHECK(r.rows[1].dist_from_init == Approx((f.exact_flow(theta0, 1.0) - theta0).norm()).epsilon(1e-8));
    CHECK(r.bound_holds.value_or(false));
  }
}

TEST_CASE("The path length equals sqrt(2 L0 / mu) when r0 lies along u_n (docs/theory.md §7.9)", "[flow]") {
  Random random(52);
  const Matrix x = random.normal_matrix(4, 9);
  const Eigen::JacobiSVD<Matrix> svd(x, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Vector theta0 = random.normal_vector(9);
  const Vector y = x * theta0 - 0.8 * svd.matrixU().col(3);  // r0 = 0.8 u_n
  const LeastSquares f(x, y);
  const double mu = *f.known().mu;
  const double rho0 = std::sqrt(2 * f.loss(theta0) / mu);
  for (const Solver solver : {Solver::dopri5, Solver::cvode_bdf}) {
    const FlowResult r = simulate_flow(f, theta0, accurate(solver, 40.0 / mu));
    REQUIRE(r.status == Status::reached_end_time);
    INFO(to_string(solver));
    CHECK(r.path_length <= rho0 * (1 + 1e-6));
    CHECK(r.path_length == Approx(rho0).epsilon(1e-6));  // a straight path: chords add up to its length
    CHECK(r.dist_from_init == Approx(rho0).epsilon(1e-6));
  }
}

TEST_CASE("A loss tolerance stops every solver at the crossing not at the next step", "[flow]") {
  const Quadratic q = test_quadratic();
  const Vector theta0 = Random(45).normal_vector(8);
  const double level = 1e-6 * q.loss(theta0);
  const double t_star = exact_crossing(q, theta0, level, false);
  for (const Solver solver : kAllSolvers) {
    FlowOptions o = accurate(solver, 1000.0);
    o.stop.loss_tol = level;
    const FlowResult r = simulate_flow(q, theta0, o);
    INFO(to_string(solver) << ": " << r.message);
    REQUIRE(r.status == Status::tolerance_reached);
    CHECK(r.loss_final <= level);
    CHECK(r.loss_final >= level * (1 - 1e-6));
    CHECK(r.t_final == Approx(t_star).epsilon(is_fixed_step(solver) ? 1e-2 : 1e-6));
    CHECK(r.rows.back().t == r.t_final);
    CHECK(r.rows.back().loss == r.loss_final);
  }
}

TEST_CASE("A gradient tolerance and both tolerances together stop at the right crossing", "[flow]") {
  const Quadratic q = test_quadratic();
  const Vector theta0 = Random(46).normal_vector(8);
  Vector g0(8);
  q.loss_and_gradient(theta0, g0);
  const double grad_level = 1e-4 * g0.norm();
  const double t_grad = exact_crossing(q, theta0, grad_level, true);
  const double loss_level = 1e-12 * q.loss(theta0);
  const double t_loss = exact_crossing(q, theta0, loss_level, false);
  for (const Solver solver : {Solver::dopri5, Solver::cash_karp54, Solver::bulirsch_stoer, Solver::rk4,
                              Solver::cvode_bdf, Solver::cvode_adams}) {
    FlowOptions o = accurate(solver, 1000.0);
    o.stop.grad_tol = grad_level;
    FlowResult r = simulate_flow(q, theta0, o);
    INFO(to_string(solver) << ": " << r.message);
    REQUIRE(r.status == Status::tolerance_reached);
    CHECK(r.grad_norm_final <= grad_level);
    CHECK(r.grad_norm_final >= grad_level * (1 - 1e-6));
    CHECK(r.t_final == Approx(t_grad).epsilon(is_fixed_step(solver) ? 1e-2 : 1e-6));
    // With both, the stop needs both: here the loss level is reached later.
    o.stop.loss_tol = loss_level;
    r = simulate_flow(q, theta0, o);
    REQUIRE(r.status == Status::tolerance_reached);
    CHECK(r.loss_final <= loss_level);
    CHECK(r.grad_norm_final <= grad_level);
    CHECK(r.t_final == Approx(std::max(t_grad, t_loss)).epsilon(is_fixed_step(solver) ? 1e-2 : 1e-6));
  }
}

TEST_CASE("A tolerance already met at theta0 stops at t = 0", "[flow]") {
  const Quadratic q = test_quadratic();
  FlowOptions o;
  o.stop.loss_tol = 1e300;
  const FlowResult r = simulate_flow(q, Vector::Ones(8), o);
  CHECK(r.status == Status::tolerance_reached);
  CHECK(r.t_final == 0.0);
  CHECK(r.rows.size() == 1);
}

TEST_CASE("The step budget stops every solver with max_steps after exactly that many steps", "[flow]") {
  const Quadratic q = test_quadratic();
  const Vector theta0 = Random(47).normal_vector(8);
  for (const Solver solver : kAllSolvers) {
    FlowOptions o = accurate(solver, 1e4);
    o.stop.max_steps = 7;
    const FlowResult r = simulate_flow(q, theta0, o);
    INFO(to_string(solver));
    CHECK(r.status == Status::max_steps);
    CHECK_FALSE(r.succeeded());
    CHECK(r.stats.num_steps == 7);
    CHECK(r.t_final < 1e4);
    CHECK(r.rows.back().t == r.t_final);
    CHECK(r.loss_final == Approx(q.loss(r.theta)).epsilon(1e-14));
  }
}

TEST_CASE("Rows are recorded at the requested times every save_every or at every step", "[flow]") {
  const Quadratic q = test_quadratic();
  const Vector theta0 = Random(48).normal_vector(8);
  for (const Solver solver : kAllSolvers) {
    INFO(to_string(solver));
    FlowOptions o = accurate(solver, 3.0);
    o.save.times = {0.25, 1.0, 1.7, 3.0};
    FlowResult r = simulate_flow(q, theta0, o);
    REQUIRE(r.status == Status::reached_end_time);
    REQUIRE(r.rows.size() == 5);
    CHECK(r.rows[0].t == 0.0);
    const double tolerance = is_fixed_step(solver) ? 1e-2 : 1e-7;
    for (std::size_t i = 1; i < 5; ++i) {
      CHECK(r.rows[i].t == o.save.times[i - 1]);
      CHECK(r.rows[i].loss == Approx(q.loss(q.exact_flow(theta0, o.save.times[i - 1]))).epsilon(tolerance));
    }
    o.save.times.clear();
    o.save.every_t = 0.5;
    r = simulate_flow(q, theta0, o);
    REQUIRE(r.rows.size() == 7);
    CHECK(r.rows[3].t == 1.5);
    CHECK(r.rows.back().t == 3.0);
    o.save.every_t = 0.0;
    r = simulate_flow(q, theta0, o);
    CHECK(static_cast<long>(r.rows.size()) == r.stats.num_steps + 1);
    // A row asked only at t_end constrains no step (a solver that lands on its outputs lands on t_end
    // anyway): the same steps and the same end as recording every step, and for gradflow's own step loop
    // (odeint) the same evaluations (CVODE evaluates each recorded row's gradient apart).
    o.save.every_t = 3.0;
    const FlowResult end_only = simulate_flow(q, theta0, o);
    REQUIRE(end_only.status == Status::reached_end_time);
    REQUIRE(end_only.rows.size() == 2);
    CHECK(end_only.stats.num_steps == r.stats.num_steps);
    const bool cvode =
        solver == Solver::cvode_bdf || solver == Solver::cvode_bdf_krylov || solver == Solver::cvode_adams;
    if (!cvode) CHECK(end_only.stats.num_gradient_evals == r.stats.num_gradient_evals);
    CHECK(end_only.rows.back().loss == r.rows.back().loss);
  }
}

TEST_CASE("An observer is called at t = 0 and after every step and can stop the run", "[flow]") {
  const Quadratic q = test_quadratic();
  int calls = 0;
  std::vector<double> times;
  const FlowResult r = simulate_flow(q, Vector::Ones(8), accurate(Solver::dopri5, 100.0), [&](const Row& row) {
    times.push_back(row.t);
    return ++calls == 3 || row.t > 50;
  });
  CHECK(r.status == Status::stopped_by_observer);
  CHECK(r.succeeded());
  CHECK(calls == 3);
  REQUIRE(times.size() == 3);
  CHECK(times[0] == 0.0);
  CHECK(r.stats.num_steps == 2);  // the calls at t = 0 and after the first two steps
  // Stopping at t = 0 runs no step.
  const FlowResult at_start =
      simulate_flow(q, Vector::Ones(8), accurate(Solver::cvode_bdf, 100.0), [](const Row&) { return true; });
  CHECK(at_start.status == Status::stopped_by_observer);
  CHECK(at_start.stats.num_steps == 0);
  CHECK(at_start.t_final == 0.0);
}

TEST_CASE("A gradient that turns NaN ends every solver with non_finite_value and the last good state", "[flow]") {
  const test::NaNBelowHalf f(3);
  const Vector theta0 = Vector::Constant(3, 1.0 / std::sqrt(3.0));  // norm 1: the NaN region from t = ln 2
  for (const Solver solver : kAllSolvers) {
    FlowOptions o = accurate(solver, 2.0);
    o.rtol = 1e-6;
    o.atol = 1e-9;
    const FlowResult r = simulate_flow(f, theta0, o);
    INFO(to_string(solver) << ": " << r.message);
    CHECK(r.status == Status::non_finite_value);
    CHECK_FALSE(r.succeeded());
    CHECK(r.theta.allFinite());
    CHECK(r.theta.norm() >= 0.5);
    CHECK(r.t_final <= std::log(2.0) + 1e-6);
    CHECK(r.t_final > std::log(2.0) - 0.05);
    CHECK_FALSE(r.message.empty());
    if (is_cvode(solver)) CHECK_THAT(r.message, Catch::Contains("CV"));
  }
}

TEST_CASE("Invalid options are a status naming the field value and constraint and nothing runs", "[flow]") {
  const Quadratic q = test_quadratic();
  const auto message_for = [&](auto&& change) {
    FlowOptions o;
    change(o);
    const FlowResult r = simulate_flow(q, Vector::Ones(8), o);
    CHECK(r.status == Status::invalid_options);
    CHECK(r.stats.num_gradient_evals == 0);
    CHECK(r.rows.empty());
    return r.message;
  };
  CHECK_THAT(message_for([](FlowOptions& o) { o.rtol = -1; }), Catch::StartsWith("rtol = -1"));
  CHECK_THAT(message_for([](FlowOptions& o) { o.rtol = 0; }), Catch::StartsWith("rtol = 0"));
  CHECK_THAT(message_for([](FlowOptions& o) { o.rtol = 1; }),
             Catch::StartsWith("rtol = 1: must be a number in (0, 1)"));
  CHECK_THAT(message_for([](FlowOptions& o) { o.rtol = 1e-15; }), Catch::Contains("below what double precision"));
  CHECK_THAT(message_for([](FlowOptions& o) { o.atol = 0; }), Catch::StartsWith("atol = 0"));
  CHECK_THAT(message_for([](FlowOptions& o) { o.t_end = 0; }), Catch::StartsWith("t_end = 0"));
  CHECK_THAT(message_for([](FlowOptions& o) { o.t_end = NAN; }), Catch::StartsWith("t_end = nan"));
  CHECK_THAT(message_for([](FlowOptions& o) { o.dt = -0.1; }), Catch::StartsWith("dt = -0.1"));
  CHECK_THAT(message_for([](FlowOptions& o) { o.save.times = {1, 0.5}; }), Catch::Contains("strictly increasing"));
  CHECK_THAT(message_for([](FlowOptions& o) { o.save.times = {20}; }), Catch::StartsWith("save.times = 20"));
  CHECK_THAT(message_for([](FlowOptions& o) { o.save.every_t = -1; }), Catch::StartsWith("save.every_t = -1"));
  CHECK_THAT(message_for([](FlowOptions& o) { o.stop.loss_tol = -1; }), Catch::StartsWith("stop.loss_tol = -1"));
  CHECK_THAT(message_for([](FlowOptions& o) { o.stop.grad_tol = INFINITY; }), Catch::StartsWith("stop.grad_tol = inf"));
  CHECK_THAT(message_for([](FlowOptions& o) { o.stop.max_steps = 0; }), Catch::StartsWith("stop.max_steps = 0"));
  CHECK_THAT(message_for([](FlowOptions& o) { o.mu = -2.0; }), Catch::StartsWith("mu = -2"));
  CHECK_THAT(message_for([](FlowOptions& o) {
               o.save.times = {1};
               o.save.every_t = 1;
             }),
             Catch::Contains("cannot be combined"));
  CHECK_THROWS_AS(simulate_flow(q, Vector::Ones(3), FlowOptions{}), std::invalid_argument);
  CHECK_THROWS_AS(simulate_flow(q, Vector::Constant(8, NAN), FlowOptions{}), std::invalid_argument);
}

TEST_CASE("Solver and status names round-trip", "[flow]") {
  for (const Solver solver : kAllSolvers) CHECK(solver_from_string(to_string(solver)) == solver);
  CHECK_FALSE(solver_from_string("rk45"));
  for (const Status status :
       {Status::not_run, Status::reached_end_time, Status::tolerance_reached, Status::max_steps,
        Status::reached_max_iters, Status::stopped_by_observer, Status::step_size_too_small, Status::non_finite_value,
        Status::backend_error, Status::diverged, Status::invalid_options}) {
    CHECK(status_from_string(to_string(status)) == status);
  }
  CHECK(succeeded(Status::tolerance_reached));
  CHECK_FALSE(succeeded(Status::max_steps));
  CHECK_FALSE(succeeded(Status::not_run));
}

TEST_CASE("A user-supplied mu sets the bound and a violated bound is reported with its first time", "[flow]") {
  const Quadratic q = test_quadratic();  // true mu = 0.05
  const Vector theta0 = Random(49).normal_vector(8);
  FlowOptions o = accurate(Solver::dopri5, 10.0);
  o.mu = 0.01;  // a weaker claim: holds
  FlowResult r = simulate_flow(q, theta0, o);
  CHECK(r.bound_holds == true);
  CHECK(*r.mu == 0.01);
  o.mu = 10.0;  // stronger than the truth: must be caught
  r = simulate_flow(q, theta0, o);
  REQUIRE(r.bound_holds.has_value());
  CHECK_FALSE(*r.bound_holds);
  REQUIRE(r.first_bound_violation_t);
  CHECK(*r.first_bound_violation_t > 0.0);
  CHECK(r.succeeded());  // the run itself is fine; the claim was wrong
}
