#include <gradflow/problems/mlp.hpp>

#include <gradflow/problems/detail/kernels.hpp>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace gradflow {
namespace {

// The products through kernels::gemm (AVX2 when the machine has it). W_l is stored row-major, which
// is the memory of W_l^T column-major (rows x cols becomes cols x rows).

// out (rows x n) = W_l input (+ out when accumulate); input is cols x n.
void weights_times(const double* theta, const MlpArchitecture::Layer& layer, const Matrix& input, bool accumulate,
                   Matrix& out) {
  if (!accumulate) out.resize(layer.rows, input.cols());
  kernels::gemm(true, false, layer.rows, input.cols(), layer.cols, theta + layer.weight_offset, input.data(),
                accumulate, out.data());
}

// out (cols x n) = W_l^T delta (+ out when accumulate); delta is rows x n.
void weights_transposed_times(const double* theta, const MlpArchitecture::Layer& layer, const Matrix& delta,
                              bool accumulate, Matrix& out) {
  if (!accumulate) out.resize(layer.cols, delta.cols());
  kernels::gemm(false, false, layer.cols, delta.cols(), layer.rows, theta + layer.weight_offset, delta.data(),
                accumulate, out.data());
}

// The block of W_l in grad (row-major rows x cols) = delta input^T (+ the block when accumulate);
// delta is rows x n, input cols x n. Column-major that is input delta^T, cols x rows.
void outer_into(const Matrix& delta, const Matrix& input, const MlpArchitecture::Layer& layer, bool accumulate,
                double* grad) {
  kernels::gemm(false, true, layer.cols, layer.rows, input.cols(), input.data(), delta.data(), accumulate,
                grad + layer.weight_offset);
}

}  // namespace

std::vector<MlpArchitecture::Layer> MlpArchitecture::layers() const {
  std::vector<Layer> out;
  Eigen::Index offset = 0;
  Eigen::Index fan_in = input_dim;
  std::vector<Eigen::Index> sizes = widths;
  sizes.push_back(1);
  for (const Eigen::Index rows : sizes) {
    Layer layer;
    layer.rows = rows;
    layer.cols = fan_in;
    layer.weight_offset = offset;
    offset += rows * fan_in;
    if (bias) {
      layer.bias_offset = offset;
      offset += rows;
    }
    out.push_back(layer);
    fan_in = rows;
  }
  return out;
}

Eigen::Index MlpArchitecture::num_parameters() const {
  const auto all = layers();
  const auto& last = all.back();
  return (bias ? last.bias_offset + last.rows : last.weight_offset + last.rows * last.cols);
}

std::string MlpArchitecture::check() const {
  if (input_dim < 1) return "the input dimension must be >= 1";
  if (widths.empty()) return "the network needs at least one hidden layer";
  for (std::size_t l = 0; l < widths.size(); ++l) {
    if (widths[l] < 1)
      return "hidden layer " + std::to_string(l + 1) + " has width " + std::to_string(widths[l]) + " (must be >= 1)";
  }
  return "";
}

Mlp::Mlp(MlpArchitecture architecture, Matrix x, Vector y)
    : architecture_(std::move(architecture)), x_(std::move(x)), y_(std::move(y)) {
  if (const std::string why = architecture_.check(); !why.empty()) throw std::invalid_argument("Mlp(): " + why);
  if (x_.rows() < 1) throw std::invalid_argument("Mlp(): the data set is empty");
  if (x_.cols() != architecture_.input_dim) {
    throw std::invalid_argument("Mlp(): the data have " + std::to_string(x_.cols()) + " features, the network " +
                                std::to_string(architecture_.input_dim) + " inputs");
  }
  if (y_.size() != x_.rows()) throw std::invalid_argument("Mlp(): one target per sample is needed");
  if (!x_.allFinite() || !y_.allFinite()) throw std::invalid_argument("Mlp(): the data have a non-finite entry");
  layers_ = architecture_.layers();
  num_parameters_ = architecture_.num_parameters();
  x_transposed_ = x_.transpose();
  const std::size_t count = layers_.size();
  for (auto* v : {&z_, &h_, &d1_, &d2_, &deltas_, &backs_, &rz_, &rh_, &rdeltas_}) v->resize(count);
}

