/// @file
/// The local PL certificate for squared losses L = 1/2 ||r(theta)||^2 (docs/theory.md §4 and §5).
///
/// With J the Jacobian of the residuals, sigma0 = sigma_n(J(theta0)) and J l(r)-Lipschitz on the ball
/// B(theta0, r), every theta in the ball has sigma_n(J) >= sigma0 - l r, so L is mu_r-PL there with
/// mu_r = (sigma0 - l(r) r)^2. Gradient flow is then certified to converge linearly to zero loss without
/// leaving the ball as soon as
///   phi(r) = r (sigma0 - l(r) r) > ||r0||        for some r,
/// which for a constant l is sigma0^2 > 4 l ||r0||. Gradient descent with eta = 1/beta_r, where
///   beta_r = (||J0|| + l r)^2 + l (||r0|| + ||J0|| r + l r^2 / 2)
/// bounds the Hessian on the ball, is certified when phi(r) > 2 ||r0|| (sigma0^2 > 8 l ||r0||).
///
/// The certificate takes any ResidualObjective (core/residual_objective.hpp): its residuals at theta0,
/// sigma_n(J) and ||J|| there (jacobian_spectrum()), and a rigorous bound l(r) on the Lipschitz constant
/// of J over the ball (jacobian_lipschitz()): 0 for least squares; for one hidden layer the explicit
/// bound of docs/theory.md §5.3; for deeper networks the product-of-norms bound of docs/theory.md §5.4;
/// whatever a user's squared loss proves for itself. A problem without a bound gets no certificate, and
/// the reason says what is missing. Nothing here is sampled. For problems without residual structure,
/// estimate_local_constants() samples mu and beta on a ball instead, and says so.
#pragma once

#include <gradflow/core/named_value.hpp>
#include <gradflow/core/objective.hpp>
#include <gradflow/core/residual_objective.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>

namespace gradflow {

class Mlp;

/// The pieces of a certificate, at theta0.
struct CertificateInputs {
  double loss0 = 0.0;          ///< L(theta0) = 1/2 ||r0||^2
  double residual_norm = 0.0;  ///< ||r0||
  double sigma0 = 0.0;         ///< sigma_n(J(theta0))
  double jacobian_norm = 0.0;  ///< ||J(theta0)||
  LipschitzBound lipschitz;    ///< l(r): the Lipschitz bound of J on B(theta0, r), and where it comes from
};

/// The local PL certificate at theta0 for gradient flow and for gradient descent (docs/theory.md §4):
/// its inputs, the chosen radius and the constants it certifies. Inputs that were not computed are NaN.
struct Certificate {
  bool applies = false;  ///< the theory covers this problem at theta0 (else why_not says why)
  std::string why_not;   ///< why the theory does not apply; empty when it does
  double loss0 = std::numeric_limits<double>::quiet_NaN();          ///< L(theta0) = 1/2 ||r0||^2
  double residual_norm = std::numeric_limits<double>::quiet_NaN();  ///< ||r0||
  double sigma0 = std::numeric_limits<double>::quiet_NaN();         ///< sigma_n(J(theta0))
  double jacobian_norm = std::numeric_limits<double>::quiet_NaN();  ///< ||J(theta0)||
  std::string lipschitz_kind;  ///< where the Lipschitz bound l(r) comes from (LipschitzBound::kind)

  /// Gradient flow.
  bool holds = false;          ///< max_r phi(r) > ||r0||
  double phi_max = 0.0;        ///< max_r phi(r)
  double radius = 0.0;         ///< the chosen radius r* (argmax of phi); +inf for a linear model
  double lipschitz = 0.0;      ///< l(r*)
  double radius_low = 0.0;     ///< admissible radii: phi(r) > ||r0|| on (radius_low, radius_high)
  double radius_high = 0.0;    ///< upper end of the admissible radii (see radius_low)
  double mu = 0.0;             ///< (sigma0 - l(r*) r*)^2, the certified PL constant on B(theta0, r*)
  double travel = 0.0;         ///< sqrt(2 L0 / mu) = ||r0|| / (sigma0 - l r*): the flow stays this close
  double rate = 0.0;           ///< 2 mu: L(t) <= L0 exp(-2 mu t)
  double criterion_lhs = 0.0;  ///< sigma0^2
  double criterion_rhs = 0.0;  ///< 4 l(r*) ||r0||
  double margin = 0.0;         ///< phi_max / ||r0|| - 1 (> 0 when it holds)

