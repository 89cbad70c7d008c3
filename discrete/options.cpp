#include "discrete/options.hpp"

#include <array>
#include <cmath>
#include <sstream>
#include <utility>

namespace gradflow {
namespace {

constexpr std::array<std::pair<StepRule, std::string_view>, 4> kRuleNames{{
    {StepRule::fixed, "fixed"},
    {StepRule::inverse_smoothness, "inverse-smoothness"},
    {StepRule::polyak, "polyak"},
    {StepRule::armijo, "armijo"},
}};

std::string text(double x) {
  std::ostringstream out;
  out.precision(17);
  out << x;
  return out.str();
}

}  // namespace

std::string_view to_string(StepRule rule) {
  for (const auto& [value, name] : kRuleNames)
    if (value == rule) return name;
  return "unknown";
}

std::optional<StepRule> step_rule_from_string(std::string_view name) {
  for (const auto& [value, text] : kRuleNames)
    if (text == name) return value;
  return std::nullopt;
}

const std::vector<std::string>& step_rule_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& entry : kRuleNames) out.emplace_back(entry.second);
    return out;
  }();
  return names;
}

std::optional<OptionError> DescentOptions::validate() const {
  const auto positive = [](double x) { return std::isfinite(x) && x > 0.0; };
  const auto non_negative = [](double x) { return std::isfinite(x) && x >= 0.0; };
  if (!positive(lr)) return OptionError{"lr", text(lr), "must be a finite number > 0"};
  if (gamma && !positive(*gamma)) return OptionError{"gamma", text(*gamma), "must be a finite number > 0"};
  if (!(armijo_b > 0.0 && armijo_b < 1.0)) return OptionError{"armijo_b", text(armijo_b), "must be in (0, 1)"};
  if (!(armijo_c > 0.0 && armijo_c < 1.0)) return OptionError{"armijo_c", text(armijo_c), "must be in (0, 1)"};
  if (max_iters < 1) return OptionError{"max_iters", std::to_string(max_iters), "must be >= 1"};
  if (!non_negative(loss_tol)) return OptionError{"loss_tol", text(loss_tol), "must be a finite number >= 0"};
  if (!non_negative(grad_tol)) return OptionError{"grad_tol", text(grad_tol), "must be a finite number >= 0"};
  if (save_every < 1) return OptionError{"save_every", std::to_string(save_every), "must be >= 1 (iterations)"};
  if (mu && !positive(*mu)) return OptionError{"mu", text(*mu), "must be a finite number > 0"};
  if (beta && !positive(*beta)) return OptionError{"beta", text(*beta), "must be a finite number > 0"};
  if (ball_radius && !positive(*ball_radius)) {
    return OptionError{"ball_radius", text(*ball_radius), "must be a finite number > 0"};
  }
  if (!(std::isfinite(divergence_factor) && divergence_factor > 1.0)) {
    return OptionError{"divergence_factor", text(divergence_factor), "must be a finite number > 1"};
  }
  return std::nullopt;
}

}  // namespace gradflow
