// The CVODE back end: each linear-solver path (exact dense Jacobian, difference-quotient Jacobian,
// matrix-free PCG and GMRES with Hessian-vector products, Adams fixed point) is used and accurate,
// its counters are filled, and CVODE's failures become statuses that name the flag.
#include <gradflow/core/random.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/karimi.hpp>
#include <gradflow/problems/quadratic.hpp>
#include "flow_test_problems.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace gradflow;
using gradflow::test::relative_error;

namespace {

Quadratic stiff_quadratic() { return Quadratic::generated(30, 1e4, 3); }

FlowOptions cvode(Solver solver) {
  FlowOptions o;
  o.solver = solver;
  o.t_end = 2000.0;
  o.rtol = 1e-9;
  o.atol = 1e-12;
  o.save.times = {o.t_end};
  return o;
}

// A problem whose gradient throws once the flow has moved far enough.
class ThrowsLater final : public Objective {
 public:
  std::string name() const override { return "throws-later"; }
  Eigen::Index dimension() const override { return 2; }
  double loss(const ConstVectorView& x) const override { return 0.5 * x.squaredNorm(); }
  double loss_and_gradient(const ConstVectorView& x, VectorView g) const override {
    if (x.norm() < 0.3) throw std::runtime_error("deliberate failure");
    g = x;
    return 0.5 * x.squaredNorm();
  }
};

}  // namespace

TEST_CASE("cvode-bdf with the exact Hessian as Jacobian follows a stiff quadratic flow", "[cvode]") {
  const Quadratic q = stiff_quadratic();
  const Vector theta0 = Random(61).normal_vector(30);
  const FlowResult r = simulate_flow(q, theta0, cvode(Solver::cvode_bdf));
  REQUIRE(r.status == Status::reached_end_time);
  CHECK(relative_error(r.theta, q.exact_flow(theta0, 2000.0)) < 1e-7);
  // The Hessian is constant: evaluated (and decomposed) once for the whole run.
  CHECK(r.stats.num_jacobian_evals == 1);
  CHECK(r.stats.num_nonlinear_iters > 0);
  CHECK(r.stats.num_hessian_vector_evals == 0);
  CHECK(r.bound_holds == true);
}

TEST_CASE("cvode-bdf with a varying exact Hessian refreshes it and agrees with a tight dopri5 run", "[cvode]") {
  const Karimi f(6);
  const Vector theta0 = 2.0 * Random(66).normal_vector(6);
  FlowOptions o = cvode(Solver::cvode_bdf);
  o.t_end = 30.0;
  o.save.times = {30.0};
  const FlowResult r = simulate_flow(f, theta0, o);
  REQUIRE(r.status == Status::reached_end_time);
  CHECK(r.stats.num_jacobian_evals > 1);
  o.solver = Solver::dopri5;
  o.rtol = 1e-12;
  o.atol = 1e-14;
  const FlowResult reference = simulate_flow(f, theta0, o);
  CHECK((r.theta - reference.theta).norm() <= 1e-6 * theta0.norm());
  CHECK(r.bound_holds == true);
}

TEST_CASE("cvode-bdf without a dense Hessian uses CVODE's difference-quotient Jacobian", "[cvode]") {
  const Quadratic q = stiff_quadratic();
  const test::HiddenHessian hidden(q, true);
  const Vector theta0 = Random(62).normal_vector(30);
  const FlowResult r = simulate_flow(hidden, theta0, cvode(Solver::cvode_bdf));
  REQUIRE(r.status == Status::reached_end_time);
  CHECK(relative_error(r.theta, q.exact_flow(theta0, 2000.0)) < 1e-7);
  CHECK(r.stats.num_jacobian_evals > 0);
  // Each difference-quotient Jacobian costs p = 30 gradient evaluations, on top of one per step.
  CHECK(r.stats.num_gradient_evals >= 30 * r.stats.num_jacobian_evals + r.stats.num_steps);
}

