#include <gradflow/flow/gradient_flow_field.hpp>

#include <gradflow/core/detail/kernels.hpp>

#include <cmath>
#include <cstring>

namespace gradflow {

GradientFlowField::GradientFlowField(const Objective& objective)
    : objective_(objective), last_theta_(objective.dimension()), last_grad_(objective.dimension()) {}

bool GradientFlowField::is_last_point(const ConstVectorView& theta) const {
  return has_last_ && std::memcmp(theta.data(), last_theta_.data(), sizeof(double) * theta.size()) == 0;
}

void GradientFlowField::remember(const ConstVectorView& theta) {
  if (!remember_points_) return;
  std::memcpy(last_theta_.data(), theta.data(), sizeof(double) * static_cast<std::size_t>(theta.size()));
  has_last_ = true;
}

void GradientFlowField::note_evaluation(double grad_norm2) {
  last_grad_norm2_ = grad_norm2;
  last_finite_ = std::isfinite(last_loss_) && std::isfinite(last_grad_norm2_);
  if (!last_finite_) ++num_non_finite_;
}

double GradientFlowField::evaluate(const ConstVectorView& theta) {
  if (!is_last_point(theta)) {
    last_loss_ = objective_.loss_and_gradient(theta, last_grad_);
    ++num_evaluations_;
    remember(theta);
    // The squared norm is finite exactly when every entry is finite and the norm does not overflow
    // (entries of 1e300 are finite, their norm is not): one vectorized pass.
    note_evaluation(last_grad_.squaredNorm());
  }
  return last_loss_;
}

bool GradientFlowField::velocity(const ConstVectorView& theta, VectorView velocity) {
  if (is_last_point(theta)) {
    velocity = -last_grad_;
    return last_finite_;
  }
  // A new point: the negated copy and the squared norm in one pass over the gradient (the steppers
  // call this at every stage, so each pass over p entries counts).
  last_loss_ = objective_.loss_and_gradient(theta, last_grad_);
  ++num_evaluations_;
  remember(theta);
  note_evaluation(kernels::negate_and_squared_norm(last_grad_.data(), velocity.data(), last_grad_.size()));
  return last_finite_;
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
