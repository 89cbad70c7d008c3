// problems/ at its edges: constructors and residual-structure functions refuse bad input (empty or
// non-finite data, wrong sizes, invalid options) with a message naming the size or the field; degenerate
// data (rank-deficient or zero X, a zero matrix, dependent network inputs, n > p) give the closed-form
// constants; the activations' derivatives match finite differences and their limits at extreme inputs.
#include <gradflow/core/random.hpp>
#include <gradflow/problems/activation.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/karimi.hpp>
#include <gradflow/problems/least_squares.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/problems/quadratic.hpp>
#include <gradflow/problems/rosenbrock.hpp>
#include <gradflow/theory/certificate.hpp>
#include <gradflow/theory/power_iteration.hpp>
#include "mlp_support.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <Eigen/SVD>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

using namespace gradflow;
using gradflow::test::mlp_architecture;
using gradflow::test::relative_error;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// The message of the std::invalid_argument that f throws ("" when it throws none).
template <class F>
std::string invalid_argument_message(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

Vector xavier(const MlpArchitecture& a, std::uint64_t seed) {
  InitOptions init;
  init.scheme = InitScheme::xavier_normal;
  init.seed = seed;
  return initialize(a, init);
}

}  // namespace

TEST_CASE("LeastSquares refuses empty, mismatched or non-finite data, naming the sizes", "[problems]") {
  Random random(301);
  CHECK_THAT(invalid_argument_message([] { LeastSquares(Matrix(0, 3), Vector(0)); }),
             Catch::Contains("at least one row and one column"));
  CHECK_THAT(invalid_argument_message([] { LeastSquares(Matrix(3, 0), Vector::Zero(3)); }),
             Catch::Contains("at least one row and one column"));
  CHECK_THAT(invalid_argument_message([&] { LeastSquares(random.normal_matrix(3, 2), Vector::Zero(2)); }),
             Catch::Contains("y has 2 entries, X has 3 rows"));
  Matrix x = random.normal_matrix(3, 2);
  x(1, 1) = kNaN;
  CHECK_THAT(invalid_argument_message([&] { LeastSquares(x, Vector::Zero(3)); }), Catch::Contains("non-finite"));
  Vector y = Vector::Zero(3);
  y[2] = kInf;
  CHECK_THAT(invalid_argument_message([&] { LeastSquares(random.normal_matrix(3, 2), y); }),
             Catch::Contains("non-finite"));
}

TEST_CASE("LeastSquares' residual functions refuse vectors and matrices of the wrong size, naming both sizes",
          "[problems]") {
  Random random(302);
  const LeastSquares f(random.normal_matrix(3, 2), random.normal_vector(3));
  const Vector theta = random.normal_vector(2);
  Vector four(4), two(2), three(3);
  CHECK_THAT(invalid_argument_message([&] { f.residuals(theta, four); }),
             Catch::Contains("LeastSquares::residuals()") && Catch::Contains("4 entries, 3 residuals expected"));
  CHECK_THAT(invalid_argument_message([&] { f.jv(theta, two, four); }),
             Catch::Contains("LeastSquares::jv()") && Catch::Contains("4 entries, 3 residuals expected"));
  CHECK_THAT(invalid_argument_message([&] { f.jtv(theta, four, two); }),
             Catch::Contains("LeastSquares::jtv()") && Catch::Contains("4 entries, 3 residuals expected"));
  Matrix wrong(2, 3);
  CHECK_THAT(invalid_argument_message([&] { f.jacobian(theta, wrong); }),
             Catch::Contains("LeastSquares::jacobian()") && Catch::Contains("n x p = 3 x 2"));
  Matrix tall(3, 3);
  CHECK_THAT(invalid_argument_message([&] { f.jacobian(theta, tall); }), Catch::Contains("n x p = 3 x 2"));
  // The right sizes: J = X, J v = X v, J^T w = X^T w.
  Matrix j(3, 2);
  f.jacobian(theta, j);
  CHECK((j - f.data()).norm() == 0.0);
  f.jtv(theta, three.setOnes(), two);
  CHECK(relative_error(two, f.data().transpose() * Vector::Ones(3)) < 1e-14);
}

