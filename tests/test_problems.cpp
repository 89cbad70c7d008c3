// problems/: derivatives against finite differences, known constants against closed forms
// (docs/theory.md §3; oracles §7.1, §7.8, §7.12, §7.27), exact flows against independent formulas, and
// input validation.
#include <gradflow/apps/csv.hpp>
#include <gradflow/apps/problem_factory.hpp>
#include <gradflow/core/counting_objective.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/problems/karimi.hpp>
#include <gradflow/problems/least_squares.hpp>
#include <gradflow/problems/quadratic.hpp>
#include <gradflow/problems/rosenbrock.hpp>
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <unsupported/Eigen/MatrixFunctions>

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>

#include <filesystem>
#include <fstream>
#include <memory>

using namespace gradflow;
using gradflow::test::relative_error;

namespace {

// The same problem without its exact Hessian-vector product, to exercise the default one.
class WithoutExactHvp final : public Objective {
 public:
  explicit WithoutExactHvp(const Objective& inner) : inner_(inner) {}
  std::string name() const override { return inner_.name(); }
  Eigen::Index dimension() const override { return inner_.dimension(); }
  double loss(const ConstVectorView& x) const override { return inner_.loss(x); }
  double loss_and_gradient(const ConstVectorView& x, VectorView g) const override {
    return inner_.loss_and_gradient(x, g);
  }

 private:
  const Objective& inner_;
};

struct NamedProblem {
  std::string label;
  std::shared_ptr<Objective> objective;
};

std::vector<NamedProblem> problem_zoo() {
  Random random(7);
  std::vector<NamedProblem> zoo;
  Vector lambda(6);
  lambda << 0.1, 0.5, 1.0, 2.0, 3.0, 4.0;
  zoo.push_back({"quadratic with a minimizer",
                 std::make_shared<Quadratic>(test::spd_matrix(lambda, 3), random.normal_vector(6))});
  zoo.push_back(
      {"least squares, n < p", std::make_shared<LeastSquares>(random.normal_matrix(4, 7), random.normal_vector(4))});
  zoo.push_back(
      {"least squares, n > p", std::make_shared<LeastSquares>(random.normal_matrix(9, 5), random.normal_vector(9))});
  zoo.push_back({"karimi", std::make_shared<Karimi>(5)});
  zoo.push_back({"rosenbrock", std::make_shared<Rosenbrock>(6)});
  return zoo;
}

std::string write_temp(const std::string& name, const std::string& content) {
  const auto dir = std::filesystem::temp_directory_path() / "gradflow_test_problems";
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path) << content;
  return path.string();
}

}  // namespace

TEST_CASE("Every problem's gradient matches central differences of its loss (docs/theory.md §7.27)", "[problems]") {
  Random random(11);
  for (const auto& [label, f] : problem_zoo()) {
    for (int trial = 0; trial < 3; ++trial) {
      const Vector theta = random.normal_vector(f->dimension());
      Vector grad(f->dimension());
      const double loss = f->loss_and_gradient(theta, grad);
      INFO(label);
      CHECK(loss == Approx(f->loss(theta)).epsilon(1e-14));
      CHECK(relative_error(grad, test::numerical_gradient(*f, theta)) < 1e-6);
      Vector grad_only(f->dimension());
      f->gradient(theta, grad_only);
      CHECK((grad_only - grad).norm() == 0.0);
    }
  }
}

TEST_CASE("Every problem's Hessian-vector product matches its dense Hessian and differences of gradients",
          "[problems]") {
  Random random(12);
  for (const auto& [label, f] : problem_zoo()) {
    const Vector theta = random.normal_vector(f->dimension());
    const Vector v = random.normal_vector(f->dimension());
    Vector hv(f->dimension());
    f->hessian_vector(theta, v, hv);
    INFO(label);
    REQUIRE(f->has_hessian());
    REQUIRE(f->has_exact_hessian_vector());
    Matrix h(f->dimension(), f->dimension());
    f->hessian(theta, h);
    CHECK(relative_error(hv, h * v) < 1e-12);
    CHECK((h - h.transpose()).norm() <= 1e-12 * h.norm());
    // The default product (central difference of gradients) agrees to its truncation error.
    const WithoutExactHvp plain(*f);
    Vector hv_fd(f->dimension());
    plain.hessian_vector(theta, v, hv_fd);
    CHECK(relative_error(hv_fd, hv) < 1e-6);
    CHECK_FALSE(plain.has_hessian());
    CHECK_THROWS_AS(plain.hessian(theta, h), std::logic_error);
  }
}

TEST_CASE("A dimension mismatch is a contract violation that names the function", "[problems]") {
  const Karimi f(3);
  Vector g(3);
  try {
    f.loss_and_gradient(Vector::Zero(4), g);
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(e.what(), Catch::Contains("Karimi::loss_and_gradient()"));
  }
}

