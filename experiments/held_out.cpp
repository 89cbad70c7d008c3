#include <gradflow/experiments/held_out.hpp>

#include <gradflow/core/random.hpp>

#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <stdexcept>

namespace gradflow {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kMaxClasses = 1000;

NetworkData rows_of(const NetworkData& data, const std::vector<long>& rows) {
  NetworkData out;
  out.x.resize(static_cast<Eigen::Index>(rows.size()), data.x.cols());
  out.y.resize(static_cast<Eigen::Index>(rows.size()));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out.x.row(static_cast<Eigen::Index>(i)) = data.x.row(rows[i]);
    out.y[static_cast<Eigen::Index>(i)] = data.y[rows[i]];
  }
  return out;
}

double mean_squared(const Vector& a, const Vector& b) {
  return a.size() == 0 ? kNaN : (a - b).squaredNorm() / static_cast<double>(a.size());
}

}  // namespace

HoldoutSplit split_holdout(const NetworkData& data, double fraction, std::uint64_t seed) {
  const long n = static_cast<long>(data.x.rows());
  if (!(fraction > 0.0 && fraction < 1.0))
    throw std::invalid_argument("the held-out fraction must be in (0, 1), not " + std::to_string(fraction));
  const long m = std::lround(fraction * static_cast<double>(n));
  if (m < 1 || m > n - 1) {
    throw std::invalid_argument("a held-out fraction of " + std::to_string(fraction) + " of " + std::to_string(n) +
                                " samples leaves " + std::to_string(m) + " held-out and " + std::to_string(n - m) +
                                " training points (each side needs at least one)");
  }
  // Fisher-Yates with gradflow's seeded uniform doubles: the same permutation on every machine.
  std::vector<long> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0L);
  Random random(derive_seed(seed, 0x401d));
  for (long i = n - 1; i > 0; --i) {
    const long j = std::min(i, static_cast<long>(random.uniform() * static_cast<double>(i + 1)));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  std::vector<long> test(order.end() - m, order.end());
  std::vector<long> train(order.begin(), order.end() - m);
  std::sort(test.begin(), test.end());
  std::sort(train.begin(), train.end());
  HoldoutSplit split;
  split.train = rows_of(data, train);
  split.test = rows_of(data, test);
  split.test_rows = std::move(test);
  return split;
}

LabelKind label_kind(const Vector& train_y, const Vector& test_y) {
  std::set<double> values;
  for (const Vector* y : {&train_y, &test_y}) {
    for (Eigen::Index i = 0; i < y->size(); ++i) {
      const double v = (*y)[i];
      if (!std::isfinite(v) || v != std::round(v)) return LabelKind::none;
      values.insert(v);
      if (values.size() > kMaxClasses) return LabelKind::none;
    }
  }
  if (values.size() < 2) return LabelKind::none;
  if (values == std::set<double>{-1.0, 1.0}) return LabelKind::plus_minus_one;
  if (values == std::set<double>{0.0, 1.0}) return LabelKind::zero_one;
  return LabelKind::integer_classes;
}

std::string_view to_string(LabelKind kind) {
  switch (kind) {
    case LabelKind::none:
      return "none";
    case LabelKind::plus_minus_one:
      return "+-1";
    case LabelKind::zero_one:
      return "0/1";
    case LabelKind::integer_classes:
      return "classes";
  }
  return "none";
}

double accuracy(const Vector& prediction, const Vector& y, LabelKind kind, const Vector& train_y) {
  if (kind == LabelKind::none || y.size() == 0) return kNaN;
  double low = y.minCoeff(), high = y.maxCoeff();
  if (train_y.size() > 0) {
    low = std::min(low, train_y.minCoeff());
    high = std::max(high, train_y.maxCoeff());
  }
  long right = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    const double f = prediction[i];
    double label = 0.0;
    switch (kind) {
      case LabelKind::plus_minus_one:
        label = f >= 0.0 ? 1.0 : -1.0;
        break;
      case LabelKind::zero_one:
        label = f >= 0.5 ? 1.0 : 0.0;
        break;
      default:
        label = std::isfinite(f) ? std::clamp(std::round(f), low, high) : kNaN;
        break;
    }
    right += label == y[i] ? 1 : 0;
  }
  return static_cast<double>(right) / static_cast<double>(y.size());
}

