// flow/ as a library for trajectories (docs/theory.md §1.5; oracles §7.29 to §7.33, §7.35): the states
// along the path, the observer that sees them, the dense output, located events (against closed forms and
// SciPy's solve_ivp), the row sink with bounded memory, the stiffness hint, and what a non-finite gradient
// norm does to every back end.
#include <gradflow/core/random.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/problems/quadratic.hpp>
#include "flow_test_problems.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

using namespace gradflow;
using gradflow::test::relative_error;

namespace {

const std::vector<Solver> kAllSolvers{
    Solver::dopri5, Solver::cash_karp54, Solver::fehlberg78,       Solver::bulirsch_stoer, Solver::euler,
    Solver::rk4,    Solver::cvode_bdf,   Solver::cvode_bdf_krylov, Solver::cvode_adams};

FlowOptions options_for(Solver solver, double t_end, double rtol = 1e-8) {
  FlowOptions o;
  o.solver = solver;
  o.t_end = t_end;
  o.rtol = rtol;
  o.atol = rtol * 1e-4;
  o.dt = 1e-3;
  return o;
}

Quadratic test_quadratic() {
  Vector lambda(6);
  lambda << 0.1, 0.3, 0.7, 1.0, 2.0, 4.0;
  return Quadratic(test::spd_matrix(lambda, 7), Random(8).normal_vector(6));
}

// A 2-d quadratic whose first coordinate changes sign once along the flow, at a time known in closed
// form: A = R diag(1, 10) R^T with R the rotation by 45 degrees, theta* = 0, theta0 = R (1, 5). Then
// theta_1(t) = (e^-t - 5 e^-10t) / sqrt 2 rises through 0 at t* = ln(5) / 9.
Quadratic crossing_quadratic() {
  const double c = std::sqrt(0.5);
  Matrix r(2, 2);
  r << c, -c, c, c;
  Vector lambda(2);
  lambda << 1.0, 10.0;
  Matrix a = r * lambda.asDiagonal() * r.transpose();
  a = 0.5 * (a + a.transpose()).eval();
  return Quadratic(a);
}

Vector crossing_start() {
  const double c = std::sqrt(0.5);
  Vector x(2);
  x << c * (1.0 - 5.0), c * (1.0 + 5.0);  // R (1, 5)
  return x;
}

const double kCrossingTime = std::log(5.0) / 9.0;

Event first_coordinate(int direction, bool terminal) {
  return Event{"theta_1", [](double, ConstVectorView theta, const Row&) { return theta[0]; }, direction, terminal};
}

}  // namespace

TEST_CASE(
    "Recorded states are theta at the rows and equal direct runs stopped at each recorded time (docs/theory.md §7.29)",
    "[trajectory]") {
  const Quadratic q = test_quadratic();
  const Vector theta0 = Random(9).normal_vector(6);
  for (const Solver solver : kAllSolvers) {
    INFO(to_string(solver));
    FlowOptions o = options_for(solver, 3.0, 1e-10);
    o.save.times = {0.5, 1.25, 2.0, 3.0};
    o.save.states = true;
    const FlowResult r = simulate_flow(q, theta0, o);
    REQUIRE(r.status == Status::reached_end_time);
    REQUIRE(r.rows.size() == 5);
    REQUIRE(r.states.rows() == 6);
    REQUIRE(r.states.cols() == 5);
    CHECK(r.states.col(0) == theta0);
    CHECK(r.states.col(4) == r.theta);
    for (std::size_t i = 1; i < r.rows.size(); ++i) {
      const Vector state = r.states.col(static_cast<Eigen::Index>(i));
      // The row was computed from this state ...
      CHECK(r.rows[i].loss == q.loss(state));
      CHECK(r.rows[i].dist_from_init == Approx((state - theta0).norm()).epsilon(1e-15));
      // ... which is the state of a run stopped at that time (euler: the same floating-point steps).
      FlowOptions direct = options_for(solver, o.save.times[i - 1], 1e-10);
      const FlowResult stopped = simulate_flow(q, theta0, direct);
      REQUIRE(stopped.status == Status::reached_end_time);
      if (solver == Solver::euler) {
        CHECK(state == stopped.theta);
      } else {
        CHECK(relative_error(state, stopped.theta) <= 10 * 1e-10);
      }
    }
  }
}

