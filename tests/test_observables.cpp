// What the theorem watches along a path (theory/observables.hpp, docs/theory.md §8): the NTK's extreme
// eigenvalues and the sharpness against dense eigendecompositions (of X X^T, of the formed J J^T, of A,
// of the Hessian from central differences of the gradient), the Lanczos path against the dense
// one across the switch at n = 2000, the identity pl_ratio >= ntk_min at every row of every residual
// problem and solver, its check catching a wrong gradient, and --observe on the command line.
#include <gradflow/apps/support/spawn.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/core/residual_objective.hpp>
#include <gradflow/discrete/against_flow.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/least_squares.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/problems/quadratic.hpp>
#include <gradflow/theory/lanczos.hpp>
#include <gradflow/theory/observables.hpp>
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <Eigen/Eigenvalues>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

using namespace gradflow;

namespace {

Vector eigenvalues(const Matrix& m) {
  return Eigen::SelfAdjointEigenSolver<Matrix>(m, Eigen::EigenvaluesOnly).eigenvalues();
}

Mlp small_network(Eigen::Index n, Eigen::Index d, std::vector<Eigen::Index> widths, std::uint64_t seed) {
  const NetworkData data = synthetic_data(n, d, seed);
  MlpArchitecture a;
  a.input_dim = d;
  a.widths = std::move(widths);
  a.activation = Activation::tanh;
  return Mlp(a, data.x, data.y);
}

Vector network_start(const Mlp& f, std::uint64_t seed) {
  InitOptions init;
  init.scheme = InitScheme::xavier_normal;
  init.seed = seed;
  return initialize(f.architecture(), init);
}

// A squared loss of one's own: r_i = sin(a_i . theta) - y_i, J v and J^T w by hand (no exact Hv).
class SineResiduals final : public ResidualObjective {
 public:
  SineResiduals(Matrix a, Vector y) : a_(std::move(a)), y_(std::move(y)) {}
  std::string name() const override { return "sine-residuals"; }
  Eigen::Index dimension() const override { return a_.cols(); }
  Eigen::Index num_residuals() const override { return a_.rows(); }
  void residuals(const ConstVectorView& theta, VectorView r) const override {
    r = (a_ * theta).array().sin().matrix() - y_;
  }
  void jv(const ConstVectorView& theta, const ConstVectorView& v, VectorView out) const override {
    out = ((a_ * theta).array().cos() * (a_ * v).array()).matrix();
  }
  void jtv(const ConstVectorView& theta, const ConstVectorView& w, VectorView out) const override {
    out = a_.transpose() * ((a_ * theta).array().cos() * w.array()).matrix();
  }

 private:
  Matrix a_;
  Vector y_;
};

// Least squares with a gradient 1e-3 of its true size: the identity check must catch it.
class WrongGradient final : public ResidualObjective {
 public:
  explicit WrongGradient(const LeastSquares& inner) : inner_(inner) {}
  std::string name() const override { return "wrong-gradient"; }
  Eigen::Index dimension() const override { return inner_.dimension(); }
  Eigen::Index num_residuals() const override { return inner_.num_residuals(); }
  void residuals(const ConstVectorView& theta, VectorView r) const override { inner_.residuals(theta, r); }
  void jacobian(const ConstVectorView& theta, MatrixView j) const override { inner_.jacobian(theta, j); }
  double loss_and_gradient(const ConstVectorView& theta, VectorView grad) const override {
    const double loss = inner_.loss_and_gradient(theta, grad);
    grad *= 1e-3;
    return loss;
  }

 private:
  const LeastSquares& inner_;
};

}  // namespace

// The Hessian by central differences of the exact gradient, column by column, symmetrised: a reference
// independent of the Hessian-vector products the observer uses. Step h (1 + |theta_j|): the truncation
// error ~h^2 (third derivatives) and the rounding error ~eps |g| / h are both near 1e-10 relative for
// h = 1e-5 here, and an eigenvalue moves by at most the perturbation's norm (Weyl).
static Matrix finite_difference_hessian(const Objective& f, const Vector& theta, double h = 1e-5) {
  const Eigen::Index p = f.dimension();
  Matrix columns(p, p);
  Vector x = theta, g_plus(p), g_minus(p);
  for (Eigen::Index j = 0; j < p; ++j) {
    const double step = h * (1.0 + std::abs(theta[j]));
    x[j] = theta[j] + step;
    f.loss_and_gradient(x, g_plus);
    x[j] = theta[j] - step;
    f.loss_and_gradient(x, g_minus);
    x[j] = theta[j];
    columns.col(j) = (g_plus - g_minus) / (2.0 * step);
  }
  return 0.5 * (columns + columns.transpose());
}

