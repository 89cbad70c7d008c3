#include <gradflow/problems/initialization.hpp>

#include <gradflow/core/random.hpp>
#include <gradflow/core/text.hpp>

#include <Eigen/QR>

#include <cmath>
#include <stdexcept>

namespace gradflow {
namespace {

constexpr NameTable<InitScheme, 8> kNames{{{
    {InitScheme::positive, "positive"},
    {InitScheme::xavier_uniform, "xavier_uniform"},
    {InitScheme::xavier_normal, "xavier_normal"},
    {InitScheme::kaiming_uniform, "kaiming_uniform"},
    {InitScheme::kaiming_normal, "kaiming_normal"},
    {InitScheme::lecun_normal, "lecun_normal"},
    {InitScheme::orthogonal, "orthogonal"},
    {InitScheme::zeros, "zeros"},
}}};

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Fills a rows x cols block (row-major in theta) with the scheme's draws for layer l.
void fill_layer(Eigen::Map<RowMajor> w, InitScheme scheme, const InitOptions& options, std::size_t l, bool first,
                Random& random) {
  const double fan_in = static_cast<double>(w.cols());
  const double fan_out = static_cast<double>(w.rows());
  const auto uniform = [&](double low, double high) {
    for (Eigen::Index i = 0; i < w.rows(); ++i)
      for (Eigen::Index j = 0; j < w.cols(); ++j) w(i, j) = low + (high - low) * random.uniform();
  };
  const auto normal = [&](double sd) {
    for (Eigen::Index i = 0; i < w.rows(); ++i)
      for (Eigen::Index j = 0; j < w.cols(); ++j) w(i, j) = sd * random.normal();
  };
  switch (scheme) {
    case InitScheme::positive:
      if (first) {
        w.setZero();
      } else {
        uniform(options.positive_low / fan_in, options.positive_high / fan_in);
      }
      break;
    case InitScheme::xavier_uniform: {
      const double c = std::sqrt(6.0 / (fan_in + fan_out));
      uniform(-c, c);
      break;
    }
    case InitScheme::xavier_normal:
      normal(std::sqrt(2.0 / (fan_in + fan_out)));
      break;
    case InitScheme::kaiming_uniform: {
      const double c = std::sqrt(6.0 / fan_in);
      uniform(-c, c);
      break;
    }
    case InitScheme::kaiming_normal:
      normal(std::sqrt(2.0 / fan_in));
      break;
    case InitScheme::lecun_normal:
      normal(std::sqrt(1.0 / fan_in));
      break;
    case InitScheme::orthogonal: {
      const Eigen::Index big = std::max(w.rows(), w.cols()), small = std::min(w.rows(), w.cols());
      const Matrix gaussian = random.normal_matrix(big, small);
      const Eigen::HouseholderQR<Matrix> qr(gaussian);
      Matrix q = qr.householderQ() * Matrix::Identity(big, small);
      for (Eigen::Index j = 0; j < small; ++j)
        if (qr.matrixQR()(j, j) < 0) q.col(j) = -q.col(j);
      if (w.rows() >= w.cols()) {
        w = q;
      } else {
        w = q.transpose();
      }
      break;
    }
    case InitScheme::zeros:
      w.setZero();
      break;
  }
  (void)l;
}

}  // namespace

std::string_view to_string(InitScheme scheme) { return kNames.name(scheme); }

std::optional<InitScheme> init_scheme_from_string(std::string_view name) { return kNames.value(name); }

const std::vector<std::string>& init_scheme_names() { return kNames.cached_names(); }

Vector initialize(const MlpArchitecture& architecture, const InitOptions& options) {
  if (const std::string why = architecture.check(); !why.empty()) throw std::invalid_argument("initialize(): " + why);
  if (options.scheme == InitScheme::positive &&
      !(options.positive_low > 0.0 && options.positive_high > options.positive_low &&
        std::isfinite(options.positive_high))) {
    throw std::invalid_argument("initialize(): the positive scheme needs 0 < a < b");
  }
  if (!std::isfinite(options.output_scale)) throw std::invalid_argument("initialize(): the output scale is not finite");
  Vector theta = Vector::Zero(architecture.num_parameters());
  const auto layers = architecture.layers();
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const auto& layer = layers[l];
    Random random(derive_seed(options.seed, 100 + l));
    Eigen::Map<RowMajor> w(theta.data() + layer.weight_offset, layer.rows, layer.cols);
    fill_layer(w, options.scheme, options, l, l == 0, random);
    if (l + 1 == layers.size()) w *= options.output_scale;
  }
  return theta;
}

}  // namespace gradflow
