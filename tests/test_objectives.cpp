// core/: objectives without subclassing (FunctionObjective) and squared losses as a concept
// (ResidualObjective), with the certificate a user's squared loss gets (docs/theory.md §4.4; oracle
// §7.34).
#include <gradflow/core/callback_error.hpp>
#include <gradflow/core/function_objective.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/core/residual_objective.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/least_squares.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/problems/quadratic.hpp>
#include <gradflow/theory/certificate.hpp>
#include "flow_test_problems.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

using namespace gradflow;
using gradflow::test::relative_error;

namespace {

// A Powell subclass with an exact Hessian-vector product, and the same as a FunctionObjective.
Matrix powell_hessian(const Vector& x) {
  const double c = x[1] - 2 * x[2], d = x[0] - x[3];
  Matrix h = Matrix::Zero(4, 4);
  // 1/2 (x1 + 10 x2)^2 and 5/2 (x3 - x4)^2
  h(0, 0) += 1;
  h(0, 1) += 10;
  h(1, 0) += 10;
  h(1, 1) += 100;
  h(2, 2) += 5;
  h(2, 3) -= 5;
  h(3, 2) -= 5;
  h(3, 3) += 5;
  // 1/2 c^4: 6 c^2 (e2 - 2 e3)(e2 - 2 e3)^T; 5 d^4: 60 d^2 (e1 - e4)(e1 - e4)^T
  Vector u = Vector::Zero(4), w = Vector::Zero(4);
  u << 0, 1, -2, 0;
  w << 1, 0, 0, -1;
  h += 6 * c * c * u * u.transpose() + 60 * d * d * w * w.transpose();
  return h;
}

class PowellWithHessian final : public Objective {
 public:
  std::string name() const override { return "powell-singular"; }
  Eigen::Index dimension() const override { return 4; }
  double loss(const ConstVectorView& x) const override {
    Vector g(4);
    return test::powell_loss_and_gradient(x, g);
  }
  double loss_and_gradient(const ConstVectorView& x, VectorView g) const override {
    return test::powell_loss_and_gradient(x, g);
  }
  void hessian_vector(const ConstVectorView& x, const ConstVectorView& v, VectorView hv) const override {
    hv = powell_hessian(x) * v;
  }
  bool has_exact_hessian_vector() const override { return true; }
  KnownFacts known() const override {
    KnownFacts facts;
    facts.min_value = 0.0;
    return facts;
  }
};

LeastSquares test_least_squares() {
  Random random(21);
  return LeastSquares(random.normal_matrix(5, 9), random.normal_vector(5));
}

// The least-squares loss written by a user: residuals X theta - y and the dense Jacobian X, with the
// Lipschitz bound 0 (J is constant).
class UserLeastSquares : public ResidualObjective {
 public:
  UserLeastSquares(Matrix x, Vector y, bool with_bound) : x_(std::move(x)), y_(std::move(y)), with_bound_(with_bound) {}
  std::string name() const override { return "user-least-squares"; }
  Eigen::Index dimension() const override { return x_.cols(); }
  Eigen::Index num_residuals() const override { return x_.rows(); }
  void residuals(const ConstVectorView& theta, VectorView r) const override { r = x_ * theta - y_; }
  void jacobian(const ConstVectorView&, MatrixView j) const override { j = x_; }
  std::optional<double> jacobian_lipschitz(const ConstVectorView&, double) const override {
    if (!with_bound_) return std::nullopt;
    return 0.0;
  }

 private:
  Matrix x_;
  Vector y_;
  bool with_bound_;
};

// The same, with products only (no dense Jacobian).
class UserLeastSquaresProducts final : public ResidualObjective {
 public:
  UserLeastSquaresProducts(Matrix x, Vector y) : x_(std::move(x)), y_(std::move(y)) {}
  std::string name() const override { return "user-least-squares-products"; }
  Eigen::Index dimension() const override { return x_.cols(); }
  Eigen::Index num_residuals() const override { return x_.rows(); }
  void residuals(const ConstVectorView& theta, VectorView r) const override { r = x_ * theta - y_; }
  void jv(const ConstVectorView&, const ConstVectorView& v, VectorView out) const override { out = x_ * v; }
  void jtv(const ConstVectorView&, const ConstVectorView& w, VectorView out) const override {
    out = x_.transpose() * w;
  }
  std::optional<double> jacobian_lipschitz(const ConstVectorView&, double) const override { return 0.0; }

