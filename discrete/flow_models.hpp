/// @file
/// Continuous-time models of gradient descent with step eta, on the clock t = k eta (docs/theory.md §2.10):
///
///   plain     theta' = -grad L                                    descent follows it to O(eta) per unit time
///   modified  theta' = -(grad L + (eta / 2) H grad L)             to O(eta^2) (discrete/modified_flow.hpp)
///   central   theta' = -(grad L + (sigma^2 / 2) grad S)           the central flow of Cohen, Damian, Talwalkar,
///             Kolter & Lee (ICLR 2025), single-unstable-eigenvalue form: S = lambda_max(H) the sharpness,
///             sigma^2 = 0 while S < 2 / eta, and at the edge the sigma^2 >= 0 that holds S at 2 / eta,
///             sigma^2 = max(0, 2 (gamma (S - 2/eta) - <grad S, grad L>) / ||grad S||^2); it predicts the
///             time average of the iterates, and of the loss L + (sigma^2 / 2) S = L + sigma^2 / eta.
///             gamma = 1 / eta pulls S back to 2 / eta when a step of the solver overshoots it (a
///             stabilization of gradflow's, not of the paper; 0 gives the paper's projection exactly).
///
/// Each model is an Objective whose "gradient" is minus its vector field, so that every solver integrates
/// it (simulate_flow). The central flow's field is not the gradient of its loss(): loss() is L itself
/// (its stops and rows report L), and its Hessian-vector products are difference quotients of the field.
/// Its sharpness comes from Lanczos on exact Hessian-vector products of L (theory/lanczos.hpp) warm-started
/// at the last top eigenvector, and grad S = D^3 L[u, u, .] from sharpness_gradient() below.
///
/// Thread safety: the central flow keeps its warm start under a mutex; it may be called from several
/// threads, but the wrapped objective must allow that too. The wrapped objective must outlive the model.
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/theory/lanczos.hpp>

#include <atomic>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

/// Which continuous-time model of descent (see the file comment).
enum class FlowModel {
  plain,     ///< theta' = -grad L
  modified,  ///< theta' = -(grad L + (eta / 2) H grad L), the flow of ModifiedLoss
  central    ///< theta' = -(grad L + (sigma^2 / 2) grad S), CentralFlow
};
std::string_view to_string(FlowModel model);  ///< "plain", "modified", "central"
/// The model named "plain", "modified" or "central"; empty for any other name.
std::optional<FlowModel> flow_model_from_string(std::string_view name);
/// The models' names: "plain", "modified", "central".
const std::vector<std::string>& flow_model_names();

/// The largest Hessian eigenvalue and its unit eigenvector by Lanczos on exact Hessian-vector products
/// (warm: a start vector, or empty), to a relative residual of 1e-10; products counts them.
struct TopEigenpair {
  /// The largest eigenvalue of H, S.
  double value = std::numeric_limits<double>::quiet_NaN();
  Vector u;                ///< its unit eigenvector
  int products = 0;        ///< the Hessian-vector products Lanczos spent
  bool converged = false;  ///< whether Lanczos reached the residual 1e-10
};
/// The top eigenpair of H(theta) (see TopEigenpair); warm of another size than p starts from the ones
/// vector.
TopEigenpair top_eigenpair(const Objective& objective, const ConstVectorView& theta, const Vector& warm = {});

/// grad S(theta) = D^3 L[u, u, .] for the top unit eigenvector u (the derivative of the simple eigenvalue
/// S = u^T H u, Hellmann-Feynman), by the central difference of Hessian-vector products along u,
/// (H(theta + h u) u - H(theta - h u) u) / (2 h), h = eps^(1/3) max(1, ||theta||): truncation O(h^2),
/// rounding O(eps ||H u|| / h). Two Hessian-vector products. Needs exact Hessian-vector products.
Vector sharpness_gradient(const Objective& objective, const ConstVectorView& theta, const Vector& u);

/// The central flow's quantities at theta.
struct CentralState {
  double loss = std::numeric_limits<double>::quiet_NaN();       ///< L
  double sharpness = std::numeric_limits<double>::quiet_NaN();  ///< S
  double sigma2 = 0.0;                                          ///< 0 below the edge
  /// The time-averaged loss it predicts, L + (sigma^2 / 2) S.
  double average_loss() const { return loss + 0.5 * sigma2 * sharpness; }
};

/// The central flow of descent with step eta as an Objective: loss() is L, loss_and_gradient()'s "gradient" is
/// minus the central flow's field (see the file comment).
class CentralFlow final : public Objective {
 public:
  /// eta: the step, finite and > 0; gamma: the restoring rate (NaN: 1 / eta), finite and >= 0.
  CentralFlow(const Objective& base, double eta, double gamma = std::numeric_limits<double>::quiet_NaN());

  std::string name() const override { return "central flow of " + base_.name(); }
  /// The wrapped objective's p.
  Eigen::Index dimension() const override { return base_.dimension(); }
  /// L(theta), the wrapped objective's loss.
  double loss(const ConstVectorView& theta) const override { return base_.loss(theta); }
  /// L, and grad L + (sigma^2 / 2) grad S (minus the field).
  double loss_and_gradient(const ConstVectorView& theta, VectorView grad) const override;
  /// The wrapped objective's threads() (set them on it).
  int threads() const override { return base_.threads(); }
  /// False: the field is not the gradient of loss().
  bool field_is_gradient() const override { return false; }

  /// L, the sharpness S and sigma^2 at theta (one Lanczos run, and grad S at the edge).
  CentralState state(const ConstVectorView& theta) const;
  /// The step eta whose central flow this is.
  double eta() const { return eta_; }
  /// The work made inside the field (on top of the gradients the solver counts): Hessian-vector products
  /// of L (Lanczos and grad S).
  long hessian_vector_products() const { return hvps_.load(); }

 private:
  CentralState evaluate(const ConstVectorView& theta, Vector* field) const;
  const Objective& base_;
  double eta_, gamma_;
  mutable std::mutex mutex_;
  mutable Vector warm_;  ///< the last top eigenvector
  mutable std::atomic<long> hvps_{0};
};

/// The model's objective for step eta; null for plain (integrate base itself).
std::unique_ptr<Objective> flow_model_objective(const Objective& base, FlowModel model, double eta);

}  // namespace gradflow