TEST_CASE("Least squares with rank-deficient X: mu = the smallest positive s^2, the residual floor, no minimizer",
          "[problems]") {
  // X = [a, b, a + b]: rank 2 < p = 3 < n = 6.
  Random random(303);
  const Matrix ab = random.normal_matrix(6, 2);
  Matrix x(6, 3);
  x << ab, ab.col(0) + ab.col(1);
  const Vector y = random.normal_vector(6);
  const LeastSquares f(x, y);
  CHECK(f.rank() == 2);
  const Eigen::JacobiSVD<Matrix> svd(x);
  const KnownFacts facts = f.known();
  REQUIRE(facts.mu);
  CHECK(*facts.mu == Approx(std::pow(svd.singularValues()[1], 2)).epsilon(1e-12));
  CHECK(*facts.beta == Approx(std::pow(svd.singularValues()[0], 2)).epsilon(1e-12));
  CHECK_FALSE(facts.minimizer);  // theta + t (1, 1, -1) are all minimizers
  // inf L from the full-rank columns a, b: the same range.
  const Vector fit = ab * ab.colPivHouseholderQr().solve(y);
  REQUIRE(facts.min_value);
  CHECK(*facts.min_value == Approx(0.5 * (y - fit).squaredNorm()).epsilon(1e-12));
  // The flow's limit reaches the floor and moves theta0 only within the row space (orthogonal to (1, 1, -1)).
  const Vector theta0 = random.normal_vector(3);
  const Vector limit = f.exact_flow(theta0, 1e6);
  CHECK(f.loss(limit) == Approx(*facts.min_value).epsilon(1e-10));
  CHECK(std::abs((limit - theta0).dot(Vector::Ones(3) - 2 * Vector::Unit(3, 2))) < 1e-10);
  // rank 2 < n = 6: the certificate does not apply, and says why.
  CHECK_THAT(f.certificate_obstacle(theta0), Catch::Contains("rank(X) = 2 < n = 6"));
  const Certificate c = certify(f, theta0);
  CHECK_FALSE(c.applies);
  CHECK_THAT(c.why_not, Catch::Contains("rank(X) = 2 < n = 6"));
}

TEST_CASE("Least squares with X = 0: rank 0, beta = 0, no mu, inf L = ||y||^2 / 2, and the flow stays at theta0",
          "[problems]") {
  const Vector y = (Vector(3) << 1.0, -2.0, 2.0).finished();
  const LeastSquares f(Matrix::Zero(3, 2), y);
  CHECK(f.rank() == 0);
  const KnownFacts facts = f.known();
  CHECK_FALSE(facts.mu);
  REQUIRE(facts.beta);
  CHECK(*facts.beta == 0.0);
  REQUIRE(facts.min_value);
  CHECK(*facts.min_value == Approx(4.5).epsilon(1e-15));
  CHECK_FALSE(facts.minimizer);
  const Vector theta0 = (Vector(2) << 0.3, -0.7).finished();
  CHECK((f.exact_flow(theta0, 5.0) - theta0).norm() == 0.0);
  CHECK_THAT(f.certificate_obstacle(theta0), Catch::Contains("rank(X) = 0 < n = 3"));
  // A zero Hessian: the power iteration stops at once with beta = 0 (converged).
  const SmoothnessEstimate estimate = estimate_smoothness(f, theta0, 4);
  CHECK(estimate.beta == 0.0);
  CHECK(estimate.converged);
  CHECK(estimate.iterations == 1);
}

