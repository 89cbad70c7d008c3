#include <gradflow/discrete/options.hpp>

#include <gradflow/core/text.hpp>

#include <cmath>

namespace gradflow {
namespace {

constexpr NameTable<StepRule, 4> kRuleNames{{{
    {StepRule::fixed, "fixed"},
    {StepRule::inverse_smoothness, "inverse-smoothness"},
    {StepRule::polyak, "polyak"},
    {StepRule::armijo, "armijo"},
}}};

}  // namespace

std::string_view to_string(StepRule rule) { return kRuleNames.name(rule); }

std::optional<StepRule> step_rule_from_string(std::string_view name) { return kRuleNames.value(name); }

const std::vector<std::string>& step_rule_names() { return kRuleNames.cached_names(); }

std::optional<OptionError> DescentOptions::validate() const {
  const auto positive = [](double x) { return std::isfinite(x) && x > 0.0; };
  if (!positive(lr)) return OptionError{"lr", full_precision(lr), "must be a finite number > 0"};
  if (gamma && !positive(*gamma)) return OptionError{"gamma", full_precision(*gamma), "must be a finite number > 0"};
  if (!(armijo_b > 0.0 && armijo_b < 1.0))
    return OptionError{"armijo_b", full_precision(armijo_b), "must be in (0, 1)"};
  if (!(armijo_c > 0.0 && armijo_c < 1.0))
    return OptionError{"armijo_c", full_precision(armijo_c), "must be in (0, 1)"};
  if (auto error = gradflow::validate(stop, RunKind::descent)) return error;
  if (auto error = gradflow::validate(save, RunKind::descent, 0.0)) return error;
  if (mu && !positive(*mu)) return OptionError{"mu", full_precision(*mu), "must be a finite number > 0"};
  if (beta && !positive(*beta)) return OptionError{"beta", full_precision(*beta), "must be a finite number > 0"};
  if (ball_radius && !positive(*ball_radius)) {
    return OptionError{"ball_radius", full_precision(*ball_radius), "must be a finite number > 0"};
  }
  if (!(std::isfinite(divergence_factor) && divergence_factor > 1.0)) {
    return OptionError{"divergence_factor", full_precision(divergence_factor), "must be a finite number > 1"};
  }
  return gradflow::validate(events);
}

}  // namespace gradflow