NamedValues held_out_values(const HeldOutMetrics& m) {
  return {{"test_points", static_cast<long long>(m.points)},
          {"test_loss", m.test_loss},
          {"test_accuracy", m.test_accuracy},
          {"interpolant_distance", m.interpolant_distance},
          {"linear_test_loss", m.linear_test_loss},
          {"linear_test_accuracy", m.linear_test_accuracy}};
}

Vector predict_on(const MlpArchitecture& architecture, const ConstVectorView& theta, const Matrix& x) {
  const Mlp network(architecture, x, Vector::Zero(x.rows()));
  return network.predict(theta);
}

std::optional<Vector> min_norm_interpolant(const NetworkData& train) {
  const IndependenceReport report = independence_report(train.x);
  if (!report.applies) return std::nullopt;
  // The minimum-norm solution of X w = y: w = X^+ y.
  const Eigen::CompleteOrthogonalDecomposition<Matrix> cod(train.x);
  return Vector(cod.solve(train.y));
}

HeldOutMetrics held_out_metrics(const MlpArchitecture& architecture, const ConstVectorView& theta,
                                const NetworkData& train, const NetworkData& test) {
  if (test.x.cols() != train.x.cols()) {
    throw std::invalid_argument("the held-out inputs have " + std::to_string(test.x.cols()) +
                                " features, the training inputs " + std::to_string(train.x.cols()));
  }
  HeldOutMetrics m;
  m.points = static_cast<long>(test.x.rows());
  if (m.points == 0) return m;
  const Vector f = predict_on(architecture, theta, test.x);
  const LabelKind kind = label_kind(train.y, test.y);
  m.test_loss = mean_squared(f, test.y);
  m.test_accuracy = accuracy(f, test.y, kind, train.y);
  if (const auto w = min_norm_interpolant(train)) {
    const Vector linear = test.x * *w;
    m.interpolant_distance = std::sqrt(mean_squared(f, linear));
    m.linear_test_loss = mean_squared(linear, test.y);
    m.linear_test_accuracy = accuracy(linear, test.y, kind, train.y);
  }
  return m;
}

PowerLaw fit_power_law(const std::vector<double>& x, const std::vector<double>& y) {
  PowerLaw law;
  std::vector<double> lx, ly;
  for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
    if (std::isfinite(x[i]) && x[i] > 0.0 && std::isfinite(y[i]) && y[i] > 0.0) {
      lx.push_back(std::log(x[i]));
      ly.push_back(std::log(y[i]));
    }
  }
  law.points = static_cast<long>(lx.size());
  if (lx.size() < 2) return law;
  const double n = static_cast<double>(lx.size());
  const double mx = std::accumulate(lx.begin(), lx.end(), 0.0) / n;
  const double my = std::accumulate(ly.begin(), ly.end(), 0.0) / n;
  double sxx = 0.0, sxy = 0.0, syy = 0.0;
  for (std::size_t i = 0; i < lx.size(); ++i) {
    sxx += (lx[i] - mx) * (lx[i] - mx);
    sxy += (lx[i] - mx) * (ly[i] - my);
    syy += (ly[i] - my) * (ly[i] - my);
  }
  if (!(sxx > 0.0)) return law;  // one distinct x: no slope
  law.exponent = sxy / sxx;
  law.factor = std::exp(my - law.exponent * mx);
  if (lx.size() > 2) law.r2 = syy > 0.0 ? sxy * sxy / (sxx * syy) : 1.0;
  return law;
}

double power_law_crossing(const PowerLaw& first, const PowerLaw& second) {
  if (std::isnan(first.exponent) || std::isnan(second.exponent) || first.exponent == second.exponent) return kNaN;
  return std::pow(second.factor / first.factor, 1.0 / (first.exponent - second.exponent));
}

}  // namespace gradflow