TEST_CASE("Quadratic refuses an empty or non-finite matrix and a minimizer of the wrong size, naming them",
          "[problems]") {
  CHECK_THAT(*Quadratic::check_matrix(Matrix(0, 0)), Catch::Contains("0 x 0") && Catch::Contains("non-empty"));
  Matrix a = Matrix::Identity(2, 2);
  a(0, 1) = a(1, 0) = kInf;
  CHECK_THAT(*Quadratic::check_matrix(a), Catch::Contains("non-finite"));
  CHECK_THAT(invalid_argument_message([&] { const Quadratic q(a); }), Catch::StartsWith("Quadratic(): the matrix has"));
  CHECK_THAT(invalid_argument_message([] { Quadratic(Matrix::Identity(2, 2), Vector::Zero(3)); }),
             Catch::Contains("the minimizer has 3 entries, the matrix is 2 x 2"));
  const Vector nan_star = (Vector(2) << 0.0, kNaN).finished();
  CHECK_THAT(invalid_argument_message([&] { Quadratic(Matrix::Identity(2, 2), nan_star); }),
             Catch::Contains("minimizer has a non-finite entry"));
}

TEST_CASE("Quadratic::generated refuses dim < 1, cond < 1 or not finite, and cond != 1 in dimension 1", "[problems]") {
  CHECK_THAT(invalid_argument_message([] { Quadratic::generated(0, 1.0, 1); }), Catch::Contains("dim must be >= 1"));
  for (const double cond : {0.5, 0.0, -3.0, kNaN, kInf}) {
    INFO("cond = " << cond);
    CHECK_THAT(invalid_argument_message([&] { Quadratic::generated(3, cond, 1); }),
               Catch::Contains("cond must be >= 1"));
  }
  CHECK_THAT(invalid_argument_message([] { Quadratic::generated(1, 2.0, 1); }), Catch::Contains("needs dim >= 2"));
  // Dimension 1, cond 1: A = [1] (Q = +-1), mu = beta = 1.
  const Quadratic one = Quadratic::generated(1, 1.0, 7);
  CHECK(one.matrix()(0, 0) == Approx(1.0).epsilon(1e-15));
  CHECK(*one.known().mu == Approx(1.0).epsilon(1e-15));
  CHECK(*one.known().beta == Approx(1.0).epsilon(1e-15));
}

TEST_CASE("A zero quadratic is allowed: no mu, beta = 0, no unique minimizer, a constant flow", "[problems]") {
  const Quadratic zero(Matrix::Zero(3, 3));
  const KnownFacts facts = zero.known();
  CHECK_FALSE(facts.mu);
  REQUIRE(facts.beta);
  CHECK(*facts.beta == 0.0);
  CHECK_FALSE(facts.minimizer);
  const Vector theta0 = (Vector(3) << 1.0, 2.0, 3.0).finished();
  CHECK((zero.exact_flow(theta0, 10.0) - theta0).norm() == 0.0);
  CHECK(zero.loss(theta0) == 0.0);
}

TEST_CASE("Karimi and Rosenbrock refuse dimensions they are not defined in", "[problems]") {
  CHECK_THAT(invalid_argument_message([] { Karimi(0); }), Catch::Contains("dim must be >= 1"));
  for (const Eigen::Index dim : {Eigen::Index{0}, Eigen::Index{-2}, Eigen::Index{1}, Eigen::Index{5}}) {
    INFO("dim = " << dim);
    CHECK_THAT(invalid_argument_message([&] { const Rosenbrock r(dim); }), Catch::Contains("even and >= 2"));
  }
  CHECK(Rosenbrock(2).dimension() == 2);
}

