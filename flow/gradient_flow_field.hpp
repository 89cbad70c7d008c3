/// @file
/// The vector field of gradient flow, theta' = -grad L(theta): the one place where the minus sign lives.
/// Both back ends (odeint and CVODE) evaluate the flow only through this adaptor.
///
/// It remembers the last point it evaluated, with L and grad L there, so that asking again for that
/// point costs nothing extra; dopri5's driver reads the evaluation of its FSAL stage (made exactly at
/// the new state) directly instead (remember_points).
#pragma once

#include <gradflow/core/objective.hpp>

namespace gradflow {

/// The field theta' = -grad L(theta) of an objective, with the cache of the last evaluated point and the
/// counters of evaluations (see the file comment).
class GradientFlowField {
 public:
  /// objective must outlive the field.
  explicit GradientFlowField(const Objective& objective);

  /// velocity = -grad L(theta). Returns false when L, an entry of grad L, or ||grad L|| is not finite.
  bool velocity(const ConstVectorView& theta, VectorView velocity);
  /// L(theta), with grad L(theta) written to grad; reuses the last evaluation when theta is,
  /// bit for bit, the point evaluated last.
  double loss_and_gradient(const ConstVectorView& theta, VectorView grad);
  /// out = -H(theta) v: the Jacobian of the field times v.
  void jacobian_times(const ConstVectorView& theta, const ConstVectorView& v, VectorView out);
  /// out = -H(theta); only for problems with has_hessian().
  void jacobian(const ConstVectorView& theta, MatrixView out);

  /// The objective whose flow this is.
  const Objective& objective() const { return objective_; }
  /// p, the objective's dimension().
  Eigen::Index dimension() const { return objective_.dimension(); }
  /// Whether an evaluation keeps a copy of its point, so that asking again for that point, bit for bit,
  /// costs nothing (on by default). dopri5's driver turns it off for its steps: its last stage is
  /// evaluated exactly at the accepted state, and it reads that evaluation with last_loss() and the
  /// stage's own velocity, which saves a copy of theta per evaluation (issue 15, solver overhead).
  void remember_points(bool on) {
    remember_points_ = on;
    if (!on) has_last_ = false;
  }
  /// L at the point evaluated last.
  double last_loss() const { return last_loss_; }
  /// Evaluations whose loss, gradient or gradient norm was NaN or Inf.
  long num_non_finite() const { return num_non_finite_; }
  /// ||grad L||^2 at the point evaluated last (computed once, with the finiteness check).
  double last_gradient_squared_norm() const { return last_grad_norm2_; }
  /// Evaluations of the objective's loss and gradient made through the field (repeats of the last
  /// point are not evaluations).
  long num_evaluations() const { return num_evaluations_; }

 private:
  double evaluate(const ConstVectorView& theta);
  bool is_last_point(const ConstVectorView& theta) const;
  /// Keeps a copy of theta as the point evaluated last (when remember_points is on).
  void remember(const ConstVectorView& theta);
  /// Records the squared norm of the gradient just evaluated and whether the evaluation is usable.
  void note_evaluation(double grad_norm2);

  const Objective& objective_;
  Vector last_theta_;
  Vector last_grad_;
  double last_loss_ = 0.0;
  double last_grad_norm2_ = 0.0;
  bool last_finite_ = false;  ///< the loss and the gradient's squared norm at last_theta_ are finite
  bool has_last_ = false;     ///< last_theta_ holds the point evaluated last
  bool remember_points_ = true;
  long num_non_finite_ = 0;
  long num_evaluations_ = 0;
};

}  // namespace gradflow
