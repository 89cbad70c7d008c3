// What a gradient-flow run reports along the way: the rows of the trajectory, the events located on it,
// and the callbacks that see them (observer, row sink, event functions).
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/theory/observables.hpp>

#include <functional>
#include <string>

namespace gradflow {

// One recorded point of the trajectory.
struct FlowRow {
  double t = 0.0;               // flow time
  double loss = 0.0;            // L(theta(t))
  double grad_norm = 0.0;       // ||grad L(theta(t))||
  double dist_from_init = 0.0;  // ||theta(t) - theta0||
  double pl_ratio = 0.0;        // ||grad L||^2 / (2 (L - L_min)); NaN where L = L_min or L_min is unknown
  double bound = 0.0;           // L_min + (L0 - L_min) exp(-2 mu t); NaN when mu or L_min is unknown
  Observed observed;            // FlowOptions::observe at the recorded rows (NaN elsewhere and when not asked)
};

// Called at t = 0 and after every accepted step, with the row at that point and the state theta(t);
// returning true stops the run (Status::stopped_by_observer). The view is valid during the call only.
using FlowObserver = std::function<bool(const FlowRow& row, ConstVectorView theta)>;
// The one-argument form, accepted by simulate_flow's overload.
using FlowRowObserver = std::function<bool(const FlowRow& row)>;
// Called for every recorded row, in order, with the state at that row (FlowOptions::row_sink).
using FlowRowSink = std::function<void(const FlowRow& row, ConstVectorView theta)>;

// A located event: a sign change of g along the trajectory (FlowOptions::events).
//   g(t, theta, row): any continuous function of the point; row holds L, ||grad L|| and the rest there.
//   direction: +1 only crossings where g rises (from < 0 to >= 0), -1 only where it falls (from > 0 to
//     <= 0), 0 both.
//   terminal: the run ends at the first crossing, with Status::event_stop (a success) naming the event;
//     otherwise the crossing is recorded and the run goes on.
// A crossing is seen when g changes sign between the ends of an accepted step (two crossings inside
// one step cancel and are not seen), then located on the step's interpolant by the Illinois method
// to |dt| <= 1e-12 (1 + |t|); the reported time is the side of the bracket past the crossing.
struct FlowEvent {
  std::string name;
  std::function<double(double t, ConstVectorView theta, const FlowRow& row)> g;
  int direction = 0;
  bool terminal = true;
};

// One located crossing (FlowResult::event_hits), in time order. The built-in stop on loss_tol and
// grad_tol is an event too, named "tolerance".
struct EventHit {
  std::string name;
  double t = 0.0;
  Vector theta;
  FlowRow row;
};

}  // namespace gradflow
