// Held-out error, the conditioning transform, the scale and conditioning paths (docs/theory.md §6.5):
// the seeded split (§7.44), the transform X -> U S^a V^T and its feature map for held-out points
// (§7.42), the held-out metrics against closed forms, the fitted exponent of least squares along a
// conditioning path (§7.43), ScaleChoice, the grid's paths, runs.csv's new columns, the summary's
// held-out medians, verdict and conditioning fits, and a small sweep in memory. Every oracle is
// computed here independently of the code under test (Eigen's SVDs, sums written out by hand).
#include <gradflow/core/random.hpp>
#include <gradflow/core/status.hpp>
#include <gradflow/experiments/data_transform.hpp>
#include <gradflow/experiments/held_out.hpp>
#include <gradflow/experiments/run_record.hpp>
#include <gradflow/experiments/sweep_runner.hpp>
#include <gradflow/experiments/sweep_spec.hpp>
#include <gradflow/experiments/sweep_summary.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/least_squares.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

using namespace gradflow;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Matrix random_matrix(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  Random random(seed);
  return random.normal_matrix(rows, cols);
}

Vector random_vector(Eigen::Index n, std::uint64_t seed) {
  Random random(seed);
  return random.normal_vector(n);
}

// X^+ = V S^-1 U^T from Eigen's JacobiSVD (X of full row rank).
Matrix pseudo_inverse(const Matrix& x) {
  const Eigen::JacobiSVD<Matrix> svd(x, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Vector s = svd.singularValues();
  return svd.matrixV() * s.cwiseInverse().asDiagonal() * svd.matrixU().transpose();
}

double mean_squared(const Vector& a, const Vector& b) { return (a - b).squaredNorm() / static_cast<double>(a.size()); }

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double max_off_diagonal(const Matrix& m) {
  double worst = 0.0;
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      if (i != j) worst = std::max(worst, std::abs(m(i, j)));
  return worst;
}

bool bit_equal(const Matrix& a, const Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && (a.array() == b.array()).all();
}

// The prediction of a one-hidden-layer network without biases, f(x) = a^T tanh(W x), theta = (W row-major, a).
Vector hand_predictions(const Matrix& x, const Vector& theta, Eigen::Index width) {
  const Eigen::Index d = x.cols();
  Vector f(x.rows());
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    double sum = 0.0;
    for (Eigen::Index k = 0; k < width; ++k) {
      double z = 0.0;
      for (Eigen::Index j = 0; j < d; ++j) z += theta[k * d + j] * x(i, j);
      sum += theta[width * d + k] * std::tanh(z);
    }
    f[i] = sum;
  }
  return f;
}

