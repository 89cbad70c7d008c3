/// @file
/// Activation functions of the network problem, with the first and second derivatives that the
/// gradient and the exact Hessian-vector product need.
///
/// tanh, arctan, softplus, sigmoid and softplus-centered (softplus(z) - log 2, so that sigma(0) = 0) are
/// smooth and strictly increasing: the theory's checks apply to them. relu, silu and gelu are accepted for comparison;
/// the theory does not cover them (relu is not differentiable at 0, silu and gelu are not monotone), and qualifies()
/// says so.
#pragma once

#include <Eigen/Core>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

/// The activation sigma of the hidden layers (MlpArchitecture::activation).
enum class Activation {
  tanh,               ///< tanh z
  arctan,             ///< arctan z
  softplus,           ///< log(1 + e^z)
  sigmoid,            ///< 1 / (1 + e^-z)
  softplus_centered,  ///< log(1 + e^z) - log 2, 0 at z = 0
  relu,               ///< max(z, 0); not covered by the theory
  silu,               ///< z / (1 + e^-z); not covered by the theory
  gelu                ///< z Phi(z), Phi the standard normal distribution function; not covered by the theory
};

/// The activation's name on the command line: "tanh", ..., "softplus-centered", ..., "gelu".
std::string_view to_string(Activation activation);
/// The activation of that name (to_string()); empty for any other name.
std::optional<Activation> activation_from_string(std::string_view name);
/// Every activation's name, in the order of the enumeration.
const std::vector<std::string>& activation_names();

/// Smooth with sigma' > 0 everywhere (the theory's hypothesis); why not, when it is not.
bool qualifies(Activation activation);
/// Why the activation does not qualify (relu, silu, gelu), or "" for one that does.
std::string why_not_qualified(Activation activation);

/// sigma(0): the positive initialization gives f(x_i) = 0 exactly when this is 0.
double value_at_zero(Activation activation);

/// S1 = sup |sigma'| and S2 = sup |sigma''| (docs/theory.md §5.1), for the activations that qualify.
struct DerivativeBounds {
  double s1 = 0.0;  ///< S1 = sup |sigma'|
  double s2 = 0.0;  ///< S2 = sup |sigma''|
};
/// The activation's S1 and S2; empty for an activation that does not qualify.
std::optional<DerivativeBounds> derivative_bounds(Activation activation);

/// out = sigma(z), elementwise. When d1 (d2) is not null it receives sigma'(z) (sigma''(z)).
void activate(Activation activation, const Eigen::MatrixXd& z, Eigen::MatrixXd& out, Eigen::MatrixXd* d1 = nullptr,
              Eigen::MatrixXd* d2 = nullptr);
/// The same on n contiguous values: out[i] = sigma(z[i]); d1 (d2), when not null, receives sigma'
/// (sigma''). Each value is computed on its own, so a block gives the bits of the whole.
void activate(Activation activation, const double* z, double* out, double* d1, double* d2, Eigen::Index n);

}  // namespace gradflow