 private:
  Matrix x_;
  Vector y_;
};

// Rosenbrock's function as residuals r = (10 (x2 - x1^2), 1 - x1): a nonlinear squared loss whose
// Hessian J^T J + r_1 grad^2 r_1 is known in closed form.
class RosenbrockResiduals final : public ResidualObjective {
 public:
  std::string name() const override { return "rosenbrock-residuals"; }
  Eigen::Index dimension() const override { return 2; }
  Eigen::Index num_residuals() const override { return 2; }
  void residuals(const ConstVectorView& x, VectorView r) const override { r << 10 * (x[1] - x[0] * x[0]), 1 - x[0]; }
  void jacobian(const ConstVectorView& x, MatrixView j) const override { j << -20 * x[0], 10, -1, 0; }
};

Matrix rosenbrock_hessian(const Vector& x) {
  Matrix j(2, 2);
  j << -20 * x[0], 10, -1, 0;
  Matrix h = j.transpose() * j;
  h(0, 0) += 10 * (x[1] - x[0] * x[0]) * -20;  // r_1 grad^2 r_1, grad^2 r_1 = [[-20, 0], [0, 0]]
  return h;
}

class NoJacobian final : public ResidualObjective {
 public:
  std::string name() const override { return "no-jacobian"; }
  Eigen::Index dimension() const override { return 2; }
  Eigen::Index num_residuals() const override { return 1; }
  void residuals(const ConstVectorView& x, VectorView r) const override { r[0] = x.sum(); }
};

void check_same_certificate(const Certificate& a, const Certificate& b) {
  CHECK(a.applies == b.applies);
  CHECK(a.loss0 == b.loss0);
  CHECK(a.residual_norm == b.residual_norm);
  CHECK(a.sigma0 == b.sigma0);
  CHECK(a.jacobian_norm == b.jacobian_norm);
  CHECK(a.holds == b.holds);
  CHECK(a.mu == b.mu);
  CHECK(a.travel == b.travel);
  CHECK(a.rate == b.rate);
  CHECK(a.radius_low == b.radius_low);
  CHECK(a.descent_holds == b.descent_holds);
  CHECK(a.beta == b.beta);
  CHECK(a.step == b.step);
  CHECK(a.descent_q == b.descent_q);
  CHECK(a.descent_travel == b.descent_travel);
}

}  // namespace

TEST_CASE(
    "FunctionObjective gives the same bits as the equivalent subclass, in the flow and in descent (docs/theory.md "
    "§7.34)",
    "[objectives]") {
  const test::PowellSingular subclass;
  const FunctionObjective function = test::powell_function();
  CHECK(function.name() == "powell-singular");
  CHECK(function.dimension() == 4);
  const Vector x0 = test::powell_start();
  for (const Solver solver :
       {Solver::dopri5, Solver::fehlberg78, Solver::rk4, Solver::cvode_bdf, Solver::cvode_adams}) {
    FlowOptions o;
    o.solver = solver;
    o.t_end = 20.0;
    const FlowResult a = simulate_flow(subclass, x0, o);
    const FlowResult b = simulate_flow(function, x0, o);
    INFO(to_string(solver));
    REQUIRE(a.status == Status::reached_end_time);
    CHECK(a.theta == b.theta);
    CHECK(a.rows.size() == b.rows.size());
    CHECK(a.stats.num_gradient_evals == b.stats.num_gradient_evals);
    CHECK(a.bound_holds == b.bound_holds);
  }
  for (const StepRule rule : {StepRule::fixed, StepRule::armijo}) {
    DescentOptions o;
    o.step = rule;
    o.lr = 0.01;
    o.stop.max_steps = 500;
    const DescentResult a = descend(subclass, x0, o);
    const DescentResult b = descend(function, x0, o);
    CHECK(a.theta == b.theta);
    CHECK(a.stats.num_loss_evals == b.stats.num_loss_evals);
  }
  // With an exact Hessian-vector product: the Krylov BDF method gives the same bits too.
  const PowellWithHessian with_hvp;
  const FunctionObjective function_hvp = test::powell_function().with_hessian_vector(
      [](ConstVectorView x, ConstVectorView v, VectorView hv) { hv = powell_hessian(x) * v; });
  CHECK(function_hvp.has_exact_hessian_vector());
  CHECK_FALSE(function.has_exact_hessian_vector());
  FlowOptions krylov;
  krylov.solver = Solver::cvode_bdf_krylov;
  krylov.t_end = 20.0;
  const FlowResult a = simulate_flow(with_hvp, x0, krylov);
  const FlowResult b = simulate_flow(function_hvp, x0, krylov);
  REQUIRE(a.status == Status::reached_end_time);
  CHECK(a.theta == b.theta);
  CHECK(a.stats.num_hessian_vector_evals == b.stats.num_hessian_vector_evals);
  CHECK(b.stats.num_hessian_vector_evals > 0);
}