TEST_CASE("Lanczos finds the extreme eigenvalues of a symmetric matrix, also after a breakdown", "[observables]") {
  Vector lambda = Vector::LinSpaced(80, -3.0, 5.0);
  lambda[79] = 9.0;
  Random random(7);
  const Eigen::HouseholderQR<Matrix> qr(random.normal_matrix(80, 80));
  const Matrix q = qr.householderQ();
  const Matrix m = q * lambda.asDiagonal() * q.transpose();
  const auto apply = [&](const Vector& v, Vector& out) { out = m * v; };
  LanczosOptions options;
  options.rtol = 1e-10;
  const LanczosResult result = lanczos_extremes(apply, 80, Vector::Ones(80), options);
  REQUIRE(result.converged);
  CHECK(result.max == Approx(9.0).epsilon(1e-12));
  CHECK(result.min == Approx(-3.0).epsilon(1e-12));
  CHECK((m * result.v_max - result.max * result.v_max).norm() <= 1e-8);
  // A start inside a 2-dimensional invariant subspace breaks down after two products; the search goes on
  // from random vectors and still finds both ends.
  const Vector start = q.col(10) + q.col(20);
  options.min_iterations = 8;
  const LanczosResult restarted = lanczos_extremes(apply, 80, start, options);
  CHECK(restarted.max == Approx(9.0).epsilon(1e-10));
  CHECK(restarted.min == Approx(-3.0).epsilon(1e-10));
}

TEST_CASE("Least squares: the observed ntk is eig(X X^T) at every row, constant along the path", "[observables]") {
  for (const Eigen::Index n : {6, 12}) {  // n < p: ntk_min > 0; n > p: ntk_min = 0 (the residual floor)
    Random random(11 + n);
    const Matrix x = random.normal_matrix(n, 9);
    const LeastSquares f(x, random.normal_vector(n));
    const Vector reference = eigenvalues(x * x.transpose());
    const double scale = reference[n - 1];
    FlowOptions options;
    options.t_end = 3.0;
    options.save.every_t = 0.5;
    options.observe.ntk = true;
    options.observe.condition = true;
    const FlowResult flow = simulate_flow(f, random.normal_vector(9), options);
    REQUIRE(flow.succeeded());
    REQUIRE(flow.rows.size() == 7);
    for (const Row& row : flow.rows) {
      CHECK(std::abs(row.observed.ntk_min - reference[0]) <= 1e-12 * scale);
      CHECK(row.observed.ntk_max == Approx(reference[n - 1]).epsilon(1e-12));
      if (n < 9) CHECK(row.observed.condition == Approx(reference[n - 1] / reference[0]).epsilon(1e-10));
      CHECK(std::isnan(row.observed.sharpness));
    }
    CHECK(flow.stats.num_observe_gram_matrices == 7);
    CHECK(flow.stats.num_observe_hessian_vector_evals == 0);
  }
}

TEST_CASE("Quadratic: the sharpness is lambda_max(A) and sharpness_min lambda_min(A) at every row", "[observables]") {
  Vector lambda = Vector::LinSpaced(30, 0.5, 20.0);
  const Matrix a = test::spd_matrix(lambda, 5);
  const Quadratic f(a);
  Random random(3);
  const Vector theta0 = random.normal_vector(30);
  DescentOptions descent;
  descent.lr = 0.05;
  descent.stop.max_steps = 40;
  descent.save.every_steps = 5;
  REQUIRE(add_observable(descent.observe, "sharpness2"));
  const DescentResult d = descend(f, theta0, descent);
  REQUIRE(d.succeeded());
  REQUIRE(d.rows.size() == 9);
  for (const Row& row : d.rows) {
    CHECK(row.observed.sharpness == Approx(20.0).epsilon(1e-9));
    CHECK(row.observed.sharpness_min == Approx(0.5).epsilon(1e-7));
  }
  // After the first row the warm start is an eigenvector: a few products per row.
  CHECK(d.stats.num_observe_hessian_vector_evals <= 30 + 8 * 3);
  FlowOptions flow;
  flow.t_end = 1.0;
  flow.save.every_t = 0.25;
  flow.observe.sharpness = true;
  const FlowResult r = simulate_flow(f, theta0, flow);
  REQUIRE(r.succeeded());
  for (const Row& row : r.rows) CHECK(row.observed.sharpness == Approx(20.0).epsilon(1e-9));
}

