#include <gradflow/experiments/data_transform.hpp>

#include <Eigen/SVD>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace gradflow {
namespace {

// The training inputs' row-space map x -> M x, M = V diag(s^(a-1)) V^T + (I - V V^T), applied to the rows
// of x (M is symmetric): x M = x + (x V) (diag(s^(a-1)) - I) V^T.
Matrix row_space_power(const Matrix& x, const Matrix& v, const Vector& s, double a) {
  const Vector factor = (s.array().pow(a - 1.0) - 1.0).matrix();
  return x + (x * v) * factor.asDiagonal() * v.transpose();
}

void require_independent(const Matrix& x, const char* what) {
  const IndependenceReport report = independence_report(x);
  if (!report.applies) {
    throw std::invalid_argument(std::string(what) + " needs n <= d linearly independent inputs (" + report.message +
                                ")");
  }
}

}  // namespace

NetworkData transform_inputs(const NetworkData& data, Preprocess how) {
  return transform_train_test(data, std::nullopt, how).train;
}

TransformedData transform_train_test(const NetworkData& train, const std::optional<NetworkData>& test, Preprocess how,
                                     double power) {
  if (!std::isfinite(power))
    throw std::invalid_argument("the conditioning power must be a finite number, not " + std::to_string(power));
  TransformedData out{train, test};
  NetworkData& tr = out.train;
  switch (how) {
    case Preprocess::none:
      break;
    case Preprocess::standardize: {
      // problems/network_data.hpp's standardize(), with the training statistics applied to the test data.
      const auto fit = [](auto column, double& mean, double& sd) {
        mean = column.mean();
        const double n1 = static_cast<double>(std::max<Eigen::Index>(column.size() - 1, 1));
        sd = std::sqrt((column.array() - mean).matrix().squaredNorm() / n1);
      };
      for (Eigen::Index j = 0; j <= tr.x.cols(); ++j) {
        double mean = 0.0, sd = 0.0;
        const bool target = j == tr.x.cols();
        if (target) {
          fit(tr.y.col(0), mean, sd);
        } else {
          fit(tr.x.col(j), mean, sd);
        }
        const auto apply = [&](auto column) {
          column.array() -= mean;
          if (sd > 0.0) column /= sd;
        };
        if (target) {
          apply(tr.y.col(0));
          if (out.test) apply(out.test->y.col(0));
        } else {
          apply(tr.x.col(j));
          if (out.test) apply(out.test->x.col(j));
        }
      }
      break;
    }
    case Preprocess::scale:
      for (Eigen::Index j = 0; j < tr.x.cols(); ++j) {
        const double rms = std::sqrt(tr.x.col(j).squaredNorm() / static_cast<double>(tr.x.rows()));
        if (rms > 0.0) {
          tr.x.col(j) /= rms;
          if (out.test) out.test->x.col(j) /= rms;
        }
      }
      break;
    case Preprocess::whiten: {
      require_independent(tr.x, "whitening to X X^T = I");
      const Eigen::BDCSVD<Matrix> svd(tr.x, Eigen::ComputeThinU | Eigen::ComputeThinV);
      if (out.test) out.test->x = row_space_power(out.test->x, svd.matrixV(), svd.singularValues(), 0.0);
      tr.x = svd.matrixU() * svd.matrixV().transpose();
      break;
    }
  }
  if (power != 1.0) {
    require_independent(tr.x, "the conditioning transform X -> U S^a V^T");
    const Eigen::BDCSVD<Matrix> svd(tr.x, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const Vector s = svd.singularValues();
    if (out.test) out.test->x = row_space_power(out.test->x, svd.matrixV(), s, power);
    tr.x = svd.matrixU() * s.array().pow(power).matrix().asDiagonal() * svd.matrixV().transpose();
  }
  return out;
}

double input_condition_number(const Matrix& x) {
  const IndependenceReport report = independence_report(x);
  if (!report.applies || !(report.sigma_min > 0.0)) return std::numeric_limits<double>::infinity();
  return report.sigma_max / report.sigma_min;
}

}  // namespace gradflow