TEST_CASE("FunctionObjective: builders chain, the contract is checked, and without L_min there is no bound",
          "[objectives]") {
  auto f = FunctionObjective(2, [](ConstVectorView x, VectorView g) {
    g = 2 * x;
    return x.squaredNorm() + 1.0;
  });
  CHECK(f.name() == "function");
  f.with_name("bowl").with_known(KnownFacts{.min_value = 1.0, .mu = 2.0, .beta = 2.0});
  CHECK(f.name() == "bowl");
  CHECK(*f.known().min_value == 1.0);
  CHECK(f.loss(Vector::Ones(2)) == 3.0);
  CHECK_THROWS_AS(f.loss(Vector::Ones(3)), std::invalid_argument);
  CHECK_THROWS_AS(FunctionObjective(0, [](ConstVectorView, VectorView) { return 0.0; }), std::invalid_argument);
  CHECK_THROWS_AS(f.with_known(KnownFacts{.minimizer = Vector::Zero(5)}), std::invalid_argument);
  FlowOptions o;
  o.t_end = 2.0;
  const FlowResult known = simulate_flow(f, Vector::Ones(2), o);
  CHECK(known.bound_holds == true);
  CHECK(known.rows.back().pl_ratio == Approx(2.0).epsilon(1e-12));  // ||2x||^2 / (2 ||x||^2)

  const auto unknown = FunctionObjective(2, [](ConstVectorView x, VectorView g) {
    g = 2 * x;
    return x.squaredNorm() + 1.0;
  });
  CHECK_FALSE(unknown.known().min_value);
  o.mu = 2.0;
  const FlowResult r = simulate_flow(unknown, Vector::Ones(2), o);
  REQUIRE(r.status == Status::reached_end_time);
  CHECK_FALSE(r.bound_holds.has_value());
  CHECK(std::isnan(r.rows.back().bound));
  CHECK(std::isnan(r.rows.back().pl_ratio));
  CHECK_THAT(r.full_report(), Catch::Contains("L_min unknown"));
  DescentOptions d;
  d.step = StepRule::polyak;
  d.gamma = 0.5;
  const DescentResult polyak = descend(unknown, Vector::Ones(2), d);
  CHECK(polyak.status == Status::invalid_options);
  CHECK_THAT(polyak.message, Catch::Contains("L_min"));
  d.step = StepRule::fixed;
  d.mu = 2.0;
  d.beta = 2.0;
  d.stop.max_steps = 10;
  const DescentResult fixed = descend(unknown, Vector::Ones(2), d);
  CHECK(fixed.status == Status::reached_max_iters);
  CHECK_FALSE(fixed.guarantee.q);
  CHECK_THAT(fixed.guarantee.note, Catch::Contains("L_min"));
  CHECK_FALSE(fixed.bound_holds.has_value());
}

TEST_CASE(
    "A user's squared loss with a Lipschitz bound is certified with the numbers of built-in least squares "
    "(docs/theory.md §7.34)",
    "[objectives][certificate]") {
  const LeastSquares built_in = test_least_squares();
  const UserLeastSquares user(built_in.data(), built_in.targets(), true);
  const UserLeastSquaresProducts products(built_in.data(), built_in.targets());
  const Vector theta0 = Random(22).normal_vector(9);
  const Certificate expected = certify(built_in, theta0);
  REQUIRE(expected.applies);
  REQUIRE(expected.holds);
  CHECK(expected.mu == Approx(*built_in.known().mu).epsilon(1e-12));
  const Certificate mine = certify(user, theta0);
  check_same_certificate(mine, expected);
  check_same_certificate(certify(products, theta0), expected);
  CHECK(mine.lipschitz_kind == "jacobian_lipschitz() of 'user-least-squares'");
  CHECK(expected.lipschitz_kind == "zero (J = X is constant)");
  // Through the Objective interface too (as_residual, no cast).
  const Objective& as_objective = user;
  REQUIRE(as_objective.as_residual() == &user);
  check_same_certificate(certify(as_objective, theta0), expected);
  // The user's loss is the same function: the flow under the certified bound.
  FlowOptions o;
  o.solver = Solver::cvode_bdf;
  o.t_end = 10.0;
  o.mu = mine.mu;
  o.radius = mine.travel;
  const FlowResult r = simulate_flow(user, theta0, o);
  REQUIRE(r.status == Status::reached_end_time);
  CHECK(r.bound_holds == true);
  CHECK(r.radius_holds == true);
}

