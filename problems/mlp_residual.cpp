// The network as a ResidualObjective: residuals, Jacobian products, and what the PL certificate needs
// (sigma_n(J) and ||J|| from the Gram matrix, the rigorous Lipschitz bound of J on a ball, and the
// conditions under which the theory applies; docs/theory.md §4 and §5).
#include <gradflow/problems/mlp.hpp>

#include <gradflow/core/cancellation.hpp>
#include <gradflow/core/detail/kernels.hpp>
#include <gradflow/problems/detail/gemm.hpp>
#include <gradflow/problems/network_data.hpp>

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace gradflow {
namespace {

double spectral_norm(const Matrix& m) {
  if (m.size() == 0) return 0.0;
  const Eigen::BDCSVD<Matrix> svd(m);
  return svd.singularValues().size() > 0 ? svd.singularValues()[0] : 0.0;
}

void check_size(const char* function, Eigen::Index size, Eigen::Index expected, const char* what) {
  if (size != expected) {
    throw std::invalid_argument(std::string(function) + "(): vector has " + std::to_string(size) + " entries, " +
                                std::to_string(expected) + " " + what + " expected");
  }
}

}  // namespace

void Mlp::residuals(const ConstVectorView& theta, VectorView r) const {
  check_dimension("Mlp::residuals", theta.size());
  check_size("Mlp::residuals", r.size(), x_.rows(), "residuals");
  const Lease w = workspace();
  forward(*w, theta, false);
  r = w->output.transpose() - y_;
}

void Mlp::jacobian(const ConstVectorView& theta, MatrixView j) const {
  if (j.rows() != x_.rows() || j.cols() != num_parameters_) {
    throw std::invalid_argument("Mlp::jacobian(): the matrix must be n x p = " + std::to_string(x_.rows()) + " x " +
                                std::to_string(num_parameters_));
  }
  j = jacobian(theta);
}

void Mlp::jv(const ConstVectorView& theta, const ConstVectorView& v, VectorView out) const {
  check_dimension("Mlp::jv", theta.size());
  check_dimension("Mlp::jv", v.size());
  check_size("Mlp::jv", out.size(), x_.rows(), "residuals");
  const std::size_t last = layers_.size() - 1;
  const Lease lease = workspace();
  Workspace& ws = *lease;
  forward(ws, theta, false);
  // The R-forward pass of hessian_vector(): R{z_l} = V_l h_{l-1} + W_l R{h_{l-1}} (+ R{b_l}), and
  // R{f} = R{z_L} is J v.
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const auto& layer = layers_[l];
    const Matrix& input = layer_input(ws, l);
    Matrix& rz = ws.rz[l];
    rz.resize(layer.rows, input.cols());
    kernels::gemm(true, false, layer.rows, input.cols(), layer.cols, v.data() + layer.weight_offset, input.data(),
                  false, rz.data());
    if (l > 0) {
      kernels::gemm(true, false, layer.rows, input.cols(), layer.cols, theta.data() + layer.weight_offset,
                    ws.rh[l - 1].data(), true, rz.data());
    }
    if (layer.bias_offset >= 0) rz.colwise() += Eigen::Map<const Vector>(v.data() + layer.bias_offset, layer.rows);
    if (l < last) ws.rh[l] = ws.d1[l].cwiseProduct(rz);
  }
  out = ws.rz[last].row(0).transpose();
}

void Mlp::jtv(const ConstVectorView& theta, const ConstVectorView& w, VectorView out) const {
  check_dimension("Mlp::jtv", theta.size());
  check_dimension("Mlp::jtv", out.size());
  check_size("Mlp::jtv", w.size(), x_.rows(), "residuals");
  const Lease lease = workspace();
  Workspace& ws = *lease;
  forward(ws, theta, false);
  ws.seed = w.transpose();
  backward(ws, theta, ws.seed);
  // As in loss_and_gradient(), with the seed w in place of the residuals.
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const auto& layer = layers_[l];
    const Matrix& input = layer_input(ws, l);
    kernels::gemm(false, true, layer.cols, layer.rows, input.cols(), input.data(), ws.deltas[l].data(), false,
                  out.data() + layer.weight_offset);
    if (layer.bias_offset >= 0) {
      Eigen::Map<Vector>(out.data() + layer.bias_offset, layer.rows) = ws.deltas[l].rowwise().sum();
    }
  }
}