DatasetSpec dataset(const std::string& name) {
  const auto d = DatasetSpec::from_string(name);
  REQUIRE(d);
  return *d;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// 1. The split (docs/theory.md §7.44)

TEST_CASE("held-out split: the same seed gives the same rows and the two sides partition the data", "[held_out]") {
  const NetworkData data = synthetic_data(50, 60, 3);
  const HoldoutSplit a = split_holdout(data, 0.3, 5);
  const HoldoutSplit again = split_holdout(data, 0.3, 5);
  const HoldoutSplit other = split_holdout(data, 0.3, 6);

  // Sizes: round(0.3 x 50) = 15 held out, 35 training points, the features kept.
  REQUIRE(a.test_rows.size() == 15);
  REQUIRE(a.test.x.rows() == 15);
  REQUIRE(a.test.y.size() == 15);
  REQUIRE(a.train.x.rows() == 35);
  REQUIRE(a.train.y.size() == 35);
  CHECK(a.train.x.cols() == 60);
  CHECK(a.test.x.cols() == 60);

  // Reproducible bit for bit; another seed draws other rows.
  CHECK(a.test_rows == again.test_rows);
  CHECK(bit_equal(a.train.x, again.train.x));
  CHECK(bit_equal(a.test.x, again.test.x));
  CHECK(a.test_rows != other.test_rows);

  // The held-out rows are increasing, distinct and in range; the training rows are the rest.
  CHECK(std::is_sorted(a.test_rows.begin(), a.test_rows.end()));
  const std::set<long> held(a.test_rows.begin(), a.test_rows.end());
  CHECK(held.size() == 15);
  CHECK(*held.begin() >= 0);
  CHECK(*held.rbegin() < 50);
  std::vector<long> train_rows;
  for (long i = 0; i < 50; ++i)
    if (!held.count(i)) train_rows.push_back(i);
  REQUIRE(train_rows.size() == 35);  // disjoint and together every row

  // The values are the original rows, in their original order on each side.
  for (std::size_t i = 0; i < a.test_rows.size(); ++i) {
    const auto k = static_cast<Eigen::Index>(i);
    CHECK(bit_equal(a.test.x.row(k), data.x.row(a.test_rows[i])));
    CHECK(a.test.y[k] == data.y[a.test_rows[i]]);
  }
  for (std::size_t i = 0; i < train_rows.size(); ++i) {
    const auto k = static_cast<Eigen::Index>(i);
    CHECK(bit_equal(a.train.x.row(k), data.x.row(train_rows[i])));
    CHECK(a.train.y[k] == data.y[train_rows[i]]);
  }

  // The permutation depends on the number of samples and the seed only (not on the values).
  CHECK(split_holdout(synthetic_data(50, 7, 99), 0.3, 5).test_rows == a.test_rows);

  // One point on a side is enough; none is refused.
  const NetworkData ten = synthetic_data(10, 4, 1);
  CHECK(split_holdout(ten, 0.1, 0).test_rows.size() == 1);
  CHECK(split_holdout(ten, 0.9, 0).train.x.rows() == 1);
  CHECK_THROWS_AS(split_holdout(ten, 0.001, 0), std::invalid_argument);
  CHECK_THROWS_AS(split_holdout(ten, 0.999, 0), std::invalid_argument);
  CHECK_THROWS_AS(split_holdout(ten, 0.0, 0), std::invalid_argument);
  CHECK_THROWS_AS(split_holdout(ten, 1.0, 0), std::invalid_argument);
  CHECK_THROWS_AS(split_holdout(ten, kNaN, 0), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------------
// 2. The conditioning transform (docs/theory.md §7.42)

TEST_CASE("conditioning transform: X_a = U S^a V^T has singular values sigma_i^a and the same singular vectors",
          "[held_out]") {
  const Matrix x = random_matrix(6, 10, 11);
  const Eigen::BDCSVD<Matrix> svd(x, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Vector s = svd.singularValues();
  const Matrix u = svd.matrixU(), v = svd.matrixV();
  for (Eigen::Index i = 0; i + 1 < s.size(); ++i) REQUIRE(s[i] - s[i + 1] > 1e-3 * s[0]);  // distinct
  const double cond = s[0] / s[5];
  const NetworkData train{x, random_vector(6, 12)};

  for (const double a : {0.0, 0.5, 2.0}) {
    INFO("a = " << a);
    const TransformedData out = transform_train_test(train, std::nullopt, Preprocess::none, a);
    CHECK_FALSE(out.test.has_value());
    const Matrix& xa = out.train.x;
    REQUIRE(xa.rows() == 6);
    REQUIRE(xa.cols() == 10);
    CHECK(bit_equal(out.train.y, train.y));  // targets untouched
    const Vector sa = Eigen::BDCSVD<Matrix>(xa).singularValues();
    for (Eigen::Index i = 0; i < 6; ++i) CHECK_THAT(sa[i], WithinRel(std::pow(s[i], a), 1e-10));
    // The same singular subspaces: U^T X_a V is diagonal with the entries sigma_i^a.
    const Matrix core = u.transpose() * xa * v;
    CHECK(max_off_diagonal(core) <= 1e-10 * sa[0]);
    for (Eigen::Index i = 0; i < 6; ++i) CHECK_THAT(core(i, i), WithinRel(std::pow(s[i], a), 1e-10));
    // ... and X_a lives in X's row space.
    CHECK((xa - xa * v * v.transpose()).norm() <= 1e-12 * xa.norm());
    CHECK_THAT(input_condition_number(xa), WithinRel(std::pow(cond, a), 1e-10));
  }
  // a = 0 whitens: X_0 X_0^T = I.
  const Matrix x0 = transform_train_test(train, std::nullopt, Preprocess::none, 0.0).train.x;
  CHECK((x0 * x0.transpose() - Matrix::Identity(6, 6)).norm() <= 1e-12);
  CHECK_THAT(input_condition_number(x0), WithinRel(1.0, 1e-10));
  // a = 1 leaves X alone, bit for bit.
  CHECK(bit_equal(transform_train_test(train, std::nullopt, Preprocess::none, 1.0).train.x, x));
  CHECK_THAT(input_condition_number(x), WithinRel(cond, 1e-12));
  // whiten (preprocess) is the power 0: U V^T.
  const Matrix whitened = transform_train_test(train, std::nullopt, Preprocess::whiten).train.x;
  CHECK((whitened - u * v.transpose()).norm() <= 1e-12);
}

TEST_CASE("conditioning transform: held-out points go through the training map V S^(a-1) V^T + (I - V V^T)",
          "[held_out]") {
  const Matrix x = random_matrix(6, 10, 11);
  const Eigen::BDCSVD<Matrix> svd(x, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Vector s = svd.singularValues();
  const Matrix v = svd.matrixV();
  const NetworkData train{x, random_vector(6, 12)};
  // Four test inputs in the row space (T = C X), one orthogonal to it.
  const Matrix c = random_matrix(4, 6, 13);
  const Vector z = random_vector(10, 14);
  const Vector orthogonal = z - v * (v.transpose() * z);
  REQUIRE((x * orthogonal).norm() <= 1e-12 * orthogonal.norm() * s[0]);
  NetworkData test;
  test.x.resize(5, 10);
  test.x.topRows(4) = c * x;
  test.x.row(4) = orthogonal.transpose();
  test.y = random_vector(5, 15);

  const Matrix pinv = pseudo_inverse(x);
  const Vector linear_raw = test.x * (pinv * train.y);
  for (const double a : {0.0, 0.5, 1.0, 2.0}) {
    INFO("a = " << a);
    const TransformedData out = transform_train_test(train, test, Preprocess::none, a);
    REQUIRE(out.test.has_value());
    const Matrix& ta = out.test->x;
    const Matrix& xa = out.train.x;
    // The row space is mapped as X -> X_a: C X -> C X_a.
    CHECK((ta.topRows(4) - c * xa).norm() <= 1e-10 * (c * xa).norm());
    // Its orthogonal complement is left alone.
    CHECK((ta.row(4).transpose() - orthogonal).norm() <= 1e-12 * orthogonal.norm());
    // The explicit map M = V S^(a-1) V^T + (I - V V^T) (symmetric), built here.
    const Matrix m =
        v * s.array().pow(a - 1.0).matrix().asDiagonal() * v.transpose() + Matrix::Identity(10, 10) - v * v.transpose();
    CHECK((ta - test.x * m).norm() <= 1e-10 * ta.norm());
    CHECK(bit_equal(out.test->y, test.y));
    // docs/theory.md §6.5 (4): the minimum-norm interpolant predicts the same on held-out points for every a.
    const Vector linear_a = ta * (pseudo_inverse(xa) * train.y);
    CHECK((linear_a - linear_raw).norm() <= 1e-9 * linear_raw.norm());
  }
  // a = 1: the test data untouched, bit for bit.
  CHECK(bit_equal(transform_train_test(train, test, Preprocess::none, 1.0).test->x, test.x));
  // Whitening maps held-out points by the power 0: C X -> C U V^T.
  const TransformedData white = transform_train_test(train, test, Preprocess::whiten);
  CHECK((white.test->x.topRows(4) - c * white.train.x).norm() <= 1e-10 * c.norm());
  CHECK((white.test->x.row(4).transpose() - orthogonal).norm() <= 1e-12 * orthogonal.norm());
}

TEST_CASE("conditioning transform: standardize and scale apply the training statistics to the held-out data",
          "[held_out]") {
  const Eigen::Index n = 8, d = 5, m = 4;
  NetworkData train{random_matrix(n, d, 41), random_vector(n, 42)};
  for (Eigen::Index j = 0; j < d; ++j) {  // columns with other means and spreads
    train.x.col(j) =
        train.x.col(j) * (1.0 + static_cast<double>(j)) + Vector::Constant(n, 2.0 - static_cast<double>(j));
  }
  train.y.array() += 3.0;
  NetworkData test{random_matrix(m, d, 43) * 2.0, random_vector(m, 44)};

  SECTION("standardize: means and deviations (n - 1) of the training columns and targets") {
    const TransformedData out = transform_train_test(train, test, Preprocess::standardize);
    REQUIRE(out.test.has_value());
    const auto stats = [](const Vector& column, double& mean, double& sd) {
      double sum = 0.0;
      for (Eigen::Index i = 0; i < column.size(); ++i) sum += column[i];
      mean = sum / static_cast<double>(column.size());
      double squares = 0.0;
      for (Eigen::Index i = 0; i < column.size(); ++i) squares += (column[i] - mean) * (column[i] - mean);
      sd = std::sqrt(squares / static_cast<double>(column.size() - 1));
    };
    for (Eigen::Index j = 0; j < d; ++j) {
      double mean = 0.0, sd = 0.0;
      stats(train.x.col(j), mean, sd);
      for (Eigen::Index i = 0; i < n; ++i) CHECK_THAT(out.train.x(i, j), WithinAbs((train.x(i, j) - mean) / sd, 1e-12));
      for (Eigen::Index i = 0; i < m; ++i) CHECK_THAT(out.test->x(i, j), WithinAbs((test.x(i, j) - mean) / sd, 1e-12));
    }
    double mean = 0.0, sd = 0.0;
    stats(train.y, mean, sd);
    for (Eigen::Index i = 0; i < n; ++i) CHECK_THAT(out.train.y[i], WithinAbs((train.y[i] - mean) / sd, 1e-12));
    for (Eigen::Index i = 0; i < m; ++i) CHECK_THAT(out.test->y[i], WithinAbs((test.y[i] - mean) / sd, 1e-12));
    // The training part is problems/network_data.hpp's standardize().
    NetworkData reference = train;
    standardize(reference);
    CHECK((out.train.x - reference.x).norm() <= 1e-12 * reference.x.norm());
    CHECK((out.train.y - reference.y).norm() <= 1e-12 * reference.y.norm());
  }

  SECTION("scale: each column over the training root mean square, targets unchanged, zero columns kept") {
    train.x.col(2).setZero();
    const TransformedData out = transform_train_test(train, test, Preprocess::scale);
    REQUIRE(out.test.has_value());
    for (Eigen::Index j = 0; j < d; ++j) {
      double squares = 0.0;
      for (Eigen::Index i = 0; i < n; ++i) squares += train.x(i, j) * train.x(i, j);
      const double rms = std::sqrt(squares / static_cast<double>(n));
      const double divide = rms > 0.0 ? rms : 1.0;
      for (Eigen::Index i = 0; i < n; ++i) CHECK_THAT(out.train.x(i, j), WithinAbs(train.x(i, j) / divide, 1e-12));
      for (Eigen::Index i = 0; i < m; ++i) CHECK_THAT(out.test->x(i, j), WithinAbs(test.x(i, j) / divide, 1e-12));
    }
    CHECK(bit_equal(out.test->x.col(2), test.x.col(2)));
    CHECK(bit_equal(out.train.y, train.y));
    CHECK(bit_equal(out.test->y, test.y));
  }

  SECTION("a power != 1 needs n <= d independent inputs") {
    const NetworkData tall{random_matrix(12, 5, 45), random_vector(12, 46)};
    CHECK_THROWS_AS(transform_train_test(tall, std::nullopt, Preprocess::none, 0.5), std::invalid_argument);
    CHECK_THROWS_AS(transform_train_test(tall, std::nullopt, Preprocess::none, 0.0), std::invalid_argument);
    CHECK_NOTHROW(transform_train_test(tall, std::nullopt, Preprocess::none, 1.0));
    NetworkData dependent{random_matrix(4, 10, 47), random_vector(4, 48)};
    dependent.x.row(3) = dependent.x.row(0) + dependent.x.row(1);
    CHECK_THROWS_AS(transform_train_test(dependent, std::nullopt, Preprocess::none, 2.0), std::invalid_argument);
    const NetworkData wide{random_matrix(4, 10, 49), random_vector(4, 50)};
    CHECK_THROWS_AS(transform_train_test(wide, std::nullopt, Preprocess::none, kNaN), std::invalid_argument);
  }
}

// ---------------------------------------------------------------------------------------------------
// 3. The held-out metrics

TEST_CASE("held-out metrics: test_loss, the interpolant's distance and loss against closed forms", "[held_out]") {
  const Eigen::Index d = 8;
  MlpArchitecture arch;
  arch.input_dim = d;
  arch.widths = {4};
  arch.activation = Activation::tanh;
  REQUIRE(arch.num_parameters() == 4 * d + 4);
  const Vector theta = random_vector(arch.num_parameters(), 21);
  const NetworkData train{random_matrix(5, d, 22), random_vector(5, 23)};
  const NetworkData test{random_matrix(7, d, 24), random_vector(7, 25)};

  const Vector f = Mlp(arch, test.x, test.y).predict(theta);
  CHECK((f - hand_predictions(test.x, theta, 4)).norm() <= 1e-13 * f.norm());
  CHECK(bit_equal(predict_on(arch, theta, test.x), f));

  const HeldOutMetrics m = held_out_metrics(arch, theta, train, test);
  CHECK(m.points == 7);
  CHECK_THAT(m.test_loss, WithinRel(mean_squared(f, test.y), 1e-12));
  CHECK(std::isnan(m.test_accuracy));  // real-valued targets are not labels
  CHECK(label_kind(train.y, test.y) == LabelKind::none);

  // The minimum-norm interpolant from Eigen's JacobiSVD.
  const Vector w = pseudo_inverse(train.x) * train.y;
  const auto interpolant = min_norm_interpolant(train);
  REQUIRE(interpolant);
  CHECK((*interpolant - w).norm() <= 1e-10 * w.norm());
  CHECK((train.x * *interpolant - train.y).norm() <= 1e-10 * train.y.norm());
  const Vector linear = test.x * w;
  CHECK_THAT(m.interpolant_distance, WithinRel(std::sqrt(mean_squared(f, linear)), 1e-9));
  CHECK_THAT(m.linear_test_loss, WithinRel(mean_squared(linear, test.y), 1e-9));
  CHECK(std::isnan(m.linear_test_accuracy));

  SECTION("n > d: no interpolant") {
    const NetworkData tall{random_matrix(10, d, 26), random_vector(10, 27)};
    CHECK_FALSE(min_norm_interpolant(tall));
    const HeldOutMetrics t = held_out_metrics(arch, theta, tall, test);
    CHECK_THAT(t.test_loss, WithinRel(mean_squared(f, test.y), 1e-12));
    CHECK(std::isnan(t.interpolant_distance));
    CHECK(std::isnan(t.linear_test_loss));
    CHECK(std::isnan(t.linear_test_accuracy));
  }

  SECTION("the held-out inputs must have the training inputs' columns") {
    const NetworkData narrow{random_matrix(3, d - 1, 28), random_vector(3, 29)};
    CHECK_THROWS_AS(held_out_metrics(arch, theta, train, narrow), std::invalid_argument);
  }

  SECTION("no held-out points: 0 points and NaN") {
    const NetworkData none{Matrix(0, d), Vector(0)};
    const HeldOutMetrics e = held_out_metrics(arch, theta, train, none);
    CHECK(e.points == 0);
    CHECK(std::isnan(e.test_loss));
    CHECK(std::isnan(e.interpolant_distance));
  }
}

TEST_CASE("held-out metrics: accuracy for +-1, 0/1 and integer class labels where the answer is known", "[held_out]") {
  // accuracy() on predictions made by hand.
  CHECK(label_kind(Vector{{-1.0, 1.0, 1.0}}, Vector{{-1.0}}) == LabelKind::plus_minus_one);
  CHECK(label_kind(Vector{{0.0, 1.0}}, Vector{{1.0}}) == LabelKind::zero_one);
  CHECK(label_kind(Vector{{0.0, 1.0, 2.0, 3.0}}, Vector(0)) == LabelKind::integer_classes);
  CHECK(label_kind(Vector{{-1.0, 1.0}}, Vector{{0.0}}) == LabelKind::integer_classes);
  CHECK(label_kind(Vector{{0.5, 1.0}}, Vector{{1.0}}) == LabelKind::none);
  CHECK(label_kind(Vector{{1.0, 1.0}}, Vector{{1.0}}) == LabelKind::none);
  CHECK(label_kind(Vector{{0.0, kNaN}}, Vector{{1.0}}) == LabelKind::none);

  // +-1: the sign (0 counts as +1): right, wrong, right, right.
  CHECK_THAT(accuracy(Vector{{0.3, -0.1, 0.0, -2.0}}, Vector{{1.0, 1.0, 1.0, -1.0}}, LabelKind::plus_minus_one,
                      Vector{{-1.0, 1.0}}),
             WithinRel(0.75, 1e-15));
  // 0/1: thresholded at 1/2: right, right, wrong, right.
  CHECK_THAT(
      accuracy(Vector{{0.49, 0.5, 0.9, -1.0}}, Vector{{0.0, 1.0, 0.0, 0.0}}, LabelKind::zero_one, Vector{{0.0, 1.0}}),
      WithinRel(0.75, 1e-15));
  // Classes 0..3: rounded and clamped to [0, 3]: 0, 1, 3, 4 -> 3, -5 -> 0, 10 -> 3, 1.5 -> 2, 2.49 -> 2 (wrong).
  CHECK_THAT(
      accuracy(Vector{{0.2, 1.4, 2.6, 3.9, -5.0, 10.0, 1.5, 2.49}}, Vector{{0.0, 1.0, 3.0, 3.0, 0.0, 3.0, 2.0, 3.0}},
               LabelKind::integer_classes, Vector{{0.0, 1.0, 2.0, 3.0}}),
      WithinRel(7.0 / 8.0, 1e-15));
  CHECK(std::isnan(accuracy(Vector{{1.0}}, Vector{{1.0}}, LabelKind::none, Vector{{1.0}})));

  // Through held_out_metrics: targets made from the network's own predictions, right at the even
  // positions (4 of 7) and wrong at the odd ones.
  const Eigen::Index d = 8;
  MlpArchitecture arch;
  arch.input_dim = d;
  arch.widths = {4};
  arch.activation = Activation::tanh;
  Vector theta = random_vector(arch.num_parameters(), 31);
  theta.tail(4) *= 3.0;  // outputs over a few units, for the class labels
  const Matrix train_x = random_matrix(5, d, 32);
  const Matrix test_x = random_matrix(7, d, 33);
  const Vector f = hand_predictions(test_x, theta, 4);
  const auto expect = [&](const Vector& train_y, const Vector& test_y, const std::function<double(double)>& label) {
    const NetworkData train{train_x, train_y}, test{test_x, test_y};
    const HeldOutMetrics m = held_out_metrics(arch, theta, train, test);
    CHECK_THAT(m.test_accuracy, WithinRel(4.0 / 7.0, 1e-15));
    // The interpolant's accuracy, counted here.
    const Vector linear = test_x * (pseudo_inverse(train_x) * train_y);
    long right = 0;
    for (Eigen::Index j = 0; j < 7; ++j) right += label(linear[j]) == test_y[j] ? 1 : 0;
    CHECK_THAT(m.linear_test_accuracy, WithinRel(static_cast<double>(right) / 7.0, 1e-15));
    CHECK_THAT(m.test_loss, WithinRel(mean_squared(f, test_y), 1e-12));
  };

  SECTION("+-1") {
    const auto sign = [](double v) { return v >= 0.0 ? 1.0 : -1.0; };
    Vector y(7);
    for (Eigen::Index j = 0; j < 7; ++j) y[j] = j % 2 == 0 ? sign(f[j]) : -sign(f[j]);
    expect(Vector{{1.0, -1.0, 1.0, -1.0, -1.0}}, y, sign);
  }
  SECTION("0/1") {
    const auto threshold = [](double v) { return v >= 0.5 ? 1.0 : 0.0; };
    Vector y(7);
    for (Eigen::Index j = 0; j < 7; ++j) y[j] = j % 2 == 0 ? threshold(f[j]) : 1.0 - threshold(f[j]);
    expect(Vector{{0.0, 1.0, 1.0, 0.0, 1.0}}, y, threshold);
  }
  SECTION("classes 0..3") {
    const auto label = [](double v) { return std::clamp(std::round(v), 0.0, 3.0); };
    Vector y(7);
    for (Eigen::Index j = 0; j < 7; ++j) y[j] = j % 2 == 0 ? label(f[j]) : std::fmod(label(f[j]) + 1.0, 4.0);
    expect(Vector{{0.0, 1.0, 2.0, 3.0, 1.0}}, y, label);
  }
}

// ---------------------------------------------------------------------------------------------------
// 4. Power laws and the fitted exponent of least squares (docs/theory.md §7.43)

TEST_CASE("power law: an exact law is fitted exactly and two laws cross where they are equal", "[held_out]") {
  const std::vector<double> x{1.0, 2.0, 5.0, 10.0, 50.0};
  std::vector<double> y;
  for (const double v : x) y.push_back(3.0 * std::pow(v, 1.7));
  const PowerLaw law = fit_power_law(x, y);
  CHECK(law.points == 5);
  CHECK_THAT(law.exponent, WithinAbs(1.7, 1e-12));
  CHECK_THAT(law.factor, WithinRel(3.0, 1e-12));
  CHECK_THAT(law.r2, WithinAbs(1.0, 1e-12));

  // Points that are not finite and positive are left out.
  std::vector<double> x2 = x, y2 = y;
  x2.push_back(0.0);
  y2.push_back(1.0);
  x2.push_back(4.0);
  y2.push_back(-1.0);
  x2.push_back(kNaN);
  y2.push_back(2.0);
  x2.push_back(3.0);
  y2.push_back(std::numeric_limits<double>::infinity());
  const PowerLaw filtered = fit_power_law(x2, y2);
  CHECK(filtered.points == 5);
  CHECK_THAT(filtered.exponent, WithinAbs(1.7, 1e-12));
  // Two points: a line, no r2; one distinct x: no law.
  const PowerLaw two = fit_power_law({2.0, 8.0}, {12.0, 48.0});
  CHECK_THAT(two.exponent, WithinAbs(1.0, 1e-12));
  CHECK(std::isnan(two.r2));
  CHECK(std::isnan(fit_power_law({2.0, 2.0, 2.0}, {1.0, 2.0, 3.0}).exponent));
  CHECK(std::isnan(fit_power_law({2.0}, {1.0}).exponent));

  // 2 x^2 = 8 x at x = 4.
  PowerLaw quadratic, linear;
  quadratic.exponent = 2.0;
  quadratic.factor = 2.0;
  linear.exponent = 1.0;
  linear.factor = 8.0;
  CHECK_THAT(power_law_crossing(quadratic, linear), WithinRel(4.0, 1e-15));
  CHECK_THAT(power_law_crossing(linear, quadratic), WithinRel(4.0, 1e-15));
  CHECK(std::isnan(power_law_crossing(quadratic, quadratic)));
  CHECK(std::isnan(power_law_crossing(quadratic, PowerLaw{})));
  // The same from fitted laws.
  const std::vector<double> c{1.0, 2.0, 3.0, 7.0};
  std::vector<double> w2, w1;
  for (const double v : c) {
    w2.push_back(2.0 * v * v);
    w1.push_back(8.0 * v);
  }
  CHECK_THAT(power_law_crossing(fit_power_law(c, w2), fit_power_law(c, w1)), WithinRel(4.0, 1e-12));
}

TEST_CASE("least squares along a conditioning path: flow time x beta grows like cond(A)^2", "[held_out]") {
  // A = U S^a V^T from a fixed 8 x 12 matrix, b fixed, the flow from 0 to L <= 1e-10 L0. The flow's
  // rate is set by sigma_min(A)^2 and beta = sigma_max(A)^2, so T beta ~ cond(A)^2 log(1e10 w) / 2
  // (docs/theory.md §6.5 (2)).
  const Matrix a0 = random_matrix(8, 12, 61) / std::sqrt(12.0);  // x ~ N(0, I/d), as synthetic_data
  const Vector b = random_vector(8, 62);
  const NetworkData base{a0, b};
  std::vector<double> conditions, work;
  for (const double a : {0.5, 1.0, 1.5, 2.0, 2.5}) {
    INFO("a = " << a);
    const Matrix A = transform_train_test(base, std::nullopt, Preprocess::none, a).train.x;
    const Eigen::BDCSVD<Matrix> svd(A, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const Vector s = svd.singularValues();
    const double beta = s[0] * s[0];
    const LeastSquares problem(A, b);
    // The objective is 1/2 ||A x - b||^2: its Hessian A^T A has the largest eigenvalue sigma_max^2.
    Matrix h(12, 12);
    problem.hessian(Vector::Zero(12), h);
    CHECK_THAT(Eigen::SelfAdjointEigenSolver<Matrix>(h).eigenvalues().maxCoeff(), WithinRel(beta, 1e-10));
    const double loss0 = problem.loss(Vector::Zero(12));
    CHECK_THAT(loss0, WithinRel(0.5 * b.squaredNorm(), 1e-14));

    FlowOptions options;
    options.solver = Solver::cvode_bdf;
    options.t_end = 1e9;
    options.rtol = 1e-10;
    options.atol = 1e-14;
    options.stop.loss_tol = 1e-10 * loss0;
    options.save.keep_rows = false;
    const FlowResult result = simulate_flow(problem, Vector::Zero(12), options);
    REQUIRE(result.status == Status::tolerance_reached);
    // The time against the closed form L(t) = 1/2 sum_i c_i^2 exp(-2 s_i^2 t), c = U^T b, by bisection.
    const Vector c = svd.matrixU().transpose() * b;
    const auto exact_loss = [&](double t) {
      double sum = 0.0;
      for (Eigen::Index i = 0; i < c.size(); ++i) sum += 0.5 * c[i] * c[i] * std::exp(-2.0 * s[i] * s[i] * t);
      return sum;
    };
    double low = 0.0, high = 1.0;
    while (exact_loss(high) > options.stop.loss_tol) high *= 2.0;
    for (int k = 0; k < 200; ++k) {
      const double mid = 0.5 * (low + high);
      (exact_loss(mid) > options.stop.loss_tol ? low : high) = mid;
    }
    CHECK_THAT(result.t_final, WithinRel(high, 1e-5));
    conditions.push_back(input_condition_number(A));
    work.push_back(result.t_final * beta);
  }
  const PowerLaw law = fit_power_law(conditions, work);
  INFO("exponent " << law.exponent << ", r2 " << law.r2);
  CHECK(law.points == 5);
  CHECK(std::abs(law.exponent - 2.0) <= 0.1);
  CHECK(law.r2 > 0.999);
}

// ---------------------------------------------------------------------------------------------------
// 5. ScaleChoice

TEST_CASE("ScaleChoice: spellings round trip, bad ones are refused, and resolve() places each scale", "[held_out]") {
  for (const std::string text : {"10", "auto", "4x", "path:3/8", "0.25", "1.5x", "path:0/2"}) {
    INFO(text);
    const auto c = ScaleChoice::from_string(text);
    REQUIRE(c);
    CHECK(c->name() == text);
    CHECK(ScaleChoice::from_string(c->name()) == c);
  }
  CHECK(ScaleChoice::from_string("10")->kind == ScaleChoice::Kind::absolute);
  CHECK(ScaleChoice::from_string("auto")->kind == ScaleChoice::Kind::automatic);
  CHECK(ScaleChoice::from_string("4x")->kind == ScaleChoice::Kind::certified);
  const ScaleChoice p = *ScaleChoice::from_string("path:3/8");
  CHECK(p.kind == ScaleChoice::Kind::path);
  CHECK(p.index == 3);
  CHECK(p.count == 8);
  CHECK_FALSE(ScaleChoice::from_string("10")->needs_threshold());
  CHECK(ScaleChoice::from_string("auto")->needs_threshold());
  CHECK(ScaleChoice::from_string("4x")->needs_threshold());
  CHECK(p.needs_threshold());
  for (const std::string text : {"", "x", "path:8/8", "path:1", "abc", "path:1/1", "path:-1/3", "path:a/3", "inf",
                                 "nanx", "10 ", "4xx", "path:2/3x"}) {
    INFO("'" << text << "'");
    CHECK_FALSE(ScaleChoice::from_string(text));
  }

  const double threshold = 2.5, margin = 1.05, start = 0.5, end = 4.0;
  CHECK(ScaleChoice::from_string("10")->resolve(threshold, margin, start, end) == 10.0);
  CHECK(ScaleChoice::from_string("10")->resolve(kNaN, margin, start, end) == 10.0);  // no threshold needed
  CHECK_THAT(ScaleChoice::from_string("auto")->resolve(threshold, margin, start, end), WithinRel(1.05 * 2.5, 1e-15));
  CHECK_THAT(ScaleChoice::from_string("4x")->resolve(threshold, margin, start, end), WithinRel(10.0, 1e-15));
  // path:k/N: geometric from start (k = 0) to end x threshold (k = N - 1).
  const std::vector<ScaleChoice> path = scale_path(5);
  REQUIRE(path.size() == 5);
  std::vector<double> scales;
  for (long k = 0; k < 5; ++k) {
    CHECK(path[static_cast<std::size_t>(k)].name() == "path:" + std::to_string(k) + "/5");
    scales.push_back(path[static_cast<std::size_t>(k)].resolve(threshold, margin, start, end));
  }
  CHECK(scales.front() == start);
  CHECK_THAT(scales.back(), WithinRel(end * threshold, 1e-14));
  const double ratio = std::pow(end * threshold / start, 0.25);
  for (std::size_t k = 0; k + 1 < scales.size(); ++k) CHECK_THAT(scales[k + 1] / scales[k], WithinRel(ratio, 1e-14));
  CHECK(scale_path(2).size() == 2);
}

// ---------------------------------------------------------------------------------------------------
// 6. The grid with the scale and conditioning paths

TEST_CASE("sweep grid: the scale path multiplies positive only, the conditioning path every run", "[held_out]") {
  SweepSpec spec;
  spec.inits = {InitScheme::positive, InitScheme::xavier_normal};
  spec.widths = {8};
  spec.seeds = {0, 1};
  spec.datasets = {dataset("synthetic:12x20")};
  spec.output_scales = {*ScaleChoice::from_string("1"), *ScaleChoice::from_string("auto"),
                        *ScaleChoice::from_string("4x")};
  spec.condition_path = {1.0, 0.0};
  REQUIRE_FALSE(spec.validate());

  const std::vector<RunSpec> runs = enumerate_runs(spec);
  long positive = 0, xavier = 0;
  std::set<std::string> keys;
  std::set<std::pair<std::string, double>> positive_cells;  // (scale, power)
  for (const RunSpec& r : runs) {
    keys.insert(r.key());
    REQUIRE(r.power);
    CHECK(r.key().find(";power=") != std::string::npos);
    if (r.init == InitScheme::positive) {
      ++positive;
      REQUIRE(r.scale);
      CHECK(r.key().find(";scale=" + r.scale->name()) != std::string::npos);
      positive_cells.insert({r.scale->name(), *r.power});
    } else {
      ++xavier;
      CHECK_FALSE(r.scale);
      CHECK(r.key().find(";scale=") == std::string::npos);
    }
  }
  CHECK(positive == 3 * 2 * 2);
  CHECK(xavier == 2 * 2);
  CHECK(positive_cells.size() == 6);
  CHECK(runs.size() == 16);
  CHECK(sweep_run_count(spec) == runs.size());
  CHECK(keys.size() == runs.size());
  // The power and the scale do not change the initialization's seed (the same theta0 along the paths).
  std::set<std::uint64_t> seeds;
  for (const RunSpec& r : runs)
    if (r.init == InitScheme::positive && r.seed == 0) seeds.insert(r.init_seed());
  CHECK(seeds.size() == 1);

  // Off the paths the keys are those of before: no ";scale=" and no ";power=".
  SweepSpec plain = spec;
  plain.output_scales.clear();
  plain.condition_path.clear();
  const std::vector<RunSpec> plain_runs = enumerate_runs(plain);
  CHECK(plain_runs.size() == 4);
  CHECK(sweep_run_count(plain) == 4);
  for (const RunSpec& r : plain_runs) {
    CHECK_FALSE(r.scale);
    CHECK_FALSE(r.power);
    CHECK(r.key().find(";scale=") == std::string::npos);
    CHECK(r.key().find(";power=") == std::string::npos);
  }
  CHECK(plain_runs.front().key() ==
        "init=positive;width=8;depth=1;activation=tanh;seed=0;method=armijo;"
        "dataset=synthetic:12x20");
  RunSpec on_path = plain_runs.front();
  on_path.scale = *ScaleChoice::from_string("path:2/5");
  on_path.power = 0.5;
  CHECK(on_path.key() == plain_runs.front().key() + ";scale=path:2/5;power=0.5");
}

TEST_CASE("sweep grid: validate refuses the paths' inconsistent settings", "[held_out]") {
  SweepSpec base;
  base.datasets = {dataset("synthetic:12x20")};
  REQUIRE_FALSE(base.validate());
  const auto refused = [](const SweepSpec& s, const std::string& field) {
    const auto e = s.validate();
    REQUIRE(e);
    INFO(e->message());
    CHECK(e->field == field);
  };
  {
    SweepSpec s = base;
    s.inits = {InitScheme::xavier_normal};
    s.output_scales = scale_path(3);
    refused(s, "output_scales");
  }
  {
    SweepSpec s = base;
    s.output_scales = {*ScaleChoice::from_string("auto"), *ScaleChoice::from_string("auto")};
    refused(s, "output_scales");
  }
  {
    SweepSpec s = base;
    s.output_scales = scale_path(3);
    s.output_scale = 2.0;
    refused(s, "output_scale");
  }
  {
    SweepSpec s = base;
    s.condition_path = {1.0, 0.5, 1.0};
    refused(s, "condition_path");
  }
  {
    SweepSpec s = base;
    s.condition_path = {1.0, 0.0};
    s.preprocess = Preprocess::whiten;
    refused(s, "condition_path");
  }
  {
    SweepSpec s = base;
    s.condition_path = {1.0, 0.0};
    s.preprocess = Preprocess::standardize;
    refused(s, "condition_path");
  }
  {
    SweepSpec s = base;
    s.condition_path = {9.0};
    refused(s, "condition_path");
  }
  {
    SweepSpec s = base;
    s.holdout = 1.0;
    refused(s, "holdout");
  }
  {
    SweepSpec s = base;
    s.holdout = -0.1;
    refused(s, "holdout");
  }
  {
    SweepSpec s = base;
    s.holdout = 0.25;
    s.test_data = "held_out.csv";
    s.test_file = NetworkData{random_matrix(2, 20, 1), random_vector(2, 2)};
    refused(s, "test_data");
  }
  {
    SweepSpec s = base;
    s.test_data = "held_out.csv";  // named but not read
    refused(s, "test_data");
  }
  {
    SweepSpec s = base;
    s.holdout = 0.25;
    s.condition_path = {1.0, 0.5, 0.0};
    s.output_scales = scale_path(4);
    CHECK_FALSE(s.validate());
  }
}

// The header says a number on the scale path must be > 0 (sweep_spec.hpp: "SweepSpec::validate wants it >
// 0"), and set_output_scales' message promises "a number > 0"; validate() checks output_scale but not the
// entries of output_scales.
TEST_CASE("sweep grid: validate refuses a scale path entry that is not positive", "[held_out]") {
  SweepSpec base;
  base.datasets = {dataset("synthetic:12x20")};
  for (const std::string text : {"-3", "0", "0x", "-2x"}) {
    INFO(text);
    const auto choice = ScaleChoice::from_string(text);
    REQUIRE(choice);
    SweepSpec s = base;
    s.output_scales = {*choice, *ScaleChoice::from_string("auto")};
    const auto e = s.validate();
    CHECK(e);
    if (e) CHECK(e->field == "output_scales");
  }
}

// ---------------------------------------------------------------------------------------------------
// 7. runs.csv

TEST_CASE("runs.csv: a run on both paths with held-out metrics goes through a line and back", "[held_out]") {
  RunRecord r;
  r.run =
      RunSpec{InitScheme::positive, 8, 1, Activation::tanh, 3, Method{StepRule::armijo}, dataset("synthetic:12x20")};
  r.run.scale = ScaleChoice::from_string("path:2/5");
  r.run.power = 0.5;
  r.n = 9;
  r.d = 20;
  r.params = 168;
  r.output_scale = 3.0 / 7.0;
  r.init_seed = r.run.init_seed();
  r.loss0 = 4.123456789;
  r.loss_target = 4.123456789e-3;
  r.certified = 1;
  r.certified_mu = 0.1 / 3.0;
  r.input_condition = std::sqrt(17.0);
  r.beta0 = 12.5;
  r.lr = 1.0;
  r.reached = true;
  r.steps_to_eps = 41;
  r.steps = 41;
  r.grad_evals = 57;
  r.loss_evals = 12;
  r.final_loss = 1e-3;
  r.status = "tolerance_reached";
  r.held_out.points = 3;
  r.held_out.test_loss = 0.1 / 3.0;
  r.held_out.test_accuracy = 2.0 / 3.0;
  r.held_out.interpolant_distance = 1.0 / 81.0;
  r.held_out.linear_test_loss = 0.9876543210987;
  r.held_out.linear_test_accuracy = kNaN;
  r.travel = std::acos(-1.0);
  r.travel_fraction = 0.25;
  r.ntk_drift = 1e-3 / 7.0;
  r.ntk_condition = 17.0 + 1e-9;

  const std::string header = runs_csv_header();
  for (const std::string column :
       {"scale", "condition_power", "test_points", "test_loss", "test_accuracy", "interpolant_distance",
        "linear_test_loss", "linear_test_accuracy", "travel", "travel_fraction", "ntk_drift", "ntk_condition"}) {
    INFO(column);
    CHECK(("," + header + ",").find("," + column + ",") != std::string::npos);
  }
  const std::string line = to_csv_line(r);
  const RunsCsvReader reader(header);
  REQUIRE(reader.usable());
  const auto back = reader.parse(line);
  REQUIRE(back);
  CHECK(back->run.key() == r.run.key());
  CHECK(back->run.key().find(";scale=path:2/5;power=0.5") != std::string::npos);
  REQUIRE(back->run.scale);
  CHECK(*back->run.scale == *r.run.scale);
  REQUIRE(back->run.power);
  CHECK(*back->run.power == 0.5);
  CHECK(back->n == 9);
  CHECK(back->output_scale == r.output_scale);
  CHECK(back->input_condition == r.input_condition);
  CHECK(back->held_out.points == 3);
  CHECK(back->held_out.test_loss == r.held_out.test_loss);
  CHECK(back->held_out.test_accuracy == r.held_out.test_accuracy);
  CHECK(back->held_out.interpolant_distance == r.held_out.interpolant_distance);
  CHECK(back->held_out.linear_test_loss == r.held_out.linear_test_loss);
  CHECK(std::isnan(back->held_out.linear_test_accuracy));
  CHECK(back->travel == r.travel);
  CHECK(back->travel_fraction == r.travel_fraction);
  CHECK(back->ntk_drift == r.ntk_drift);
  CHECK(back->ntk_condition == r.ntk_condition);
  CHECK(to_csv_line(*back) == line);

  // A line whose scale or power was changed no longer matches its key: refused.
  std::string edited = line;
  const auto at = edited.find(",path:2/5,");
  REQUIRE(at != std::string::npos);
  edited.replace(at, 10, ",path:3/5,");
  CHECK_FALSE(reader.parse(edited));

  // Off the paths: empty fields, no scale or power read back.
  RunRecord plain = r;
  plain.run.scale.reset();
  plain.run.power.reset();
  plain.held_out = HeldOutMetrics{};
  const auto plain_back = reader.parse(to_csv_line(plain));
  REQUIRE(plain_back);
  CHECK_FALSE(plain_back->run.scale);
  CHECK_FALSE(plain_back->run.power);
  CHECK(plain_back->held_out.points == 0);
  CHECK(std::isnan(plain_back->held_out.test_loss));
  CHECK(plain_back->run.key() == plain.run.key());
}

// ---------------------------------------------------------------------------------------------------
// 8. The summary

namespace {

RunRecord summary_record(InitScheme init, long seed, long grad_evals, double test_loss) {
  RunRecord r;
  r.run = RunSpec{init, 8, 1, Activation::tanh, seed, Method{StepRule::armijo}, dataset("synthetic:12x20")};
  r.reached = true;
  r.steps_to_eps = grad_evals;
  r.steps = grad_evals;
  r.grad_evals = grad_evals;
  r.loss_evals = grad_evals / 2;
  r.loss0 = 1.0;
  r.final_loss = 1e-6;
  r.input_condition = 4.0;
  r.held_out.points = 3;
  r.held_out.test_loss = test_loss;
  r.held_out.test_accuracy = kNaN;
  return r;
}

const SummaryRow& row_of(const std::vector<SummaryRow>& rows, const std::string& init) {
  const auto found = std::find_if(rows.begin(), rows.end(), [&](const SummaryRow& r) { return r.init == init; });
  REQUIRE(found != rows.end());
  return *found;
}

}  // namespace

TEST_CASE("summary: independent samples, held-out medians and the verdict on test_loss", "[held_out]") {
  std::vector<RunRecord> records;
  const std::vector<long> positive_work{100, 130, 90, 160, 120};
  const std::vector<double> positive_loss{0.10, 0.12, 0.11, 0.14, 0.13};
  const std::vector<long> kaiming_work{300, 310, 320, 330};
  const std::vector<double> kaiming_loss{0.05, 0.04, 0.06, 0.03};
  for (long s = 0; s < 5; ++s) {
    records.push_back(summary_record(InitScheme::positive, s, positive_work[static_cast<std::size_t>(s)],
                                     positive_loss[static_cast<std::size_t>(s)]));
    records.push_back(summary_record(InitScheme::xavier_normal, s, 200, 0.5));  // five identical runs
  }
  for (long s = 0; s < 4; ++s) {
    records.push_back(summary_record(InitScheme::kaiming_normal, s, kaiming_work[static_cast<std::size_t>(s)],
                                     kaiming_loss[static_cast<std::size_t>(s)]));
  }

  SummaryOptions options;
  options.resamples = 500;
  options.verdict_on = VerdictOn::test_loss;
  const std::vector<SummaryRow> rows = summarize(records, options);
  REQUIRE(rows.size() == 3);
  const SummaryRow& positive = row_of(rows, "positive");
  const SummaryRow& xavier = row_of(rows, "xavier_normal");
  const SummaryRow& kaiming = row_of(rows, "kaiming_normal");
  CHECK(positive.runs == 5);
  CHECK(xavier.runs == 5);
  CHECK(kaiming.runs == 4);
  CHECK(positive.independent_samples == 5);
  CHECK(xavier.independent_samples == 1);
  CHECK(kaiming.independent_samples == 4);
  CHECK(positive.reference);

  // The held-out medians, with intervals around them.
  CHECK(positive.test_loss.estimate == median_of(positive_loss));
  CHECK(xavier.test_loss.estimate == 0.5);
  CHECK_THAT(kaiming.test_loss.estimate, WithinRel(0.045, 1e-14));
  CHECK_THAT(kaiming.test_loss.estimate, WithinRel(median_of(kaiming_loss), 1e-14));
  for (const SummaryRow* r : {&positive, &xavier, &kaiming}) {
    CHECK(r->test_loss.low <= r->test_loss.estimate);
    CHECK(r->test_loss.estimate <= r->test_loss.high);
    CHECK(std::isnan(r->test_accuracy.estimate));  // no labels
  }
  CHECK(xavier.test_loss.low == 0.5);  // one sample: no spread
  CHECK(xavier.test_loss.high == 0.5);
  CHECK(positive.test_loss.low >= 0.10);
  CHECK(positive.test_loss.high <= 0.14);

  // The verdict compares test_loss: the ratio of the medians, scheme / positive.
  CHECK(&xavier.verdict_ratio() == &xavier.test_loss_ratio);
  CHECK(&kaiming.verdict_ratio() == &kaiming.test_loss_ratio);
  CHECK_THAT(xavier.test_loss_ratio.estimate, WithinRel(0.5 / 0.12, 1e-14));
  CHECK_THAT(kaiming.test_loss_ratio.estimate, WithinRel(0.045 / 0.12, 1e-14));
  CHECK(std::isnan(positive.test_loss_ratio.estimate));
  CHECK(xavier.holm_p < 0.05);
  CHECK(kaiming.holm_p < 0.05);
  const std::string verdict = format_verdict(rows);
  INFO(verdict);
  CHECK(verdict.find("positive is BETTER than xavier_normal") != std::string::npos);
  CHECK(verdict.find("positive is WORSE than kaiming_normal") != std::string::npos);
  CHECK(verdict.find("held-out mean squared error") != std::string::npos);
  CHECK(verdict.find("FASTER") == std::string::npos);

  // The same records with the verdict on the work: gradient evaluations, FASTER than both.
  SummaryOptions on_work = options;
  on_work.verdict_on = VerdictOn::work;
  const std::vector<SummaryRow> work_rows = summarize(records, on_work);
  const SummaryRow& xavier_work = row_of(work_rows, "xavier_normal");
  CHECK(&xavier_work.verdict_ratio() == &xavier_work.speedup_grad_evals);
  CHECK_THAT(xavier_work.speedup_grad_evals.estimate, WithinRel(200.0 / 120.0, 1e-14));
  const std::string work_verdict = format_verdict(work_rows);
  INFO(work_verdict);
  CHECK(work_verdict.find("positive is FASTER than") != std::string::npos);
  CHECK(work_verdict.find("BETTER") == std::string::npos);
}

TEST_CASE("summary: fit_conditioning recovers the exponents 2 and 1 and their crossing", "[held_out]") {
  // Work = 5 cond^2 for positive, 20 cond for xavier_normal over three powers: the laws cross at 4.
  std::vector<RunRecord> records;
  const std::vector<std::pair<double, double>> path{{0.0, 1.0}, {0.5, 2.0}, {1.0, 4.0}};  // (power, cond)
  for (const auto& [power, cond] : path) {
    for (long s = 0; s < 3; ++s) {
      RunRecord p = summary_record(InitScheme::positive, s, std::lround(5.0 * cond * cond), 0.1);
      p.run.power = power;
      p.input_condition = cond;
      records.push_back(p);
      RunRecord x = summary_record(InitScheme::xavier_normal, s, std::lround(20.0 * cond) + s - 1, 0.2);
      x.run.power = power;
      x.input_condition = cond;
      records.push_back(x);
    }
  }
  SummaryOptions options;
  options.resamples = 200;
  const std::vector<SummaryRow> rows = summarize(records, options);
  REQUIRE(rows.size() == 6);
  for (const SummaryRow& r : rows) CHECK_FALSE(std::isnan(r.condition_power));
  const std::vector<ConditioningFit> fits = fit_conditioning(rows);
  REQUIRE(fits.size() == 2);
  const auto fit_of = [&](const std::string& init) -> const ConditioningFit& {
    const auto found = std::find_if(fits.begin(), fits.end(), [&](const ConditioningFit& f) { return f.init == init; });
    REQUIRE(found != fits.end());
    return *found;
  };
  const ConditioningFit& positive = fit_of("positive");
  const ConditioningFit& xavier = fit_of("xavier_normal");
  CHECK(positive.conditions == std::vector<double>{1.0, 2.0, 4.0});
  CHECK(positive.work == std::vector<double>{5.0, 20.0, 80.0});
  CHECK(xavier.work == std::vector<double>{20.0, 40.0, 80.0});
  CHECK_THAT(positive.law.exponent, WithinAbs(2.0, 1e-12));
  CHECK_THAT(positive.law.factor, WithinRel(5.0, 1e-12));
  CHECK_THAT(xavier.law.exponent, WithinAbs(1.0, 1e-12));
  CHECK_THAT(xavier.law.factor, WithinRel(20.0, 1e-12));
  CHECK_THAT(xavier.crossing, WithinRel(4.0, 1e-12));
  CHECK(std::isnan(positive.crossing));
  CHECK(format_conditioning(fits).find("xavier_normal") != std::string::npos);
  // conditioning.csv: every line has the header's columns, each value under its own name.
  const auto split = [](const std::string& line) {
    std::vector<std::string> cells(1);
    for (char c : line) {
      if (c == ',')
        cells.emplace_back();
      else
        cells.back().push_back(c);
    }
    return cells;
  };
  const std::vector<std::string> header = split(conditioning_csv_header());
  const std::vector<std::string> cells = split(conditioning_csv_line(xavier));
  REQUIRE(cells.size() == header.size());
  const auto cell = [&](const std::string& name) {
    return cells[std::find(header.begin(), header.end(), name) - header.begin()];
  };
  CHECK(cell("powers") == "3");
  CHECK(cell("fitted_points") == "3");
  CHECK_THAT(std::stod(cell("exponent")), WithinAbs(1.0, 1e-12));
  CHECK_THAT(std::stod(cell("crossing_condition")), WithinRel(4.0, 1e-12));
  CHECK(cell("work") == "20;40;80");
}

// The reference positive row is chosen per conditioning power (its group key holds the power): with a
// scale path whose largest scale changes from one power to the next (a number against F x s*, whose s*
// depends on the power) each of positive's scales is fitted over the whole path, never a part of it.
TEST_CASE("summary: fit_conditioning with a scale path fits positive over every power of the path", "[held_out]") {
  std::vector<RunRecord> records;
  // (power, cond, the scale that 4x resolves to at that power)
  const std::vector<std::tuple<double, double, double>> path{{0.0, 1.0, 4.0}, {0.5, 2.0, 12.0}, {1.0, 4.0, 20.0}};
  for (const auto& [power, cond, certified_scale] : path) {
    for (long s = 0; s < 2; ++s) {
      for (const std::string scale : {"10", "4x"}) {
        RunRecord p = summary_record(InitScheme::positive, s, std::lround(5.0 * cond * cond), 0.1);
        p.run.power = power;
        p.run.scale = ScaleChoice::from_string(scale);
        p.output_scale = scale == "10" ? 10.0 : certified_scale;
        p.input_condition = cond;
        records.push_back(p);
      }
      RunRecord x = summary_record(InitScheme::xavier_normal, s, std::lround(20.0 * cond), 0.2);
      x.run.power = power;
      x.input_condition = cond;
      records.push_back(x);
    }
  }
  SummaryOptions options;
  options.resamples = 200;
  const std::vector<ConditioningFit> fits = fit_conditioning(summarize(records, options));
  INFO(format_conditioning(fits));
  for (const ConditioningFit& f : fits) {
    INFO(f.init << " at scale '" << f.scale << "'");
    CHECK(f.conditions.size() == 3);
    CHECK_THAT(f.law.exponent, WithinAbs(f.init == "positive" ? 2.0 : 1.0, 1e-12));
  }
}

TEST_CASE("summary: on the scale path the reference is positive's largest scale and the table lists every scale",
          "[held_out]") {
  std::vector<RunRecord> records;
  for (long k = 0; k < 3; ++k) {
    for (long s = 0; s < 2; ++s) {
      RunRecord p = summary_record(InitScheme::positive, s, 100 + 10 * k + s, 0.1);
      p.run.scale = scale_path(3)[static_cast<std::size_t>(k)];
      p.output_scale = 1.0 + static_cast<double>(k);
      records.push_back(p);
    }
  }
  for (long s = 0; s < 2; ++s) records.push_back(summary_record(InitScheme::xavier_normal, s, 300 + s, 0.2));
  SummaryOptions options;
  options.resamples = 200;
  const std::vector<SummaryRow> rows = summarize(records, options);
  REQUIRE(rows.size() == 4);
  for (const SummaryRow& r : rows) {
    if (r.init != "positive") continue;
    CHECK(r.reference == (r.scale == "path:2/3"));
  }
  CHECK_THAT(row_of(rows, "xavier_normal").speedup_grad_evals.estimate, WithinRel(300.5 / 120.5, 1e-14));
  const std::string table = format_scale_path(rows);
  for (const std::string scale : {"path:0/3", "path:1/3", "path:2/3"}) CHECK(table.find(scale) != std::string::npos);
  CHECK(format_scale_path(summarize({records.back()}, options)).empty());
}

// ---------------------------------------------------------------------------------------------------
// 9. A sweep in memory

TEST_CASE("sweep in memory: held-out points on a conditioning path, the same bits twice", "[held_out]") {
  SweepSpec spec;
  spec.datasets = {dataset("synthetic:12x20")};
  spec.holdout = 0.25;
  spec.widths = {8};
  spec.inits = {InitScheme::positive, InitScheme::xavier_normal};
  spec.seeds = {0, 1};
  spec.methods = {Method{StepRule::armijo}};
  spec.condition_path = {1.0, 0.0};
  spec.max_steps = 200;
  spec.eps = 1e-3;
  spec.curve_points = 2;
  REQUIRE_FALSE(spec.validate());
  REQUIRE_FALSE(check_datasets(spec));
  const std::vector<RunSpec> runs = enumerate_runs(spec);
  REQUIRE(runs.size() == 8);

  const std::vector<RunRecord> first = run_grid(runs, spec, 1, {});
  const std::vector<RunRecord> second = run_grid(runs, spec, 2, {});
  REQUIRE(first.size() == runs.size());
  REQUIRE(second.size() == runs.size());

  // The split and transform as the sweep makes them: the minimum-norm interpolant's held-out loss is the
  // same at every power (docs/theory.md §6.5 (4)).
  const NetworkData raw = synthetic_data(12, 20, 0);
  const HoldoutSplit split = split_holdout(raw, 0.25, 0);
  const Vector linear = split.test.x * (pseudo_inverse(split.train.x) * split.train.y);
  const double linear_loss = mean_squared(linear, split.test.y);
  const double raw_condition = input_condition_number(split.train.x);

  for (std::size_t i = 0; i < runs.size(); ++i) {
    const RunRecord& r = first[i];
    INFO(r.run.key() << ": " << r.status);
    CHECK(r.run.key() == runs[i].key());
    CHECK(r.n == 9);
    CHECK(r.d == 20);
    CHECK(r.held_out.points == 3);
    CHECK(std::isfinite(r.held_out.test_loss));
    CHECK(r.held_out.test_loss >= 0.0);
    CHECK(std::isnan(r.held_out.test_accuracy));  // Gaussian targets: no labels
    CHECK(std::isfinite(r.held_out.interpolant_distance));
    CHECK_THAT(r.held_out.linear_test_loss, WithinRel(linear_loss, 1e-9));
    CHECK(std::isfinite(r.ntk_drift));
    CHECK(std::isfinite(r.travel));
    if (r.run.init == InitScheme::positive) {
      CHECK(std::isfinite(r.held_out.interpolant_distance));
      CHECK(std::isfinite(r.ntk_drift));
      CHECK(r.ntk_drift >= 0.0);
      // At W_1 = 0 with tanh(0) = 0 the kernel is ||g||^2 X X^T: cond(K_0) = cond(X)^2 (docs/theory.md §6.5 (1)).
      CHECK_THAT(r.ntk_condition, WithinRel(r.input_condition * r.input_condition, 1e-8));
    }
    // A certified run stays within the certificate's radius.
    if (r.certified == 1) CHECK(r.travel_fraction < 1.0);
    REQUIRE(r.run.power);
    if (*r.run.power == 0.0) {
      CHECK_THAT(r.input_condition, WithinRel(1.0, 1e-9));
    } else {
      CHECK_THAT(r.input_condition, WithinRel(raw_condition, 1e-12));
    }
    // The same bits again (and on two threads).
    const RunRecord& again = second[i];
    CHECK(again.run.key() == r.run.key());
    CHECK(again.held_out.test_loss == r.held_out.test_loss);
    CHECK(again.held_out.interpolant_distance == r.held_out.interpolant_distance);
    CHECK(again.final_loss == r.final_loss);
    CHECK(again.grad_evals == r.grad_evals);
    CHECK(again.output_scale == r.output_scale);
    CHECK(again.ntk_drift == r.ntk_drift);
  }

  // The summary's held-out medians are the medians of these runs, per scheme and power.
  SummaryOptions options;
  options.resamples = 200;
  const std::vector<SummaryRow> rows = summarize(first, options);
  REQUIRE(rows.size() == 4);
  for (const SummaryRow& row : rows) {
    INFO(row.init << " at power " << row.condition_power);
    std::vector<double> losses;
    for (const RunRecord& r : first)
      if (std::string(to_string(r.run.init)) == row.init && *r.run.power == row.condition_power)
        losses.push_back(r.held_out.test_loss);
    REQUIRE(losses.size() == 2);
    const double expected = row.independent_samples == 1 ? losses.front() : median_of(losses);
    CHECK_THAT(row.test_loss.estimate, WithinRel(expected, 1e-14));
  }
}
