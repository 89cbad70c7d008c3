// What a gradient-descent run reports along the way: the rows of the iterates, the events seen at them,
// and the callbacks that see them (observer, row sink, event functions).
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/theory/observables.hpp>

#include <functional>
#include <string>

namespace gradflow {

struct DescentRow {
  long iter = 0;                // k
  double t = 0.0;               // eta_0 + ... + eta_{k-1}: the time axis shared with the flow
  double loss = 0.0;            // L(theta_k)
  double grad_norm = 0.0;       // ||grad L(theta_k)||
  double dist_from_init = 0.0;  // ||theta_k - theta0||
  double step_size = 0.0;       // eta_{k-1}, the step that produced theta_k (0 for k = 0)
  double bound = 0.0;           // L_min + q^k (L0 - L_min); NaN without a guarantee
  double pl_ratio = 0.0;        // ||grad L||^2 / (2 (L - L_min)); NaN where L = L_min or L_min is unknown
  Observed observed;            // DescentOptions::observe at the recorded rows (NaN elsewhere and when not asked)
};

// Called at k = 0 and after every iteration with its row and the iterate; returning true stops the run
// (Status::stopped_by_observer). The view is valid during the call only.
using DescentObserver = std::function<bool(const DescentRow& row, ConstVectorView theta)>;
// The one-argument form, accepted by descend's overloads.
using DescentRowObserver = std::function<bool(const DescentRow& row)>;
// Called for every recorded row, in order, with the iterate (DescentOptions::row_sink).
using DescentRowSink = std::function<void(const DescentRow& row, ConstVectorView theta)>;

// An event of descent (DescentOptions::events): g is evaluated at every iterate, and a sign change
// between iterates k - 1 and k (direction as for FlowEvent: +1 rises, -1 falls, 0 both) is a hit at
// iterate k; it is not located between iterates. A terminal event ends the run there with
// Status::event_stop.
struct DescentEvent {
  std::string name;
  std::function<double(double t, ConstVectorView theta, const DescentRow& row)> g;
  int direction = 0;
  bool terminal = true;
};

struct DescentEventHit {
  std::string name;
  long iter = 0;
  double t = 0.0;
  Vector theta;
  DescentRow row;
};

}  // namespace gradflow