TEST_CASE("The counting wrapper counts each kind of evaluation once", "[problems]") {
  const Karimi f(2);
  const CountingObjective counted(f);
  Vector g(2), hv(2);
  Matrix h(2, 2);
  counted.loss(Vector::Ones(2));
  counted.loss_and_gradient(Vector::Ones(2), g);
  counted.gradient(Vector::Ones(2), g);
  counted.hessian_vector(Vector::Ones(2), Vector::Ones(2), hv);
  counted.hessian(Vector::Ones(2), h);
  CHECK(counted.counts().num_loss_evals == 1);
  CHECK(counted.counts().num_gradient_evals == 2);
  CHECK(counted.counts().num_hessian_vector_evals == 1);
  CHECK(counted.counts().num_hessian_evals == 1);
}

TEST_CASE("A generated quadratic has eigenvalues log-spaced from 1/cond to 1 and reproduces its bits", "[problems]") {
  const Quadratic q = Quadratic::generated(20, 1e4, 5);
  const KnownFacts facts = q.known();
  REQUIRE(facts.mu);
  REQUIRE(facts.beta);
  CHECK(*facts.mu == Approx(1e-4).epsilon(1e-10));
  CHECK(*facts.beta == Approx(1.0).epsilon(1e-12));
  CHECK(q.eigenvalues()[10] == Approx(std::pow(1e4, 10.0 / 19.0 - 1.0)).epsilon(1e-10));
  const Quadratic again = Quadratic::generated(20, 1e4, 5);
  CHECK((again.matrix() - q.matrix()).cwiseAbs().maxCoeff() == 0.0);
  const Quadratic other = Quadratic::generated(20, 1e4, 6);
  CHECK((other.matrix() - q.matrix()).norm() > 0.1);
  CHECK(facts.minimizer);
}

TEST_CASE("A quadratic's exact flow equals the matrix exponential solution", "[problems]") {
  Vector lambda(5);
  lambda << 0.01, 0.1, 1.0, 3.0, 10.0;
  Random random(3);
  const Vector theta_star = random.normal_vector(5);
  const Quadratic q(test::spd_matrix(lambda, 9), theta_star);
  const Vector theta0 = random.normal_vector(5);
  for (const double t : {0.0, 0.3, 5.0}) {
    const Matrix propagator = (-t * q.matrix()).exp();
    const Vector expected = theta_star + propagator * (theta0 - theta_star);
    CHECK(relative_error(q.exact_flow(theta0, t), expected) < 1e-12);
  }
  // theta'(t) = -grad L(theta(t)), by a central difference in t.
  const double t = 0.7, h = 1e-5;
  const Vector derivative = (q.exact_flow(theta0, t + h) - q.exact_flow(theta0, t - h)) / (2 * h);
  Vector grad(5);
  q.loss_and_gradient(q.exact_flow(theta0, t), grad);
  CHECK(relative_error(derivative, -grad) < 1e-8);
}

TEST_CASE("A quadratic rejects a non-symmetric or indefinite matrix with the reason", "[problems]") {
  Matrix a(2, 2);
  a << 1.0, 0.5, 0.3, 1.0;
  REQUIRE(Quadratic::check_matrix(a));
  CHECK_THAT(*Quadratic::check_matrix(a), Catch::Contains("not symmetric"));
  CHECK_THROWS_AS(Quadratic(a), std::invalid_argument);
  a << 1.0, 2.0, 2.0, 1.0;  // eigenvalues 3 and -1
  REQUIRE(Quadratic::check_matrix(a));
  CHECK_THAT(*Quadratic::check_matrix(a), Catch::Contains("indefinite"));
  CHECK_THAT(*Quadratic::check_matrix(Matrix::Ones(2, 3)), Catch::Contains("square"));
  // Positive semidefinite and singular is allowed: mu is the smallest positive eigenvalue.
  a << 1.0, 1.0, 1.0, 1.0;  // eigenvalues 0 and 2
  CHECK_FALSE(Quadratic::check_matrix(a));
  const Quadratic singular(a);
  REQUIRE(singular.known().mu);
  CHECK(*singular.known().mu == Approx(2.0));
  CHECK_FALSE(singular.known().minimizer);
}