std::optional<LipschitzBound> Mlp::jacobian_lipschitz_bound(const ConstVectorView& theta0) const {
  check_dimension("Mlp::jacobian_lipschitz_bound", theta0.size());
  const std::optional<DerivativeBounds> derivatives = derivative_bounds(architecture_.activation);
  if (!derivatives || architecture_.bias) return std::nullopt;  // the bounds are proved for these only
  const DerivativeBounds bounds = *derivatives;
  const auto& layers = layers_;
  const Matrix& x = x_;
  LipschitzBound bound;
  if (layers.size() == 2) {
    // One hidden layer (docs/theory.md §5.3):
    // l(r) = sqrt(2) S1 ||X|| + S2 x_max ||X||_F (||a0||_inf + r).
    const double x_norm = spectral_norm(x);
    const double x_max = x.rowwise().norm().maxCoeff();
    const double x_frobenius = x.norm();
    const auto& out = layers[1];
    const double a_inf = theta0.segment(out.weight_offset, out.cols).cwiseAbs().maxCoeff();
    const double a = std::sqrt(2.0) * bounds.s1 * x_norm;
    const double b = bounds.s2 * x_max * x_frobenius;
    bound.at = [a, b, a_inf](double r) { return a + b * (a_inf + r); };
    bound.kind = jacobian_lipschitz_kind();
    return bound;
  }
  // Deeper networks: the product-of-norms bound of docs/theory.md §5.4. Per sample, the second
  // directional derivative of f along a unit direction is at most v^T F v, F built layer by layer from
  // omega_l = ||W_l^0|| + r (a bound on ||W_l|| over the ball), eta_l (a bound on ||h_l||), S1 and S2;
  // its largest eigenvalue M_i bounds the Hessian of f(x_i), and l(r) = sqrt(sum_i M_i^2).
  const std::size_t count = layers.size();
  std::vector<double> weight_norms(count);
  std::vector<double> widths(count);
  for (std::size_t l = 0; l < count; ++l) {
    const auto& layer = layers[l];
    const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> w(
        theta0.data() + layer.weight_offset, layer.rows, layer.cols);
    weight_norms[l] = spectral_norm(w);
    widths[l] = static_cast<double>(layer.rows);
  }
  const Vector sample_norms = x.rowwise().norm();
  const double sigma_zero = std::abs(value_at_zero(architecture_.activation));
  // One evaluation costs O(n depth^3): seconds in all for a deep network, so it polls the cancellation
  // check (core/cancellation.hpp) at every layer, not only between evaluations as certify() does.
  bound.at = [=](double r) {
    const Eigen::Index depth = static_cast<Eigen::Index>(count);
    double sum = 0.0;
    for (Eigen::Index i = 0; i < sample_norms.size(); ++i) {
      Vector a = Vector::Zero(depth);         // bound on ||h_dot_{l}||, linear in v
      Matrix b = Matrix::Zero(depth, depth);  // bound on ||h_ddot_{l}||, quadratic in v
      double eta = sample_norms[i];           // bound on ||h_{l-1}||
      for (Eigen::Index l = 0; l + 1 < depth; ++l) {
        if (cancellation_requested()) throw Cancelled("Mlp::jacobian_lipschitz_bound(): cancelled");
        const double omega = weight_norms[l] + r;
        Vector c = omega * a;  // ||z_dot_l|| <= v_l eta + omega ||h_dot||
        c[l] += eta;
        Matrix next = omega * b;
        next.row(l) += a.transpose();
        next.col(l) += a;  // 2 v_l ||h_dot_{l-1}||, symmetrised
        b = bounds.s1 * next + bounds.s2 * c * c.transpose();
        a = bounds.s1 * c;
        eta = sigma_zero * std::sqrt(widths[l]) + bounds.s1 * omega * eta;
      }
      const Eigen::Index last = depth - 1;
      Matrix f = (weight_norms[last] + r) * b;
      f.row(last) += a.transpose();
      f.col(last) += a;
      const double m = Eigen::SelfAdjointEigenSolver<Matrix>(f, Eigen::EigenvaluesOnly).eigenvalues().maxCoeff();
      sum += m * m;
    }
    return std::sqrt(sum);
  };
  bound.kind = jacobian_lipschitz_kind();
  return bound;
}

std::optional<double> Mlp::jacobian_lipschitz(const ConstVectorView& theta0, double radius) const {
  const std::optional<LipschitzBound> bound = jacobian_lipschitz_bound(theta0);
  if (!bound) return std::nullopt;
  return bound->at(radius);
}

std::string Mlp::jacobian_lipschitz_kind() const {
  return layers_.size() == 2 ? "one hidden layer (docs/theory.md §5.3)" : "product of norms (docs/theory.md §5.4)";
}

JacobianSpectrum Mlp::jacobian_spectrum(const ConstVectorView& theta) const {
  const Eigen::SelfAdjointEigenSolver<Matrix> eig(gram(theta), Eigen::EigenvaluesOnly);
  JacobianSpectrum spectrum;
  spectrum.sigma_min = x_.rows() <= num_parameters_ ? std::sqrt(std::max(eig.eigenvalues()[0], 0.0)) : 0.0;
  spectrum.sigma_max = std::sqrt(std::max(eig.eigenvalues().maxCoeff(), 0.0));
  return spectrum;
}

std::string Mlp::certificate_obstacle(const ConstVectorView&) const {
  if (!qualifies(architecture_.activation)) return why_not_qualified(architecture_.activation);
  if (architecture_.bias) return "the certificate's Lipschitz bounds are derived for networks without biases";
  const IndependenceReport report = independence_report(x_);
  if (!report.applies) {
    return report.n > report.d ? "n = " + std::to_string(report.n) + " > d = " + std::to_string(report.d) +
                                     ": the inputs cannot be linearly independent"
                               : "rank(X) = " + std::to_string(report.rank) + " < n: the inputs are linearly dependent";
  }
  return {};
}

}  // namespace gradflow