void Mlp::forward(const ConstVectorView& theta, bool with_second) const {
  const std::size_t last = layers_.size() - 1;
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const auto& layer = layers_[l];
    const Matrix& input = l == 0 ? x_transposed_ : h_[l - 1];
    Matrix& z = z_[l];
    weights_times(theta.data(), layer, input, false, z);
    if (layer.bias_offset >= 0) {
      z.colwise() += Eigen::Map<const Vector>(theta.data() + layer.bias_offset, layer.rows);
    }
    if (l < last) activate(architecture_.activation, z, h_[l], &d1_[l], with_second ? &d2_[l] : nullptr);
  }
  output_ = z_[last].row(0);
}

void Mlp::backward(const ConstVectorView& theta, const Eigen::RowVectorXd& seed) const {
  const std::size_t last = layers_.size() - 1;
  deltas_[last] = seed;
  for (std::size_t l = last; l > 0; --l) {
    Matrix& back = backs_[l - 1];
    weights_transposed_times(theta.data(), layers_[l], deltas_[l], false, back);
    deltas_[l - 1] = back.cwiseProduct(d1_[l - 1]);
  }
}

double Mlp::loss(const ConstVectorView& theta) const {
  check_dimension("Mlp::loss", theta.size());
  forward(theta, false);
  return 0.5 * (output_.transpose() - y_).squaredNorm();
}

double Mlp::loss_and_gradient(const ConstVectorView& theta, VectorView grad) const {
  check_dimension("Mlp::loss_and_gradient", theta.size());
  check_dimension("Mlp::loss_and_gradient", grad.size());
  forward(theta, false);
  seed_ = output_ - y_.transpose();  // the residuals r^T
  backward(theta, seed_);
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const auto& layer = layers_[l];
    const Matrix& input = l == 0 ? x_transposed_ : h_[l - 1];
    outer_into(deltas_[l], input, layer, false, grad.data());
    if (layer.bias_offset >= 0) {
      Eigen::Map<Vector>(grad.data() + layer.bias_offset, layer.rows) = deltas_[l].rowwise().sum();
    }
  }
  return 0.5 * seed_.squaredNorm();
}

void Mlp::hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const {
  check_dimension("Mlp::hessian_vector", theta.size());
  check_dimension("Mlp::hessian_vector", v.size());
  check_dimension("Mlp::hessian_vector", hv.size());
  const std::size_t last = layers_.size() - 1;
  forward(theta, true);
  seed_ = output_ - y_.transpose();
  backward(theta, seed_);
  // R-forward: R{z_l} = V_l h_{l-1} + W_l R{h_{l-1}} (+ R{b_l}), R{h_l} = sigma'(z_l) o R{z_l}.
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const auto& layer = layers_[l];
    const Matrix& input = l == 0 ? x_transposed_ : h_[l - 1];
    Matrix& rz = rz_[l];
    weights_times(v.data(), layer, input, false, rz);
    if (l > 0) weights_times(theta.data(), layer, rh_[l - 1], true, rz);
    if (layer.bias_offset >= 0) rz.colwise() += Eigen::Map<const Vector>(v.data() + layer.bias_offset, layer.rows);
    if (l < last) rh_[l] = d1_[l].cwiseProduct(rz);
  }
  // R-backward: R{delta_L} = R{f}; R{G_{l-1}} = V_l^T delta_l + W_l^T R{delta_l};
  // R{delta_{l-1}} = R{G_{l-1}} o sigma'(z_{l-1}) + G_{l-1} o sigma''(z_{l-1}) o R{z_{l-1}}.
  rdeltas_[last] = rz_[last];
  for (std::size_t l = last; l > 0; --l) {
    Matrix& rback = rz_[l];  // R{z_l} is no longer needed: reuse its storage for R{G_{l-1}}
    weights_transposed_times(v.data(), layers_[l], deltas_[l], false, rback);
    weights_transposed_times(theta.data(), layers_[l], rdeltas_[l], true, rback);
    rdeltas_[l - 1] = rback.cwiseProduct(d1_[l - 1]) + backs_[l - 1].cwiseProduct(d2_[l - 1]).cwiseProduct(rz_[l - 1]);
  }
  // R{dW_l} = R{delta_l} h_{l-1}^T + delta_l R{h_{l-1}}^T, R{db_l} = R{delta_l} 1.
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const auto& layer = layers_[l];
    const Matrix& input = l == 0 ? x_transposed_ : h_[l - 1];
    outer_into(rdeltas_[l], input, layer, false, hv.data());
    if (l > 0) outer_into(deltas_[l], rh_[l - 1], layer, true, hv.data());
    if (layer.bias_offset >= 0) {
      Eigen::Map<Vector>(hv.data() + layer.bias_offset, layer.rows) = rdeltas_[l].rowwise().sum();
    }
  }
}