TEST_CASE("Without a Lipschitz bound the certificate does not apply and says what is missing",
          "[objectives][certificate]") {
  const LeastSquares built_in = test_least_squares();
  const UserLeastSquares no_bound(built_in.data(), built_in.targets(), false);
  const Vector theta0 = Random(23).normal_vector(9);
  const Certificate c = certify(no_bound, theta0);
  CHECK_FALSE(c.applies);
  CHECK_THAT(c.why_not, Catch::Contains("no Lipschitz bound") && Catch::Contains("jacobian_lipschitz") &&
                            Catch::Contains("user-least-squares"));
  const Certificate reference = certify(built_in, theta0);
  CHECK(c.sigma0 == reference.sigma0);  // what could be computed is reported all the same
  CHECK(c.residual_norm == reference.residual_norm);
  // n > p: sigma_n(J) = 0, no certificate; a problem without residual structure gets the reason too.
  Random random(24);
  const UserLeastSquares tall(random.normal_matrix(9, 5), random.normal_vector(9), true);
  CHECK_THAT(certify(tall, Vector::Zero(5)).why_not, Catch::Contains("residuals > p"));
  const Quadratic q(Matrix::Identity(3, 3));
  CHECK(q.as_residual() == nullptr);
  CHECK_THAT(certify(q, Vector::Ones(3)).why_not, Catch::Contains("no residual structure"));
}

TEST_CASE("ResidualObjective derives the loss, the gradient J^T r and a Gauss-Newton-plus-difference Hessian product",
          "[objectives]") {
  const RosenbrockResiduals f;
  CHECK(*f.known().min_value == 0.0);
  Random random(25);
  for (int k = 0; k < 10; ++k) {
    const Vector x = random.normal_vector(2);
    Vector g(2);
    const double loss = f.loss_and_gradient(x, g);
    const double r1 = 10 * (x[1] - x[0] * x[0]), r2 = 1 - x[0];
    CHECK(loss == Approx(0.5 * (r1 * r1 + r2 * r2)).epsilon(1e-15));
    CHECK(f.loss(x) == loss);
    CHECK(relative_error(g, test::numerical_gradient(f, x)) < 1e-6);
    const Vector v = random.normal_vector(2);
    Vector hv(2);
    f.hessian_vector(x, v, hv);
    CHECK(relative_error(hv, rosenbrock_hessian(x) * v) < 1e-6);
    Vector jv(2), jtv(2);
    f.jv(x, v, jv);  // the defaults from the dense Jacobian
    f.jtv(x, v, jtv);
    Matrix j(2, 2);
    f.jacobian(x, j);
    CHECK(relative_error(jv, j * v) < 1e-15);
    CHECK(relative_error(jtv, j.transpose() * v) < 1e-15);
  }
  // A subclass that gives no Jacobian at all is told so.
  const NoJacobian none;
  Vector g(2);
  CHECK_THROWS_WITH(none.loss_and_gradient(Vector::Ones(2), g),
                    Catch::Contains("no-jacobian") && Catch::Contains("override jacobian()"));
}

TEST_CASE("The network as a ResidualObjective: residuals, J v and J^T w agree with its dense Jacobian",
          "[objectives]") {
  const NetworkData data = synthetic_data(5, 7, 3);
  for (const bool bias : {false, true}) {
    MlpArchitecture arch;
    arch.input_dim = 7;
    arch.widths = {6, 4};
    arch.bias = bias;
    const Mlp network(arch, data.x, data.y);
    Random random(26);
    const Vector theta = 0.5 * random.normal_vector(network.dimension());
    Vector r(5);
    network.residuals(theta, r);
    CHECK(relative_error(r, network.predict(theta) - data.y) < 1e-15);
    const Matrix j = network.jacobian(theta);
    Matrix dense(5, network.dimension());
    const ResidualObjective& residual = network;
    residual.jacobian(theta, dense);
    CHECK(dense == j);
    const Vector v = random.normal_vector(network.dimension());
    const Vector w = random.normal_vector(5);
    Vector jv(5), jtv(network.dimension());
    network.jv(theta, v, jv);
    network.jtv(theta, w, jtv);
    CHECK(relative_error(jv, j * v) < 1e-12);
    CHECK(relative_error(jtv, j.transpose() * w) < 1e-12);
    // J^T r is the gradient.
    Vector g(network.dimension()), jtr(network.dimension());
    network.loss_and_gradient(theta, g);
    network.jtv(theta, r, jtr);
    CHECK(relative_error(jtr, g) < 1e-12);
    CHECK(network.jacobian_lipschitz(theta, 0.1).has_value() == !bias);
  }
}

