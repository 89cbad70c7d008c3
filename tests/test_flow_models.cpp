// The flows that model gradient descent (discrete/flow_models.hpp, docs/theory.md §2.10): the modified flow's
// order against closed forms on both sides, with every solver; the sharpness gradient against finite
// differences of the sharpness; the central flow below the edge (the plain flow, bit for bit) and at it
// (the sharpness held at 2 / eta); the edge flow against closed forms on a quadratic and against descent at
// the edge of stability on a network.
#include <gradflow/core/counting_objective.hpp>
#include <gradflow/core/function_objective.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/discrete/against_flow.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/discrete/flow_models.hpp>
#include <gradflow/experiments/held_out.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/problems/rosenbrock.hpp>

#include "test_networks.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace gradflow;

namespace {

// L = 1/2 sum_i a_i theta_i^2 with exact Hessian-vector products.
FunctionObjective diagonal_quadratic(const Vector& a) {
  return FunctionObjective(a.size(),
                           [a](ConstVectorView x, VectorView g) {
                             g = a.cwiseProduct(x);
                             return 0.5 * x.dot(a.cwiseProduct(x));
                           })
      .with_hessian_vector([a](ConstVectorView, ConstVectorView v, VectorView hv) { hv = a.cwiseProduct(v); });
}

Mlp small_network(std::uint64_t seed = 5) { return test::tanh_network(8, 12, 6, seed); }

Vector xavier_start(const Mlp& f) { return test::xavier_start(f, 9); }

FlowOptions tight(Solver solver, double t_end) {
  FlowOptions o;
  o.solver = solver;
  o.t_end = t_end;
  o.rtol = 1e-12;
  o.atol = 1e-14;
  o.save.keep_rows = false;
  return o;
}

// Descent with the fixed step eta for exactly steps iterations (no stopping tolerance), rows not kept.
DescentOptions fixed_steps(double eta, long steps) {
  DescentOptions o;
  o.step = StepRule::fixed;
  o.lr = eta;
  o.stop.max_steps = steps;
  o.stop.loss_tol = 0.0;
  o.stop.grad_tol = 0.0;
  o.save.keep_rows = false;
  return o;
}

Vector descent_iterate(const Objective& f, const Vector& theta0, double eta, long steps) {
  const DescentOptions o = fixed_steps(eta, steps);
  const DescentResult r = descend(f, theta0, o);
  REQUIRE(r.iterations == steps);
  return r.theta;
}

}  // namespace

TEST_CASE("flow models: names round-trip and the plain model is the objective itself", "[flow_models]") {
  for (const std::string& name : flow_model_names()) {
    const auto m = flow_model_from_string(name);
    REQUIRE(m);
    CHECK(to_string(*m) == name);
  }
  CHECK_FALSE(flow_model_from_string("rod"));
  const FunctionObjective q = diagonal_quadratic(Vector::LinSpaced(3, 1.0, 3.0));
  CHECK(flow_model_objective(q, FlowModel::plain, 0.1) == nullptr);
  CHECK(flow_model_objective(q, FlowModel::modified, 0.1)->field_is_gradient());
  CHECK_FALSE(flow_model_objective(q, FlowModel::central, 0.1)->field_is_gradient());
  CHECK_THROWS_AS(CentralFlow(q, 0.0), std::invalid_argument);
  // Without exact Hessian-vector products the sharpness's gradient is not available.
  const FunctionObjective no_hvp(2, [](ConstVectorView x, VectorView g) {
    g = x;
    return 0.5 * x.squaredNorm();
  });
  CHECK_THROWS_AS(CentralFlow(no_hvp, 0.1), std::invalid_argument);
  CHECK_THROWS_AS(EdgeFlow(no_hvp, 0.1), std::invalid_argument);
  CHECK_THROWS_AS(EdgeFlow(q, -1.0), std::invalid_argument);
  CHECK_FALSE(flow_model_objective(q, FlowModel::edge, 0.1)->field_is_gradient());
  CHECK(flow_model_objective(q, FlowModel::edge, 0.1)->dimension() == 7);
  CHECK_THROWS_AS(edge_of_stability_flow(q, FlowModel::modified, 0.1), std::invalid_argument);
}