TEST_CASE("The network refuses invalid architectures and data, naming what is wrong", "[problems]") {
  Random random(304);
  const Matrix x = random.normal_matrix(4, 3);
  const Vector y = random.normal_vector(4);
  CHECK_THAT(invalid_argument_message([&] { Mlp(mlp_architecture(0, {2}, Activation::tanh), x, y); }),
             Catch::Contains("input dimension must be >= 1"));
  CHECK_THAT(invalid_argument_message([&] { Mlp(mlp_architecture(3, {}, Activation::tanh), x, y); }),
             Catch::Contains("at least one hidden layer"));
  CHECK_THAT(invalid_argument_message([&] {
               Mlp(mlp_architecture(3, {4, 0}, Activation::tanh), x, y);
             }),
             Catch::Contains("hidden layer 2 has width 0"));
  CHECK_THAT(
      invalid_argument_message([&] { Mlp(mlp_architecture(3, {2}, Activation::tanh), Matrix(0, 3), Vector(0)); }),
      Catch::Contains("data set is empty"));
  CHECK_THAT(invalid_argument_message([&] { Mlp(mlp_architecture(5, {2}, Activation::tanh), x, y); }),
             Catch::Contains("the data have 3 features, the network 5 inputs"));
  CHECK_THAT(invalid_argument_message([&] { Mlp(mlp_architecture(3, {2}, Activation::tanh), x, Vector::Zero(3)); }),
             Catch::Contains("one target per sample"));
  Matrix bad_x = x;
  bad_x(2, 1) = kNaN;
  CHECK_THAT(invalid_argument_message([&] { Mlp(mlp_architecture(3, {2}, Activation::tanh), bad_x, y); }),
             Catch::Contains("non-finite"));
  Vector bad_y = y;
  bad_y[0] = -kInf;
  CHECK_THAT(invalid_argument_message([&] { Mlp(mlp_architecture(3, {2}, Activation::tanh), x, bad_y); }),
             Catch::Contains("non-finite"));
}

TEST_CASE("The network's residual functions refuse vectors and matrices of the wrong size, naming both sizes",
          "[problems]") {
  const NetworkData data = synthetic_data(4, 6, 305);
  const Mlp f(mlp_architecture(6, {3}, Activation::tanh), data.x, data.y);  // p = 18 + 3 = 21
  REQUIRE(f.dimension() == 21);
  const Vector theta = xavier(f.architecture(), 1);
  Vector five(5), p_vector = Vector::Ones(21);
  CHECK_THAT(invalid_argument_message([&] { f.residuals(theta, five); }),
             Catch::Contains("Mlp::residuals()") && Catch::Contains("5 entries, 4 residuals expected"));
  CHECK_THAT(invalid_argument_message([&] { f.jv(theta, p_vector, five); }),
             Catch::Contains("Mlp::jv()") && Catch::Contains("5 entries, 4 residuals expected"));
  CHECK_THAT(invalid_argument_message([&] { f.jtv(theta, five, p_vector); }),
             Catch::Contains("Mlp::jtv()") && Catch::Contains("5 entries, 4 residuals expected"));
  Matrix wrong(4, 20);
  CHECK_THAT(invalid_argument_message([&] { f.jacobian(theta, wrong); }),
             Catch::Contains("Mlp::jacobian()") && Catch::Contains("n x p = 4 x 21"));
  Matrix wrong_rows(3, 21);
  CHECK_THAT(invalid_argument_message([&] { f.jacobian(theta, wrong_rows); }), Catch::Contains("n x p = 4 x 21"));
  // The right size: the same matrix as the returning overload, whose rows are d f(x_i) / d theta.
  Matrix j(4, 21);
  f.jacobian(theta, j);
  CHECK((j - f.jacobian(theta)).norm() == 0.0);
}

TEST_CASE("A network with more samples than parameters has sigma_n(J) = 0 and ||J|| from the Gram matrix",
          "[problems]") {
  const NetworkData data = synthetic_data(5, 2, 306);
  const Mlp f(mlp_architecture(2, {1}, Activation::arctan), data.x, data.y);  // p = 2 + 1 = 3 < n = 5
  REQUIRE(f.dimension() == 3);
  const Vector theta = xavier(f.architecture(), 2);
  const Eigen::JacobiSVD<Matrix> svd(f.jacobian(theta));
  const JacobianSpectrum spectrum = f.jacobian_spectrum(theta);
  CHECK(spectrum.sigma_min == 0.0);
  CHECK(spectrum.sigma_max == Approx(svd.singularValues()[0]).epsilon(1e-10));
  CHECK(f.sigma_min(theta) == 0.0);
  const Certificate c = certify(f, theta);
  CHECK_FALSE(c.applies);
  CHECK_THAT(c.why_not, Catch::Contains("n = 5 > d = 2"));
}