TEST_CASE("The network: ntk and sharpness match dense eigendecompositions at several points of a run",
          "[observables][mlp]") {
  const Mlp f = small_network(10, 3, {8}, 4);
  const Vector theta0 = network_start(f, 9);
  FlowOptions options;
  options.t_end = 4.0;
  options.save.times = {1.0, 2.0, 4.0};
  options.save.states = true;
  REQUIRE(add_observable(options.observe, "ntk"));
  REQUIRE(add_observable(options.observe, "sharpness2"));
  const FlowResult r = simulate_flow(f, theta0, options);
  REQUIRE(r.succeeded());
  REQUIRE(r.rows.size() == 4);
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const Vector theta = r.states.col(static_cast<Eigen::Index>(i));
    const Matrix j = f.jacobian(theta);  // the formed Jacobian, not the Gram formula
    const Vector ntk = eigenvalues(j * j.transpose());
    // The Hessian from central differences of the gradient, not from Hessian-vector products.
    const Vector hess = eigenvalues(finite_difference_hessian(f, theta));
    const double top = hess.cwiseAbs().maxCoeff();
    const Row& row = r.rows[i];
    CHECK(std::abs(row.observed.ntk_min - ntk[0]) <= 1e-10 * ntk[9]);
    CHECK(row.observed.ntk_max == Approx(ntk[9]).epsilon(1e-10));
    // Lanczos to its tolerance (~1e-8) plus the difference error (~1e-10 of ||H||): 1e-6 of ||H|| is ample.
    CHECK(std::abs(row.observed.sharpness - hess[hess.size() - 1]) <= 1e-6 * top);
    CHECK(std::abs(row.observed.sharpness_min - hess[0]) <= 1e-6 * top);
    CHECK(row.pl_ratio >= row.observed.ntk_min);
  }
}

TEST_CASE("The Lanczos path agrees with the dense path across the switch (n = 2001) and below it", "[observables]") {
  // A network with 2001 samples and 9 parameters: J J^T has rank 9.
  const Mlp f = small_network(2001, 2, {3}, 21);
  const Vector theta = network_start(f, 2);
  Observables what;
  what.ntk = true;
  PathObserver lanczos(f, what);  // n = 2001 > 2000: Lanczos
  PathObserver dense(f, what, 2001);
  const Observed a = lanczos.at(theta);
  const Observed b = dense.at(theta);
  CHECK(lanczos.counts().gram_matrices == 0);
  CHECK(lanczos.counts().gram_products > 0);
  CHECK(dense.counts().gram_matrices == 1);
  CHECK(a.ntk_max == Approx(b.ntk_max).epsilon(1e-9));
  CHECK(std::abs(a.ntk_min - b.ntk_min) <= 1e-9 * b.ntk_max);
  // Below the switch with a full spectrum: least squares with n = 150 < p = 200, Lanczos forced.
  Random random(8);
  const LeastSquares g(random.normal_matrix(150, 200), random.normal_vector(150));
  const Vector theta2 = random.normal_vector(200);
  PathObserver forced(g, what, 0);
  PathObserver exact(g, what);
  const Observed c = forced.at(theta2);
  const Observed e = exact.at(theta2);
  CHECK(c.ntk_max == Approx(e.ntk_max).epsilon(1e-9));
  CHECK(c.ntk_min == Approx(e.ntk_min).epsilon(1e-6));
  CHECK(c.ntk_min >= e.ntk_min * (1.0 - 1e-12));  // Ritz values lie inside the spectrum
}