TEST_CASE("Descent records its iterates as states, equal to runs stopped at each recorded iteration", "[trajectory]") {
  const Quadratic q = test_quadratic();
  const Vector theta0 = Random(10).normal_vector(6);
  DescentOptions o;
  o.lr = 0.2;
  o.stop.max_steps = 40;
  o.save.every_steps = 7;
  o.save.states = true;
  const DescentResult r = descend(q, theta0, o);
  REQUIRE(r.status == Status::reached_max_iters);
  REQUIRE(r.states.cols() == static_cast<Eigen::Index>(r.rows.size()));
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    DescentOptions direct = o;
    direct.save.states = false;
    direct.stop.max_steps = std::max(r.rows[i].iter, 1L);
    const Vector state = r.states.col(static_cast<Eigen::Index>(i));
    if (r.rows[i].iter == 0) {
      CHECK(state == theta0);
    } else {
      CHECK(state == descend(q, theta0, direct).theta);
    }
  }
}

TEST_CASE("The observer sees the state at t = 0 and at every step, the states the run records", "[trajectory]") {
  const Quadratic q = test_quadratic();
  const Vector theta0 = Random(11).normal_vector(6);
  for (const Solver solver : {Solver::dopri5, Solver::rk4, Solver::cvode_bdf}) {
    INFO(to_string(solver));
    FlowOptions o = options_for(solver, 0.5);
    o.save.states = true;
    std::vector<Vector> seen;
    std::vector<double> times;
    const FlowResult r = simulate_flow(q, theta0, o, [&](const Row& row, ConstVectorView theta) {
      seen.emplace_back(theta);
      times.push_back(row.t);
      return false;
    });
    REQUIRE(r.status == Status::reached_end_time);
    REQUIRE(static_cast<Eigen::Index>(seen.size()) == r.states.cols());
    CHECK(times.front() == 0.0);
    CHECK(seen.front() == theta0);
    for (std::size_t i = 0; i < seen.size(); ++i) {
      CHECK(times[i] == r.rows[i].t);
      CHECK(seen[i] == r.states.col(static_cast<Eigen::Index>(i)));
    }
  }
  // Descent: the observer sees the iterate, from k = 0.
  DescentOptions d;
  d.lr = 0.3;
  d.stop.max_steps = 5;
  std::vector<Vector> iterates;
  const DescentResult r = descend(q, theta0, d, [&](const Row& row, ConstVectorView theta) {
    CHECK(row.iter == static_cast<long>(iterates.size()));
    iterates.emplace_back(theta);
    return false;
  });
  REQUIRE(iterates.size() == 6);
  CHECK(iterates.front() == theta0);
  CHECK(iterates.back() == r.theta);
}

TEST_CASE(
    "Dense output: at(t) agrees with a run stopped at t to 10 rtol on every solver, euler bit for bit (docs/theory.md "
    "§7.30)",
    "[trajectory]") {
  const Quadratic q = test_quadratic();
  const Vector theta0 = Random(12).normal_vector(6);
  const test::PowellSingular powell;
  for (const Solver solver : kAllSolvers) {
    INFO(to_string(solver));
    for (const bool on_powell : {false, true}) {
      const Objective& f = on_powell ? static_cast<const Objective&>(powell) : q;
      const Vector start = on_powell ? test::powell_start() : theta0;
      const double rtol = 1e-8;
      FlowOptions o = options_for(solver, 3.0, rtol);
      o.save.dense = true;
      const FlowResult r = simulate_flow(f, start, o);
      REQUIRE(r.status == Status::reached_end_time);
      CHECK(r.at(0.0) == start);
      CHECK(relative_error(r.at(r.t_final), r.theta) <= 1e-14);
      for (const double t : {0.0123, 0.37, 1.0001, 2.2, 2.9995}) {
        FlowOptions direct = options_for(solver, t, rtol);
        const FlowResult stopped = simulate_flow(f, start, direct);
        REQUIRE(stopped.status == Status::reached_end_time);
        INFO(f.name() << " t = " << t);
        if (solver == Solver::euler) {
          CHECK(r.at(t) == stopped.theta);
        } else {
          CHECK(relative_error(r.at(t), stopped.theta) <= 10 * rtol);
        }
      }
    }
  }
}