TEST_CASE(
    "the modified flow: descent's distance at t = 1 falls like eta^2 (plain flow: eta), closed forms on both "
    "sides, every solver",
    "[flow_models]") {
  // L = 1/2 sum a_i theta_i^2: descent theta_k = (1 - eta a)^k theta0; the plain flow exp(-a t) theta0; the
  // modified flow exp(-(a + (eta/2) a^2) t) theta0 (docs/theory.md §2.9).
  const Vector a = Vector::LinSpaced(4, 0.5, 3.0);
  const Vector theta0 = Vector::Ones(4);
  const FunctionObjective q = diagonal_quadratic(a);
  const double t = 1.0;
  const std::vector<double> etas{0.04, 0.02, 0.01, 0.005};
  std::vector<double> plain_error, modified_error;
  for (const double eta : etas) {
    const long k = std::lround(t / eta);
    const Vector descent =
        (Vector::Ones(4) - eta * a).array().pow(static_cast<double>(k)).matrix().cwiseProduct(theta0);
    CHECK((descent_iterate(q, theta0, eta, k) - descent).norm() <= 1e-13);
    const Vector plain = (-a * t).array().exp().matrix().cwiseProduct(theta0);
    const Vector modified = (-(a + 0.5 * eta * a.cwiseProduct(a)) * t).array().exp().matrix().cwiseProduct(theta0);
    plain_error.push_back((descent - plain).norm());
    modified_error.push_back((descent - modified).norm());
    // gradflow's modified flow, by every kind of solver, against its closed form.
    const auto model = flow_model_objective(q, FlowModel::modified, eta);
    for (const Solver solver : {Solver::dopri5, Solver::rk4, Solver::cvode_bdf, Solver::cvode_bdf_krylov}) {
      FlowOptions o = tight(solver, t);
      if (solver == Solver::rk4) o.dt = 1e-3;
      const FlowResult r = simulate_flow(*model, theta0, o);
      INFO(to_string(solver) << " at eta " << eta);
      REQUIRE(r.status == Status::reached_end_time);
      CHECK((r.theta - modified).norm() <= (solver == Solver::dopri5 ? 1e-10 : 1e-7));
    }
  }
  const PowerLaw plain = fit_power_law(etas, plain_error);
  const PowerLaw modified = fit_power_law(etas, modified_error);
  CHECK(plain.exponent == Approx(1.0).margin(0.1));
  CHECK(modified.exponent == Approx(2.0).margin(0.1));
}

TEST_CASE("the modified flow on the network: descent follows it to O(eta^2), the plain flow to O(eta)",
          "[flow_models]") {
  const Mlp f = small_network();
  const Vector theta0 = xavier_start(f);
  const double t = 0.4;
  const std::vector<double> etas{0.008, 0.004, 0.002, 0.001};
  std::vector<double> plain_error, modified_error;
  const FlowResult plain = simulate_flow(f, theta0, tight(Solver::dopri5, t));
  REQUIRE(plain.status == Status::reached_end_time);
  for (const double eta : etas) {
    const Vector descent = descent_iterate(f, theta0, eta, std::lround(t / eta));
    const auto model = flow_model_objective(f, FlowModel::modified, eta);
    const FlowResult modified = simulate_flow(*model, theta0, tight(Solver::dopri5, t));
    REQUIRE(modified.status == Status::reached_end_time);
    plain_error.push_back((descent - plain.theta).norm());
    modified_error.push_back((descent - modified.theta).norm());
  }
  INFO("plain " << plain_error[0] << " .. " << plain_error[3] << ", modified " << modified_error[0] << " .. "
                << modified_error[3]);
  CHECK(fit_power_law(etas, plain_error).exponent == Approx(1.0).margin(0.1));
  CHECK(fit_power_law(etas, modified_error).exponent == Approx(2.0).margin(0.1));
}