TEST_CASE("A network on linearly dependent inputs (n <= d) is not certified, and the report says rank(X) < n",
          "[problems]") {
  // Rows 0 and 2 equal: rank 3 < n = 4 <= d = 6.
  NetworkData data = synthetic_data(4, 6, 307);
  data.x.row(2) = data.x.row(0);
  const IndependenceReport report = independence_report(data.x);
  CHECK(report.rank == 3);
  CHECK_FALSE(report.applies);
  CHECK(report.sigma_min < 1e-14);
  CHECK_THAT(report.message, Catch::Contains("rank(X) = 3") && Catch::Contains("warning: rank(X) < n"));
  const Mlp f(mlp_architecture(6, {5}, Activation::tanh), data.x, data.y);
  const Vector theta = xavier(f.architecture(), 3);
  CHECK_THAT(f.certificate_obstacle(theta), Catch::Contains("rank(X) = 3 < n: the inputs are linearly dependent"));
  // Independent inputs: the report gives the condition number sigma_max / sigma_min of X.
  const NetworkData independent = synthetic_data(4, 6, 308);
  const IndependenceReport good = independence_report(independent.x);
  const Eigen::JacobiSVD<Matrix> svd(independent.x);
  CHECK(good.applies);
  CHECK(good.sigma_min == Approx(svd.singularValues()[3]).epsilon(1e-12));
  CHECK_THAT(good.message, Catch::Contains("condition number"));
  CHECK_FALSE(Catch::Contains("warning").match(good.message));
}

TEST_CASE("The network gives no Lipschitz bound of J for a non-qualifying activation or with biases", "[problems]") {
  const NetworkData data = synthetic_data(3, 5, 309);
  const Mlp relu(mlp_architecture(5, {4}, Activation::relu), data.x, data.y);
  CHECK_FALSE(relu.jacobian_lipschitz_bound(xavier(relu.architecture(), 1)));
  CHECK_FALSE(relu.jacobian_lipschitz(xavier(relu.architecture(), 1), 1.0));
  const Mlp biased(mlp_architecture(5, {4}, Activation::tanh, true), data.x, data.y);
  CHECK_FALSE(biased.jacobian_lipschitz_bound(xavier(biased.architecture(), 1)));
  const Mlp plain(mlp_architecture(5, {4}, Activation::tanh), data.x, data.y);
  CHECK(plain.jacobian_lipschitz_bound(xavier(plain.architecture(), 1)));
}

TEST_CASE("A network above 2000 parameters has no dense Hessian, and asking for one is a logic error", "[problems]") {
  const NetworkData data = synthetic_data(2, 100, 310);
  const Mlp f(mlp_architecture(100, {25}, Activation::tanh), data.x, data.y);  // p = 2500 + 25
  REQUIRE(f.dimension() == 2525);
  CHECK_FALSE(f.has_hessian());
  Matrix h(1, 1);
  CHECK_THROWS_AS(f.hessian(xavier(f.architecture(), 1), h), std::logic_error);
}

TEST_CASE("The network's memory estimate counts the biases and saturates on overflow", "[problems]") {
  const MlpArchitecture plain = mlp_architecture(10, {20, 30}, Activation::tanh);
  const MlpArchitecture biased = mlp_architecture(10, {20, 30}, Activation::tanh, true);
  const SizeEstimate without = network_memory(plain, 50);
  const SizeEstimate with = network_memory(biased, 50);
  // At least theta's 8 bytes for each of the 20 + 30 hidden biases.
  CHECK(with.bytes() >= without.bytes() + 8 * 50);
  CHECK_FALSE(with.overflowed());
  const Eigen::Index huge = Eigen::Index{1} << 40;
  const SizeEstimate overflowed = network_memory(mlp_architecture(huge, {huge, huge}, Activation::tanh), 10);
  CHECK(overflowed.overflowed());
  CHECK(overflowed.bytes() == UINT64_MAX);
}