TEST_CASE("FlowResult::at throws out_of_range outside [0, t_final] and logic_error without dense output",
          "[trajectory]") {
  const Quadratic q = test_quadratic();
  FlowOptions o = options_for(Solver::dopri5, 1.0);
  o.save.dense = true;
  const FlowResult r = simulate_flow(q, Vector::Ones(6), o);
  CHECK_THROWS_AS(r.at(-1e-9), std::out_of_range);
  CHECK_THROWS_AS(r.at(1.0 + 1e-9), std::out_of_range);
  CHECK_THROWS_WITH(r.at(2.0), Catch::Contains("t = 2") && Catch::Contains("[0, 1]"));
  CHECK_THROWS_AS(r.at(std::nan("")), std::out_of_range);
  o.save.dense = false;
  CHECK_THROWS_AS(simulate_flow(q, Vector::Ones(6), o).at(0.5), std::logic_error);
}

TEST_CASE("A terminal event stops every solver at the closed-form crossing with event_stop (docs/theory.md §7.31)",
          "[trajectory]") {
  const Quadratic q = crossing_quadratic();
  const Vector theta0 = crossing_start();
  REQUIRE(theta0[0] < 0.0);
  REQUIRE(std::abs(q.exact_flow(theta0, kCrossingTime)[0]) < 1e-15);
  for (const Solver solver : kAllSolvers) {
    INFO(to_string(solver));
    FlowOptions o = options_for(solver, 2.0, 1e-10);
    o.events = {first_coordinate(+1, true)};
    o.save.dense = true;
    const FlowResult r = simulate_flow(q, theta0, o);
    INFO(r.message);
    REQUIRE(r.status == Status::event_stop);
    CHECK(r.succeeded());
    CHECK_THAT(r.message, Catch::Contains("theta_1"));
    REQUIRE(r.event_hits.size() == 1);
    const EventHit& hit = r.event_hits[0];
    CHECK(hit.name == "theta_1");
    CHECK(hit.t == r.t_final);
    CHECK(hit.theta == r.theta);
    CHECK(hit.row.t == hit.t);
    CHECK(hit.row.loss == q.loss(hit.theta));
    CHECK(r.rows.back().t == r.t_final);
    CHECK(r.at(r.t_final)[0] == Approx(r.theta[0]).margin(1e-12));
    // Located to |dt| <= 1e-12 (1 + |t|) on the interpolant, whose error is the solver's.
    // euler with dt = 1e-3 is first order (its crossing is 0.5% early); rk4 and the adaptive solvers are
    // at their tolerance.
    CHECK(r.t_final == Approx(kCrossingTime).epsilon(solver == Solver::euler ? 1e-2 : 1e-7));
    CHECK(hit.theta[0] >= 0.0);
    CHECK(hit.theta[0] <= 1e-9);
  }
}

TEST_CASE("Event directions: a rising crossing fires +1 and 0, not -1, non-terminal events let the run go on",
          "[trajectory]") {
  const Quadratic q = crossing_quadratic();
  const Vector theta0 = crossing_start();
  for (const Solver solver : {Solver::dopri5, Solver::cash_karp54, Solver::rk4, Solver::cvode_bdf}) {
    INFO(to_string(solver));
    FlowOptions o = options_for(solver, 1.0, 1e-10);
    Event rising = first_coordinate(+1, false);
    rising.name = "rising";
    Event falling = first_coordinate(-1, false);
    falling.name = "falling";
    Event either = first_coordinate(0, false);
    either.name = "either";
    // A loss level crossed later, falling: its own non-terminal event.
    const double level = 0.5 * q.loss(q.exact_flow(theta0, 0.6));
    Event loss_level{"loss level", [level](double, ConstVectorView, const Row& row) { return row.loss - level; }, -1,
                     false};
    o.events = {rising, falling, either, loss_level};
    const FlowResult r = simulate_flow(q, theta0, o);
    REQUIRE(r.status == Status::reached_end_time);
    CHECK(r.t_final == 1.0);
    REQUIRE(r.event_hits.size() == 3);
    CHECK(r.event_hits[0].t == r.event_hits[1].t);
    CHECK((r.event_hits[0].name == "rising" || r.event_hits[0].name == "either"));
    CHECK((r.event_hits[1].name == "rising" || r.event_hits[1].name == "either"));
    CHECK(r.event_hits[0].t == Approx(kCrossingTime).epsilon(1e-7));
    CHECK(r.event_hits[2].name == "loss level");
    CHECK(r.event_hits[2].event == 3);  // its index in o.events
    for (const EventHit& hit : r.event_hits) CHECK(o.events.at(static_cast<std::size_t>(hit.event)).name == hit.name);
    // The exact loss is decreasing: the level is crossed once, before t = 0.6 (half the loss there).
    CHECK(r.event_hits[2].t > 0.6);
    CHECK(r.event_hits[2].row.loss == Approx(level).epsilon(1e-6));
    for (const EventHit& hit : r.event_hits) CHECK(hit.name != "falling");
  }
}

