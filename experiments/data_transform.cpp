#include <gradflow/experiments/data_transform.hpp>

#include <Eigen/SVD>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace gradflow {

NetworkData transform_inputs(const NetworkData& data, Preprocess how) {
  NetworkData out = data;
  switch (how) {
    case Preprocess::none:
      break;
    case Preprocess::standardize:
      standardize(out);
      break;
    case Preprocess::scale:
      for (Eigen::Index j = 0; j < out.x.cols(); ++j) {
        const double rms = std::sqrt(out.x.col(j).squaredNorm() / static_cast<double>(out.x.rows()));
        if (rms > 0.0) out.x.col(j) /= rms;
      }
      break;
    case Preprocess::whiten: {
      const IndependenceReport report = independence_report(out.x);
      if (!report.applies) {
        throw std::invalid_argument("whitening to X X^T = I needs n <= d linearly independent inputs (" +
                                    report.message + ")");
      }
      const Eigen::BDCSVD<Matrix> svd(out.x, Eigen::ComputeThinU | Eigen::ComputeThinV);
      out.x = svd.matrixU() * svd.matrixV().transpose();
      break;
    }
  }
  return out;
}

double input_condition_number(const Matrix& x) {
  const IndependenceReport report = independence_report(x);
  if (!report.applies || !(report.sigma_min > 0.0)) return std::numeric_limits<double>::infinity();
  return report.sigma_max / report.sigma_min;
}

}  // namespace gradflow
