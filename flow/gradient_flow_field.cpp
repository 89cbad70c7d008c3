#include <gradflow/flow/gradient_flow_field.hpp>

#include <cmath>
#include <cstring>

namespace gradflow {

GradientFlowField::GradientFlowField(const Objective& objective)
    : objective_(objective), last_theta_(objective.dimension()), last_grad_(objective.dimension()) {}

double GradientFlowField::evaluate(const ConstVectorView& theta) {
  const bool same_point =
      has_last_ && std::memcmp(theta.data(), last_theta_.data(), sizeof(double) * theta.size()) == 0;
  if (!same_point) {
    last_loss_ = objective_.loss_and_gradient(theta, last_grad_);
    ++num_evaluations_;
    last_theta_ = theta;
    has_last_ = true;
    // The squared norm is finite exactly when every entry is finite and the norm does not overflow
    // (entries of 1e300 are finite, their norm is not): one vectorized pass.
    last_grad_norm2_ = last_grad_.squaredNorm();
    last_finite_ = std::isfinite(last_loss_) && std::isfinite(last_grad_norm2_);
    if (!last_finite_) ++num_non_finite_;
  }
  return last_loss_;
}

bool GradientFlowField::velocity(const ConstVectorView& theta, VectorView velocity) {
  const double loss = evaluate(theta);
  velocity = -last_grad_;
  return std::isfinite(loss) && last_finite_;
}

double GradientFlowField::loss_and_gradient(const ConstVectorView& theta, VectorView grad) {
  const double loss = evaluate(theta);
  grad = last_grad_;
  return loss;
}

void GradientFlowField::jacobian_times(const ConstVectorView& theta, const ConstVectorView& v, VectorView out) {
  objective_.hessian_vector(theta, v, out);
  out = -out;
}

void GradientFlowField::jacobian(const ConstVectorView& theta, MatrixView out) {
  objective_.hessian(theta, out);
  out = -out;
}

}  // namespace gradflow