TEST_CASE("The tolerance stop is an event on the same mechanism, named tolerance", "[trajectory]") {
  const Quadratic q = test_quadratic();
  FlowOptions o = options_for(Solver::cvode_bdf, 100.0);
  o.stop.loss_tol = 1e-6 * q.loss(Vector::Ones(6));
  const FlowResult r = simulate_flow(q, Vector::Ones(6), o);
  REQUIRE(r.status == Status::tolerance_reached);
  REQUIRE(r.event_hits.size() == 1);
  CHECK(r.event_hits[0].name == "tolerance");
  CHECK(r.event_hits[0].event == -1);  // not one of options.events
  CHECK(r.event_hits[0].t == r.t_final);
  CHECK(r.event_hits[0].row.loss <= o.stop.loss_tol);
  // With a user event crossed earlier, the run stops at the user's.
  o.events = {Event{"half", [&](double, ConstVectorView, const Row& row) { return row.loss - 1e3 * o.stop.loss_tol; },
                    -1, true}};
  const FlowResult earlier = simulate_flow(q, Vector::Ones(6), o);
  CHECK(earlier.status == Status::event_stop);
  REQUIRE(earlier.event_hits.size() == 1);
  CHECK(earlier.event_hits[0].event == 0);
  CHECK(earlier.t_final < r.t_final);
  CHECK(earlier.loss_final == Approx(1e3 * o.stop.loss_tol).epsilon(1e-6));
}

TEST_CASE(
    "Powell singular: the located time of L = 1e-9 matches SciPy's solve_ivp event time 5844.78197 (docs/theory.md "
    "§7.31)",
    "[trajectory]") {
  // The reference: scipy.integrate.solve_ivp(RK45, rtol = 1e-10) from x0 = (3, -1, 0, 1) with a terminal
  // event at L = 1e-9, as the issue that asked for events reports it (5844.78197).
  const FunctionObjective powell = test::powell_function();
  FlowOptions o;
  o.solver = Solver::dopri5;
  o.rtol = 1e-10;
  o.atol = 1e-14;
  o.t_end = 1e5;
  o.save.every_t = 100.0;
  o.events = {Event{"L = 1e-9", [](double, ConstVectorView, const Row& row) { return row.loss - 1e-9; }, -1, true}};
  const FlowResult r = simulate_flow(powell, test::powell_start(), o);
  INFO(r.message);
  REQUIRE(r.status == Status::event_stop);
  CHECK(r.t_final == Approx(5844.78197).epsilon(1e-6));
  CHECK(r.loss_final == Approx(1e-9).epsilon(1e-9));
  // L t^2 stays bounded (the PL ratio tends to 0): the flow decays algebraically, not exponentially.
  for (const Row& row : r.rows) {
    if (row.t >= 100) CHECK(row.loss * row.t * row.t < 1.0);
  }
  CHECK(r.rows.back().pl_ratio < 1e-3);
}

