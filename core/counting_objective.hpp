/// @file
/// An Objective that forwards to another and counts the evaluations: the one place where solver
/// statistics (gradient, Hessian-vector and Hessian evaluations) are counted, whatever the back end.
///
/// Threads: as safe as the inner objective (core/objective.hpp). The counters are atomic (relaxed: each
/// count is exact, counts() is a snapshot that may be taken while other threads still evaluate).
#pragma once

#include <gradflow/core/objective.hpp>

#include <atomic>

namespace gradflow {

/// Evaluations made through a CountingObjective, by kind.
struct EvaluationCounts {
  long num_loss_evals = 0;            ///< loss only (line searches, bound checks)
  long num_gradient_evals = 0;        ///< gradient, or loss and gradient together
  long num_hessian_vector_evals = 0;  ///< exact or finite-difference products
  long num_hessian_evals = 0;         ///< dense Hessians
};

/// Forwards every call to an inner objective and counts loss, gradient, Hessian-vector and Hessian calls.
class CountingObjective final : public Objective {
 public:
  /// Wraps inner, which must outlive this object; all counts start at 0.
  explicit CountingObjective(const Objective& inner) : inner_(inner) {}

  std::string name() const override { return inner_.name(); }
  Eigen::Index dimension() const override { return inner_.dimension(); }
  double loss(const ConstVectorView& theta) const override;
  double loss_and_gradient(const ConstVectorView& theta, VectorView grad) const override;
  void gradient(const ConstVectorView& theta, VectorView grad) const override;
  /// A finite-difference product costs two gradients inside the inner problem; those are not
  /// counted as gradient evaluations, only as one Hessian-vector evaluation.
  void hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const override;
  bool has_exact_hessian_vector() const override { return inner_.has_exact_hessian_vector(); }
  bool has_hessian() const override { return inner_.has_hessian(); }
  void hessian(const ConstVectorView& theta, MatrixView h) const override;
  bool has_constant_hessian() const override { return inner_.has_constant_hessian(); }
  KnownFacts known() const override { return inner_.known(); }
  bool has_exact_flow() const override { return inner_.has_exact_flow(); }
  bool field_is_gradient() const override { return inner_.field_is_gradient(); }
  Vector exact_flow(const ConstVectorView& theta0, double t) const override { return inner_.exact_flow(theta0, t); }

  /// The evaluations counted so far.
  EvaluationCounts counts() const;
  /// The wrapped objective.
  const Objective& inner() const { return inner_; }

 private:
  const Objective& inner_;
  mutable std::atomic<long> loss_evals_{0}, gradient_evals_{0}, hessian_vector_evals_{0}, hessian_evals_{0};
};

}  // namespace gradflow
