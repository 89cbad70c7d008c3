/// @file
/// How a run ended. One enumeration for every back end of the flow (odeint, CVODE) and for descent.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gradflow {

/// How a run ended; to_string() gives each enumerator's name as text.
enum class Status {
  not_run,              ///< the result has not been filled in by a solver
  reached_end_time,     ///< integrated to t_end
  tolerance_reached,    ///< loss <= loss_tol and ||grad L|| <= grad_tol, located at the crossing
  max_steps,            ///< the step budget ran out before t_end (flow) or before a requested
                        ///< tolerance was met (descent)
  reached_max_iters,    ///< descent ran its max_iters iterations, no tolerance having been requested;
                        ///< the Monte Carlo probability estimate ran all its draws
  stopped_by_observer,  ///< a user observer asked to stop
  event_stop,           ///< a terminal event (FlowOptions::events, DescentOptions::events) fired; the
                        ///< message names it
  step_size_too_small,  ///< the adaptive step fell below roundoff: usually extreme stiffness for an
                        ///< explicit method, or a gradient that is not continuous
  non_finite_value,     ///< the loss or gradient became NaN or Inf: a blow-up, or a problem evaluated
                        ///< outside its domain
  backend_error,        ///< CVODE (or odeint) reported an error; the message names the flag
  diverged,             ///< descent: the loss became non-finite or grew past a factor of L0; the
                        ///< message names the step size that caused it
  invalid_options,      ///< the options failed validation; nothing was run
  callback_error,       ///< the objective or a callback threw CallbackError (core/callback_error.hpp) to end the
                        ///< run; the message is its text, the result the last accepted state
  identity_violated,    ///< an identity the theory guarantees failed at a row (||grad L||^2 >= 2 ntk_min L with
                        ///< FlowOptions::observe / DescentOptions::observe): a bug in gradflow or in the
                        ///< problem's derivatives, not a result; the message names the row and the numbers
  time_limit,           ///< the run used up its wall-time budget (Stop::max_wall_seconds) before it ended
  interrupted,          ///< the caller's cancellation check (core/cancellation.hpp) asked to stop: the Python
                        ///< module's on Ctrl-C; the result is the last accepted state
};

/// The enumerator's name, e.g. "reached_end_time".
std::string_view to_string(Status status);
/// The Status named name (as to_string() spells it), or empty when no status has that name.
std::optional<Status> status_from_string(std::string_view name);

/// True when the run did what was asked: reached t_end (or ran its iterations), met the tolerance, was
/// stopped on request, or stopped at a terminal event.
bool succeeded(Status status);

}  // namespace gradflow