TEST_CASE("initialize() refuses an invalid architecture, a positive scheme without 0 < a < b, a non-finite scale",
          "[problems]") {
  InitOptions init;
  CHECK_THAT(invalid_argument_message([&] { initialize(mlp_architecture(3, {}, Activation::tanh), init); }),
             Catch::StartsWith("initialize(): the network needs at least one hidden layer"));
  const MlpArchitecture a = mlp_architecture(3, {4}, Activation::tanh);
  init.scheme = InitScheme::positive;
  const auto positive_message = [&](double low, double high) {
    InitOptions o = init;
    o.positive_low = low;
    o.positive_high = high;
    return invalid_argument_message([&] { initialize(a, o); });
  };
  CHECK_THAT(positive_message(0.0, 1.0), Catch::Contains("0 < a < b"));
  CHECK_THAT(positive_message(-1.0, 1.0), Catch::Contains("0 < a < b"));
  CHECK_THAT(positive_message(1.0, 1.0), Catch::Contains("0 < a < b"));
  CHECK_THAT(positive_message(kNaN, 1.0), Catch::Contains("0 < a < b"));
  CHECK_THAT(positive_message(0.5, kInf), Catch::Contains("0 < a < b"));
  CHECK(positive_message(0.5, 1.5).empty());
  // The same bounds mean nothing to another scheme.
  InitOptions other;
  other.scheme = InitScheme::kaiming_uniform;
  other.positive_low = -1.0;
  CHECK_NOTHROW(initialize(a, other));
  for (const double scale : {kNaN, kInf, -kInf}) {
    InitOptions o = other;
    o.output_scale = scale;
    CHECK_THAT(invalid_argument_message([&] { initialize(a, o); }), Catch::Contains("output scale is not finite"));
  }
}

TEST_CASE("synthetic_data needs n, d >= 1, standardize only centres a constant column", "[problems]") {
  CHECK_THAT(invalid_argument_message([] { synthetic_data(0, 3, 1); }), Catch::Contains("n and d must be >= 1"));
  CHECK_THAT(invalid_argument_message([] { synthetic_data(3, 0, 1); }), Catch::Contains("n and d must be >= 1"));
  NetworkData data = synthetic_data(6, 3, 311);
  data.x.col(1).setConstant(4.0);
  standardize(data);
  CHECK(data.x.col(1).cwiseAbs().maxCoeff() == 0.0);  // centred, not divided by sd = 0
  for (const Eigen::Index j : {Eigen::Index{0}, Eigen::Index{2}}) {
    CHECK(std::abs(data.x.col(j).mean()) < 1e-14);
    CHECK(data.x.col(j).squaredNorm() / 5.0 == Approx(1.0).epsilon(1e-12));
  }
  CHECK(data.y.squaredNorm() / 5.0 == Approx(1.0).epsilon(1e-12));
}

TEST_CASE("Only the smooth increasing activations qualify, the others say why, naming themselves", "[problems]") {
  for (const Activation a : {Activation::relu, Activation::silu, Activation::gelu}) {
    INFO(to_string(a));
    CHECK_FALSE(qualifies(a));
    CHECK_THAT(why_not_qualified(a), Catch::StartsWith(std::string(to_string(a)) + " is not"));
  }
  for (const Activation a : {Activation::tanh, Activation::arctan, Activation::softplus, Activation::sigmoid,
                             Activation::softplus_centered}) {
    INFO(to_string(a));
    CHECK(qualifies(a));
    CHECK(why_not_qualified(a).empty());
  }
}

