// discrete/ at its edges: DescentOptions::validate names the field and the value of each bad setting; the
// step rules refuse what they cannot use (beta estimated as 0 or inf, beta = 0, Polyak without mu and beta) and
// say why; the full report shows each rule's parameters, unknown or estimated constants and violated radii;
// the flow follower refuses a bad leave_tol and reports a flow that stopped short.
#include <gradflow/core/callback_error.hpp>
#include <gradflow/core/function_objective.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/discrete/against_flow.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/problems/quadratic.hpp>
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>

using namespace gradflow;
using gradflow::test::number_after;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// L = x^2 + 10 y^2 (Hessian diag(2, 20)), with no known facts unless given.
FunctionObjective bowl() {
  return FunctionObjective(2,
                           [](ConstVectorView x, VectorView g) {
                             g << 2 * x[0], 20 * x[1];
                             return x[0] * x[0] + 10 * x[1] * x[1];
                           })
      .with_name("bowl");
}

Quadratic small_quadratic() {  // mu = 0.1, beta = 2
  Vector lambda(6);
  lambda << 0.1, 0.3, 0.7, 1.2, 1.6, 2.0;
  return Quadratic(test::spd_matrix(lambda, 501), Random(502).normal_vector(6));
}

DescentOptions fixed(double eta, long iters) {
  DescentOptions o;
  o.lr = eta;
  o.stop.max_steps = iters;
  return o;
}

}  // namespace

TEST_CASE("DescentOptions::validate names the field and the value of each non-finite or out-of-range setting",
          "[discrete]") {
  const auto message_for = [](auto&& change) {
    DescentOptions o;
    change(o);
    const auto error = o.validate();
    return error ? error->message() : std::string("valid");
  };
  CHECK(message_for([](DescentOptions&) {}) == "valid");
  CHECK_THAT(message_for([](DescentOptions& o) { o.lr = kNaN; }), Catch::StartsWith("lr = nan"));
  CHECK_THAT(message_for([](DescentOptions& o) { o.lr = kInf; }), Catch::StartsWith("lr = inf"));
  CHECK_THAT(message_for([](DescentOptions& o) { o.gamma = kInf; }), Catch::StartsWith("gamma = inf"));
  CHECK_THAT(message_for([](DescentOptions& o) { o.mu = 0.0; }),
             Catch::StartsWith("mu = 0: must be a finite number > 0"));
  CHECK_THAT(message_for([](DescentOptions& o) { o.beta = -2.0; }),
             Catch::StartsWith("beta = -2: must be a finite number > 0"));
  CHECK_THAT(message_for([](DescentOptions& o) { o.beta = kNaN; }), Catch::StartsWith("beta = nan"));
  CHECK_THAT(message_for([](DescentOptions& o) { o.ball_radius = 0.0; }),
             Catch::StartsWith("ball_radius = 0: must be a finite number > 0"));
  CHECK_THAT(message_for([](DescentOptions& o) { o.ball_radius = kInf; }), Catch::StartsWith("ball_radius = inf"));
  CHECK_THAT(message_for([](DescentOptions& o) { o.divergence_factor = kInf; }),
             Catch::StartsWith("divergence_factor = inf: must be a finite number > 1"));
  CHECK_THAT(message_for([](DescentOptions& o) { o.divergence_factor = kNaN; }),
             Catch::StartsWith("divergence_factor = nan"));
  CHECK_THAT(message_for([](DescentOptions& o) { o.armijo_b = kNaN; }), Catch::StartsWith("armijo_b = nan"));
  CHECK_THAT(message_for([](DescentOptions& o) { o.save.dense = true; }), Catch::StartsWith("save.dense"));
  CHECK_THAT(message_for([](DescentOptions& o) { o.stop.loss_tol = -1.0; }), Catch::StartsWith("stop.loss_tol"));
  // The run refuses them too, and evaluates nothing.
  DescentOptions o;
  o.beta = -2.0;
  const DescentResult r = descend(small_quadratic(), Vector::Ones(6), o);
  CHECK(r.status == Status::invalid_options);
  CHECK_THAT(r.message, Catch::StartsWith("beta = -2"));
  CHECK(r.stats.num_gradient_evals == 0);
}

