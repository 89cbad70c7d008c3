/// @file
/// The modified loss of gradient descent (backward error analysis; Barrett & Dherin 2021, "Implicit
/// gradient regularization"; docs/theory.md §2.9):
///
///   L~(theta) = L(theta) + (eta / 4) ||grad L(theta)||^2,   grad L~ = grad L + (eta / 2) H grad L.
///
/// Gradient descent with step eta follows the gradient flow of L~ (the modified flow) to O(eta^2) per
/// unit time, where it follows the plain flow of L only to O(eta): one step of descent and the flow of
/// L~ over time eta agree to O(eta^3). Each evaluation of the gradient costs one gradient and one
/// Hessian-vector product of the wrapped objective (exact when it has one, its central difference
/// otherwise).
///
/// Thread safety: as safe as the wrapped objective (its scratch is per call). The wrapped objective
/// must outlive this one.
#pragma once

#include <gradflow/core/objective.hpp>

#include <string>

namespace gradflow {

/// The modified loss L~ = L + (eta / 4) ||grad L||^2 of a wrapped objective L (see the file comment).
class ModifiedLoss final : public Objective {
 public:
  /// eta: the descent's step size, finite and >= 0 (0 gives L itself); throws std::invalid_argument.
  ModifiedLoss(const Objective& base, double eta);

  std::string name() const override { return "modified " + base_.name(); }
  /// The wrapped objective's p.
  Eigen::Index dimension() const override { return base_.dimension(); }
  /// L~(theta), from one loss_and_gradient() of the wrapped objective.
  double loss(const ConstVectorView& theta) const override;
  /// L~(theta), and grad L~ = grad L + (eta / 2) H grad L written to grad (one more Hessian-vector product).
  double loss_and_gradient(const ConstVectorView& theta, VectorView grad) const override;
  int threads() const override { return base_.threads(); }  ///< set them on the wrapped objective

  /// The step size eta of the modification.
  double eta() const { return eta_; }
  /// The wrapped objective L.
  const Objective& base() const { return base_; }

 private:
  const Objective& base_;
  double eta_;
};

}  // namespace gradflow
