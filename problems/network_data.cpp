#include <gradflow/problems/network_data.hpp>

#include <gradflow/core/random.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>

#include <Eigen/SVD>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace gradflow {

NetworkData synthetic_data(Eigen::Index n, Eigen::Index d, std::uint64_t seed,
                           const std::optional<TeacherSpec>& teacher) {
  if (n < 1 || d < 1) throw std::invalid_argument("synthetic_data(): n and d must be >= 1");
  NetworkData data;
  Random inputs(derive_seed(seed, 10));
  data.x = inputs.normal_matrix(n, d) / std::sqrt(static_cast<double>(d));
  if (teacher) {
    MlpArchitecture architecture;
    architecture.input_dim = d;
    architecture.widths = teacher->widths;
    architecture.activation = teacher->activation;
    InitOptions init;
    init.scheme = InitScheme::xavier_normal;
    init.seed = derive_seed(seed, 12);
    const Mlp network(architecture, data.x, Vector::Zero(n));
    data.y = network.predict(initialize(architecture, init));
  } else {
    Random targets(derive_seed(seed, 11));
    data.y = targets.normal_vector(n);
  }
  return data;
}

void standardize(NetworkData& data) {
  const auto standardize_column = [](auto column) {
    const double mean = column.mean();
    column.array() -= mean;
    const double sd =
        std::sqrt(column.squaredNorm() / static_cast<double>(std::max<Eigen::Index>(column.size() - 1, 1)));
    if (sd > 0.0) column /= sd;
  };
  for (Eigen::Index j = 0; j < data.x.cols(); ++j) standardize_column(data.x.col(j));
  standardize_column(data.y.col(0));
}

IndependenceReport independence_report(const Matrix& x) {
  IndependenceReport report;
  report.n = x.rows();
  report.d = x.cols();
  const Eigen::BDCSVD<Matrix> svd(x);
  const Vector& s = svd.singularValues();
  report.sigma_max = s.size() > 0 ? s[0] : 0.0;
  const double tol =
      static_cast<double>(std::max(report.n, report.d)) * std::numeric_limits<double>::epsilon() * report.sigma_max;
  while (report.rank < s.size() && s[report.rank] > tol) ++report.rank;
  report.sigma_min = report.n <= report.d ? s[report.n - 1] : 0.0;
  report.applies = report.n <= report.d && report.rank == report.n;
  char buffer[320];
  std::snprintf(buffer, sizeof buffer, "data: n = %ld samples, d = %ld features, rank(X) = %ld, sigma_min(X) = %.6g",
                static_cast<long>(report.n), static_cast<long>(report.d), static_cast<long>(report.rank),
                report.sigma_min);
  report.message = buffer;
  if (report.applies && report.sigma_min > 0.0) {
    std::snprintf(buffer, sizeof buffer, ", condition number sigma_max / sigma_min = %.6g",
                  report.sigma_max / report.sigma_min);
    report.message += buffer;
  }
  if (report.n > report.d) {
    report.message += "; warning: n > d, the inputs cannot be linearly independent and the theory does not apply";
  } else if (report.rank < report.n) {
    report.message += "; warning: rank(X) < n, the inputs are linearly dependent and the theory does not apply";
  }
  return report;
}

}  // namespace gradflow