TEST_CASE("pl_ratio >= ntk_min at every row of every residual problem, flow solver and step rule", "[observables]") {
  Random random(17);
  const LeastSquares ls(random.normal_matrix(7, 10), random.normal_vector(7));
  const Mlp net = small_network(6, 2, {5}, 3);
  const SineResiduals sine(random.normal_matrix(5, 8), 0.3 * random.normal_vector(5));
  struct Case {
    const ResidualObjective* f;
    Vector theta0;
  };
  const std::vector<Case> cases{
      {&ls, random.normal_vector(10)}, {&net, network_start(net, 4)}, {&sine, 0.5 * random.normal_vector(8)}};
  for (const Case& c : cases) {
    for (const std::string& solver : solver_names()) {
      FlowOptions options;
      options.solver = *solver_from_string(solver);
      options.t_end = 2.0;
      options.dt = 1e-2;
      options.save.every_t = 0.25;
      options.observe.ntk = true;
      const FlowResult r = simulate_flow(*c.f, c.theta0, options);
      INFO(c.f->name() << " " << solver << ": " << r.message);
      REQUIRE(r.succeeded());
      for (const Row& row : r.rows) {
        REQUIRE(!std::isnan(row.observed.ntk_min));
        if (!std::isnan(row.pl_ratio)) CHECK(row.pl_ratio >= row.observed.ntk_min);
      }
    }
    for (const char* rule : {"fixed", "armijo", "inverse-smoothness"}) {
      DescentOptions options;
      options.step = *step_rule_from_string(rule);
      options.lr = 0.01;
      options.stop.max_steps = 50;
      options.save.every_steps = 5;
      options.observe.ntk = true;
      if (c.f == &sine && options.step == StepRule::inverse_smoothness) options.beta = 100.0;
      const DescentResult r = descend(*c.f, c.theta0, options);
      INFO(c.f->name() << " " << rule << ": " << r.message);
      REQUIRE(r.succeeded());
      for (const Row& row : r.rows) {
        if (!std::isnan(row.pl_ratio)) CHECK(row.pl_ratio >= row.observed.ntk_min);
      }
    }
  }
}

TEST_CASE("A gradient too small for the identity is reported as identity_violated, not as a result", "[observables]") {
  Random random(2);
  const LeastSquares ls(random.normal_matrix(5, 8), random.normal_vector(5));
  const WrongGradient wrong(ls);
  FlowOptions options;
  options.t_end = 1.0;
  options.observe.ntk = true;
  const FlowResult r = simulate_flow(wrong, random.normal_vector(8), options);
  CHECK(r.status == Status::identity_violated);
  CHECK_THAT(r.message, Catch::Contains("ntk_min") && Catch::Contains("bug"));
  DescentOptions d;
  d.stop.max_steps = 5;
  d.lr = 0.01;
  d.observe.ntk = true;
  CHECK(descend(wrong, random.normal_vector(8), d).status == Status::identity_violated);
  // Without --observe ntk nothing is checked.
  options.observe = Observables{};
  CHECK(simulate_flow(wrong, random.normal_vector(8), options).succeeded());
}

TEST_CASE("The observables' work is counted apart: the run's own evaluations are the same with and without them",
          "[observables]") {
  const Mlp f = small_network(8, 2, {6}, 5);
  const Vector theta0 = network_start(f, 1);
  FlowOptions options;
  options.t_end = 2.0;
  options.save.every_t = 0.5;
  const FlowResult plain = simulate_flow(f, theta0, options);
  REQUIRE(add_observable(options.observe, "condition"));
  REQUIRE(add_observable(options.observe, "sharpness"));
  const FlowResult watched = simulate_flow(f, theta0, options);
  REQUIRE(watched.succeeded());
  CHECK(watched.stats.num_gradient_evals == plain.stats.num_gradient_evals);
  CHECK(watched.stats.num_hessian_vector_evals == plain.stats.num_hessian_vector_evals);
  CHECK(watched.stats.num_observe_hessian_vector_evals > 0);
  CHECK(watched.stats.num_observe_gram_matrices == static_cast<long>(watched.rows.size()));
  CHECK(watched.loss_final == plain.loss_final);
}