TEST_CASE("grad S = D^3 L[u, u, .] matches central differences of the sharpness", "[flow_models]") {
  const Mlp f = small_network(7);
  const Vector theta = xavier_start(f);
  const Rosenbrock r(6);
  Random random(3);
  const Vector r0 = random.normal_vector(6);
  for (const auto& [objective, point] : {std::pair<const Objective*, Vector>{&f, theta}, {&r, r0}}) {
    INFO(objective->name());
    const TopEigenpair top = top_eigenpair(*objective, point);
    REQUIRE(top.converged);
    // u is the top eigenvector: H u = S u.
    Vector hu(point.size());
    objective->hessian_vector(point, top.u, hu);
    CHECK((hu - top.value * top.u).norm() <= 1e-7 * std::abs(top.value));
    const Vector grad_s = sharpness_gradient(*objective, point, top.u);
    for (int trial = 0; trial < 3; ++trial) {
      Vector v = random.normal_vector(point.size());
      v /= v.norm();
      const double h = 1e-4;
      const double up = top_eigenpair(*objective, point + h * v, top.u).value;
      const double down = top_eigenpair(*objective, point - h * v, top.u).value;
      const double difference = (up - down) / (2.0 * h);
      CHECK(grad_s.dot(v) == Approx(difference).margin(1e-5 * std::max(1.0, grad_s.norm())));
    }
  }
}

TEST_CASE("the central flow: below the edge it is the plain flow bit for bit, and its products are counted",
          "[flow_models]") {
  const FunctionObjective q = diagonal_quadratic(Vector::LinSpaced(4, 0.5, 3.0));  // S = 3 < 2 / 0.1
  const Vector theta0 = Vector::Ones(4);
  const CountingObjective counted(q);
  const CentralFlow central(counted, 0.1);
  const FlowResult plain = simulate_flow(q, theta0, tight(Solver::dopri5, 2.0));
  const FlowResult model = simulate_flow(central, theta0, tight(Solver::dopri5, 2.0));
  CHECK(model.theta == plain.theta);
  CHECK(model.stats.num_gradient_evals == plain.stats.num_gradient_evals);
  CHECK(counted.counts().num_hessian_vector_evals > 0);  // Lanczos, through the wrapped objective
  CHECK(central.state(theta0).sigma2 == 0.0);
}

namespace {

// L(x, y) = 1/2 e^y x^2 - y: the plain flow raises y (for e^y x^2 < 2), and with it the sharpness (about
// e^y), past 2 / eta (exact Hessian-vector products).
FunctionObjective sharpening_toy() {
  return FunctionObjective(2,
                           [](ConstVectorView z, VectorView g) {
                             const double e = std::exp(z[1]);
                             g[0] = e * z[0];
                             g[1] = 0.5 * e * z[0] * z[0] - 1.0;
                             return 0.5 * e * z[0] * z[0] - z[1];
                           })
      .with_hessian_vector([](ConstVectorView z, ConstVectorView v, VectorView hv) {
        const double e = std::exp(z[1]);
        hv[0] = e * v[0] + e * z[0] * v[1];
        hv[1] = e * z[0] * v[0] + 0.5 * e * z[0] * z[0] * v[1];
      });
}

}  // namespace

