// cvode-bdf-krylov keeps its accuracy on a stiff flow (issue 26, item 4): on an SPD quadratic with
// p = 50 and eigenvalues log-spaced from 1e-2 to 1e4, to t = 100, both Krylov methods end within 10
// times dense cvode-bdf's maximum error over the recorded rows, for at most twice its gradient
// evaluations. The oracle is the closed form theta(t) = exp(-A t) theta0 (Quadratic::exact_flow).
// docs/theory.md §7.40. With SUNDIALS' default Krylov budget (5 iterations) GMRES ended 550 times and PCG
// 5 times less accurate than dense BDF at rtol 1e-6, for 18 times its gradients (docs/theory.md §1.4,
// core/tolerances.hpp).
#include <gradflow/core/random.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/quadratic.hpp>
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace gradflow;

namespace {

constexpr Eigen::Index kDim = 50;

// A = Q diag(lambda) Q^T, lambda log-spaced from 1e-2 to 1e4 (condition 1e6), Q seeded random orthogonal.
Quadratic stiff_quadratic() {
  Vector lambda(kDim);
  for (Eigen::Index i = 0; i < kDim; ++i)
    lambda[i] = std::pow(10.0, -2.0 + 6.0 * static_cast<double>(i) / static_cast<double>(kDim - 1));
  return Quadratic(test::spd_matrix(lambda, 7));
}

struct Outcome {
  double max_error = 0.0;  // max over the recorded rows of ||theta_row - exp(-A t) theta0||
  long gradient_evals = 0;
  long hessian_vector_evals = 0;
};

Outcome run(const Quadratic& q, const Vector& theta0, Solver solver, KrylovMethod krylov, double rtol) {
  FlowOptions o;
  o.solver = solver;
  o.krylov = krylov;
  o.t_end = 100.0;
  o.rtol = rtol;
  o.atol = 1e-10;
  o.save.states = true;  // a row (and its state) at every accepted step
  const FlowResult r = simulate_flow(q, theta0, o);
  INFO(to_string(solver) << " " << to_string(krylov) << " rtol " << rtol << ": " << r.message);
  REQUIRE(r.status == Status::reached_end_time);
  REQUIRE(r.rows.size() > 2);
  Outcome out;
  for (std::size_t k = 0; k < r.rows.size(); ++k) {
    const Vector exact = q.exact_flow(theta0, r.rows[k].t);
    out.max_error = std::max(out.max_error, (r.states.col(static_cast<Eigen::Index>(k)) - exact).norm());
  }
  out.gradient_evals = r.stats.num_gradient_evals;
  out.hessian_vector_evals = r.stats.num_hessian_vector_evals;
  return out;
}

void check_against_dense(double rtol) {
  const Quadratic q = stiff_quadratic();
  const Vector theta0 = Random(8).normal_vector(kDim);
  const Outcome dense = run(q, theta0, Solver::cvode_bdf, KrylovMethod::gmres, rtol);
  // The dense run itself follows the flow to about rtol (a sanity check of the reference).
  CHECK(dense.max_error <= 10.0 * rtol * theta0.norm());
  for (const KrylovMethod method : {KrylovMethod::gmres, KrylovMethod::pcg}) {
    const Outcome krylov = run(q, theta0, Solver::cvode_bdf_krylov, method, rtol);
    INFO(to_string(method) << " at rtol " << rtol << ": max error " << krylov.max_error << " (dense " << dense.max_error
                           << "), gradient evaluations " << krylov.gradient_evals << " (dense " << dense.gradient_evals
                           << "), Hessian-vector products " << krylov.hessian_vector_evals);
    CHECK(krylov.max_error <= 10.0 * dense.max_error);
    CHECK(krylov.gradient_evals <= 2 * dense.gradient_evals);
    CHECK(krylov.hessian_vector_evals > 0);
  }
}

}  // namespace

TEST_CASE(
    "cvode-bdf-krylov on a stiff quadratic at rtol 1e-6 is within 10x of dense cvode-bdf's error for 2x its gradients",
    "[cvode][krylov]") {
  check_against_dense(1e-6);
}

TEST_CASE(
    "cvode-bdf-krylov on a stiff quadratic at rtol 1e-8 is within 10x of dense cvode-bdf's error for 2x its gradients",
    "[cvode][krylov]") {
  check_against_dense(1e-8);
}