TEST_CASE("Observing the ntk of a problem without residuals is invalid_options naming what is missing",
          "[observables]") {
  const Quadratic f(Matrix::Identity(3, 3));
  FlowOptions options;
  options.observe.ntk = true;
  const FlowResult r = simulate_flow(f, Vector::Ones(3), options);
  CHECK(r.status == Status::invalid_options);
  CHECK_THAT(r.message, Catch::Contains("residuals"));
  Observables what;
  CHECK_FALSE(add_observable(what, "sharpness3"));
  CHECK(add_observable(what, "condition"));
  CHECK(what.ntk);
  CHECK(to_string(what) == "condition");
}

TEST_CASE(
    "Descent against the flow on a quadratic: the distance is the closed form per eigen-direction, and descent "
    "leaves the flow where the closed form says, below and above eta = 2 / beta",
    "[observables]") {
  const Vector lambda = Vector::LinSpaced(6, 1.0, 10.0);  // beta = 10
  Random random(31);
  const Eigen::HouseholderQR<Matrix> qr(random.normal_matrix(6, 6));
  const Matrix q = qr.householderQ();
  const Quadratic f(q * lambda.asDiagonal() * q.transpose());
  const Vector theta0 = random.normal_vector(6);
  const Vector c = q.transpose() * theta0;         // theta0's coordinates in the eigenbasis
  for (const double eta : {0.005, 0.05, 0.202}) {  // eta beta = 0.05, 0.5 and 2.02
    DescentOptions options;
    options.lr = eta;
    options.stop.max_steps = 120;
    options.observe.sharpness = true;
    FlowFollower follower(f, theta0, 1e-3);
    std::vector<double> distances;
    std::vector<double> modified_distances;
    options.save.sink = [&](const Row& row, ConstVectorView theta) {
      const FlowComparison comparison = follower.compare(row, theta, eta);
      distances.push_back(comparison.distance);
      modified_distances.push_back(comparison.modified_distance);
      CHECK(row.observed.sharpness == Approx(10.0).epsilon(1e-9));
    };
    const DescentResult r = descend(f, theta0, options);
    REQUIRE(r.succeeded());
    REQUIRE(follower.failure().empty());
    REQUIRE(distances.size() == 121);
    std::optional<long> predicted;
    for (long k = 0; k <= 120; ++k) {
      // (1 - eta lambda)^k against exp(-lambda k eta), direction by direction.
      const Vector gap = ((1.0 - eta * lambda.array()).pow(static_cast<double>(k)) -
                          (-lambda.array() * (eta * static_cast<double>(k))).exp()) *
                         c.array();
      const double closed = gap.matrix().norm();
      CHECK(std::abs(distances[static_cast<std::size_t>(k)] - closed) <= 1e-7 * theta0.norm());
      if (!predicted && closed > 1e-3 * theta0.norm()) {
        REQUIRE(std::abs(closed / theta0.norm() - 1e-3) > 1e-5);  // not on the edge of the threshold
        predicted = k;
      }
    }
    // The modified flow theta' = -(A + (eta / 2) A^2) theta: exp(-k eta (lambda + eta lambda^2 / 2)) per
    // direction (docs/theory.md §2.9).
    std::optional<long> predicted_modified;
    for (long k = 0; k <= 120; ++k) {
      const Eigen::ArrayXd rate = lambda.array() + 0.5 * eta * lambda.array().square();
      const Vector gap =
          ((1.0 - eta * lambda.array()).pow(static_cast<double>(k)) - (-rate * (eta * static_cast<double>(k))).exp()) *
          c.array();
      const double closed = gap.matrix().norm();
      CHECK(std::abs(modified_distances[static_cast<std::size_t>(k)] - closed) <= 1e-7 * theta0.norm());
      const Vector flow_point = (((-rate * (eta * static_cast<double>(k))).exp()) * c.array()).matrix();
      if (!predicted_modified && closed > 1e-3 * std::max(flow_point.norm(), theta0.norm())) predicted_modified = k;
    }
    REQUIRE(predicted);
    REQUIRE(follower.left());
    CHECK(follower.left()->iter == *predicted);
    CHECK(follower.left_modified().has_value() == predicted_modified.has_value());
    if (predicted_modified && follower.left_modified()) CHECK(follower.left_modified()->iter == *predicted_modified);
    // With a small step the modified flow is followed longer than the plain one (at eta beta = 0.5 both
    // part at the first step: (eta beta)^3 / 3 per step is already above leave-tol); past the edge, the
    // edge is the first row.
    if (eta * 10.0 <= 0.1) {
      INFO("plain " << *predicted << ", modified " << (predicted_modified ? *predicted_modified : -1));
      CHECK((!predicted_modified || *predicted_modified > *predicted));
    }
    if (eta * 10.0 < 2.0) {
      CHECK_FALSE(follower.reached_edge());
      CHECK(follower.rows_at_edge() == 0);
      CHECK(follower.time_at_edge() == 0.0);
    } else {
      REQUIRE(follower.reached_edge());
      CHECK(follower.reached_edge()->iter == 0);
      // Every row is past the edge (the sharpness is 10 everywhere): 121 rows, the 120 steps' time.
      CHECK(follower.rows_at_edge() == 121);
      CHECK(follower.time_at_edge() == Approx(120 * eta).epsilon(1e-12));
    }
    CHECK(follower.max_eta_sharpness() == Approx(10.0 * eta).epsilon(1e-9));
    CHECK(follower.left()->sharpness == Approx(10.0).epsilon(1e-9));
    CHECK(follower.left()->eta_sharpness == Approx(10.0 * eta).epsilon(1e-9));
    if (eta * 10.0 > 2.0) {
      // Past the edge the top direction grows by |1 - eta beta| = 1.02 per step (1.02^120 = 10.8).
      CHECK(distances.back() > 5.0 * std::abs(c[5]));
    }
  }
}

namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

struct CliRun {
  int exit_code;
  std::string out, err;
  fs::path dir;
};

// gradflow with the words of args in a fresh directory, without a shell.
// files: inputs written there first (name, content).
CliRun run_cli(const std::string& name, const std::string& args,
               const std::vector<std::pair<std::string, std::string>>& files = {}) {
  const fs::path dir = fs::path(GRADFLOW_TESTS_BINARY_DIR) / "observe_sandbox" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& [file, content] : files) std::ofstream(dir / file) << content;
  std::vector<std::string> argv{GRADFLOW_CLI};
  for (std::string& word : test::split_words(args)) argv.push_back(std::move(word));
  const test::ProgramRun r = test::run_capture(argv, dir.string(), dir.parent_path());
  return CliRun{r.exit_code, r.out, r.err, dir};
}

// The columns of a numeric CSV file with a header, by name.
std::map<std::string, std::vector<double>> csv_columns(const fs::path& path) {
  std::istringstream in(slurp(path));
  std::string line, field;
  std::getline(in, line);
  std::vector<std::string> names;
  std::istringstream header(line);
  while (std::getline(header, field, ',')) names.push_back(field);
  std::map<std::string, std::vector<double>> columns;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    for (const std::string& name : names) {
      REQUIRE(std::getline(fields, field, ','));
      columns[name].push_back(std::stod(field));
    }
  }
  return columns;
}

}  // namespace

