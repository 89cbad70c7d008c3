// solver auto (flow/detail/auto_switch.hpp, docs/theory.md §1.6): it starts explicit, hands over to BDF
// when the problem is stiff and back when it is not, and its result is the flow's.
//
// Oracles: the quadratic's closed form exp(-A t) theta0 (Quadratic::exact_flow); dopri5 and cvode-bdf
// run alone on the same problem (the work auto is compared with); a tight dopri5 reference for the
// problem whose stiffness passes.
#include <gradflow/core/function_objective.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/quadratic.hpp>

#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace gradflow;
using gradflow::test::relative_error;

namespace {

// p = 50, eigenvalues log-spaced in [1/cond, 1], theta0 = ones: the flow to t = cond lets the slowest
// mode decay by e while the fastest is cond times faster (issue 26's family, scaled in time).
Quadratic spread_quadratic(double cond) {
  const Eigen::Index p = 50;
  Vector eigenvalues(p);
  for (Eigen::Index i = 0; i < p; ++i) eigenvalues[i] = std::pow(cond, -static_cast<double>(i) / (p - 1));
  return Quadratic(Matrix(eigenvalues.asDiagonal()));
}

FlowOptions options_for(Solver solver, double t_end, double rtol) {
  FlowOptions o;
  o.solver = solver;
  o.t_end = t_end;
  o.rtol = rtol;
  o.atol = 1e-10;
  o.save.every_steps = 1000000;  // the first and last rows
  return o;
}

long work(const FlowResult& r) {
  return r.stats.num_gradient_evals + r.stats.num_loss_evals + r.stats.num_hessian_vector_evals;
}

// L = x^2 / 2 + s (y - x)^2 / 2 with s = 1 + K x^2: y relaxes onto x at the rate s while x decays like
// exp(-t), so the flow is stiff (rate 1e4) at the start and not stiff once K x^2 << 1 (t > 5). (The
// coupling matters: with L = x^2 / 2 + s y^2 / 2 the stiff component decays to exactly 0 and nothing
// ever excites it, so no explicit method is held back by it.)
FunctionObjective passing_stiffness() {
  constexpr double kK = 1e4;
  return FunctionObjective(2,
                           [](ConstVectorView th, VectorView g) {
                             const double x = th[0], u = th[1] - th[0], s = 1.0 + kK * th[0] * th[0];
                             g[0] = x + kK * x * u * u - s * u;
                             g[1] = s * u;
                             return 0.5 * x * x + 0.5 * s * u * u;
                           })
      .with_hessian_vector([](ConstVectorView th, ConstVectorView v, VectorView hv) {
        const double x = th[0], u = th[1] - th[0], s = 1.0 + kK * x * x;
        const double hxx = 1.0 + s + kK * u * u - 4.0 * kK * x * u, hxy = 2.0 * kK * x * u - s, hyy = s;
        hv[0] = hxx * v[0] + hxy * v[1];
        hv[1] = hxy * v[0] + hyy * v[1];
      })
      .with_known({.min_value = 0.0})
      .with_name("passing stiffness");
}

}  // namespace

TEST_CASE("solver auto is named auto and runs through every interface's parser", "[auto]") {
  CHECK(to_string(Solver::automatic) == "auto");
  REQUIRE(solver_from_string("auto") == Solver::automatic);
  CHECK(std::find(solver_names().begin(), solver_names().end(), "auto") != solver_names().end());
  CHECK_FALSE(is_cvode(Solver::automatic));
  CHECK_FALSE(is_fixed_step(Solver::automatic));
}

TEST_CASE(
    "solver auto on the stiff quadratic family: the closed form, a switch to BDF, within 1.5x of the better solver",
    "[auto]") {
  for (const double cond : {1e2, 1e4, 1e6}) {
    INFO("cond = " << cond);
    const Quadratic q = spread_quadratic(cond);
    const Vector theta0 = Vector::Ones(50);
    const double rtol = 1e-6;
    const FlowResult automatic = simulate_flow(q, theta0, options_for(Solver::automatic, cond, rtol));
    const FlowResult bdf = simulate_flow(q, theta0, options_for(Solver::cvode_bdf, cond, rtol));
    REQUIRE(automatic.status == Status::reached_end_time);
    REQUIRE(bdf.status == Status::reached_end_time);
    const Vector exact = q.exact_flow(theta0, cond);
    // Both methods' global error at rtol 1e-6: within 100 rtol of the state's size.
    CHECK((automatic.theta - exact).norm() <= 100 * rtol * theta0.norm());
    CHECK(automatic.stats.num_solver_switches == static_cast<long>(automatic.solver_switches.size()));
    // A hand-over happens inside the run, never at its end (where the next method would run nothing).
    for (const SolverSwitch& s : automatic.solver_switches) CHECK(s.t < cond);
    long best = work(bdf);
    if (cond <= 1e4) {  // dopri5 alone at 1e6 takes 1.9 million evaluations: it is not the better one there
      const FlowResult explicit_only = simulate_flow(q, theta0, options_for(Solver::dopri5, cond, rtol));
      REQUIRE(explicit_only.status == Status::reached_end_time);
      best = std::min(best, work(explicit_only));
    }
    INFO("auto " << work(automatic) << " evaluations (with its Hessian-vector products), the better solver " << best);
    CHECK(static_cast<double>(work(automatic)) <= 1.5 * static_cast<double>(best));
    if (cond >= 1e4) {
      REQUIRE(automatic.solver_switches.size() >= 1);
      CHECK(automatic.solver_switches[0].from == Solver::dopri5);
      CHECK(automatic.solver_switches[0].to == Solver::cvode_bdf);  // p = 50: dense
      CHECK(automatic.solver_switches[0].t > 0.0);
      CHECK(automatic.solver_switches[0].t < cond);
      CHECK_THAT(automatic.message, Catch::Contains("switched solver"));
      CHECK(automatic.stiffness_hint.empty());  // auto acted on it
    } else {
      CHECK(automatic.solver_switches.empty());  // not stiff: dopri5 alone, bit for bit
      const FlowResult explicit_only = simulate_flow(q, theta0, options_for(Solver::dopri5, cond, rtol));
      CHECK(automatic.theta == explicit_only.theta);
    }
  }
}

