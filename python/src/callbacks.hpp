// What the runs need to call Python: objectives and events written in Python, run with the GIL
// released and taking it only around each call. The first exception a callable raises is kept, the
// library is told to stop (CallbackError: Status::callback_error, the last accepted state), and after
// the run the exception is raised again with its traceback, the result attached as gradflow_result.
#pragma once

#include "convert.hpp"

#include <gradflow/core/callback_error.hpp>
#include <gradflow/core/function_objective.hpp>
#include <gradflow/discrete/step_rule.hpp>
#include <gradflow/flow/trajectory.hpp>

#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gradflow::python {

// A built-in objective: every Python-side objective holds a shared_ptr to the library's.
// pybind11 allocates the value of an object made by Class.__new__ alone (never initialized by
// __init__) lazily, through the class's own operator new when it has one. Zeroed here, such an object
// reads as empty (a null objective or callable, an empty result), so the checks below refuse it with
// a TypeError instead of reading uninitialized memory.
#define GRADFLOW_ZEROED_ON_ALLOCATION           \
  static void* operator new(std::size_t size) { \
    void* p = ::operator new(size);             \
    std::memset(p, 0, size);                    \
    return p;                                   \
  }                                             \
  static void operator delete(void* p) { ::operator delete(p); }

// Raises TypeError for an object made by Class.__new__ without __init__ (what names the class).
[[noreturn]] void not_initialized(const char* what);

struct PyObjective {
  GRADFLOW_ZEROED_ON_ALLOCATION
  std::shared_ptr<Objective> objective;
  const Objective& get() const {
    if (!objective) not_initialized("this objective");
    return *objective;
  }
};

// A Python object held by the library's callbacks. The library copies its options (and the
// std::function callbacks in them) while the GIL is released: a copied py::object would change the
// object's reference count without the GIL, a copied shared_ptr does not. The last owner goes with the
// GIL held, and the deleter takes it in any case.
using SharedObject = std::shared_ptr<py::object>;
SharedObject share(const py::object& object);

// The first Python exception raised by a callable during a run; the run stops at it.
struct CallbackState {
  std::optional<py::error_already_set> error;
  [[noreturn]] void fail(py::error_already_set&& e, const char* where);
  // A wrong return value: a ValueError raised now (with the GIL held) and kept like any other.
  [[noreturn]] void fail_with(const std::string& message);
};

// A Python loss as a FunctionObjective: f(theta) -> (loss, grad), hvp(theta, v) -> H v.
class PythonFunction {
 public:
  GRADFLOW_ZEROED_ON_ALLOCATION
  PythonFunction(py::object f, Eigen::Index p, py::object hvp, std::optional<double> min_value, std::string name);
  // Built for one run, with the run's callback state.
  std::unique_ptr<FunctionObjective> make(CallbackState& state) const;
  Eigen::Index dimension() const { return p_; }

 private:
  py::object f_, hvp_;
  Eigen::Index p_;
  std::optional<double> min_value_;
  std::string name_;
};

// observer(row, theta) -> truthy to stop the run (status stopped_by_observer), called at the start and
// after every accepted step (iteration); row_sink(row, theta), called at every recorded row. row is a
// dict of the row's columns, theta an array valid during the call. Errors as for an event function.
Observer to_observer(const py::object& f, CallbackState& state, RowOutput output, const Observables& observe);
RowSink to_row_sink(const py::object& f, CallbackState& state, RowOutput output, const Observables& observe);

// A step rule written in Python, as the library's StepSizeRule (discrete/step_rule.hpp): an object with
// propose(theta, loss, grad, iter) -> the step size (a float; <= 0 or NaN: no acceptable step) and,
// optionally, guarantee(facts) -> None or a dict with q, radius (None or numbers) and note, facts a dict
// of mu, beta, min_value, loss0; name (an attribute) names it in reports. Its exceptions end the run as
// the objective's do (callback_error, raised again when the run returns).
class PythonStepRule {
 public:
  PythonStepRule(const py::object& rule, CallbackState& state);
  StepProposal propose(const StepInput& in, Vector& trial);
  RateGuarantee guarantee(const StepFacts& facts) const;
  std::string name() const { return name_; }

 private:
  SharedObject rule_;
  CallbackState* state_;
  std::string name_;
  bool has_guarantee_ = false;
};

// What a run evaluates: a built-in objective, or a Python function made into one for this run.
struct RunObjective {
  CallbackState state;
  std::unique_ptr<FunctionObjective> owned;
  const Objective* objective = nullptr;
  py::object keep_alive;
};
void resolve(RunObjective& run, const py::object& objective, Eigen::Index p, const py::object& hvp,
             const std::optional<double>& min_value);

// gradflow.Event(name, g, direction=0, terminal=True): g(t, theta, row) with row a dict of the row.
struct PyEvent {
  GRADFLOW_ZEROED_ON_ALLOCATION
  std::string name;
  py::object g;
  int direction = 0;
  bool terminal = true;
};
// The events as the library's, with row dicts of the run's columns.
std::vector<Event> to_events(const py::iterable& events, CallbackState& state, RowOutput output,
                             const Observables& observe);

// A CallbackError that left the library: the kept Python exception, raised again without a result.
[[noreturn]] void rethrow_kept(RunObjective& run);
// After the run, with the GIL: the kept Python exception is raised again, the result attached to it.
void reraise(RunObjective& run, const py::object& result);
// A run that a Python callable ended by raising KeyboardInterrupt (Ctrl-C arriving while Python code ran)
// was interrupted, as one whose cancellation check saw it: its status says so, not callback_error.
void mark_interrupted(const RunObjective& run, TrajectoryResult& result);

}  // namespace gradflow::python