TEST_CASE("gradflow flow and descend --observe write the observed columns and the summary", "[observables][cli]") {
  const CliRun flow = run_cli("flow",
                              "flow --problem mlp --synthetic 6,3 --widths 8 --t-end 2 --save-every 0.5 "
                              "--observe ntk,sharpness2,condition --out t.csv --json s.json");
  INFO(flow.err);
  REQUIRE(flow.exit_code == 0);
  const std::string csv = slurp(flow.dir / "t.csv");
  CHECK_THAT(csv, Catch::StartsWith("t,loss,grad_norm,dist_from_init,pl_ratio,bound,ntk_min,ntk_max,condition,"
                                    "sharpness,sharpness_min\n"));
  const std::string json = slurp(flow.dir / "s.json");
  for (const char* key : {"\"ntk_min_along_path\"", "\"sharpness_max_along_path\"", "\"num_observe_gram_matrices\"",
                          "\"min_pl_ratio_minus_ntk_min\"", "an estimate"}) {
    CHECK_THAT(json, Catch::Contains(key));
  }
  CHECK_THAT(flow.out, Catch::Contains("observed"));
  // The summary's extremes are those of the rows, and the identity pl_ratio >= ntk_min holds at each.
  const auto rows = csv_columns(flow.dir / "t.csv");
  const nlohmann::json observe = nlohmann::json::parse(json)["observe"];
  REQUIRE(rows.at("ntk_min").size() == 5);
  CHECK(observe["ntk_min_along_path"].get<double>() ==
        *std::min_element(rows.at("ntk_min").begin(), rows.at("ntk_min").end()));
  CHECK(observe["sharpness_max_along_path"].get<double>() ==
        *std::max_element(rows.at("sharpness").begin(), rows.at("sharpness").end()));
  double margin = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < rows.at("t").size(); ++i) {
    CHECK(rows.at("pl_ratio")[i] >= rows.at("ntk_min")[i]);
    CHECK(rows.at("condition")[i] == Approx(rows.at("ntk_max")[i] / rows.at("ntk_min")[i]).epsilon(1e-12));
    margin = std::min(margin, rows.at("pl_ratio")[i] - rows.at("ntk_min")[i]);
  }
  CHECK(observe["min_pl_ratio_minus_ntk_min"].get<double>() == Approx(margin).epsilon(1e-12));
  const CliRun descend = run_cli("descend",
                                 "descend --problem mlp --synthetic 6,3 --widths 8 --max-iters 20 --save-every 5 "
                                 "--lr 0.01 --observe ntk --out r.csv");
  INFO(descend.err);
  REQUIRE(descend.exit_code == 0);
  CHECK_THAT(slurp(descend.dir / "r.csv"),
             Catch::StartsWith("iter,t,loss,grad_norm,dist_from_init,step_size,pl_ratio,bound,ntk_min,ntk_max\n"));
}

TEST_CASE("Impossible uses of --observe and --against-flow exit with 2, naming the option", "[observables][cli]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"flow --problem quadratic --observe ntk --out t.csv", "--observe"},
      {"flow --problem quadratic --observe sharpness3 --out t.csv", "--observe"},
      {"descend --problem karimi --observe condition --out t.csv", "--observe"},
      {"descend --problem quadratic --leave-tol 0.1 --out t.csv", "--leave-tol"},
      {"descend --problem quadratic --against-flow --leave-tol -1 --out t.csv", "--leave-tol"},
      {"descend --problem quadratic --plot figs --out t.csv", "--plot"}};
  int i = 0;
  for (const auto& [args, option] : cases) {
    const CliRun r = run_cli("refuse" + std::to_string(i++), args);
    INFO(args << "\n" << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(option));
    CHECK_FALSE(fs::exists(r.dir / "t.csv"));
  }
}