TEST_CASE(
    "An explicit method held at its stability limit says the problem is stiff and names the BDF methods "
    "(docs/theory.md §7.32)",
    "[trajectory]") {
  // Powell singular: the quadratic terms are fast, the quartic ones slow (algebraic decay).
  const FunctionObjective powell = test::powell_function();
  FlowOptions o;
  o.rtol = 1e-10;
  o.atol = 1e-14;
  o.t_end = 1e5;
  o.save.every_t = 100.0;
  o.solver = Solver::dopri5;
  o.events = {Event{"L = 1e-9", [](double, ConstVectorView, const Row& row) { return row.loss - 1e-9; }, -1, true}};
  const FlowResult explicit_run = simulate_flow(powell, test::powell_start(), o);
  REQUIRE(explicit_run.status == Status::event_stop);
  INFO(explicit_run.message);
  CHECK_THAT(explicit_run.stiffness_hint,
             Catch::Contains("stiff") && Catch::Contains("cvode-bdf") && Catch::Contains("cvode-bdf-krylov"));
  CHECK_THAT(explicit_run.message, Catch::Contains(explicit_run.stiffness_hint));
  // The hint's claim, checked: a stiff method does the same run with over 100 times fewer evaluations.
  o.solver = Solver::cvode_bdf;
  const FlowResult stiff_run = simulate_flow(powell, test::powell_start(), o);
  REQUIRE(stiff_run.status == Status::event_stop);
  CHECK(stiff_run.t_final == Approx(explicit_run.t_final).epsilon(1e-4));
  CHECK(100 * stiff_run.stats.num_gradient_evals < explicit_run.stats.num_gradient_evals);
  CHECK(stiff_run.stiffness_hint.empty());
  // A well-conditioned problem gets no hint, whatever the solver.
  const Quadratic q = test_quadratic();
  for (const Solver solver : {Solver::dopri5, Solver::cash_karp54, Solver::fehlberg78, Solver::bulirsch_stoer}) {
    FlowOptions easy = options_for(solver, 50.0);
    const FlowResult r = simulate_flow(q, Vector::Ones(6), easy);
    INFO(to_string(solver));
    CHECK(r.stiffness_hint.empty());
  }
}

TEST_CASE(
    "The stiffness hint speaks at every tolerance on a stiff quadratic, with an estimate near BDF's real work "
    "(issue 26)",
    "[trajectory]") {
  // p = 50, eigenvalues log-spaced in [1e-6, 1], to t = 1e6: dopri5 is held at h = 3.3 for a million
  // time units. Before the estimate was read over windows the hint was silent at rtol 1e-4 and 1e-6.
  const Eigen::Index p = 50;
  Vector eigenvalues(p);
  for (Eigen::Index i = 0; i < p; ++i) eigenvalues[i] = std::pow(1e6, -static_cast<double>(i) / (p - 1));
  const Quadratic q{Matrix(eigenvalues.asDiagonal())};
  const Vector theta0 = Vector::Ones(p);
  FlowOptions bdf = options_for(Solver::cvode_bdf, 1e6);
  bdf.rtol = 1e-6;
  bdf.atol = 1e-10;
  const FlowResult stiff = simulate_flow(q, theta0, bdf);
  REQUIRE(stiff.status == Status::reached_end_time);
  for (const double rtol : {1e-4, 1e-6}) {
    INFO("rtol = " << rtol);
    FlowOptions o = options_for(Solver::dopri5, 1e6);
    o.rtol = rtol;
    o.atol = 1e-10;
    o.save.every_steps = 1000000;
    const FlowResult r = simulate_flow(q, theta0, o);
    REQUIRE(r.status == Status::reached_end_time);
    INFO(r.stiffness_hint);
    REQUIRE_THAT(r.stiffness_hint, Catch::Contains("stiff") && Catch::Contains("auto"));
    // "a stiff method would need about N gradient evaluations": N within a factor 20 of cvode-bdf's own.
    const auto at = r.stiffness_hint.find("would need about ");
    REQUIRE(at != std::string::npos);
    const double estimate = std::stod(r.stiffness_hint.substr(at + 17));
    CHECK(estimate < 20.0 * static_cast<double>(stiff.stats.num_gradient_evals));
    CHECK(estimate > static_cast<double>(stiff.stats.num_gradient_evals) / 20.0);
    CHECK(100.0 * estimate < static_cast<double>(r.stats.num_gradient_evals));
  }
}

