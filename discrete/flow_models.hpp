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
///   edge      a centre c, a direction u and an amplitude a: the iterates c +- a u (EdgeFlow below), with the
///             structure of Marion's Edge Flow (arXiv 2606.18080): the centre on the symmetrized loss, the
///             direction by Rayleigh-quotient dynamics, the amplitude growing or decaying as the sharpness is
///             above or below 2 / eta. gradflow's derivation from descent's two-step map (docs/theory.md
///             §2.10); the paper's own equations were not available to check it against.
///
/// Each model is an Objective whose "gradient" is minus its vector field, so that every solver integrates
/// it (simulate_flow). The central and edge flows' fields are not gradients of their loss(), and their
/// Hessian-vector products are difference quotients of the field. The edge flow's state has 2p + 1
/// entries (c, u, a): start it with flow_model_start(). The central flow's sharpness comes from Lanczos on
/// exact Hessian-vector products of L (theory/lanczos.hpp) warm-started at the last top eigenvector, and
/// grad S = D^3 L[u, u, .] from sharpness_gradient() below.
///
/// Thread safety: the central flow keeps its warm start under a mutex; both may be called from several
/// threads, but the wrapped objective must allow that too. The wrapped objective must outlive the model.
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/theory/lanczos.hpp>

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
  central,   ///< theta' = -(grad L + (sigma^2 / 2) grad S), CentralFlow
  edge       ///< the centre, direction and amplitude of the oscillation, EdgeFlow
};
std::string_view to_string(FlowModel model);  ///< "plain", "modified", "central", "edge"
/// The model named "plain", "modified", "central" or "edge"; empty for any other name.
std::optional<FlowModel> flow_model_from_string(std::string_view name);
/// The models' names: "plain", "modified", "central", "edge".
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

/// What a model of the edge of stability (CentralFlow, EdgeFlow) predicts at a state of its flow.
struct ModelState {
  double loss = std::numeric_limits<double>::quiet_NaN();       ///< L at the centre
  double sharpness = std::numeric_limits<double>::quiet_NaN();  ///< central: S (Lanczos); edge: u^T H(c) u
  /// The oscillation's squared size along the top direction: central sigma^2 (0 below the edge), edge a^2.
  double sigma2 = 0.0;
  /// The time-averaged loss of descent it predicts: central L + (sigma^2 / 2) S; edge (L(c + a u) + L(c - a u)) / 2.
  double average_loss = std::numeric_limits<double>::quiet_NaN();
  Vector center;  ///< the time average of the iterates it predicts (p entries)
  Vector offset;  ///< edge: the iterates it predicts are center +- offset (a u); central: empty
};

/// A flow that models descent at the edge of stability, as an Objective over its own state (see the file
/// comment): loss_and_gradient()'s "gradient" is minus the field.
class EdgeOfStabilityFlow : public Objective {
 public:
  /// The wrapped objective L; eta: the step, finite and > 0 (std::invalid_argument otherwise, and when
  /// base has no exact Hessian-vector products).
  EdgeOfStabilityFlow(const Objective& base, double eta, const char* who);
  /// False: the field is not the gradient of loss().
  bool field_is_gradient() const override { return false; }
  /// The wrapped objective's threads() (set them on it).
  int threads() const override { return base_.threads(); }
  /// The flow's state at the start theta0 (p entries): central theta0, edge (theta0, u, a0).
  virtual Vector start(const ConstVectorView& theta0) const = 0;
  /// What the model predicts at the state z (one more evaluation of the field's parts).
  ModelState state(const ConstVectorView& z) const;
  /// The loss the rows report (central L, edge the predicted average loss), and minus the field.
  double loss_and_gradient(const ConstVectorView& z, VectorView grad) const final;
  /// The step eta whose flow this is.
  double eta() const { return eta_; }
  /// The wrapped objective L.
  const Objective& base() const { return base_; }

 protected:
  /// What the model predicts at z, and minus its field written to *field when field is not null.
  virtual ModelState evaluate(const ConstVectorView& z, Vector* field) const = 0;
  /// The loss the rows report, from a prediction.
  virtual double reported_loss(const ModelState& s) const = 0;
  const Objective& base_;  ///< L
  double eta_;             ///< the step

 private:
  // "CentralFlow::loss_and_gradient", "EdgeFlow::state", ...: made once, for the dimension checks.
  std::string where_field_, where_state_;
};