void Mlp::hessian(const ConstVectorView& theta, MatrixView h) const {
  if (!has_hessian()) Objective::hessian(theta, h);
  check_dimension("Mlp::hessian", theta.size());
  Vector e = Vector::Zero(num_parameters_);
  Vector column(num_parameters_);
  for (Eigen::Index j = 0; j < num_parameters_; ++j) {
    e[j] = 1.0;
    hessian_vector(theta, e, column);
    h.col(j) = column;
    e[j] = 0.0;
  }
  h = (0.5 * (h + h.transpose())).eval();  // exact up to the rounding of the two triangles
}

Vector Mlp::predict(const ConstVectorView& theta) const {
  check_dimension("Mlp::predict", theta.size());
  forward(theta, false);
  return output_.transpose();
}

Matrix Mlp::jacobian(const ConstVectorView& theta) const {
  check_dimension("Mlp::jacobian", theta.size());
  const Eigen::Index n = x_.rows();
  if (static_cast<double>(n) * static_cast<double>(num_parameters_) > 5e7) {
    throw std::invalid_argument("Mlp::jacobian(): n p = " + std::to_string(n * num_parameters_) +
                                " entries is too large; use gram() or sigma_min()");
  }
  forward(theta, false);
  backward(theta, Eigen::RowVectorXd::Ones(n));
  Matrix j(n, num_parameters_);
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const auto& layer = layers_[l];
    const Matrix& input = l == 0 ? x_transposed_ : h_[l - 1];
    for (Eigen::Index i = 0; i < n; ++i) {
      // Row i of the W_l block is the row-major flattening of delta_l[:, i] input[:, i]^T.
      for (Eigen::Index r = 0; r < layer.rows; ++r) {
        j.row(i).segment(layer.weight_offset + r * layer.cols, layer.cols) =
            deltas_[l](r, i) * input.col(i).transpose();
      }
      if (layer.bias_offset >= 0) j.row(i).segment(layer.bias_offset, layer.rows) = deltas_[l].col(i).transpose();
    }
  }
  return j;
}

Matrix Mlp::gram(const ConstVectorView& theta) const {
  check_dimension("Mlp::gram", theta.size());
  const Eigen::Index n = x_.rows();
  forward(theta, false);
  backward(theta, Eigen::RowVectorXd::Ones(n));
  Matrix g = Matrix::Zero(n, n);
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const Matrix& input = l == 0 ? x_transposed_ : h_[l - 1];
    const Matrix delta_gram = deltas_[l].transpose() * deltas_[l];
    const Matrix input_gram = input.transpose() * input;
    g += delta_gram.cwiseProduct(input_gram);
    if (layers_[l].bias_offset >= 0) g += delta_gram;
  }
  return g;
}

double Mlp::sigma_min(const ConstVectorView& theta) const {
  const Eigen::Index n = x_.rows();
  if (n > num_parameters_) return 0.0;
  const Eigen::SelfAdjointEigenSolver<Matrix> eig(gram(theta), Eigen::EigenvaluesOnly);
  return std::sqrt(std::max(eig.eigenvalues()[0], 0.0));
}

}  // namespace gradflow