TEST_CASE(
    "A run that does not follow the flow says so: the dissipation identity, checked against the quadratic's closed "
    "form (docs/theory.md §1.5)",
    "[trajectory]") {
  // L = (1000 x1^2 + x2^2) / 2 from (1, 1): the flow's loss at t is (1000 e^{-2000 t} + e^{-2 t}) / 2.
  Matrix a = Matrix::Zero(2, 2);
  a(0, 0) = 1000.0;
  a(1, 1) = 1.0;
  const Quadratic q(a);
  const Vector theta0 = Vector::Ones(2);
  const double t_end = 20.0;
  const double exact = 0.5 * (1000.0 * std::exp(-2000.0 * t_end) + std::exp(-2.0 * t_end));
  // Loose tolerances: dopri5 sits at its stability limit and keeps the fast mode alive at atol's level,
  // so its loss stalls far above the flow's (checked against the closed form, not by the check itself).
  FlowOptions loose;
  loose.t_end = t_end;
  loose.rtol = 1e-3;
  loose.atol = 1e-3;
  loose.solver = Solver::dopri5;
  const FlowResult off = simulate_flow(q, theta0, loose);
  REQUIRE(off.status == Status::reached_end_time);
  INFO(off.message);
  REQUIRE(off.loss_final > 1e6 * exact);
  CHECK_THAT(off.flow_departure,
             Catch::Contains("does not follow the gradient flow after t = ") && Catch::Contains("cvode-bdf"));
  CHECK_THAT(off.message, Catch::Contains(off.flow_departure));
  // The time it names is before the stall shows: by then the flow's loss is below the stalled one.
  const double from = test::number_after(off.flow_departure, "after t = ");
  CHECK(from < t_end);
  CHECK(0.5 * (1000.0 * std::exp(-2000.0 * from) + std::exp(-2.0 * from)) > off.loss_final);
  // The same tolerances with a stiff method, and dopri5 at tight ones: on the flow, and silent.
  for (const auto& [solver, rtol, atol] :
       {std::tuple{Solver::cvode_bdf, 1e-3, 1e-3}, std::tuple{Solver::dopri5, 1e-10, 1e-14}}) {
    FlowOptions o = loose;
    o.solver = solver;
    o.rtol = rtol;
    o.atol = atol;
    const FlowResult on = simulate_flow(q, theta0, o);
    INFO(to_string(solver) << " rtol " << rtol);
    CHECK(on.flow_departure.empty());
    if (solver == Solver::dopri5) CHECK(on.loss_final == Approx(exact).epsilon(1e-6));
  }
  // A fixed step past Euler's stability limit (2 / 1000) leaves the flow, and says so; one well inside
  // it does not.
  FlowOptions fixed = loose;
  fixed.solver = Solver::euler;
  fixed.t_end = 0.5;
  fixed.dt = 2.2e-3;
  CHECK_FALSE(simulate_flow(q, theta0, fixed).flow_departure.empty());
  fixed.dt = 1e-4;
  CHECK(simulate_flow(q, theta0, fixed).flow_departure.empty());
  // No false alarm: the explicit solvers on a well-conditioned problem at their default tolerances.
  const Quadratic easy = test_quadratic();
  for (const Solver solver : {Solver::dopri5, Solver::cash_karp54, Solver::fehlberg78, Solver::bulirsch_stoer}) {
    const FlowResult r = simulate_flow(easy, Vector::Ones(6), options_for(solver, 50.0));
    INFO(to_string(solver));
    CHECK(r.flow_departure.empty());
  }
}