TEST_CASE("inverse-smoothness refuses a beta estimated as 0 or inf, and a known beta of 0, saying why", "[discrete]") {
  DescentOptions o;
  o.step = StepRule::inverse_smoothness;
  o.stop.max_steps = 10;
  const auto with_product = [](double value) {
    return bowl().with_hessian_vector(
        [value](ConstVectorView, ConstVectorView, VectorView hv) { hv.setConstant(value); });
  };
  DescentResult r = descend(with_product(0.0), Vector::Ones(2), o);
  CHECK(r.status == Status::invalid_options);
  CHECK_THAT(r.message, Catch::Contains("power-iteration estimate of beta at theta0 is 0") &&
                            Catch::Contains("give a fixed step instead"));
  CHECK(r.iterations == 0);
  CHECK(r.stats.num_gradient_evals == 0);
  CHECK(r.stats.num_hessian_vector_evals == 1);
  r = descend(with_product(kInf), Vector::Ones(2), o);
  CHECK(r.status == Status::invalid_options);
  CHECK_THAT(r.message, Catch::Contains("estimate of beta at theta0 is inf"));
  // A zero quadratic knows beta = 0 exactly: no step 1/beta.
  const Quadratic flat(Matrix::Zero(2, 2));
  r = descend(flat, Vector::Ones(2), o);
  CHECK(r.status == Status::invalid_options);
  CHECK_THAT(r.message, Catch::Contains("beta = 0 (the loss is flat)"));
  CHECK_FALSE(r.step_size);
}

TEST_CASE("A CallbackError thrown while beta is estimated ends the run with callback_error and its text",
          "[discrete]") {
  const FunctionObjective f =
      bowl().with_hessian_vector([](ConstVectorView, ConstVectorView, VectorView) { throw CallbackError("halt now"); });
  DescentOptions o;
  o.step = StepRule::inverse_smoothness;
  const DescentResult r = descend(f, Vector::Ones(2), o);
  CHECK(r.status == Status::callback_error);
  CHECK_THAT(r.message, Catch::Contains("during the estimate of beta") && Catch::EndsWith("halt now"));
  CHECK(r.iterations == 0);
}

TEST_CASE("Polyak without gamma needs both mu and beta, with gamma it runs with that gamma", "[discrete]") {
  const FunctionObjective f = bowl().with_known({.min_value = 0.0});
  DescentOptions o;
  o.step = StepRule::polyak;
  o.stop.max_steps = 20;
  DescentResult r = descend(f, Vector::Ones(2), o);
  CHECK(r.status == Status::invalid_options);
  CHECK_THAT(r.message, Catch::StartsWith("gamma: the default 2 mu / beta needs mu and beta") &&
                            Catch::Contains("'bowl' does not know; give gamma"));
  o.mu = 2.0;  // mu alone is not enough
  r = descend(f, Vector::Ones(2), o);
  CHECK(r.status == Status::invalid_options);
  CHECK_THAT(r.message, Catch::StartsWith("gamma: the default"));
  o.beta = 20.0;  // both: gamma = 2 mu / beta = 0.2
  r = descend(f, Vector::Ones(2), o);
  CHECK(r.succeeded());
  REQUIRE(r.gamma);
  CHECK(*r.gamma == Approx(0.2).epsilon(1e-15));
  o.mu.reset();
  o.beta.reset();
  o.gamma = 0.5;
  r = descend(f, Vector::Ones(2), o);
  CHECK(r.succeeded());
  REQUIRE(r.gamma);
  CHECK(*r.gamma == 0.5);
  CHECK(r.loss_final < r.loss0);
  const std::string full = r.full_report();
  CHECK(number_after(full, ", gamma = ") == 0.5);
  CHECK_THAT(full, Catch::Contains("mu = unknown, beta = unknown"));
  CHECK_THAT(full, Catch::Contains("rate bound      none: "));
}

TEST_CASE("The row-observer overload of descend stops when the observer says so, having seen every row", "[discrete]") {
  const Quadratic q = small_quadratic();
  long seen = 0;
  const RowObserver stop_at_three = [&](const Row& row) {
    CHECK(row.iter == seen);
    ++seen;
    return row.iter == 3;
  };
  const DescentResult r = descend(q, Vector::Ones(6), fixed(0.5, 100), stop_at_three);
  CHECK(r.status == Status::stopped_by_observer);
  CHECK(r.iterations == 3);
  CHECK(seen == 4);
}