TEST_CASE("solver auto hands back to dopri5 when the stiffness passes, and follows the flow across both switches",
          "[auto]") {
  const FunctionObjective f = passing_stiffness();
  const Vector theta0 = (Vector(2) << 1.0, 0.0).finished();
  FlowOptions o = options_for(Solver::automatic, 30.0, 1e-6);
  o.save.dense = true;
  o.save.every_steps = 1;
  const FlowResult automatic = simulate_flow(f, theta0, o);
  REQUIRE(automatic.status == Status::reached_end_time);
  REQUIRE(automatic.solver_switches.size() >= 2);
  CHECK(automatic.solver_switches[0].to == Solver::cvode_bdf);
  CHECK(automatic.solver_switches[1].from == Solver::cvode_bdf);
  CHECK(automatic.solver_switches[1].to == Solver::dopri5);
  CHECK(automatic.solver_switches[0].t < automatic.solver_switches[1].t);
  // The stiffness has passed by the hand-back: the rate 1 + K x^2 with x about exp(-t).
  CHECK(automatic.solver_switches[1].t > 2.0);
  const FlowResult explicit_only = simulate_flow(f, theta0, options_for(Solver::dopri5, 30.0, 1e-6));
  REQUIRE(explicit_only.status == Status::reached_end_time);
  CHECK(work(automatic) * 3 < work(explicit_only));
  // Against a tight reference, at the end and along the way (the dense output spans the segments).
  FlowOptions tight = options_for(Solver::cvode_bdf, 30.0, 1e-11);
  tight.atol = 1e-14;
  tight.save.dense = true;
  const FlowResult reference = simulate_flow(f, theta0, tight);
  REQUIRE(reference.status == Status::reached_end_time);
  CHECK((automatic.theta - reference.theta).norm() <= 1e-4 * theta0.norm());
  for (const SolverSwitch& s : automatic.solver_switches) {
    for (const double t : {0.5 * s.t, s.t, std::min(1.5 * s.t, 30.0)}) {
      INFO("t = " << t);
      CHECK((automatic.at(t) - reference.at(t)).norm() <= 1e-4 * theta0.norm());
    }
  }
  // The rows go on across the switches: their times increase, and there is one per accepted step.
  for (std::size_t i = 1; i < automatic.rows.size(); ++i) CHECK(automatic.rows[i].t > automatic.rows[i - 1].t);
  CHECK(static_cast<long>(automatic.rows.size()) == automatic.stats.num_steps + 1);
}

TEST_CASE(
    "solver auto: a terminal event after the switch is located on the flow, and the step budget spans the segments",
    "[auto]") {
  const double cond = 1e4;
  const Quadratic q = spread_quadratic(cond);
  const Vector theta0 = Vector::Ones(50);
  FlowOptions o = options_for(Solver::automatic, cond, 1e-8);
  // The slowest coordinate theta_49 = exp(-t / cond) falls to 0.5 at t = cond ln 2, long after the switch.
  o.events = {Event{"half", [](double, ConstVectorView th, const Row&) { return th[49] - 0.5; }, -1, true}};
  const FlowResult r = simulate_flow(q, theta0, o);
  REQUIRE(r.status == Status::event_stop);
  REQUIRE_FALSE(r.solver_switches.empty());
  CHECK(r.solver_switches[0].t < r.t_final);
  CHECK(r.t_final == Approx(cond * std::log(2.0)).epsilon(1e-5));
  // A budget smaller than the run: max_steps counts the accepted steps of every segment together.
  FlowOptions small = options_for(Solver::automatic, cond, 1e-6);
  const FlowResult whole = simulate_flow(q, theta0, small);
  small.stop.max_steps = whole.stats.num_steps - 5;
  const FlowResult cut = simulate_flow(q, theta0, small);
  CHECK(cut.status == Status::max_steps);
  CHECK(cut.stats.num_steps == whole.stats.num_steps - 5);
}
