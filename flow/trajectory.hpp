/// @file
/// The vocabulary of a trajectory, one for the gradient flow (simulate_flow, flow/simulate_flow.hpp) and
/// for gradient descent (descend, discrete/descend.hpp): the rows both record, the callbacks that see
/// them (observer, row sink, event functions), what to save (SaveAt) and when to stop (Stop), and the
/// part of a result that both report (TrajectoryResult). Descent is the explicit Euler discretization of
/// the flow, so the two share one clock t and one row; the columns a row is written with (CSV files,
/// JSON summaries, Python arrays, sweep curves) are declared once in flow/row_fields.hpp.
///
/// Every struct here is an aggregate whose members all have defaults, so that a client may write
///   gradflow::FlowOptions options{.t_end = 5.0, .stop = {.loss_tol = 1e-8}, .save = {.states = true}};
#pragma once

#include <gradflow/core/named_value.hpp>
#include <gradflow/core/objective.hpp>
#include <gradflow/core/option_error.hpp>
#include <gradflow/core/stats.hpp>
#include <gradflow/core/status.hpp>
#include <gradflow/theory/observables.hpp>

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace gradflow {

/// Which kind of run a setting or a column belongs to.
enum class RunKind { flow, descent };

/// One recorded point of a run. The members keep the order of the former DescentRow (iter first), so
/// that positional initialization written for it still means the same; a FlowRow written positionally
/// (t first) no longer compiles.
struct Row {
  long iter = 0;                ///< descent: the iteration k; the flow: 0 (its rows are at times, not steps)
  double t = 0.0;               ///< flow time; descent: eta_0 + ... + eta_{k-1}, the time axis it shares with the flow
  double loss = 0.0;            ///< L(theta)
  double grad_norm = 0.0;       ///< ||grad L(theta)||
  double dist_from_init = 0.0;  ///< ||theta - theta0||
  double step_size = 0.0;       ///< descent: eta_{k-1}, the step that produced the row (0 at k = 0); the flow: 0
  double bound = 0.0;           ///< the rate bound there: the flow's L_min + (L0 - L_min) exp(-2 mu t), descent's
                                ///< L_min + q^k (L0 - L_min); NaN without mu (q) or L_min
  double pl_ratio = 0.0;        ///< ||grad L||^2 / (2 (L - L_min)); NaN where L = L_min or L_min is unknown
  Observed observed{};          ///< the run's observe list at the recorded rows (NaN where not asked)
};

/// Called at the start (t = 0, k = 0) and after every accepted step (iteration) with the row there and
/// the state; returning true stops the run (Status::stopped_by_observer). The view is valid during the
/// call only.
using Observer = std::function<bool(const Row& row, ConstVectorView theta)>;
/// The one-argument form, accepted by simulate_flow's and descend's overloads.
using RowObserver = std::function<bool(const Row& row)>;
/// Called for every recorded row, in order, with the state at that row (SaveAt::sink).
using RowSink = std::function<void(const Row& row, ConstVectorView theta)>;

/// An event: a sign change of g along the run.
///   g(t, theta, row): any continuous function of the point; row holds L, ||grad L|| and the rest there.
///   direction: +1 only crossings where g rises (from < 0 to >= 0), -1 only where it falls (from > 0 to
///     <= 0), 0 both.
///   terminal: the run ends at the first crossing, with Status::event_stop (a success) naming the event;
///     otherwise the crossing is recorded and the run goes on.
/// The flow locates a crossing inside the accepted step where g changes sign (two crossings inside one
/// step cancel and are not seen), on the step's interpolant by the Illinois method to
/// |dt| <= 1e-12 (1 + |t|); the reported time is the side of the bracket past the crossing. Descent
/// evaluates g at every iterate: a sign change between iterates k - 1 and k is a hit at iterate k.
struct Event {
  std::string name{};  ///< names the event in hits, messages and the status; not empty
  /// The event function g(t, theta, row); required.
  std::function<double(double t, ConstVectorView theta, const Row& row)> g{};
  int direction = 0;     ///< +1, -1 or 0 (see above)
  bool terminal = true;  ///< end the run at the first crossing (see above)
};

/// One crossing (result.event_hits), in order. The flow's built-in stop on the tolerances is an event
/// too, named "tolerance".
struct EventHit {
  std::string name{};  ///< the event's name ("tolerance" for the flow's tolerance stop)
  long iter = 0;       ///< descent: the iterate k where it was seen; the flow: 0
  double t = 0.0;      ///< the time of the crossing (descent: the time of iterate k)
  Vector theta{};      ///< the state there
  Row row{};           ///< the row there
  int event = -1;      ///< its index in options.events; -1 for the flow's tolerance stop
};

/// What a run records.
struct SaveAt {
  std::vector<double> times{};  ///< the flow: rows at these times, strictly increasing, in (0, t_end], at most 1e7;
                                ///< descent: not available (must be empty)
  double every_t = 0.0;         ///< the flow: a row every this much time (finite, >= 0; 0 = not used; not with
                                ///< times; at most 1e7 rows); descent: not available (must be 0)
  long every_steps = 1;         ///< a row every this many accepted steps (the flow, when neither times nor
                                ///< every_t is given) or iterations (descent); >= 1. The first and the last
                                ///< point are always rows.
  bool states = false;          ///< result.states: theta at every kept row (one column per row)
  bool dense = false;           ///< the flow: keep each accepted step's interpolant, result.at(t)
                                ///< (flow/dense_output.hpp); descent: not available (must be false)
  bool keep_rows = true;        ///< false: result.rows (and states) keep only the first and the last row, so
                                ///< that a long run streamed through sink uses bounded memory
  RowSink sink{};               ///< called for every recorded row, in order, with the state there
};

/// When a run ends before its end time (flow) or budget.
struct Stop {
  double loss_tol = 0.0;            ///< stop once loss <= loss_tol; 0 = not checked; finite, >= 0
  double grad_tol = 0.0;            ///< stop once ||grad L|| <= grad_tol; 0 = not checked; finite, >= 0
                                    ///< (with both set, the stop needs both)
  std::optional<long> max_steps{};  ///< the budget of accepted steps (flow) or iterations (descent), >= 1;
                                    ///< empty: the method's default, max_steps_default(kind)
  double max_wall_seconds = 0.0;    ///< end the run with Status::time_limit once this much wall time has
                                    ///< passed (checked after every step); 0 = no limit; finite, >= 0

  /// True when loss_tol or grad_tol is set (> 0).
  bool tolerance_enabled() const { return loss_tol > 0.0 || grad_tol > 0.0; }
};

/// The default budgets: 1e6 accepted steps for the flow, 1e5 iterations for descent.
long max_steps_default(RunKind kind);
/// stop.max_steps, or the default of the kind.
long max_steps(const Stop& stop, RunKind kind);

/// The first invalid setting, named as the member ("stop.loss_tol", "save.every_t", "events[0].name").
/// t_end: the flow's end time, which bounds save.times; ignored for descent.
std::optional<OptionError> validate(const Stop& stop, RunKind kind);
/// The first invalid setting of save for a run of kind ("save.times", "save.every_t", ...); t_end as above.
std::optional<OptionError> validate(const SaveAt& save, RunKind kind, double t_end);
/// The first invalid event ("events[0].name": empty, "events[0].g": not set, a direction not -1, 0 or +1).
std::optional<OptionError> validate(const std::vector<Event>& events);

/// The results' shared part: how the run ended, the final state, the recorded rows (and, on request,
/// the states at them), the events, the verdicts and the work. FlowResult and DescentResult add what is
/// their own.
struct TrajectoryResult {
  /// How the run ended (core/status.hpp); not_run before it starts.
  Status status = Status::not_run;
  std::string message{};  ///< why the run ended, with the back end's flag name on failure
  std::string problem{};  ///< the problem's name
  Vector theta{};         ///< the final state; the last good (finite) one when the run failed
  double t_final = 0.0;   ///< the final time (descent: the sum of the steps)
  /// L(theta0); NaN when not evaluated (invalid options).
  double loss0 = std::numeric_limits<double>::quiet_NaN();
  /// L(theta) at the final state.
  double loss_final = std::numeric_limits<double>::quiet_NaN();
  /// ||grad L(theta)|| at the final state.
  double grad_norm_final = std::numeric_limits<double>::quiet_NaN();
  double dist_from_init = 0.0;        ///< ||theta_final - theta0||
  double path_length = 0.0;           ///< sum of ||theta_{k+1} - theta_k|| over accepted steps (<= arc length)
  std::optional<double> min_value{};  ///< L_min used by the bound and the PL ratio (resolved_facts(): declared, or
                                      ///< L at the declared minimizer)
  /// Whether the rate bound held at every checked point; empty when it could not be stated (no mu, q or
  /// L_min) or nothing was checked (the run did not advance). The tolerances are the method's
  /// (docs/theory.md §1.2 and §2.7).
  std::optional<bool> bound_holds{};
  /// Whether the state stayed within the radius (the flow's options.radius, descent's guarantee); empty
  /// when there is none or nothing was checked.
  std::optional<bool> radius_holds{};
  /// The recorded rows (SaveAt): the start, the scheduled ones, the final point; with save.keep_rows =
  /// false only the first and the last.
  std::vector<Row> rows{};
  Matrix states{};                     ///< with save.states: p x rows.size(), states.col(i) = theta at rows[i]
  std::vector<EventHit> event_hits{};  ///< the crossings of the events (and of the flow's tolerance stop), in order
  Stats stats{};                       ///< the work counters and the wall time (core/stats.hpp)

  /// Whether status counts as a success (gradflow::succeeded(), core/status.hpp).
  bool succeeded() const { return gradflow::succeeded(status); }
  /// The shared fields by name, for JSON summaries and Python dicts (core/named_value.hpp): status,
  /// success, message, problem, dim, t_final, loss0, loss_final, grad_norm_final, dist_from_init,
  /// path_length, min_value, bound_holds, radius_holds, rows. FlowResult::summary() and
  /// DescentResult::summary() add their own; the rows, states, events and stats are listed apart.
  NamedValues common_summary() const;
};

/// The former names (before flow and descent shared one vocabulary; CHANGELOG.md): kept as aliases.
using FlowRow = Row;
using DescentRow = Row;                  ///< former name of Row
using FlowObserver = Observer;           ///< former name of Observer
using DescentObserver = Observer;        ///< former name of Observer
using FlowRowObserver = RowObserver;     ///< former name of RowObserver
using DescentRowObserver = RowObserver;  ///< former name of RowObserver
using FlowRowSink = RowSink;             ///< former name of RowSink
using DescentRowSink = RowSink;          ///< former name of RowSink
using FlowEvent = Event;                 ///< former name of Event
using DescentEvent = Event;              ///< former name of Event
using DescentEventHit = EventHit;        ///< former name of EventHit

/// The start that simulate_flow and descend share: throws std::invalid_argument("function(): ...") when
/// theta0 has the wrong dimension or a non-finite entry (a contract violation); sets the result's problem
/// and theta; returns false, with the result's status invalid_options and the message, when the options
/// are invalid (error) or the observe list cannot be observed on the objective.
bool begin_run(TrajectoryResult& result, const char* function, const Objective& objective,
               const ConstVectorView& theta0, const std::optional<OptionError>& error, const Observables& observe);

/// The full observer of a one-argument row observer (an empty one stays empty).
Observer observer_of(const RowObserver& observer);

/// An identity the theory guarantees failed at a row (theory/observables.hpp, "" when none did): the
/// result's status becomes identity_violated, its message says where and how the run itself ended.
void report_identity_violation(TrajectoryResult& result, const std::string& violation);

/// The report lines both results print after their own: the events, the evaluations, the observations
/// and the wall time ("event           name at t = ...", "evaluations     ...", ...).
std::string report_events_and_work(const TrajectoryResult& result, const Observables& observe, RunKind kind);

}  // namespace gradflow