TEST_CASE("A row sink sees every row in order with its state, keep_rows = false keeps only the first and the last",
          "[trajectory]") {
  const Quadratic q = test_quadratic();
  const Vector theta0 = Random(13).normal_vector(6);
  // A long euler run: 2e5 steps, every one a row.
  FlowOptions o = options_for(Solver::euler, 200.0);
  o.stop.max_steps = 1000000;
  o.save.keep_rows = false;
  o.save.states = true;
  long delivered = 0;
  double last_t = -1.0;
  bool in_order = true;
  o.save.sink = [&](const Row& row, ConstVectorView theta) {
    in_order = in_order && row.t > last_t && theta.size() == 6;
    last_t = row.t;
    ++delivered;
  };
  const FlowResult r = simulate_flow(q, theta0, o);
  REQUIRE(r.status == Status::reached_end_time);
  CHECK(r.stats.num_steps == 200000);
  CHECK(delivered == r.stats.num_steps + 1);
  CHECK(in_order);
  CHECK(r.rows.size() <= 2);
  CHECK(r.rows.front().t == 0.0);
  CHECK(r.rows.back().t == 200.0);
  CHECK(r.states.cols() == 2);
  CHECK(r.states.col(1) == r.theta);

  // The sink's rows (and states) are the rows the same run keeps with keep_rows = true.
  for (const Solver solver : {Solver::euler, Solver::dopri5, Solver::cvode_bdf}) {
    FlowOptions kept = options_for(solver, 20.0);
    kept.save.states = true;
    std::vector<Row> sunk;
    std::vector<Vector> states;
    kept.save.sink = [&](const Row& row, ConstVectorView theta) {
      sunk.push_back(row);
      states.emplace_back(theta);
    };
    const FlowResult all = simulate_flow(q, theta0, kept);
    REQUIRE(all.rows.size() == sunk.size());
    for (std::size_t i = 0; i < sunk.size(); ++i) {
      CHECK(sunk[i].t == all.rows[i].t);
      CHECK(sunk[i].loss == all.rows[i].loss);
      CHECK(states[i] == all.states.col(static_cast<Eigen::Index>(i)));
    }
  }

  // Descent likewise.
  DescentOptions d;
  d.lr = 0.1;
  d.stop.max_steps = 100000;
  d.save.keep_rows = false;
  long descent_rows = 0;
  d.save.sink = [&](const Row&, ConstVectorView) { ++descent_rows; };
  const DescentResult gd = descend(q, theta0, d);
  REQUIRE(gd.status == Status::reached_max_iters);
  CHECK(descent_rows == 100001);
  CHECK(gd.rows.size() == 2);
  CHECK(gd.rows.back().iter == 100000);
}

TEST_CASE(
    "A gradient norm that overflows ends every back end with non_finite_value and the last good state (docs/theory.md "
    "§7.33)",
    "[trajectory]") {
  // Entries of 1e300 are finite; their norm is not. At theta0 (A = 1e300 I): nothing runs, and no bound
  // is claimed for a run that did not advance.
  const Quadratic huge(1e300 * Matrix::Identity(4, 4));
  const Vector ones = Vector::Ones(4);
  for (const Solver solver : kAllSolvers) {
    INFO(to_string(solver));
    const FlowResult r = simulate_flow(huge, ones, options_for(solver, 1.0));
    CHECK(r.status == Status::non_finite_value);
    CHECK_FALSE(r.succeeded());
    CHECK_THAT(r.message, Catch::Contains("norm overflows"));
    CHECK(r.t_final == 0.0);
    CHECK(r.theta == ones);
    CHECK_FALSE(r.bound_holds.has_value());
    CHECK_THAT(r.full_report(), Catch::Contains("not checked") && !Catch::Contains("holds"));
  }
  // Along the way: the flow runs into the region at t = 1 and must stop before it, on every back end.
  const test::OverflowingNormBeyondOne f;
  for (const Solver solver : kAllSolvers) {
    INFO(to_string(solver));
    FlowOptions o = options_for(solver, 3.0, 1e-6);
    o.dt = 0.0137;
    const FlowResult r = simulate_flow(f, Vector::Zero(4), o);
    INFO(r.message);
    CHECK(r.status == Status::non_finite_value);
    CHECK(r.theta.allFinite());
    CHECK(r.theta[0] < 1.0);
    CHECK(r.t_final < 1.0 + 1e-12);  // t and theta_1 = t are sums of the same steps, rounded apart
    CHECK(r.t_final > 0.9);
    CHECK(std::isfinite(r.grad_norm_final));
  }
  // Descent, at theta0 and along the way.
  DescentOptions d;
  d.lr = 0.3;
  d.stop.max_steps = 100;
  DescentResult gd = descend(huge, ones, d);
  CHECK(gd.status == Status::non_finite_value);
  CHECK(gd.iterations == 0);
  CHECK_FALSE(gd.bound_holds.has_value());
  gd = descend(f, Vector::Zero(4), d);
  CHECK(gd.status == Status::non_finite_value);
  CHECK_THAT(gd.message, Catch::Contains("eta = 0.3"));
  CHECK(gd.theta[0] < 1.0);
  CHECK(gd.iterations == 3);  // theta_1 = 0.3 k, and 1.2 lies in the region
}