TEST_CASE("cvode-bdf-krylov uses Hessian-vector products with PCG and with GMRES", "[cvode]") {
  const Quadratic q = stiff_quadratic();
  const Vector theta0 = Random(63).normal_vector(30);
  for (const KrylovMethod method : {KrylovMethod::pcg, KrylovMethod::gmres}) {
    FlowOptions o = cvode(Solver::cvode_bdf_krylov);
    o.krylov = method;
    const FlowResult r = simulate_flow(q, theta0, o);
    INFO(to_string(method) << ": " << r.message);
    REQUIRE(r.status == Status::reached_end_time);
    CHECK(relative_error(r.theta, q.exact_flow(theta0, 2000.0)) < 1e-6);
    CHECK(r.stats.num_hessian_vector_evals > 0);
    CHECK(r.stats.num_linear_iters > 0);
    CHECK(r.stats.num_jacobian_evals == 0);
  }
}

TEST_CASE("cvode-bdf-krylov on a problem without an exact product falls back to differences of gradients", "[cvode]") {
  const Quadratic q = stiff_quadratic();
  const test::HiddenHessian hidden(q, false);
  const Vector theta0 = Random(64).normal_vector(30);
  const FlowResult r = simulate_flow(hidden, theta0, cvode(Solver::cvode_bdf_krylov));
  REQUIRE(r.status == Status::reached_end_time);
  CHECK(relative_error(r.theta, q.exact_flow(theta0, 2000.0)) < 1e-5);
  CHECK(r.stats.num_hessian_vector_evals > 0);
}

TEST_CASE("cvode-adams runs fixed-point iterations on a non-stiff flow", "[cvode]") {
  const Quadratic q = Quadratic::generated(10, 10.0, 4);
  const Vector theta0 = Random(65).normal_vector(10);
  FlowOptions o = cvode(Solver::cvode_adams);
  o.t_end = 20.0;
  o.save.times = {20.0};
  const FlowResult r = simulate_flow(q, theta0, o);
  REQUIRE(r.status == Status::reached_end_time);
  CHECK(relative_error(r.theta, q.exact_flow(theta0, 20.0)) < 1e-7);
  CHECK(r.stats.num_nonlinear_iters > 0);
  CHECK(r.stats.num_linear_iters == 0);
}

TEST_CASE("An exception in a CVODE callback becomes backend_error naming the flag with the last good state",
          "[cvode]") {
  const ThrowsLater f;
  Vector theta0(2);
  theta0 << 0.6, 0.8;  // norm 1, reaches norm 0.3 at t = ln(1/0.3)
  for (const Solver solver : {Solver::cvode_bdf, Solver::cvode_bdf_krylov, Solver::cvode_adams}) {
    FlowOptions o;
    o.solver = solver;
    o.t_end = 5.0;
    const FlowResult r = simulate_flow(f, theta0, o);
    INFO(r.message);
    CHECK(r.status == Status::backend_error);
    CHECK_THAT(r.message, Catch::Contains("CV_") && Catch::Contains("deliberate failure"));
    CHECK(r.theta.norm() >= 0.3);
    CHECK(r.t_final <= std::log(1 / 0.3) + 1e-6);  // the numerical path, to its tolerance
  }
}

TEST_CASE("The issue's run: quadratic p = 200 cond 1e4 cvode-bdf to t = 5000 succeeds under the bound", "[cvode]") {
  const Quadratic q = Quadratic::generated(200, 1e4, 0);
  FlowOptions o;
  o.solver = Solver::cvode_bdf;
  o.t_end = 5000.0;
  const Vector theta0 = Random(derive_seed(0, 1)).normal_vector(200);
  const FlowResult r = simulate_flow(q, theta0, o);
  REQUIRE(r.status == Status::reached_end_time);
  CHECK(r.bound_holds == true);
  CHECK(relative_error(r.theta, q.exact_flow(theta0, 5000.0)) < 1e-5);
}