TEST_CASE("Every activation's sigma' and sigma'' match central differences, through both activate() overloads",
          "[problems]") {
  Matrix z(2, 5);
  z << -3.0, -0.9, -0.2, 0.4, 1.7, -1.3, 0.05, 0.7, 2.5, -2.2;  // away from relu's kink at 0
  const double h = 1e-5;
  const Matrix up = (z.array() + h).matrix(), down = (z.array() - h).matrix();
  for (const Activation a : {Activation::tanh, Activation::arctan, Activation::softplus, Activation::sigmoid,
                             Activation::softplus_centered, Activation::relu, Activation::silu, Activation::gelu}) {
    INFO(to_string(a));
    Matrix value, d1, d2, value_up, value_down, d1_up, d1_down;
    activate(a, z, value, &d1, &d2);
    activate(a, up, value_up, &d1_up);
    activate(a, down, value_down, &d1_down);
    REQUIRE(d1.rows() == 2);
    REQUIRE(d2.cols() == 5);
    const Matrix fd1 = (value_up - value_down) / (2 * h);
    const Matrix fd2 = (d1_up - d1_down) / (2 * h);
    CHECK((fd1 - d1).cwiseAbs().maxCoeff() < 1e-8);
    CHECK((fd2 - d2).cwiseAbs().maxCoeff() < 1e-8);
    // Without the derivatives: the same values.
    Matrix alone;
    activate(a, z, alone);
    CHECK((alone - value).cwiseAbs().maxCoeff() == 0.0);
    // sigma'' without sigma' (the pointer overload): the same sigma''.
    Matrix second_only(2, 5), value_again(2, 5);
    activate(a, z.data(), value_again.data(), nullptr, second_only.data(), z.size());
    CHECK((second_only - d2).cwiseAbs().maxCoeff() <= 1e-15);
    CHECK((value_again - value).cwiseAbs().maxCoeff() <= 1e-15);
  }
}

TEST_CASE("Activations at extreme inputs: finite values and the limits of sigma, sigma' and sigma''", "[problems]") {
  const Vector z = (Vector(6) << -1e3, -40.0, -1e-300, 0.0, 40.0, 1e3).finished();
  for (const Activation a : {Activation::tanh, Activation::arctan, Activation::softplus, Activation::sigmoid,
                             Activation::softplus_centered, Activation::relu, Activation::silu, Activation::gelu}) {
    INFO(to_string(a));
    Matrix value, d1, d2;
    activate(a, Matrix(z), value, &d1, &d2);
    CHECK(value.allFinite());
    CHECK(d1.allFinite());
    CHECK(d2.allFinite());
  }
  const auto at = [&](Activation a, int which, Eigen::Index i) {
    Matrix value, d1, d2;
    activate(a, Matrix(z), value, &d1, &d2);
    return which == 0 ? value(i) : which == 1 ? d1(i) : d2(i);
  };
  // Saturation: tanh -> +-1 with vanishing derivatives.
  CHECK(at(Activation::tanh, 0, 0) == -1.0);
  CHECK(at(Activation::tanh, 0, 5) == 1.0);
  CHECK(std::abs(at(Activation::tanh, 1, 4)) < 1e-30);
  // arctan -> +-pi/2, sigma' = 1 / (1 + z^2), sigma'' = -2 z / (1 + z^2)^2.
  CHECK(at(Activation::arctan, 0, 5) ==
        Approx(std::numbers::pi / 2 - std::atan(1e-3)).epsilon(1e-14));  // arctan z + arctan 1/z = pi/2
  CHECK(at(Activation::arctan, 1, 5) == Approx(1.0 / (1.0 + 1e6)).epsilon(1e-14));
  CHECK(at(Activation::arctan, 2, 0) == Approx(2e3 / std::pow(1.0 + 1e6, 2)).epsilon(1e-12));
  // The logistic family, stable on both sides: sigmoid(-40) = e^-40 / (1 + e^-40), softplus(-40) = log1p(e^-40).
  const double e40 = std::exp(-40.0);
  CHECK(at(Activation::sigmoid, 0, 1) == Approx(e40 / (1.0 + e40)).epsilon(1e-14));
  CHECK(at(Activation::sigmoid, 0, 0) == 0.0);
  CHECK(at(Activation::sigmoid, 0, 5) == 1.0);
  CHECK(at(Activation::softplus, 0, 1) == Approx(std::log1p(e40)).epsilon(1e-14));
  CHECK(at(Activation::softplus, 0, 5) == 1e3);
  CHECK(at(Activation::softplus, 1, 1) == Approx(e40).epsilon(1e-12));
  CHECK(at(Activation::softplus, 2, 1) == Approx(e40).epsilon(1e-12));
  CHECK(at(Activation::softplus_centered, 0, 3) == 0.0);
  CHECK(std::abs(at(Activation::softplus_centered, 0, 2)) <= 1e-16);
  CHECK(at(Activation::softplus_centered, 0, 4) == Approx(40.0 - std::numbers::ln2).epsilon(1e-15));
  CHECK(at(Activation::softplus_centered, 0, 0) == Approx(-std::numbers::ln2).epsilon(1e-15));
  // relu: 0 and 1 on either side.
  CHECK(at(Activation::relu, 0, 0) == 0.0);
  CHECK(at(Activation::relu, 1, 1) == 0.0);
  CHECK(at(Activation::relu, 1, 4) == 1.0);
  // silu and gelu -> z on the right, -> 0 on the left.
  CHECK(at(Activation::silu, 0, 4) == Approx(40.0).epsilon(1e-15));
  CHECK(at(Activation::silu, 1, 5) == 1.0);
  CHECK(std::abs(at(Activation::silu, 0, 0)) == 0.0);
  CHECK(at(Activation::gelu, 0, 5) == 1e3);
  CHECK(at(Activation::gelu, 1, 5) == 1.0);
  CHECK(std::abs(at(Activation::gelu, 0, 0)) == 0.0);
  // sigma''(0): gelu 2 phi(0) = 2 / sqrt(2 pi), sigmoid 0, softplus 1/4.
  CHECK(at(Activation::gelu, 2, 3) == Approx(2.0 / std::sqrt(2.0 * std::numbers::pi)).epsilon(1e-15));
  CHECK(at(Activation::sigmoid, 2, 3) == 0.0);
  CHECK(at(Activation::softplus, 2, 3) == 0.25);
}