TEST_CASE(
    "the edge flow on a quadratic: the centre is the modified flow and the amplitude grows like descent's "
    "oscillation, closed forms, every solver",
    "[flow_models]") {
  // L = 1/2 sum a_i theta_i^2 with a_1 = 5 the top eigenvalue: u stays e_1 and the curvature across the
  // oscillation is a_1 exactly, so a(t) = a0 (eta a_1 - 1)^(t / eta), which is |1 - eta a_1|^k, descent's
  // factor along e_1, at t = k eta; and g+ + g- = 2 H c, so the centre is the modified flow
  // exp(-(a + (eta/2) a^2) t) c0 (docs/theory.md §2.10).
  Vector a(3);
  a << 5.0, 2.0, 1.0;
  const FunctionObjective q = diagonal_quadratic(a);
  Vector theta0(3);
  theta0 << 0.3, 1.0, -1.0;
  for (const double eta : {0.3, 0.5}) {  // eta a_1 = 1.5 (below the edge), 2.5 (past it)
    const EdgeFlow edge(q, eta);
    const Vector z0 = edge.start(theta0);
    REQUIRE(z0.size() == 7);
    CHECK((z0.head(3) - theta0).norm() == 0.0);
    CHECK(std::abs(std::abs(z0[3]) - 1.0) <= 1e-9);  // u0 = +-e_1
    CHECK(z0[6] == Approx(0.5 * eta * 5.0 * 0.3).epsilon(1e-9));
    const double t = 4.0 * eta;
    const Vector centre = (-(a + 0.5 * eta * a.cwiseProduct(a)) * t).array().exp().matrix().cwiseProduct(theta0);
    const double amplitude = z0[6] * std::pow(eta * 5.0 - 1.0, t / eta);
    // Descent's component along e_1 after four steps: its size changes by the same factor.
    const Vector descent = descent_iterate(q, theta0, eta, 4);
    CHECK(std::abs(descent[0]) / std::abs(theta0[0]) == Approx(amplitude / z0[6]).epsilon(1e-12));
    for (const std::string& name : solver_names()) {
      const Solver solver = *solver_from_string(name);
      FlowOptions o = tight(solver, t);
      if (solver == Solver::rk4) o.dt = 1e-4;
      if (solver == Solver::euler) o.dt = 1e-5;
      o.stop.max_steps = 1000000;
      const FlowResult r = simulate_flow(edge, z0, o);
      INFO(name << " at eta " << eta);
      REQUIRE(r.status == Status::reached_end_time);
      const double tol = solver == Solver::dopri5 ? 1e-9 : solver == Solver::euler ? 2e-3 : 1e-6;
      CHECK((r.theta.head(3) - centre).norm() <= tol);
      CHECK(r.theta[6] == Approx(amplitude).epsilon(tol));
      const ModelState state = edge.state(r.theta);
      CHECK(state.sharpness == Approx(5.0).epsilon(1e-9));
      CHECK(state.sigma2 == Approx(amplitude * amplitude).epsilon(2 * tol));
      // The predicted average loss of the two iterates c +- a u is L(c) + a^2 a_1 / 2 on a quadratic.
      CHECK(state.average_loss == Approx(state.loss + 0.5 * 5.0 * state.sigma2).epsilon(1e-9));
    }
  }
}

TEST_CASE("the edge flow turns its direction to the top eigenvector (Rayleigh-quotient dynamics)", "[flow_models]") {
  Vector a(3);
  a << 4.0, 1.0, 0.5;
  const FunctionObjective q = diagonal_quadratic(a);
  const EdgeFlow edge(q, 0.1);
  Vector z = Vector::Zero(7);
  z.head(3) << 0.0, 0.0, 0.0;  // at the minimum: the centre stays
  z.segment(3, 3) << 0.2, 1.0, 1.0;
  z[6] = 0.0;
  const FlowResult r = simulate_flow(edge, z, tight(Solver::dopri5, 8.0));
  REQUIRE(r.status == Status::reached_end_time);
  const Vector u = r.theta.segment(3, 3).normalized();
  CHECK(std::abs(u[0]) == Approx(1.0).margin(1e-6));  // (lambda_1 - lambda_2) t = 24: converged
  CHECK(r.theta.head(3).norm() == 0.0);
  CHECK(edge.state(r.theta).sharpness == Approx(4.0).epsilon(1e-9));
}