TEST_CASE("The full report shows Armijo's parameters, an estimated beta, and a run stopped before any iteration",
          "[discrete]") {
  const Quadratic q = small_quadratic();
  const Vector theta0 = Random(503).normal_vector(6);
  DescentOptions armijo = fixed(1.0, 30);
  armijo.step = StepRule::armijo;
  armijo.armijo_b = 0.5;
  armijo.armijo_c = 0.25;
  DescentResult r = descend(q, theta0, armijo);
  REQUIRE(r.succeeded());
  std::string full = r.full_report();
  CHECK_THAT(full, Catch::Contains("step rule       armijo, eta_bar = 1, b = 0.5, c = 0.25"));
  // beta estimated by the power iteration (the problem's facts hidden): labelled in the constants and the bound.
  const FunctionObjective hidden =
      bowl()
          .with_hessian_vector([](ConstVectorView, ConstVectorView v, VectorView hv) { hv << 2 * v[0], 20 * v[1]; })
          .with_known({.min_value = 0.0});
  DescentOptions inverse = fixed(1.0, 30);
  inverse.step = StepRule::inverse_smoothness;
  inverse.mu = 2.0;
  r = descend(hidden, Vector::Ones(2), inverse);
  REQUIRE(r.succeeded());
  REQUIRE(r.facts.beta_estimated);
  full = r.full_report();
  CHECK(number_after(full, "constants       mu = ") == 2.0);
  CHECK(number_after(full, ", beta = ") == Approx(20.0).epsilon(1e-5));
  CHECK_THAT(full, Catch::Contains(" (estimated)") && Catch::Contains("[estimate]"));
  CHECK(number_after(full, ", eta = ") == Approx(0.05).epsilon(1e-5));
  // An observer that stops at k = 0: the guarantee exists but nothing was checked.
  const Observer stop_now = [](const Row&, ConstVectorView) { return true; };
  r = descend(q, theta0, fixed(0.5, 30), stop_now);
  REQUIRE(r.status == Status::stopped_by_observer);
  REQUIRE(r.guarantee.q);
  CHECK_FALSE(r.bound_holds);
  full = r.full_report();
  CHECK_THAT(full, Catch::Contains("status          stopped_by_observer (" + r.message + ")"));
  CHECK_THAT(full, Catch::Contains("rate bound      not checked: the run made no iteration"));
  CHECK_FALSE(Catch::Contains("radius          path").match(full));
}

TEST_CASE("A mu ten times too large is caught by the radius check too, and the report names the first iteration",
          "[discrete]") {
  // From theta* + 3 v (v the eigenvector of lambda = 0.1) the path is at least 3 long, while with mu claimed 1
  // instead of 0.1 the radius rho0 / (1 - beta eta / 2) = 2 sqrt(2 L0 / mu) is 2 sqrt(0.9) ~ 1.9.
  const Quadratic q = small_quadratic();
  const Vector theta0 = q.theta_star() + 3.0 * q.eigenvectors().col(0);
  DescentOptions o = fixed(0.5, 200);
  o.mu = 1.0;
  const DescentResult r = descend(q, theta0, o);
  REQUIRE(r.radius_holds == false);
  REQUIRE(r.first_radius_violation_iter);
  REQUIRE(r.guarantee.radius);
  CHECK(*r.guarantee.radius == Approx(2.0 * std::sqrt(0.9)).epsilon(1e-10));
  // The first iteration whose path length exceeds the claimed radius, from the rows.
  double path = 0.0;
  long first = -1;
  Vector theta = theta0, grad(6);
  for (long k = 1; k <= 200 && first < 0; ++k) {
    q.loss_and_gradient(theta, grad);
    theta -= 0.5 * grad;
    path += 0.5 * grad.norm();
    if (path > *r.guarantee.radius * (1 + 1e-12)) first = k;
  }
  CHECK(*r.first_radius_violation_iter == first);
  const std::string full = r.full_report();
  CHECK_THAT(full, Catch::Contains("radius          path <= ") &&
                       Catch::Contains(": VIOLATED (first at iteration " + std::to_string(first) + ")"));
  CHECK(number_after(full, "radius          path <= ") == Approx(*r.guarantee.radius).epsilon(1e-5));
}

TEST_CASE("FlowFollower refuses a leave_tol that is not finite and > 0, naming it", "[discrete]") {
  const Quadratic q = small_quadratic();
  for (const double tol : {0.0, -1e-3, kNaN, kInf}) {
    INFO("leave_tol = " << tol);
    CHECK_THROWS_WITH(FlowFollower(q, Vector::Ones(6), tol), Catch::Contains("leave_tol must be finite and > 0"));
  }
}

