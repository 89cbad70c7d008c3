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

const std::vector<std::string>& step_rule_names() {
  static const std::vector<std::string> names = kRuleNames.names();
  return names;
}

std::optional<OptionError> DescentOptions::validate() const {
  const auto positive = [](double x) { return std::isfinite(x) && x > 0.0; };
  const auto non_negative = [](double x) { return std::isfinite(x) && x >= 0.0; };
  if (!positive(lr)) return OptionError{"lr", full_precision(lr), "must be a finite number > 0"};
  if (gamma && !positive(*gamma)) return OptionError{"gamma", full_precision(*gamma), "must be a finite number > 0"};
  if (!(armijo_b > 0.0 && armijo_b < 1.0))
    return OptionError{"armijo_b", full_precision(armijo_b), "must be in (0, 1)"};
  if (!(armijo_c > 0.0 && armijo_c < 1.0))
    return OptionError{"armijo_c", full_precision(armijo_c), "must be in (0, 1)"};
  if (max_iters < 1) return OptionError{"max_iters", std::to_string(max_iters), "must be >= 1"};
  if (!non_negative(loss_tol)) return OptionError{"loss_tol", full_precision(loss_tol), "must be a finite number >= 0"};
  if (!non_negative(grad_tol)) return OptionError{"grad_tol", full_precision(grad_tol), "must be a finite number >= 0"};
  if (save_every < 1) return OptionError{"save_every", std::to_string(save_every), "must be >= 1 (iterations)"};
  if (mu && !positive(*mu)) return OptionError{"mu", full_precision(*mu), "must be a finite number > 0"};
  if (beta && !positive(*beta)) return OptionError{"beta", full_precision(*beta), "must be a finite number > 0"};
  if (ball_radius && !positive(*ball_radius)) {
    return OptionError{"ball_radius", full_precision(*ball_radius), "must be a finite number > 0"};
  }
  if (!(std::isfinite(divergence_factor) && divergence_factor > 1.0)) {
    return OptionError{"divergence_factor", full_precision(divergence_factor), "must be a finite number > 1"};
  }
  for (std::size_t i = 0; i < events.size(); ++i) {
    const DescentEvent& event = events[i];
    const std::string which = "events[" + std::to_string(i) + "]";
    if (event.name.empty()) return OptionError{which + ".name", "\"\"", "every event needs a name"};
    if (!event.g) return OptionError{which + ".g", event.name, "the event function is empty"};
    if (event.direction < -1 || event.direction > 1) {
      return OptionError{which + ".direction", std::to_string(event.direction), "must be -1, 0 or 1"};
    }
  }
  return std::nullopt;
}

}  // namespace gradflow