TEST_CASE("Least squares: mu = s_n^2 is the PL constant attained along u_n (docs/theory.md §7.1)", "[problems]") {
  Random random(21);
  const Matrix x = random.normal_matrix(5, 12);
  const Vector y = random.normal_vector(5);
  const LeastSquares f(x, y);
  const Eigen::JacobiSVD<Matrix> svd(x, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const double s_n = svd.singularValues()[4];
  REQUIRE(f.known().mu);
  CHECK(*f.known().mu == Approx(s_n * s_n).epsilon(1e-12));
  CHECK(*f.known().beta == Approx(svd.singularValues()[0] * svd.singularValues()[0]).epsilon(1e-12));
  CHECK(f.known().min_value == 0.0);
  CHECK_FALSE(f.known().minimizer);  // n < p: a whole affine space of minimizers
  Vector grad(12);
  for (int trial = 0; trial < 50; ++trial) {
    const Vector theta = 3.0 * random.normal_vector(12);
    const double loss = f.loss_and_gradient(theta, grad);
    CHECK(grad.squaredNorm() / (2 * loss) >= s_n * s_n * (1 - 1e-10));
  }
  // A point whose residual lies along u_n attains the constant.
  const Vector theta = svd.solve(y + 0.7 * svd.matrixU().col(4));
  const double loss = f.loss_and_gradient(theta, grad);
  CHECK(grad.squaredNorm() / (2 * loss) == Approx(s_n * s_n).epsilon(1e-10));
}

TEST_CASE("Least squares with n > p knows its positive minimum value and its unique minimizer", "[problems]") {
  Random random(22);
  const Matrix x = random.normal_matrix(10, 4);
  const Vector y = random.normal_vector(10);
  const LeastSquares f(x, y);
  const Vector best = x.colPivHouseholderQr().solve(y);
  REQUIRE(f.known().minimizer);
  CHECK(relative_error(*f.known().minimizer, best) < 1e-12);
  CHECK(f.known().min_value == Approx(f.loss(best)).epsilon(1e-12));
  CHECK(f.known().min_value > 0.0);
}

TEST_CASE("The least-squares SVD trajectory equals the closed form through X X^T (docs/theory.md §7.8)", "[problems]") {
  Random random(23);
  const Matrix x = random.normal_matrix(6, 15);
  const Vector y = random.normal_vector(6);
  const LeastSquares f(x, y);
  const Vector theta0 = random.normal_vector(15);
  const Vector r0 = x * theta0 - y;
  // theta(t) = theta0 - X^T (X X^T)^-1 (I - exp(-t X X^T)) r0, from the eigendecomposition of X X^T.
  const Eigen::SelfAdjointEigenSolver<Matrix> eig(x * x.transpose());
  for (const double t : {0.01, 0.5, 3.0, 40.0}) {
    const Vector w = eig.eigenvalues();
    const Vector factor = ((1.0 - (-t * w.array()).exp()) / w.array()).matrix();
    const Vector expected =
        theta0 - x.transpose() * (eig.eigenvectors() * factor.asDiagonal() * eig.eigenvectors().transpose() * r0);
    CHECK(relative_error(f.exact_flow(theta0, t), expected) < 1e-12);
  }
  // The limit is theta0 + X^+ (y - X theta0).
  const Matrix pinv = x.completeOrthogonalDecomposition().pseudoInverse();
  CHECK(relative_error(f.exact_flow(theta0, 1e6), theta0 + pinv * (y - x * theta0)) < 1e-10);
}

TEST_CASE("The Karimi example: f(0) = 0 f >= x^2 and min f'^2/(2f) = 0.175531 >= 1/32 (docs/theory.md §7.12)",
          "[problems]") {
  const Karimi f(1);
  Vector x(1), g(1);
  x[0] = 0.0;
  CHECK(f.loss(x) == 0.0);
  double best = 1e300, argmin = 0.0;
  for (long i = -1000000; i <= 1000000; ++i) {
    if (i == 0) continue;
    x[0] = i * 1e-5;  // the grid over [-10, 10]
    const double loss = f.loss_and_gradient(x, g);
    REQUIRE(loss >= x[0] * x[0]);
    const double ratio = g[0] * g[0] / (2 * loss);
    if (ratio < best) {
      best = ratio;
      argmin = x[0];
    }
  }
  CHECK(best == Approx(0.175531).margin(1e-5));
  CHECK(std::abs(argmin) == Approx(2.20171).margin(1e-4));
  CHECK(best >= *f.known().mu);
  CHECK(*f.known().mu == 1.0 / 32.0);
  CHECK(*f.known().beta == 8.0);
}

TEST_CASE("Rosenbrock has its zero minimum at all ones and needs an even dimension", "[problems]") {
  const Rosenbrock f(4);
  Vector g(4);
  CHECK(f.loss_and_gradient(Vector::Ones(4), g) == 0.0);
  CHECK(g.norm() == 0.0);
  CHECK(f.loss(Vector::Zero(4)) == 2.0);
  CHECK_THROWS_AS(Rosenbrock(3), std::invalid_argument);
  CHECK_FALSE(f.known().mu);
}

TEST_CASE("The seeded normal generator reproduces its bits and has mean 0 and variance 1", "[problems]") {
  Random a(99), b(99);
  const Vector x = a.normal_vector(200000);
  CHECK((x - b.normal_vector(200000)).cwiseAbs().maxCoeff() == 0.0);
  const double mean = x.mean();
  const double variance = (x.array() - mean).square().sum() / (x.size() - 1);
  CHECK(std::abs(mean) < 4.0 / std::sqrt(200000.0));  // 4 standard errors
  CHECK(std::abs(variance - 1.0) < 4.0 * std::sqrt(2.0 / 200000.0));
  CHECK(derive_seed(1, 0) != derive_seed(1, 1));
}

TEST_CASE("CSV reading accepts a header where allowed and names file line and column on bad input", "[problems]") {
  const auto good = write_temp("good.csv", "x1, x2 ,y\n1,2,3\n\n4,5.5,-6e-1\n");
  const CsvTable table = read_csv(good, "--data", true);
  CHECK(table.header.size() == 3);
  REQUIRE(table.values.rows() == 2);
  CHECK(table.values(1, 2) == -0.6);
  CHECK_THROWS_WITH(read_csv(good, "--matrix"), Catch::Contains("--matrix") && Catch::Contains("line 1") &&
                                                    Catch::Contains("'x1' is not a number"));
  CHECK_THROWS_WITH(read_csv(write_temp("ragged.csv", "1,2\n3\n"), "--data"),
                    Catch::Contains("line 2 has 1 values, expected 2"));
  CHECK_THROWS_WITH(read_csv(write_temp("nan.csv", "1,nan\n"), "--data"), Catch::Contains("not finite"));
  CHECK_THROWS_WITH(read_csv(write_temp("inf.csv", "1,2\n-inf,3\n"), "--data"),
                    Catch::Contains("line 2, column 1") && Catch::Contains("not finite"));
  CHECK_THROWS_WITH(read_csv(write_temp("empty.csv", "\n\n"), "--data"), Catch::Contains("no numeric rows"));
  CHECK_THROWS_WITH(read_csv("/nonexistent/file.csv", "--theta0"),
                    Catch::Contains("--theta0 /nonexistent/file.csv") && Catch::Contains("cannot open"));
  CHECK_THROWS_WITH(read_vector_csv(write_temp("wide.csv", "1,2\n"), "--theta0"),
                    Catch::Contains("one value per line"));
  CHECK_THROWS_AS(read_csv(write_temp("text.csv", "1,abc\n"), "--data"), InputError);
}

TEST_CASE("The problem factory builds each problem and rejects options that do not fit", "[problems]") {
  ProblemSpec spec;
  spec.problem = ProblemKind::karimi;
  spec.dim = 3;
  CHECK(make_problem(spec)->dimension() == 3);
  spec.problem = ProblemKind::rosenbrock;
  CHECK_THROWS_WITH(make_problem(spec), Catch::Contains("--dim 3") && Catch::Contains("even"));
  CHECK_THROWS_WITH(parse_problem("nope"), Catch::Contains("--problem nope: unknown problem"));
  CHECK_THROWS_WITH(parse_activation("relu6"), Catch::Contains("--activation relu6: unknown activation"));
  CHECK_THROWS_WITH(parse_init_scheme("he"), Catch::Contains("--init he: unknown initialization"));
  CHECK(parse_problem("least-squares") == ProblemKind::least_squares);
  spec.problem = ProblemKind::least_squares;
  CHECK_THROWS_WITH(make_problem(spec), Catch::Contains("--data: is required"));
  spec.problem = ProblemKind::quadratic;
  spec.dim = 0;
  CHECK_THROWS_WITH(make_problem(spec), Catch::Contains("--dim 0"));
  spec.dim = 4;
  spec.cond = 0.5;
  CHECK_THROWS_WITH(make_problem(spec), Catch::Contains("--cond 0.5"));
  spec.cond = 10;
  spec.data = "x.csv";
  CHECK_THROWS_WITH(make_problem(spec), Catch::Contains("--data x.csv: is not used by --problem quadratic"));
  spec.data.clear();
  spec.matrix = write_temp("a.csv", "2,0\n0,1\n");
  spec.dim.reset();
  const auto q = make_problem(spec);
  CHECK(q->dimension() == 2);
  spec.minimizer = write_temp("m.csv", "1\n2\n3\n");
  CHECK_THROWS_WITH(make_problem(spec), Catch::Contains("--minimizer") && Catch::Contains("has 3 values"));
  CHECK(default_theta0(5, 1) == default_theta0(5, 1));
  CHECK(default_theta0(5, 1) != default_theta0(5, 2));
}