  /// Gradient descent with eta = 1/beta_r.
  bool descent_holds = false;          ///< max_r phi(r) > 2 ||r0||
  double descent_radius = 0.0;         ///< r used for beta_r (= radius)
  double beta = 0.0;                   ///< beta_r
  double step = 0.0;                   ///< 1 / beta_r
  double descent_q = 0.0;              ///< 1 - mu / beta_r
  double descent_travel = 0.0;         ///< 2 sqrt(2 L0 / mu)
  double descent_criterion_rhs = 0.0;  ///< 8 l(r*) ||r0||
  double descent_margin = 0.0;         ///< phi_max / (2 ||r0||) - 1

  /// One line for reports: why the theory does not apply, or whether the flow is certified (with mu and
  /// travel) and whether descent is (with its step and q).
  std::string verdict() const;
  /// Every field by its member's name, and verdict (core/named_value.hpp): the Python module's dict.
  NamedValues values() const;
};

/// The certificate from its inputs (the algebra of docs/theory.md §4.2 and §4.3).
Certificate certify(const CertificateInputs& inputs);

/// The certificate of a squared loss at theta0. applies = false, with the reason, when the problem
/// names an obstacle (ResidualObjective::certificate_obstacle(): for networks a non-qualifying activation,
/// biases or dependent inputs; for least squares rank X < n), when n > p, or when it gives no Lipschitz
/// bound of its Jacobian (the inputs that could be computed, loss0, residual_norm, sigma0 and
/// jacobian_norm, are filled in all the same).
Certificate certify(const ResidualObjective& objective, const Vector& theta0);

/// For any objective: the certificate of its squared-loss view (Objective::as_residual(), a capability
/// of the interface), or applies = false saying that it has no residual structure.
/// Cancellation (core/cancellation.hpp): with a check installed, certify() and find_positive_scale() poll
/// it between evaluations of the Lipschitz bound and throw Cancelled when it says stop.
Certificate certify(const Objective& objective, const Vector& theta0);

/// The smallest output scale s* at which the certificate holds at the positive initialization
/// (docs/theory.md §5.5), by bisection on s (the certificate's condition is monotone in s when
/// sigma(0) = 0). For sigma(0) != 0 there is no threshold: the outputs at the positive initialization
/// are s sigma(0) (...), so ||r0|| grows with s as fast as sigma0; found = false says so and suggests the
/// centred activation.
struct ScaleSearch {
  bool found = false;       ///< a threshold s* was found (else why_not says why)
  double scale = 0.0;       ///< s* (relative precision 1e-9)
  Certificate certificate;  ///< at s*
  std::string why_not;      ///< why no threshold was found; empty when found
};
struct InitOptions;
/// for_descent: the threshold of the descent certificate (max phi > 2 ||r0||) instead of the flow's.
ScaleSearch find_positive_scale(const Mlp& network, const InitOptions& positive, bool for_descent = false);

/// Sampled estimates of the PL constant and the smoothness on B(theta0, radius), for problems without
/// residual structure: min over samples of ||grad L||^2 / (2 (L - L_min)) and max of the Hessian's norm
/// (power iteration). Estimates, not bounds. Without a known L_min (KnownFacts::min_value) mu_estimate is
/// NaN.
struct LocalEstimate {
  double radius = 0.0;         ///< radius of the ball B(theta0, radius) sampled
  int samples = 0;             ///< random points drawn in the ball (theta0 is evaluated as well)
  double mu_estimate = 0.0;    ///< smallest PL ratio over the points; NaN without min_value, +inf if no L > L_min
  double beta_estimate = 0.0;  ///< largest power-iteration estimate of the Hessian's norm over the points
};
/// Evaluates theta0 and `samples` points drawn uniformly in B(theta0, radius) from seed; each point costs a
/// loss and gradient and up to 100 Hessian-vector products (core/tolerances.hpp).
LocalEstimate estimate_local_constants(const Objective& objective, const Vector& theta0, double radius, int samples,
                                       std::uint64_t seed);

}  // namespace gradflow