/// The central flow of descent with step eta: loss() is L, loss_and_gradient()'s "gradient" is minus the
/// central flow's field (see the file comment). Its state is theta itself (p entries).
class CentralFlow final : public EdgeOfStabilityFlow {
 public:
  /// eta: the step, finite and > 0; gamma: the restoring rate (NaN: 1 / eta), finite and >= 0.
  CentralFlow(const Objective& base, double eta, double gamma = std::numeric_limits<double>::quiet_NaN());

  std::string name() const override { return "central flow of " + base_.name(); }
  /// The wrapped objective's p.
  Eigen::Index dimension() const override { return base_.dimension(); }
  /// L(theta), the wrapped objective's loss.
  double loss(const ConstVectorView& theta) const override { return base_.loss(theta); }
  /// theta0 itself.
  Vector start(const ConstVectorView& theta0) const override { return theta0; }

 private:
  /// L, the sharpness S, sigma^2 and the predicted average loss at theta (one Lanczos run, and grad S at
  /// the edge); center is theta, offset empty; the field's minus is grad L + (sigma^2 / 2) grad S.
  ModelState evaluate(const ConstVectorView& theta, Vector* field) const override;
  /// L: the rows of the central flow report L.
  double reported_loss(const ModelState& s) const override { return s.loss; }
  double gamma_;
  mutable std::mutex mutex_;
  mutable Vector warm_;  ///< the last top eigenvector
};

/// The edge flow of descent with step eta (docs/theory.md §2.10): the iterates modelled as c +- a u, the
/// state z = (c, v, a) with 2p + 1 entries, u = v / ||v||, and with g+- = grad L(c +- a u),
///
///   c' = -(gbar + (eta / 2) H(c) gbar),   gbar = (g+ + g-) / 2   the modified flow of the symmetrized loss
///                                                                (L(c + a u) + L(c - a u)) / 2
///   v' = H(c) u - rho u,                  rho = u^T H(c) u       Rayleigh-quotient dynamics
///   a' = a ln(max(eta lambda - 1, e^-2)) / eta                   lambda = u^T (g+ - g-) / (2 a), the
///                                                                curvature across the oscillation (rho
///                                                                while a < 1e-8 max(1, ||c||))
///
/// (each from one step of descent with theta_k = c +- a u; the amplitude grows by eta lambda - 1 per
/// step). loss() is the predicted time-averaged loss (L(c + a u) + L(c - a u)) / 2; each field costs two
/// gradients and two Hessian-vector products of L (one gradient while a = 0). Heuristic, like the central
/// flow: it assumes one unstable direction and a period-2 oscillation.
class EdgeFlow final : public EdgeOfStabilityFlow {
 public:
  /// eta: the step, finite and > 0.
  EdgeFlow(const Objective& base, double eta);

  std::string name() const override { return "edge flow of " + base_.name(); }
  /// 2p + 1: the centre, the direction and the amplitude.
  Eigen::Index dimension() const override { return 2 * base_.dimension() + 1; }
  /// (L(c + a u) + L(c - a u)) / 2.
  double loss(const ConstVectorView& z) const override;
  /// (theta0, u0, a0): u0 the top eigenvector of H(theta0) (Lanczos), a0 = (eta / 2) |u0^T grad L(theta0)|,
  /// half of the first step's component along u0.
  Vector start(const ConstVectorView& theta0) const override;

 private:
  /// L(c), rho, a^2 and the predicted average loss at z; center c, offset a u; the field's minus is
  /// (-c', -v', -a').
  ModelState evaluate(const ConstVectorView& z, Vector* field) const override;
  /// The predicted time-averaged loss.
  double reported_loss(const ModelState& s) const override { return s.average_loss; }
};

/// The model's objective for step eta; null for plain (integrate base itself).
std::unique_ptr<Objective> flow_model_objective(const Objective& base, FlowModel model, double eta);
/// The central or the edge flow for step eta (std::invalid_argument for the other models).
std::unique_ptr<EdgeOfStabilityFlow> edge_of_stability_flow(const Objective& base, FlowModel model, double eta);
/// The state the model's flow starts from at theta0: theta0 itself except for the edge flow (EdgeFlow::start()).
Vector flow_model_start(const Objective& base, FlowModel model, double eta, const ConstVectorView& theta0);

}  // namespace gradflow
