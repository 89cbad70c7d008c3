// Options of a gradient-descent run, theta_{k+1} = theta_k - eta_k grad L(theta_k): the step-size rule
// and its parameters, the stop conditions and what to record. A plain struct with defaults;
// validate() names the field, the value and the constraint. The command line maps its flags
// one-to-one onto these fields (lr <-> --lr, armijo_b <-> --armijo-b).
#pragma once

#include <gradflow/core/option_error.hpp>
#include <gradflow/discrete/row.hpp>
#include <gradflow/theory/observables.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

enum class StepRule {
  fixed,               // eta = lr
  inverse_smoothness,  // eta = 1 / beta (exact beta, or estimated by power iteration)
  polyak,              // eta_k = gamma (L_k - L_min) / ||g_k||^2
  armijo,              // backtracking from lr by armijo_b until sufficient decrease armijo_c
};

std::string_view to_string(StepRule rule);
std::optional<StepRule> step_rule_from_string(std::string_view name);  // '_' written '-'
const std::vector<std::string>& step_rule_names();

struct DescentOptions {
  StepRule step = StepRule::fixed;
  double lr = 0.1;                    // fixed: eta; armijo: the first trial eta_bar; finite, > 0
  std::optional<double> gamma;        // polyak: > 0; empty = 2 mu / beta (needs both known)
  double armijo_b = 0.5;              // armijo shrink factor, in (0, 1)
  double armijo_c = 0.5;              // armijo sufficient-decrease constant, in (0, 1)
  long max_iters = 100000;            // iteration budget; >= 1
  double loss_tol = 0.0;              // stop once loss <= loss_tol; 0 = not checked; >= 0
  double grad_tol = 0.0;              // stop once ||grad L|| <= grad_tol; 0 = not checked; >= 0
  long save_every = 1;                // record a row every save_every iterations (and the last); >= 1
  std::optional<double> mu;           // PL constant for the bound; empty = the problem's exact one; > 0
  std::optional<double> beta;         // smoothness for the rule and its guarantee; empty = the problem's
                                      // exact one (or, for inverse-smoothness, an estimate); > 0
  std::optional<double> ball_radius;  // mu and beta hold only on B(theta0, ball_radius) (a certificate):
                                      // the guarantee then needs the rule's radius < ball_radius; > 0
  double divergence_factor = 1e10;    // diverged once L - L_min > divergence_factor (L0 - L_min); > 1
  std::uint64_t seed = 0;             // start of the power iteration that estimates beta

  // What to watch at every recorded row (theory/observables.hpp), as FlowOptions::observe: in
  // DescentRow::observed, their work in Stats::num_observe_*.
  Observables observe;

  // What to keep and whom to tell.
  bool record_states = false;        // DescentResult::states: theta at every recorded row (one column per row)
  std::vector<DescentEvent> events;  // checked at every iterate (discrete/row.hpp); each needs a name and g
  DescentRowSink row_sink;           // called for every recorded row, in order, with the iterate
  bool keep_rows = true;             // false: DescentResult::rows (and states) keep only the first and last row

  std::optional<OptionError> validate() const;
};

}  // namespace gradflow