TEST_CASE("the edge flow follows descent at the edge of stability where the plain flow does not", "[flow_models]") {
  // A network with n > d (synthetic 32 x 12, width 16, xavier_normal: gradflow's --synthetic 32,12 with
  // seeds 0) sharpens until descent at eta = 0.045 reaches the edge, catapults, and holds eta x S at 2.
  // The oracle is descent itself, every step a row: over the second half, the edge flow's sharpness
  // against descent's and its predicted time-averaged loss against descent's loss averaged over three
  // rows (1/4, 1/2, 1/4), compared with the plain flow's loss (docs/theory.md §2.10, §7.49).
  const Mlp f = test::tanh_network(32, 12, 16, 0);
  const Vector theta0 = test::xavier_start(f, 0);
  const double eta = 0.045;
  const long steps = 600;
  FlowFollower follower(f, theta0, 1e-3);
  follower.add_edge_of_stability_flow(FlowModel::edge);
  std::vector<double> loss, sharpness, predicted_loss, predicted_sharpness, plain_loss;
  DescentOptions d = fixed_steps(eta, steps);
  d.save.every_steps = 1;
  d.observe.sharpness = true;
  d.save.sink = [&](const Row& row, ConstVectorView theta) {
    const FlowComparison c = follower.compare(row, theta, eta);
    loss.push_back(row.loss);
    sharpness.push_back(row.observed.sharpness);
    predicted_loss.push_back(c.model.average_loss);
    predicted_sharpness.push_back(c.model.sharpness);
    plain_loss.push_back(c.flow_loss);
  };
  const DescentResult r = descend(f, theta0, d);
  REQUIRE(r.iterations == steps);
  REQUIRE(follower.failure().empty());
  REQUIRE(follower.rows_at_edge() > steps / 2);  // descent is at the edge for most of the run
  std::vector<double> edge_loss, edge_sharpness, plain;
  for (long k = steps / 2; k < steps; ++k) {
    const double average = 0.25 * loss[k - 1] + 0.5 * loss[k] + 0.25 * loss[k + 1];
    const double average_sharpness = 0.25 * sharpness[k - 1] + 0.5 * sharpness[k] + 0.25 * sharpness[k + 1];
    edge_loss.push_back(std::abs(predicted_loss[k] - average) / average);
    edge_sharpness.push_back(std::abs(predicted_sharpness[k] - average_sharpness) / average_sharpness);
    plain.push_back(std::abs(plain_loss[k] - average) / average);
  }
  const auto median = [](std::vector<double> x) {
    std::nth_element(x.begin(), x.begin() + x.size() / 2, x.end());
    return x[x.size() / 2];
  };
  INFO("median relative deviation over the second half: edge flow's average loss "
       << median(edge_loss) << ", sharpness " << median(edge_sharpness) << "; plain flow's loss " << median(plain));
  CHECK(median(plain) > 0.9);
  CHECK(median(edge_loss) < 0.2);
  CHECK(median(edge_sharpness) < 0.005);
  // Its work: two gradients and two Hessian-vector products of L per evaluation of its field.
  CHECK(follower.edge_of_stability_stats().num_hessian_vector_evals > 0);
  CHECK(follower.edge_of_stability_stats().num_gradient_evals > 0);
}

TEST_CASE("the central flow holds the sharpness at 2 / eta where the plain flow sharpens past it", "[flow_models]") {
  // The toy: the central flow stops at S = 2 / eta and adds sigma^2 > 0.
  const FunctionObjective toy = sharpening_toy();
  const double eta = 0.5;  // the edge at S = 4
  Vector theta0(2);
  theta0 << 0.2, std::log(3.0);
  const CentralFlow central(toy, eta);
  FlowOptions o = tight(Solver::dopri5, 3.0);
  o.rtol = 1e-9;
  o.atol = 1e-12;
  const FlowResult plain = simulate_flow(toy, theta0, o);
  REQUIRE(plain.status == Status::reached_end_time);
  CHECK(top_eigenpair(toy, plain.theta).value > 4.5);  // the plain flow goes past the edge
  // The sharpness at every accepted step of the central flow.
  std::vector<std::pair<double, double>> sharpness;
  o.save.every_steps = 1;
  o.save.sink = [&](const Row& row, ConstVectorView theta) {
    sharpness.emplace_back(row.t, top_eigenpair(toy, theta).value);
  };
  const FlowResult model = simulate_flow(central, theta0, o);
  REQUIRE(model.status == Status::reached_end_time);
  const ModelState end = central.state(model.theta);
  CHECK(end.sharpness == Approx(2.0 / eta).epsilon(1e-6));
  CHECK(end.sigma2 > 0.0);
  CHECK(end.average_loss == Approx(end.loss + end.sigma2 / eta).epsilon(1e-6));
  // It rises to the edge as the plain flow does, and once there it stays: never above 2 / eta.
  REQUIRE(sharpness.size() > 10);
  CHECK(sharpness.front().second == Approx(3.0).epsilon(0.05));
  double highest = 0.0;
  for (const auto& [t, s] : sharpness) highest = std::max(highest, s);
  CHECK(highest <= 4.0 * (1.0 + 1e-6));
  long at_edge = 0;
  for (const auto& [t, s] : sharpness) at_edge += std::abs(s - 4.0) <= 4e-6 ? 1 : 0;
  CHECK(at_edge >= static_cast<long>(sharpness.size() / 4));
}