TEST_CASE("FlowFollower reports a flow that stops short and leaves the later rows NaN", "[discrete]") {
  const Quadratic q = small_quadratic();
  const Vector theta0 = Vector::Ones(6);
  FlowOptions one_step = FlowFollower::accurate();
  one_step.stop.max_steps = 1;  // dopri5 at rtol 1e-10 needs many steps to reach t = 5
  FlowFollower follower(q, theta0, 1e-3, one_step);
  Row row;
  row.iter = 10;
  row.t = 5.0;
  const FlowComparison c = follower.compare(row, theta0, 0.5);
  CHECK(std::isnan(c.distance));
  CHECK(std::isnan(c.flow_loss));
  CHECK_THAT(follower.failure(), Catch::StartsWith("the flow stopped at t = "));
  const double stopped_at = number_after(follower.failure(), "the flow stopped at t = ");
  CHECK(stopped_at > 0.0);
  CHECK(stopped_at < 5.0);
  CHECK(follower.flow_stats().num_steps == 1);
  // Later rows: no more integration, NaN comparisons, the same failure.
  row.iter = 20;
  row.t = 10.0;
  const FlowComparison later = follower.compare(row, theta0, 0.5);
  CHECK(std::isnan(later.relative_distance));
  CHECK(follower.flow_stats().num_steps == 1);
  CHECK_FALSE(follower.left());
}

TEST_CASE("A step to an infinite theta is refused even where the loss and gradient there are finite", "[discrete]") {
  // L = 10 atan(x)^2 is bounded: at x = -inf, L = 10 (pi/2)^2 and grad L = 20 atan(x) / (1 + x^2) = 0 are finite.
  // From x = 1 (grad = 5 pi / 2 / ... = 7.85), eta = 1e308 steps to -inf: the run must stop at x = 1, not "converge".
  const FunctionObjective bounded(1, [](ConstVectorView x, VectorView g) {
    g[0] = 20.0 * std::atan(x[0]) / (1.0 + x[0] * x[0]);
    return 10.0 * std::atan(x[0]) * std::atan(x[0]);
  });
  DescentOptions o;
  o.step = StepRule::fixed;
  o.lr = 1e308;
  o.stop.max_steps = 5;
  const DescentResult r = descend(bounded, Vector::Ones(1), o);
  CHECK(r.status == Status::non_finite_value);
  CHECK(r.iterations == 0);
  REQUIRE(r.theta.size() == 1);
  CHECK(r.theta[0] == 1.0);
  CHECK_THAT(r.message, Catch::Contains("last finite iterate"));
}

TEST_CASE("The divergence level is L_min + divergence_factor (L0 - L_min): a converging run above 0 is not diverged",
          "[discrete]") {
  // L = 100 + x^2 with L_min = 100 known: from x = 1 (L0 - L_min = 1) a step of 1/4 halves x each time.
  const FunctionObjective lifted = FunctionObjective(1, [](ConstVectorView x, VectorView g) {
                                     g[0] = 2.0 * x[0];
                                     return 100.0 + x[0] * x[0];
                                   }).with_known({.min_value = 100.0});
  DescentOptions o;
  o.step = StepRule::fixed;
  o.lr = 0.25;
  o.divergence_factor = 2.0;
  o.stop.loss_tol = 100.0 + 1e-8;
  const DescentResult converging = descend(lifted, Vector::Ones(1), o);
  CHECK(converging.status == Status::tolerance_reached);
  // x -> -2 x (lr = 1.5): L - L_min = 4 > 2 x 1 at the first step, so diverged there, with L = 104.
  o.lr = 1.5;
  const DescentResult diverging = descend(lifted, Vector::Ones(1), o);
  CHECK(diverging.status == Status::diverged);
  CHECK(diverging.iterations == 0);
  CHECK_THAT(diverging.message, Catch::Contains("gave loss 1.040000e+02"));
}

TEST_CASE("Armijo's constants are in the open interval (0, 1): armijo_c = 1 and armijo_b = 1 are refused",
          "[discrete]") {
  DescentOptions o;
  o.step = StepRule::armijo;
  o.armijo_c = 1.0;
  REQUIRE(o.validate());
  CHECK(o.validate()->field == "armijo_c");
  o.armijo_c = 0.5;
  o.armijo_b = 1.0;
  REQUIRE(o.validate());
  CHECK(o.validate()->field == "armijo_b");
  o.armijo_b = 0.999;
  CHECK_FALSE(o.validate());
}