TEST_CASE("A CallbackError from the objective ends every back end and descent with callback_error and the last state",
          "[objectives]") {
  // L = 1/2 ||theta||^2 whose evaluation refuses after `limit` calls: the run must stop there, with the
  // library's status, the exception's text, and a state on the exact flow theta0 exp(-t).
  const Vector theta0{{1.0, -2.0, 0.5}};
  for (const char* solver_name : {"dopri5", "rk4", "bulirsch-stoer", "cvode-bdf", "cvode-bdf-krylov", "cvode-adams"}) {
    for (const long limit : {1L, 40L}) {
      long calls = 0;
      auto f = FunctionObjective(3, [&calls, limit](ConstVectorView x, VectorView g) {
                 if (++calls > limit) throw CallbackError("refused at call " + std::to_string(calls));
                 g = x;
                 return 0.5 * x.squaredNorm();
               }).with_known({.min_value = 0.0, .mu = 1.0});
      f.with_hessian_vector([&calls, limit](ConstVectorView, ConstVectorView v, VectorView hv) {
        if (++calls > limit) throw CallbackError("refused at call " + std::to_string(calls));
        hv = v;
      });
      FlowOptions options;
      options.solver = *solver_from_string(solver_name);
      options.t_end = 5.0;
      options.dt = 0.01;
      CAPTURE(solver_name, limit);
      const FlowResult r = simulate_flow(f, theta0, options);
      CHECK(r.status == Status::callback_error);
      CHECK_FALSE(r.succeeded());
      CHECK(r.message.find("refused at call " + std::to_string(limit + 1)) != std::string::npos);
      CHECK(calls == limit + 1);  // nothing is evaluated after the refusal
      CHECK(r.t_final < options.t_end);
      REQUIRE(r.theta.size() == 3);
      const Vector exact = theta0 * std::exp(-r.t_final);
      CHECK((r.theta - exact).norm() <= 1e-4 * theta0.norm());
    }
  }
  SECTION("descent") {
    long calls = 0;
    const auto f = FunctionObjective(3, [&calls](ConstVectorView x, VectorView g) {
                     if (++calls > 10) throw CallbackError("no more");
                     g = x;
                     return 0.5 * x.squaredNorm();
                   }).with_known({.min_value = 0.0});
    DescentOptions options;
    options.lr = 0.5;
    options.stop.max_steps = 100;
    const DescentResult r = descend(f, theta0, options);
    CHECK(r.status == Status::callback_error);
    CHECK(r.message == "no more");
    CHECK(r.iterations == 9);  // call 1 at theta0, calls 2..10 the iterates 1..9
    CHECK((r.theta - theta0 * std::pow(0.5, 9)).norm() <= 1e-15);
    CHECK(r.rows.back().iter == 9);
    // The estimate of beta (power iteration on Hessian-vector products) before the first step, too.
    auto refusing = FunctionObjective(3, [](ConstVectorView x, VectorView g) {
                      g = x;
                      return 0.5 * x.squaredNorm();
                    }).with_hessian_vector([](ConstVectorView, ConstVectorView, VectorView) {
      throw CallbackError("no products");
    });
    options.step = StepRule::inverse_smoothness;
    const DescentResult estimated = descend(refusing, theta0, options);
    CHECK(estimated.status == Status::callback_error);
    CHECK(estimated.message.find("no products") != std::string::npos);
    CHECK(estimated.theta == theta0);
  }
  SECTION("an observer that refuses") {
    const auto f = FunctionObjective(3, [](ConstVectorView x, VectorView g) {
                     g = x;
                     return 0.5 * x.squaredNorm();
                   }).with_known({.min_value = 0.0});
    FlowOptions options;
    const FlowResult r = simulate_flow(f, theta0, options, [](const Row& row, ConstVectorView) -> bool {
      if (row.t > 1.0) throw CallbackError("observer says stop");
      return false;
    });
    CHECK(r.status == Status::callback_error);
    CHECK(r.message == "observer says stop");
    CHECK(r.t_final > 1.0);
    CHECK((r.theta - theta0 * std::exp(-r.t_final)).norm() <= 1e-6);
  }
}
