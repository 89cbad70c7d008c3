// The modified flow of gradient descent, and the ensembles (discrete/modified_flow.hpp, docs/theory.md §2.9): its
// gradient against central differences and the quadratic's closed form, and the order with which descent follows it (2)
// and the plain flow (1), measured on the quadratic and on the network.
#include <gradflow/core/cancellation.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/discrete/against_flow.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/discrete/ensemble.hpp>
#include <gradflow/discrete/modified_flow.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/problems/quadratic.hpp>

#include <Eigen/QR>
#include "test_networks.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <tuple>

using namespace gradflow;

namespace {

Mlp small_network() { return test::tanh_network(6, 12, 10, 71); }

Vector network_start(const Mlp& f) { return test::xavier_start(f, 3); }

// The distances of descent (step eta, to time t_end) to the plain and to the modified flow at t_end.
std::pair<double, double> distances_at(const Objective& f, const Vector& theta0, double eta, double t_end) {
  FlowFollower follower(f, theta0, 1.0);
  DescentOptions options;
  options.lr = eta;
  options.stop.max_steps = std::lround(t_end / eta);
  FlowComparison last;
  options.save.sink = [&](const Row& row, ConstVectorView theta) { last = follower.compare(row, theta, eta); };
  const DescentResult r = descend(f, theta0, options);
  REQUIRE(r.succeeded());
  REQUIRE(follower.failure().empty());
  return {last.distance, last.modified_distance};
}

}  // namespace

TEST_CASE(
    "The modified loss L + (eta/4) ||grad L||^2 has the gradient grad L + (eta/2) H grad L (closed form, central "
    "differences)",
    "[modified]") {
  // The quadratic L = theta^T A theta / 2: grad L~ = (A + (eta/2) A^2) theta, L~ = L + (eta/4) ||A theta||^2.
  Random random(17);
  const Matrix m = random.normal_matrix(5, 5);
  const Matrix a = m * m.transpose() + Matrix::Identity(5, 5);
  const Quadratic q(a);
  const Vector theta = random.normal_vector(5);
  const double eta = 0.3;
  const ModifiedLoss mq(q, eta);
  Vector grad(5);
  const double value = mq.loss_and_gradient(theta, grad);
  CHECK(value == Approx(0.5 * theta.dot(a * theta) + 0.25 * eta * (a * theta).squaredNorm()).epsilon(1e-13));
  CHECK((grad - (a + 0.5 * eta * a * a) * theta).norm() <= 1e-12 * grad.norm());
  CHECK(mq.loss(theta) == value);
  // The network: central differences of L~ (its own loss) against its gradient, entry by entry.
  const Mlp f = small_network();
  const Vector theta0 = network_start(f);
  const ModifiedLoss mf(f, 0.05);
  Vector g(theta0.size());
  mf.loss_and_gradient(theta0, g);
  const double h = 1e-5;
  Vector fd(theta0.size());
  for (Eigen::Index i = 0; i < theta0.size(); ++i) {
    Vector plus = theta0, minus = theta0;
    plus[i] += h;
    minus[i] -= h;
    fd[i] = (mf.loss(plus) - mf.loss(minus)) / (2 * h);
  }
  CHECK((fd - g).norm() <= 1e-6 * g.norm());
  // eta = 0 is L itself; a negative or non-finite eta is refused, naming it.
  Vector plain(theta0.size());
  f.loss_and_gradient(theta0, plain);
  ModifiedLoss(f, 0.0).loss_and_gradient(theta0, g);
  CHECK(g == plain);
  for (const double bad : {-0.1, std::nan(""), std::numeric_limits<double>::infinity()}) {
    CHECK_THROWS_AS(ModifiedLoss(f, bad), std::invalid_argument);
  }
}

TEST_CASE(
    "Descent follows the modified flow to O(eta^2) and the plain flow to O(eta): the slopes on the quadratic and "
    "the network",
    "[modified]") {
  // At a fixed time, halving eta halves the distance to the plain flow and quarters the distance to the
  // modified flow (docs/theory.md §2.9: per step the modified flow's error is O(eta^3), the plain flow's
  // O(eta^2)).
  Random random(23);
  const Vector lambda = Vector::LinSpaced(5, 0.5, 4.0);
  const Eigen::HouseholderQR<Matrix> qr(random.normal_matrix(5, 5));
  const Matrix basis = qr.householderQ();
  const Quadratic q(basis * lambda.asDiagonal() * basis.transpose());
  const Vector q0 = random.normal_vector(5);
  const Mlp f = small_network();
  const Vector f0 = network_start(f);
  struct Case {
    const Objective* objective;
    const Vector* theta0;
    double eta;  // the largest; then eta / 2 and eta / 4
    double t_end;
  };
  for (const Case& c : {Case{&q, &q0, 0.02, 1.0}, Case{&f, &f0, 0.008, 0.4}}) {
    INFO(c.objective->name());
    double plain[3], modified[3];
    for (int i = 0; i < 3; ++i) {
      std::tie(plain[i], modified[i]) = distances_at(*c.objective, *c.theta0, c.eta / std::pow(2.0, i), c.t_end);
    }
    for (int i = 0; i < 2; ++i) {
      const double plain_order = std::log2(plain[i] / plain[i + 1]);
      const double modified_order = std::log2(modified[i] / modified[i + 1]);
      INFO("eta " << c.eta / std::pow(2.0, i) << ": plain " << plain[i] << ", modified " << modified[i]);
      CHECK(plain_order == Approx(1.0).margin(0.1));
      CHECK(modified_order == Approx(2.0).margin(0.15));
      CHECK(modified[i] < 0.2 * plain[i]);
    }
  }
}

TEST_CASE("An ensemble gives each start the bits of its run alone, on any thread count, and stops on cancellation",
          "[ensemble]") {
  const Mlp f = small_network();
  Matrix starts(5, f.dimension());
  for (int i = 0; i < 5; ++i) {
    InitOptions init;
    init.scheme = InitScheme::xavier_normal;
    init.seed = static_cast<std::uint64_t>(i);
    starts.row(i) = initialize(f.architecture(), init).transpose();
  }
  FlowOptions flow;
  flow.t_end = 0.5;
  DescentOptions descent;
  descent.lr = 0.01;
  descent.stop.max_steps = 50;
  for (const int threads : {1, 2, 3}) {
    const std::vector<FlowResult> flows = simulate_flows(f, starts, flow, threads);
    const std::vector<DescentResult> descents = descend_many(f, starts, descent, threads);
    REQUIRE(flows.size() == 5);
    REQUIRE(descents.size() == 5);
    for (int i = 0; i < 5; ++i) {
      const Vector start = starts.row(i).transpose();
      CHECK(flows[static_cast<std::size_t>(i)].theta == simulate_flow(f, start, flow).theta);
      CHECK(descents[static_cast<std::size_t>(i)].theta == descend(f, start, descent).theta);
    }
  }
  CHECK_THROWS_WITH(simulate_flows(f, Matrix::Ones(2, 3), flow), Catch::Contains("starts: each row must have p = "));
  // A check that says stop before anything starts: every run is returned as not started, at its start.
  set_cancellation_check([] { return true; }, std::chrono::nanoseconds(0));
  const std::vector<FlowResult> stopped = simulate_flows(f, starts, flow, 2);
  set_cancellation_check(nullptr);
  for (int i = 0; i < 5; ++i) {
    CHECK(stopped[static_cast<std::size_t>(i)].status == Status::interrupted);
    CHECK(stopped[static_cast<std::size_t>(i)].theta == starts.row(i).transpose());
  }
}
