#include <gradflow/problems/activation.hpp>

#include <gradflow/core/detail/kernels.hpp>
#include <gradflow/core/text.hpp>

#include <cmath>
#include <numbers>

namespace gradflow {
namespace {

constexpr NameTable<Activation, 8> kNames{{{
    {Activation::tanh, "tanh"},
    {Activation::arctan, "arctan"},
    {Activation::softplus, "softplus"},
    {Activation::sigmoid, "sigmoid"},
    {Activation::softplus_centered, "softplus-centered"},
    {Activation::relu, "relu"},
    {Activation::silu, "silu"},
    {Activation::gelu, "gelu"},
}}};

double logistic(double z) {
  // Stable on both sides.
  if (z >= 0.0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

// sigma, sigma', sigma'' at one point.
struct Derivatives {
  double value, first, second;
};

Derivatives evaluate(Activation a, double z) {
  switch (a) {
    case Activation::tanh: {
      double t = 0.0;
      double s = 0.0;
      kernels::tanh_with_derivative(&z, &t, &s, 1);
      return {t, s, -2.0 * t * s};
    }
    case Activation::arctan: {
      const double q = 1.0 / (1.0 + z * z);
      return {std::atan(z), q, -2.0 * z * q * q};
    }
    case Activation::softplus: {
      const double s = logistic(z);
      return {std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z))), s, s * (1.0 - s)};
    }
    case Activation::sigmoid: {
      const double s = logistic(z);
      return {s, s * (1.0 - s), s * (1.0 - s) * (1.0 - 2.0 * s)};
    }
    case Activation::softplus_centered: {
      const double s = logistic(z);
      // softplus(z) - log 2, written so that it is exactly 0 at z = 0.
      const double value = z == 0.0  ? 0.0
                           : z > 0.0 ? z + std::log1p(std::exp(-z)) - std::numbers::ln2
                                     : std::log1p(std::exp(z)) - std::numbers::ln2;
      return {value, s, s * (1.0 - s)};
    }
    case Activation::relu:
      return {z > 0.0 ? z : 0.0, z > 0.0 ? 1.0 : 0.0, 0.0};
    case Activation::silu: {
      const double s = logistic(z);
      return {z * s, s * (1.0 + z * (1.0 - s)), s * (1.0 - s) * (2.0 + z * (1.0 - 2.0 * s))};
    }
    case Activation::gelu: {
      // z Phi(z), Phi the standard normal distribution function.
      const double phi = std::exp(-0.5 * z * z) / std::sqrt(2.0 * std::numbers::pi);
      const double cdf = 0.5 * std::erfc(-z / std::numbers::sqrt2);
      return {z * cdf, cdf + z * phi, phi * (2.0 - z * z)};
    }
  }
  return {0.0, 0.0, 0.0};
}

}  // namespace

std::string_view to_string(Activation activation) { return kNames.name(activation); }

std::optional<Activation> activation_from_string(std::string_view name) { return kNames.value(name); }

const std::vector<std::string>& activation_names() { return kNames.cached_names(); }

bool qualifies(Activation activation) { return derivative_bounds(activation).has_value(); }

std::optional<DerivativeBounds> derivative_bounds(Activation activation) {
  const double root3 = std::sqrt(3.0);
  switch (activation) {
    case Activation::tanh:
      return DerivativeBounds{1.0, 4.0 / (3.0 * root3)};
    case Activation::arctan:
      return DerivativeBounds{1.0, 3.0 * root3 / 8.0};
    case Activation::softplus:
    case Activation::softplus_centered:
      return DerivativeBounds{1.0, 0.25};
    case Activation::sigmoid:
      return DerivativeBounds{0.25, 1.0 / (6.0 * root3)};
    default:
      return std::nullopt;
  }
}

std::string why_not_qualified(Activation activation) {
  switch (activation) {
    case Activation::relu:
      return "relu is not differentiable at 0 and has zero derivative on z < 0";
    case Activation::silu:
      return "silu is not monotone (its derivative is negative for z < -1.28)";
    case Activation::gelu:
      return "gelu is not monotone (its derivative is negative for z < -0.75)";
    default:
      return "";
  }
}

double value_at_zero(Activation activation) { return evaluate(activation, 0.0).value; }

void activate(Activation activation, const Eigen::MatrixXd& z, Eigen::MatrixXd& out, Eigen::MatrixXd* d1,
              Eigen::MatrixXd* d2) {
  out.resize(z.rows(), z.cols());
  if (d1) d1->resize(z.rows(), z.cols());
  if (d2) d2->resize(z.rows(), z.cols());
  activate(activation, z.data(), out.data(), d1 ? d1->data() : nullptr, d2 ? d2->data() : nullptr, z.size());
}

void activate(Activation activation, const double* in, double* value, double* first, double* second,
              Eigen::Index size) {
  if (activation == Activation::tanh && (first || !second)) {
    // The common case, vectorized (core/detail/kernels.hpp); the same values as evaluate().
    kernels::tanh_with_derivative(in, value, first, size);
    if (second) {
      for (Eigen::Index i = 0; i < size; ++i) second[i] = -2.0 * value[i] * first[i];
    }
    return;
  }
  for (Eigen::Index i = 0; i < size; ++i) {
    const Derivatives d = evaluate(activation, in[i]);
    value[i] = d.value;
    if (first) first[i] = d.first;
    if (second) second[i] = d.second;
  }
}

}  // namespace gradflow