TEST_CASE("A gradient so large that the steps stop changing theta is a stall with no verdict, not max_steps",
          "[trajectory]") {
  // A = 1e150 I: the gradient's norm (1e150) is finite, the explicit methods' steps are held near
  // 1e-300, and x + h v rounds back to x. Such a run must end as step_size_too_small, not count a
  // million "accepted" steps and say that the bound holds.
  const Quadratic stiff(1e150 * Matrix::Identity(2, 2));
  const Vector start = Vector::Ones(2);
  for (const Solver solver : {Solver::dopri5, Solver::cash_karp54, Solver::fehlberg78, Solver::bulirsch_stoer}) {
    INFO(to_string(solver));
    FlowOptions o = options_for(solver, 1.0);
    o.stop.max_steps = 2000;
    const FlowResult r = simulate_flow(stiff, start, o);
    INFO(r.message);
    if (r.theta == start) {
      CHECK(r.status == Status::step_size_too_small);
      CHECK_THAT(r.message, Catch::Contains("no longer change theta"));
      CHECK(r.stats.num_steps < 10);
      CHECK_FALSE(r.bound_holds.has_value());
      CHECK_THAT(r.full_report(), Catch::Contains("not checked") && !Catch::Contains("holds"));
    } else {
      CHECK(r.status != Status::max_steps);  // it moved: then it must not have crept to the budget
    }
  }
}

TEST_CASE("A network with output scale 1e308 is a non-finite gradient norm at theta0, for the flow and descent",
          "[trajectory]") {
  const NetworkData data = synthetic_data(4, 8, 1);
  MlpArchitecture arch;
  arch.input_dim = 8;
  arch.widths = {8};
  const Mlp network(arch, data.x, data.y);
  InitOptions init;
  init.scheme = InitScheme::positive;
  init.output_scale = 1e308;
  const Vector theta0 = initialize(arch, init);
  REQUIRE(theta0.allFinite());
  for (const Solver solver : {Solver::dopri5, Solver::cash_karp54, Solver::cvode_bdf}) {
    const FlowResult r = simulate_flow(network, theta0, options_for(solver, 1.0));
    INFO(to_string(solver) << ": " << r.message);
    CHECK(r.status == Status::non_finite_value);
    CHECK_FALSE(r.bound_holds.has_value());
  }
  CHECK(descend(network, theta0, DescentOptions{}).status == Status::non_finite_value);
}

TEST_CASE(
    "max_step caps every accepted step and first_step is the first trial step, on odeint and CVODE, and bad values "
    "are refused naming them",
    "[trajectory]") {
  const Quadratic q = test_quadratic();
  for (const Solver solver : {Solver::dopri5, Solver::fehlberg78, Solver::bulirsch_stoer, Solver::cvode_bdf}) {
    INFO(to_string(solver));
    FlowOptions o = options_for(solver, 5.0);
    o.rtol = 1e-6;
    o.atol = 1e-9;
    o.max_step = 0.05;
    const FlowResult capped = simulate_flow(q, Vector::Ones(6), o);
    REQUIRE(capped.status == Status::reached_end_time);
    REQUIRE(capped.rows.size() >= 100);
    for (std::size_t i = 1; i < capped.rows.size(); ++i)
      CHECK(capped.rows[i].t - capped.rows[i - 1].t <= 0.05 * (1 + 1e-12));
    // The run stays on the flow: the closed form at t = 5.
    CHECK((capped.theta - q.exact_flow(Vector::Ones(6), 5.0)).norm() <= 1e-4);
    FlowOptions first = options_for(solver, 5.0);
    first.first_step = 1e-6;
    const FlowResult started = simulate_flow(q, Vector::Ones(6), first);
    REQUIRE(started.rows.size() >= 2);
    if (solver != Solver::cvode_bdf) CHECK(started.rows[1].t == 1e-6);  // accepted as asked (small enough)
    CHECK(started.rows[1].t <= 1e-6 * (1 + 1e-12));
  }
  FlowOptions bad;
  bad.max_step = 0.0;
  REQUIRE(bad.validate());
  CHECK(bad.validate()->field == "max_step");
  bad.max_step = std::numeric_limits<double>::infinity();
  CHECK_FALSE(bad.validate());
  for (const double first : {0.0, -1.0, 20.0, std::nan("")}) {
    bad.first_step = first;
    REQUIRE(bad.validate());
    CHECK(bad.validate()->field == "first_step");
  }
}