TEST_CASE("A square Jacobian (n = p) has sigma_n(J) = its smallest singular value, for least squares and the network",
          "[problems]") {
  Random random(311);
  // Least squares, X 4 x 4: J = X.
  const Matrix x = random.normal_matrix(4, 4);
  const LeastSquares lsq(x, random.normal_vector(4));
  const Vector svd = Eigen::JacobiSVD<Matrix>(x).singularValues();
  const JacobianSpectrum s = lsq.jacobian_spectrum(random.normal_vector(4));
  CHECK(s.sigma_min == Approx(svd[3]).epsilon(1e-10));
  CHECK(s.sigma_max == Approx(svd[0]).epsilon(1e-10));
  // A network with as many samples as parameters: d = 2, one hidden unit, p = 2 + 1 = 3, n = 3.
  const Matrix features = random.normal_matrix(3, 2);
  const Mlp network(mlp_architecture(2, {1}, Activation::tanh), features, random.normal_vector(3));
  REQUIRE(network.dimension() == 3);
  const Vector theta = random.normal_vector(3);
  const Vector singular = Eigen::JacobiSVD<Matrix>(network.jacobian(theta)).singularValues();
  REQUIRE(singular[2] > 1e-6);
  CHECK(network.jacobian_spectrum(theta).sigma_min == Approx(singular[2]).epsilon(1e-8));
  CHECK(network.sigma_min(theta) == Approx(singular[2]).epsilon(1e-8));
}

TEST_CASE("A parameter count past 2^63 - 1 is an overflow_error, never a wrapped offset (found by fuzzing)",
          "[problems]") {
  MlpArchitecture a;
  a.input_dim = 182327025183791812;  // 86 x this overflows a 64-bit count
  a.widths = {86, 86};
  a.activation = Activation::tanh;
  CHECK_THROWS_AS(a.num_parameters(), std::overflow_error);
  CHECK_THROWS_AS(a.layers(), std::overflow_error);
  CHECK_FALSE(a.checked_num_parameters().has_value());
  a.input_dim = 8;
  REQUIRE(a.checked_num_parameters().has_value());
  CHECK(*a.checked_num_parameters() == 8 * 86 + 86 * 86 + 86);  // no biases: the weights of three layers
  a.bias = true;
  CHECK(a.num_parameters() == 8 * 86 + 86 + 86 * 86 + 86 + 86 + 1);
  const std::vector<MlpArchitecture::Layer> layers = a.layers();
  CHECK(layers[1].bias_offset == layers[1].weight_offset + 86 * 86);
}
