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

enum class Activation { tanh, arctan, softplus, sigmoid, softplus_centered, relu, silu, gelu };

std::string_view to_string(Activation activation);
std::optional<Activation> activation_from_string(std::string_view name);
const std::vector<std::string>& activation_names();

/// Smooth with sigma' > 0 everywhere (the theory's hypothesis); why not, when it is not.
bool qualifies(Activation activation);
std::string why_not_qualified(Activation activation);

/// sigma(0): the positive initialization gives f(x_i) = 0 exactly when this is 0.
double value_at_zero(Activation activation);

/// S1 = sup |sigma'| and S2 = sup |sigma''| (docs/theory.md §5.1), for the activations that qualify.
struct DerivativeBounds {
  double s1 = 0.0;
  double s2 = 0.0;
};
std::optional<DerivativeBounds> derivative_bounds(Activation activation);

/// out = sigma(z), elementwise. When d1 (d2) is not null it receives sigma'(z) (sigma''(z)).
void activate(Activation activation, const Eigen::MatrixXd& z, Eigen::MatrixXd& out, Eigen::MatrixXd* d1 = nullptr,
              Eigen::MatrixXd* d2 = nullptr);
/// The same on n contiguous values: out[i] = sigma(z[i]); d1 (d2), when not null, receives sigma'
/// (sigma''). Each value is computed on its own, so a block gives the bits of the whole.
void activate(Activation activation, const double* z, double* out, double* d1, double* d2, Eigen::Index n);

}  // namespace gradflow
