/// @file
/// Options of a gradient-descent run, theta_{k+1} = theta_k - eta_k grad L(theta_k): the step-size rule
/// and its parameters, the stop conditions and what to record. A plain struct with defaults;
/// validate() names the field, the value and the constraint. The command line maps its flags
/// one-to-one onto these fields (lr <-> --lr, armijo_b <-> --armijo-b).
#pragma once

#include <gradflow/core/option_error.hpp>
#include <gradflow/flow/trajectory.hpp>
#include <gradflow/theory/observables.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

/// The built-in step-size rules (DescentOptions::step); a rule of one's own is a StepSizeRule type instead
/// (discrete/step_rule.hpp).
enum class StepRule {
  fixed,               ///< eta = lr
  inverse_smoothness,  ///< eta = 1 / beta (exact beta, or estimated by power iteration)
  polyak,              ///< eta_k = gamma (L_k - L_min) / ||g_k||^2
  armijo,              ///< backtracking from lr by armijo_b until sufficient decrease armijo_c
};

/// The rule's name on the command line (--step) and in reports: "fixed", "inverse-smoothness", "polyak",
/// "armijo".
std::string_view to_string(StepRule rule);
std::optional<StepRule> step_rule_from_string(std::string_view name);  ///< '_' written '-'
/// Every rule's name (to_string()), in the order of the enumeration.
const std::vector<std::string>& step_rule_names();

/// The options of descend() (discrete/descend.hpp); the defaults are those of `gradflow descend`.
struct DescentOptions {
  StepRule step = StepRule::fixed;      ///< the step-size rule (its parameters below)
  double lr = 0.1;                      ///< fixed: eta; armijo: the first trial eta_bar; finite, > 0
  std::optional<double> gamma{};        ///< polyak: > 0; empty = 2 mu / beta (needs both known)
  double armijo_b = 0.5;                ///< armijo shrink factor, in (0, 1)
  double armijo_c = 0.5;                ///< armijo sufficient-decrease constant, in (0, 1)
  std::optional<double> mu{};           ///< PL constant for the bound; empty = the problem's exact one; > 0
  std::optional<double> beta{};         ///< smoothness for the rule and its guarantee; empty = the problem's
                                        ///< exact one (or, for inverse-smoothness, an estimate); > 0
  std::optional<double> ball_radius{};  ///< mu and beta hold only on B(theta0, ball_radius) (a certificate):
                                        ///< the guarantee then needs the rule's radius < ball_radius; > 0
  double divergence_factor = 1e10;      ///< diverged once L - L_min > divergence_factor (L0 - L_min); > 1
  std::uint64_t seed = 0;               ///< start of the power iteration that estimates beta

  Stop stop{};  ///< tolerances, the budget of iterations (default 1e5), wall time (flow/trajectory.hpp)
  /// Rows every save.every_steps iterations (and the last); states and the row sink. save.times,
  /// save.every_t and save.dense are the flow's (invalid here).
  SaveAt save{};
  /// What to watch at every recorded row (theory/observables.hpp), as FlowOptions::observe: in
  /// Row::observed, their work in Stats::num_observe_*.
  Observables observe{};
  std::vector<Event> events{};  ///< checked at every iterate (flow/trajectory.hpp)

  /// The first invalid field ("lr", "stop.max_steps", "save.every_steps", ...).
  std::optional<OptionError> validate() const;
};

}  // namespace gradflow