TEST_CASE("gradflow descend --against-flow reports where descent leaves the flow and draws it on request",
          "[observables][cli]") {
  const CliRun r = run_cli("against",
                           "descend --problem quadratic --dim 6 --cond 10 --lr 0.21 --max-iters 60 "
                           "--against-flow --out r.csv --json s.json --plot .");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(slurp(r.dir / "r.csv"),
             Catch::StartsWith("iter,t,loss,grad_norm,dist_from_init,step_size,pl_ratio,bound,sharpness,flow_loss,"
                               "distance_to_flow,relative_distance,eta_sharpness,modified_flow_loss,"
                               "distance_to_modified_flow,relative_distance_modified\n"));
  const std::string json = slurp(r.dir / "s.json");
  // eta x sharpness = 0.21: the plain flow's distance (Euler's O(eta) error) passes leave-tol, the modified
  // flow's (O(eta^2)) does not, and the edge is not reached.
  CHECK_THAT(json, Catch::Contains("\"left_flow\": true") && Catch::Contains("\"leave_iter\"") &&
                       Catch::Contains("\"sharpness_at_leave\"") && Catch::Contains("\"edge_reached\": false") &&
                       Catch::Contains("\"modified_flow\": {"));
  CHECK_THAT(r.out, Catch::Contains("descent stays within leave-tol 0.001 (relative) of the modified flow") &&
                        Catch::Contains("edge of stability: not reached") && Catch::Contains("Euler's O(eta) error"));
  CHECK(fs::exists(r.dir / "against_flow.dat"));
  CHECK(fs::exists(r.dir / "against_flow.gp"));
  // The figure's data: against_flow.dat holds iter, loss, flow_loss, eta_sharpness and relative_distance of
  // every row of r.csv, and the script plots those columns. The generated quadratic has beta = 1
  // (docs/theory.md §3.1), so eta x sharpness is 0.21 at every row.
  const auto rows = csv_columns(r.dir / "r.csv");
  const std::string script = slurp(r.dir / "against_flow.gp");
  CHECK_THAT(script, Catch::Contains("'against_flow.dat' using 1:2") && Catch::Contains("using 1:3") &&
                         Catch::Contains("'against_flow.dat' using 1:4") &&
                         Catch::Contains("'against_flow.dat' using 1:5") && Catch::Contains("using 1:6") &&
                         Catch::Contains("using 1:7"));
  std::istringstream dat(slurp(r.dir / "against_flow.dat"));
  std::string line;
  std::size_t i = 0;
  while (std::getline(dat, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    double iter, loss, flow_loss, eta_sharpness, distance, modified_loss, modified_distance;
    REQUIRE(words >> iter >> loss >> flow_loss >> eta_sharpness >> distance >> modified_loss >> modified_distance);
    REQUIRE(i < rows.at("iter").size());
    INFO("row " << i);
    CHECK(iter == rows.at("iter")[i]);
    CHECK(loss == rows.at("loss")[i]);
    CHECK(flow_loss == rows.at("flow_loss")[i]);
    CHECK(eta_sharpness == rows.at("eta_sharpness")[i]);
    CHECK(distance == rows.at("relative_distance")[i]);
    CHECK(modified_loss == rows.at("modified_flow_loss")[i]);
    CHECK(modified_distance == rows.at("relative_distance_modified")[i]);
    CHECK(modified_distance <= 1e-3);
    CHECK(eta_sharpness == Approx(0.21).epsilon(1e-9));
    ++i;
  }
  CHECK(i == rows.at("iter").size());
  CHECK(i == 61);
  if (find_program("gnuplot")) {
    CHECK(fs::file_size(r.dir / "against_flow.png") > 1000);
    CHECK(fs::file_size(r.dir / "against_flow.svg") > 1000);
  }
}

TEST_CASE("The certified run reports its observed ntk_min against the certified (sigma0 - l r*)^2",
          "[observables][cli]") {
  // Least squares (l = 0, n = 3 < p = 4): the NTK is X X^T all along, so the two are equal to round-off.
  const std::string data = "1,0,0,1,2\n0,1,0,1,-1\n0,0,1,1,0.5\n";
  const CliRun r = run_cli("certified",
                           "flow --problem least-squares --data D.csv --certify --t-end 2 --save-every 0.5 "
                           "--observe ntk --json s.json",
                           {{"D.csv", data}});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("observed ntk_min along the run") && Catch::Contains("within the certified bound"));
  const std::string json = slurp(r.dir / "s.json");
  CHECK_THAT(json, Catch::Contains("\"certified_ntk_min_lower_bound\"") &&
                       Catch::Contains("\"observed_ntk_min_along_run\"") && Catch::Contains("\"ntk_margin\""));
  // The two numbers, to round-off, and both lambda_min(X X^T) = 1 by hand: X = [I | 1] gives X X^T = I + 1 1^T,
  // eigenvalues 1, 1, 4. The margin is their difference.
  const nlohmann::json certificate = nlohmann::json::parse(json)["certificate"];
  const double certified = certificate["certified_ntk_min_lower_bound"].get<double>();
  const double observed = certificate["observed_ntk_min_along_run"].get<double>();
  CHECK(std::abs(observed - certified) <= 1e-14);
  CHECK(std::abs(certified - 1.0) <= 1e-14);
  CHECK(std::abs(observed - 1.0) <= 1e-14);
  CHECK(certificate["ntk_margin"].get<double>() == Approx(observed - certified).margin(1e-15));
}
