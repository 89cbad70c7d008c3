// The Python module gradflow._core (pybind11): a thin layer over the C++ library, conversions only.
// gradflow/__init__.py re-exports it; gradflow/__init__.pyi is the stub for editors.
//
// Arrays: theta0, matrices and data arrive as float64 C-contiguous numpy arrays (anything else is
// converted once by numpy). Objective evaluations (loss, loss_and_gradient, hessian_vector) read the
// array's buffer through a view; the runs and the problems' constructors copy once into the library's
// Eigen types (simulate_flow, descend and the problems take owning vectors and matrices). Results are
// new numpy arrays. A Python loss f(theta) -> (loss, grad) becomes a FunctionObjective. The C++ run
// releases the GIL and takes it only around each Python call (the loss, hvp, event functions). An
// exception there is kept, the library is told to stop (CallbackError: Status::callback_error, the last
// accepted state), and after the run the Python exception is raised again with its traceback; the
// result is attached to it as the attribute gradflow_result.
#include <gradflow/gradflow.hpp>

#include <gradflow/apps/support/memory_limit.hpp>
#include <gradflow/apps/sweep/sweep_memory.hpp>
#include <gradflow/core/callback_error.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/core/thread_pool.hpp>
#include <gradflow/experiments/compare_inits.hpp>
#include <gradflow/experiments/sweep_runner.hpp>
#include <gradflow/experiments/sweep_spec.hpp>
#include <gradflow/experiments/sweep_summary.hpp>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;
using namespace gradflow;

namespace {

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

// ---------------------------------------------------------------------------------------------------
// Conversions.

py::array_t<double> to_array(const ConstVectorView& v) {
  py::array_t<double> out(v.size());
  std::copy(v.data(), v.data() + v.size(), out.mutable_data());
  return out;
}

// A p x rows column-major matrix as a (rows, p) array: the same memory order.
py::array_t<double> states_array(const Matrix& states) {
  py::array_t<double> out({states.cols(), states.rows()});
  std::copy(states.data(), states.data() + states.size(), out.mutable_data());
  return out;
}

// A 1-D float64 C-contiguous array: the object itself when it is one, else numpy's conversion (once).
Array vector_array(const py::handle& object, const char* what) {
  Array a = Array::ensure(object);
  if (!a) throw py::value_error(std::string(what) + ": not convertible to an array of float64");
  if (a.ndim() != 1) {
    throw py::value_error(std::string(what) + ": must be a 1-D array, got " + std::to_string(a.ndim()) + " dimensions");
  }
  return a;
}

Vector to_vector(const py::handle& object, const char* what) {
  const Array a = vector_array(object, what);
  return Eigen::Map<const Vector>(a.data(), a.shape(0));
}

// A view of the array's buffer, no copy, for the library's ConstVectorView arguments; the array must
// outlive it.
Eigen::Map<const Vector> view_of(const Array& a) { return Eigen::Map<const Vector>(a.data(), a.shape(0)); }

Matrix to_matrix(const py::handle& object, const char* what) {
  const Array a = Array::ensure(object);
  if (!a) throw py::value_error(std::string(what) + ": not convertible to an array of float64");
  if (a.ndim() != 2) {
    throw py::value_error(std::string(what) + ": must be a 2-D array, got " + std::to_string(a.ndim()) + " dimensions");
  }
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  return Eigen::Map<const RowMajor>(a.data(), a.shape(0), a.shape(1));
}

py::object optional_value(const std::optional<double>& v) { return v ? py::object(py::float_(*v)) : py::none(); }
py::object optional_bool(const std::optional<bool>& v) { return v ? py::object(py::bool_(*v)) : py::none(); }

py::dict stats_dict(const Stats& s) {
  py::dict d;
  d["num_gradient_evals"] = s.num_gradient_evals;
  d["num_loss_evals"] = s.num_loss_evals;
  d["num_hessian_vector_evals"] = s.num_hessian_vector_evals;
  d["num_jacobian_evals"] = s.num_jacobian_evals;
  d["num_steps"] = s.num_steps;
  d["num_rejected_steps"] = s.num_rejected_steps;
  d["num_nonlinear_iters"] = s.num_nonlinear_iters;
  d["num_linear_iters"] = s.num_linear_iters;
  d["wall_seconds"] = s.wall_seconds;
  return d;
}

// The keyword argument of flow() or descend() that sets an options field ("stop.loss_tol" is loss_tol).
std::string python_keyword(const std::string& field, RunKind kind) {
  static const std::map<std::string, std::string> flow{{"save.times", "times"},
                                                       {"save.every_t", "save_every"},
                                                       {"save.states", "record_states"},
                                                       {"save.dense", "dense_output"},
                                                       {"stop.max_steps", "max_steps"}};
  static const std::map<std::string, std::string> descent{
      {"save.every_steps", "save_every"}, {"save.states", "record_states"}, {"stop.max_steps", "max_iters"}};
  const auto& names = kind == RunKind::flow ? flow : descent;
  if (const auto found = names.find(field); found != names.end()) return found->second;
  return field.substr(field.rfind('.') + 1);
}

void raise_option_error(const std::optional<OptionError>& error, RunKind kind = RunKind::descent) {
  if (!error) return;
  OptionError named = *error;
  if (named.field.rfind("events[", 0) != 0) named.field = python_keyword(named.field, kind);
  throw py::value_error(named.message());
}

template <class T, class FromString, class Names>
T parse_name(const std::string& field, const std::string& value, FromString from_string, const Names& names) {
  if (const auto parsed = from_string(value)) return *parsed;
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  throw py::value_error(field + " = '" + value + "': must be one of " + list);
}

// ---------------------------------------------------------------------------------------------------
// Objectives. Every Python-side objective holds a shared_ptr to the library's.

struct PyObjective {
  std::shared_ptr<Objective> objective;
  const Objective& get() const { return *objective; }
};

// A Python object held by the library's callbacks. The library copies its options (and the
// std::function callbacks in them) while the GIL is released: a copied py::object would change the
// object's reference count without the GIL, a copied shared_ptr does not. The last owner (the options or
// the objective of flow()/descend()) goes with the GIL held, and the deleter takes it in any case.
using SharedObject = std::shared_ptr<py::object>;
SharedObject share(const py::object& object) {
  return SharedObject(new py::object(object), [](py::object* o) {
    py::gil_scoped_acquire gil;
    delete o;
  });
}

// The first Python exception raised by a callable during a run; the run stops at it.
struct CallbackState {
  std::optional<py::error_already_set> error;
  [[noreturn]] void fail(py::error_already_set&& e, const char* where) {
    std::string text = std::string(where) + " raised " + e.what();
    if (!error) error.emplace(std::move(e));
    throw CallbackError(text);
  }
  [[noreturn]] void fail_with(const std::string& message) {
    // A wrong return value: a ValueError raised now (with the GIL held) and kept like any other.
    try {
      throw py::value_error(message);
    } catch (py::value_error& e) {
      e.set_error();
    }
    fail(py::error_already_set(), "the callable");
  }
};

// A Python loss as a FunctionObjective: f(theta) -> (loss, grad), hvp(theta, v) -> H v.
class PythonFunction {
 public:
  PythonFunction(py::object f, Eigen::Index p, py::object hvp, std::optional<double> min_value, std::string name)
      : f_(std::move(f)), hvp_(std::move(hvp)), p_(p), min_value_(min_value), name_(std::move(name)) {
    if (p_ < 1) throw py::value_error("dimension = " + std::to_string(p_) + ": must be >= 1");
  }

  // Built for one run, with the run's callback state.
  std::unique_ptr<FunctionObjective> make(CallbackState& state) const {
    const SharedObject f = share(f_);
    const Eigen::Index p = p_;
    auto objective = std::make_unique<FunctionObjective>(p, [f, p, &state](ConstVectorView theta, VectorView grad) {
      py::gil_scoped_acquire gil;
      double loss = 0.0;
      try {
        const py::object out = (*f)(to_array(theta));
        if (!py::isinstance<py::tuple>(out) && !py::isinstance<py::list>(out)) {
          state.fail_with("the loss callable must return (loss, grad), got " +
                          py::str(py::type::of(out)).cast<std::string>());
        }
        const py::sequence pair = out.cast<py::sequence>();
        if (pair.size() != 2) state.fail_with("the loss callable must return (loss, grad)");
        loss = pair[0].cast<double>();
        const Array g = Array::ensure(pair[1]);
        if (!g || g.ndim() != 1 || g.shape(0) != p) {
          state.fail_with("the loss callable returned a gradient of shape other than (" + std::to_string(p) + ",)");
        }
        std::copy(g.data(), g.data() + p, grad.data());
      } catch (py::error_already_set& e) {
        state.fail(std::move(e), "the loss callable");
      } catch (py::cast_error& e) {
        state.fail_with(std::string("the loss callable must return (float, array): ") + e.what());
      }
      return loss;
    });
    if (!hvp_.is_none()) {
      const SharedObject hvp = share(hvp_);
      objective->with_hessian_vector([hvp, p, &state](ConstVectorView theta, ConstVectorView v, VectorView hv) {
        py::gil_scoped_acquire gil;
        try {
          const Array out = Array::ensure((*hvp)(to_array(theta), to_array(v)));
          if (!out || out.ndim() != 1 || out.shape(0) != p) {
            state.fail_with("hvp returned an array of shape other than (" + std::to_string(p) + ",)");
          }
          std::copy(out.data(), out.data() + p, hv.data());
        } catch (py::error_already_set& e) {
          state.fail(std::move(e), "hvp");
        }
      });
    }
    KnownFacts facts;
    facts.min_value = min_value_;
    objective->with_known(facts).with_name(name_);
    return objective;
  }

  Eigen::Index dimension() const { return p_; }

  py::object f_, hvp_;
  Eigen::Index p_;
  std::optional<double> min_value_;
  std::string name_;
};

// What a run evaluates: a built-in objective, or a Python function made into one for this run.
struct RunObjective {
  CallbackState state;
  std::unique_ptr<FunctionObjective> owned;
  const Objective* objective = nullptr;
  py::object keep_alive;
};

void resolve(RunObjective& run, const py::object& objective, Eigen::Index p, const py::object& hvp,
             const std::optional<double>& min_value) {
  if (py::isinstance<PyObjective>(objective)) {
    if (!hvp.is_none() || min_value) {
      throw py::value_error("hvp and min_value are for a Python callable; a built-in objective has its own");
    }
    run.objective = &objective.cast<const PyObjective&>().get();
  } else if (py::isinstance<PythonFunction>(objective)) {
    if (!hvp.is_none() || min_value) {
      throw py::value_error("hvp and min_value: give them to gradflow.Function, not to the run as well");
    }
    run.owned = objective.cast<const PythonFunction&>().make(run.state);
    run.objective = run.owned.get();
  } else if (PyCallable_Check(objective.ptr())) {
    run.owned = PythonFunction(objective, p, hvp, min_value, "function").make(run.state);
    run.objective = run.owned.get();
  } else {
    throw py::value_error("objective: a gradflow objective or a callable f(theta) -> (loss, grad), got " +
                          py::str(py::type::of(objective)).cast<std::string>());
  }
  run.keep_alive = objective;
}

// ---------------------------------------------------------------------------------------------------
// Results.

struct PyFlowResult {
  FlowResult r;
};

struct PyDescentResult {
  DescentResult r;
};

template <class Row, class Member>
py::array_t<double> column(const std::vector<Row>& rows, Member member) {
  py::array_t<double> out(static_cast<py::ssize_t>(rows.size()));
  double* data = out.mutable_data();
  for (std::size_t i = 0; i < rows.size(); ++i) data[i] = static_cast<double>(rows[i].*member);
  return out;
}

py::dict flow_row_dict(const FlowRow& row) {
  py::dict d;
  d["t"] = row.t;
  d["loss"] = row.loss;
  d["grad_norm"] = row.grad_norm;
  d["dist_from_init"] = row.dist_from_init;
  d["pl_ratio"] = row.pl_ratio;
  d["bound"] = row.bound;
  return d;
}

py::dict descent_row_dict(const DescentRow& row) {
  py::dict d;
  d["iter"] = row.iter;
  d["t"] = row.t;
  d["loss"] = row.loss;
  d["grad_norm"] = row.grad_norm;
  d["dist_from_init"] = row.dist_from_init;
  d["step_size"] = row.step_size;
  d["bound"] = row.bound;
  d["pl_ratio"] = row.pl_ratio;
  return d;
}

py::list flow_hits(const FlowResult& r) {
  py::list hits;
  for (const EventHit& hit : r.event_hits) {
    py::dict d = flow_row_dict(hit.row);
    d["name"] = hit.name;
    d["t"] = hit.t;
    d["theta"] = to_array(hit.theta);
    hits.append(d);
  }
  return hits;
}

py::list descent_hits(const DescentResult& r) {
  py::list hits;
  for (const DescentEventHit& hit : r.event_hits) {
    py::dict d = descent_row_dict(hit.row);
    d["name"] = hit.name;
    d["iter"] = hit.iter;
    d["t"] = hit.t;
    d["theta"] = to_array(hit.theta);
    hits.append(d);
  }
  return hits;
}

py::dict flow_to_dict(const FlowResult& r) {
  py::dict d;
  d["status"] = std::string(to_string(r.status));
  d["success"] = r.succeeded();
  d["message"] = r.message;
  d["problem"] = r.problem;
  d["solver"] = std::string(to_string(r.options.solver));
  d["theta"] = to_array(r.theta);
  d["t_final"] = r.t_final;
  d["loss0"] = r.loss0;
  d["loss_final"] = r.loss_final;
  d["grad_norm_final"] = r.grad_norm_final;
  d["dist_from_init"] = r.dist_from_init;
  d["path_length"] = r.path_length;
  d["min_value"] = optional_value(r.min_value);
  d["mu"] = optional_value(r.mu);
  d["bound_holds"] = optional_bool(r.bound_holds);
  d["first_bound_violation_t"] = optional_value(r.first_bound_violation_t);
  d["radius_holds"] = optional_bool(r.radius_holds);
  d["first_radius_violation_t"] = optional_value(r.first_radius_violation_t);
  py::dict rows;
  rows["t"] = column(r.rows, &FlowRow::t);
  rows["loss"] = column(r.rows, &FlowRow::loss);
  rows["grad_norm"] = column(r.rows, &FlowRow::grad_norm);
  rows["dist_from_init"] = column(r.rows, &FlowRow::dist_from_init);
  rows["pl_ratio"] = column(r.rows, &FlowRow::pl_ratio);
  rows["bound"] = column(r.rows, &FlowRow::bound);
  d["rows"] = rows;
  d["states"] = r.options.save.states ? py::object(states_array(r.states)) : py::none();
  d["event_hits"] = flow_hits(r);
  d["stiffness_hint"] = r.stiffness_hint;
  d["stats"] = stats_dict(r.stats);
  return d;
}

py::dict guarantee_dict(const RateGuarantee& g) {
  py::dict d;
  d["q"] = optional_value(g.q);
  d["radius"] = optional_value(g.radius);
  d["note"] = g.note;
  return d;
}

py::dict descent_to_dict(const DescentResult& r) {
  py::dict d;
  d["status"] = std::string(to_string(r.status));
  d["success"] = r.succeeded();
  d["message"] = r.message;
  d["problem"] = r.problem;
  d["rule"] = r.rule;
  d["theta"] = to_array(r.theta);
  d["iterations"] = r.iterations;
  d["t_final"] = r.t_final;
  d["loss0"] = r.loss0;
  d["loss_final"] = r.loss_final;
  d["grad_norm_final"] = r.grad_norm_final;
  d["dist_from_init"] = r.dist_from_init;
  d["path_length"] = r.path_length;
  d["min_value"] = optional_value(r.min_value);
  d["mu"] = optional_value(r.facts.mu);
  d["beta"] = optional_value(r.facts.beta);
  d["step_size"] = optional_value(r.step_size);
  d["guarantee"] = guarantee_dict(r.guarantee);
  d["bound_holds"] = optional_bool(r.bound_holds);
  d["first_bound_violation_iter"] =
      r.first_bound_violation_iter ? py::object(py::int_(*r.first_bound_violation_iter)) : py::none();
  d["radius_holds"] = optional_bool(r.radius_holds);
  py::dict rows;
  rows["iter"] = column(r.rows, &DescentRow::iter);
  rows["t"] = column(r.rows, &DescentRow::t);
  rows["loss"] = column(r.rows, &DescentRow::loss);
  rows["grad_norm"] = column(r.rows, &DescentRow::grad_norm);
  rows["dist_from_init"] = column(r.rows, &DescentRow::dist_from_init);
  rows["step_size"] = column(r.rows, &DescentRow::step_size);
  rows["bound"] = column(r.rows, &DescentRow::bound);
  rows["pl_ratio"] = column(r.rows, &DescentRow::pl_ratio);
  d["rows"] = rows;
  d["states"] = r.options.save.states ? py::object(states_array(r.states)) : py::none();
  d["event_hits"] = descent_hits(r);
  d["stats"] = stats_dict(r.stats);
  return d;
}

// A CallbackError that left the library: the kept Python exception, raised again without a result.
[[noreturn]] void rethrow_kept(RunObjective& run) {
  if (!run.state.error) throw;
  py::error_already_set error = std::move(*run.state.error);
  run.state.error.reset();
  throw error;
}

// After the run, with the GIL: the kept Python exception is raised again, the result attached to it.
void reraise(RunObjective& run, const py::object& result) {
  if (!run.state.error) return;
  py::error_already_set error = std::move(*run.state.error);
  run.state.error.reset();
  try {
    error.value().attr("gradflow_result") = result;
  } catch (py::error_already_set&) {
    // An exception object that takes no attributes: raised without the result.
  }
  throw error;
}

// ---------------------------------------------------------------------------------------------------
// Events: Python callables g(t, theta, row) with row a dict of the row's fields.

struct PyEvent {
  std::string name;
  py::object g;
  int direction = 0;
  bool terminal = true;
};

template <class Row, class RowDict>
std::function<double(double, ConstVectorView, const Row&)> event_function(const py::object& g, CallbackState& state,
                                                                          RowDict row_dict) {
  const SharedObject shared = share(g);
  return [shared, &state, row_dict](double t, ConstVectorView theta, const Row& row) {
    py::gil_scoped_acquire gil;
    try {
      return (*shared)(t, to_array(theta), row_dict(row)).template cast<double>();
    } catch (py::error_already_set& e) {
      state.fail(std::move(e), "an event function");
    } catch (py::cast_error& e) {
      state.fail_with(std::string("an event function must return a float: ") + e.what());
    }
  };
}

std::vector<PyEvent> to_events(const py::iterable& events) {
  std::vector<PyEvent> out;
  for (const py::handle item : events) {
    if (!py::isinstance<PyEvent>(item)) {
      throw py::value_error("events: each must be a gradflow.Event(name, g, direction=0, terminal=True)");
    }
    out.push_back(item.cast<PyEvent>());
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The runs.

std::optional<std::vector<double>> optional_times(const py::object& times) {
  if (times.is_none()) return std::nullopt;
  const Vector v = to_vector(times, "times");
  return std::vector<double>(v.data(), v.data() + v.size());
}

py::object flow(const py::object& objective, const py::object& theta0_in, const std::string& solver, double t_end,
                double rtol, double atol, std::optional<double> dt, const py::object& times, double save_every,
                double loss_tol, double grad_tol, std::optional<double> mu, std::optional<double> radius,
                bool record_states, bool dense_output, const py::iterable& events, long max_steps,
                const std::string& krylov, const py::object& hvp, std::optional<double> min_value) {
  const Vector theta0 = to_vector(theta0_in, "theta0");
  FlowOptions o;
  o.solver = parse_name<Solver>("solver", solver, solver_from_string, solver_names());
  o.t_end = t_end;
  o.rtol = rtol;
  o.atol = atol;
  if (dt) o.dt = *dt;
  if (const auto t = optional_times(times)) o.save.times = *t;
  o.save.every_t = save_every;
  o.stop.loss_tol = loss_tol;
  o.stop.grad_tol = grad_tol;
  o.mu = mu;
  o.radius = radius;
  o.save.states = record_states;
  o.save.dense = dense_output;
  o.stop.max_steps = max_steps;
  o.krylov = parse_name<KrylovMethod>("krylov", krylov, krylov_from_string, std::vector<std::string>{"gmres", "pcg"});
  RunObjective run;
  resolve(run, objective, theta0.size(), hvp, min_value);
  for (const PyEvent& e : to_events(events)) {
    o.events.push_back(
        FlowEvent{e.name, event_function<FlowRow>(e.g, run.state, flow_row_dict), e.direction, e.terminal});
  }
  raise_option_error(o.validate(), RunKind::flow);
  PyFlowResult result;
  try {
    py::gil_scoped_release release;
    result.r = simulate_flow(*run.objective, theta0, o);
  } catch (const CallbackError&) {
    rethrow_kept(run);  // the library did not catch it (it always should): the Python exception still comes back
  }
  // The event functions hold the callback state by reference: drop them before it goes.
  result.r.options.events.clear();
  py::object out = py::cast(std::move(result));
  reraise(run, out);
  return out;
}

py::object descend_py(const py::object& objective, const py::object& theta0_in, const std::string& step, double lr,
                      std::optional<double> gamma, double armijo_b, double armijo_c, long max_iters, double loss_tol,
                      double grad_tol, long save_every, std::optional<double> mu, std::optional<double> beta,
                      std::optional<double> ball_radius, double divergence_factor, std::uint64_t seed,
                      bool record_states, const py::iterable& events, const py::object& hvp,
                      std::optional<double> min_value) {
  const Vector theta0 = to_vector(theta0_in, "theta0");
  DescentOptions o;
  o.step = parse_name<StepRule>("step", step, step_rule_from_string, step_rule_names());
  o.lr = lr;
  o.gamma = gamma;
  o.armijo_b = armijo_b;
  o.armijo_c = armijo_c;
  o.stop.max_steps = max_iters;
  o.stop.loss_tol = loss_tol;
  o.stop.grad_tol = grad_tol;
  o.save.every_steps = save_every;
  o.mu = mu;
  o.beta = beta;
  o.ball_radius = ball_radius;
  o.divergence_factor = divergence_factor;
  o.seed = seed;
  o.save.states = record_states;
  RunObjective run;
  resolve(run, objective, theta0.size(), hvp, min_value);
  for (const PyEvent& e : to_events(events)) {
    o.events.push_back(
        DescentEvent{e.name, event_function<DescentRow>(e.g, run.state, descent_row_dict), e.direction, e.terminal});
  }
  raise_option_error(o.validate());
  PyDescentResult result;
  try {
    py::gil_scoped_release release;
    result.r = descend(*run.objective, theta0, o);
  } catch (const CallbackError&) {
    rethrow_kept(run);
  }
  result.r.options.events.clear();
  if (result.r.status == Status::invalid_options) throw py::value_error(result.r.message);
  py::object out = py::cast(std::move(result));
  reraise(run, out);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Certificates and experiments.

py::dict certificate_dict(const Certificate& c) {
  py::dict d;
  d["applies"] = c.applies;
  d["why_not"] = c.why_not;
  d["holds"] = c.holds;
  d["verdict"] = c.verdict();
  d["loss0"] = c.loss0;
  d["residual_norm"] = c.residual_norm;
  d["sigma0"] = c.sigma0;
  d["jacobian_norm"] = c.jacobian_norm;
  d["lipschitz_kind"] = c.lipschitz_kind;
  d["phi_max"] = c.phi_max;
  d["radius"] = c.radius;
  d["lipschitz"] = c.lipschitz;
  d["radius_low"] = c.radius_low;
  d["radius_high"] = c.radius_high;
  d["mu"] = c.mu;
  d["travel"] = c.travel;
  d["rate"] = c.rate;
  d["criterion_lhs"] = c.criterion_lhs;
  d["criterion_rhs"] = c.criterion_rhs;
  d["margin"] = c.margin;
  d["descent_holds"] = c.descent_holds;
  d["descent_radius"] = c.descent_radius;
  d["beta"] = c.beta;
  d["step"] = c.step;
  d["descent_q"] = c.descent_q;
  d["descent_travel"] = c.descent_travel;
  d["descent_criterion_rhs"] = c.descent_criterion_rhs;
  d["descent_margin"] = c.descent_margin;
  return d;
}

struct PyQuadratic : PyObjective {};
struct PyLeastSquares : PyObjective {};
struct PyKarimi : PyObjective {};
struct PyRosenbrock : PyObjective {};
struct PyMlp : PyObjective {
  const Mlp& mlp() const { return static_cast<const Mlp&>(*objective); }
};

InitOptions init_options(const std::string& name, std::uint64_t seed, double output_scale) {
  InitOptions o;
  o.scheme = parse_name<InitScheme>("init", name, init_scheme_from_string, init_scheme_names());
  o.seed = seed;
  o.output_scale = output_scale;
  if (!(output_scale > 0.0) || !std::isfinite(output_scale)) {
    throw py::value_error("output_scale = " + std::to_string(output_scale) + ": must be a finite number > 0");
  }
  return o;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------

// A NamedValue as a Python object: None for null, bool, int, float or str.
py::object to_python(const Value& value) {
  return std::visit(
      [](const auto& x) -> py::object {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return py::none();
        } else {
          return py::cast(x);
        }
      },
      value);
}

py::dict to_dict(const NamedValues& values) {
  py::dict d;
  for (const NamedValue& v : values) d[v.name.c_str()] = to_python(v.value);
  return d;
}

// compare_inits: the comparison of compare-inits (experiments/compare_inits.hpp: the same spec, the
// same validation, the same runner) on the caller's data, in memory: nothing is written.
static py::dict compare_inits_py(const py::object& x, const py::object& y, const std::vector<std::string>& inits,
                                 const std::vector<long>& widths, long seeds, long depth, const std::string& activation,
                                 const std::string& protocol, const std::optional<std::string>& solver,
                                 const std::optional<std::vector<double>>& lr_grid, std::optional<double> eps,
                                 std::optional<double> loss_tol, long max_steps, double lr,
                                 std::optional<double> output_scale, double scale_margin, const std::string& preprocess,
                                 const std::vector<std::string>& observe, int threads) {
  NetworkData data{to_matrix(x, "X"), to_vector(y, "y")};
  if (data.y.size() != data.x.rows()) throw py::value_error("y: length differs from the rows of X");
  if (!data.x.allFinite() || !data.y.allFinite()) throw py::value_error("X and y: must be finite");
  if (threads < 0) throw py::value_error("threads = " + std::to_string(threads) + ": must be >= 0");
  CompareInitsSpec spec;
  spec.inits.clear();
  for (const std::string& name : inits)
    spec.inits.push_back(parse_name<InitScheme>("inits", name, init_scheme_from_string, init_scheme_names()));
  spec.widths = widths;
  spec.seeds = seeds;
  spec.depth = depth;
  spec.activation = parse_name<Activation>("activation", activation, activation_from_string, activation_names());
  spec.protocol = parse_name<Protocol>("protocol", protocol, protocol_from_string, protocol_names());
  if (solver) spec.solver = parse_name<Solver>("solver", *solver, solver_from_string, solver_names());
  spec.lr_grid = lr_grid;
  spec.eps = eps;
  spec.loss_tol = loss_tol;
  spec.max_steps = max_steps;
  spec.lr = lr;
  spec.output_scale = output_scale;
  spec.scale_margin = scale_margin;
  spec.preprocess = parse_name<Preprocess>("preprocess", preprocess, preprocess_from_string,
                                           std::vector<std::string>{"none", "standardize", "scale", "whiten"});
  for (const std::string& item : observe) {
    if (!add_observable(spec.observe, item)) {
      std::string known;
      for (const auto& n : observable_names()) known += (known.empty() ? "" : ", ") + n;
      throw py::value_error("observe: unknown observable '" + item + "' (known: " + known + ")");
    }
  }
  spec.dataset.kind = DatasetSpec::Kind::file;
  spec.dataset.path = "array";  // the runs' initial seeds derive from this name, as from a file's name
  spec.data = std::move(data);
  if (const auto error = spec.validate()) {
    OptionError named = *error;
    if (named.field == "data") named.field = "X";
    throw py::value_error(named.message());
  }
  const SweepSpec sweep = spec.to_sweep();
  std::vector<RunRecord> records;
  std::vector<SummaryRow> rows;
  std::string warnings;
  try {
    const int workers = plan_threads(threads, static_cast<long>(sweep_run_count(sweep))).threads;
    check_sweep_memory(sweep, workers, "threads");
    if (const auto error = check_auto_scale(sweep)) throw py::value_error(error->message());
    const std::vector<RunSpec> runs = enumerate_runs(sweep);
    py::gil_scoped_release release;
    records = run_grid(runs, sweep, workers, {}, nullptr, [&](const std::string& w) { warnings += w; });
    // In the command's order (runs.csv sorted by key): the bootstrap resamples by position.
    std::sort(records.begin(), records.end(),
              [](const RunRecord& a, const RunRecord& b) { return a.run.key() < b.run.key(); });
    rows = summarize(records);
  } catch (const InputError& e) {
    throw py::value_error(e.what());
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
  py::list run_list;
  for (const RunRecord& r : records) run_list.append(to_dict(run_values(r)));
  const std::string tolerance = tolerance_label(sweep);
  py::list summary;
  for (const SummaryRow& r : rows) summary.append(to_dict(summary_values(r, tolerance)));
  py::dict out;
  out["tolerance"] = tolerance;
  out["runs"] = run_list;
  out["summary"] = summary;
  out["table"] = format_summary(rows, tolerance);
  out["verdict"] = format_verdict(rows);
  out["warnings"] = warnings;
  return out;
}

PYBIND11_MODULE(_core, m) {
  m.doc() = "gradflow's C++ library (see help(gradflow))";

  py::class_<PyObjective>(m, "Objective", R"doc(A built-in objective of the C++ library.

Objectives are made by their constructors (Quadratic, LeastSquares, Karimi, Rosenbrock, MLP) and
passed to flow() and descend(). They can also be evaluated directly:

  f.loss(theta) -> float
  f.loss_and_gradient(theta) -> (float, ndarray)
  f.hessian_vector(theta, v) -> ndarray
  f.dimension, f.name, f.known (a dict of the exact constants: min_value, mu, beta, minimizer)
)doc")
      .def_property_readonly(
          "dimension", [](const PyObjective& o) { return o.get().dimension(); }, "p, the number of parameters")
      .def_property_readonly(
          "name", [](const PyObjective& o) { return o.get().name(); }, "the problem's name")
      .def_property_readonly(
          "known",
          [](const PyObjective& o) {
            const KnownFacts k = o.get().known();
            py::dict d;
            d["min_value"] = optional_value(k.min_value);
            d["mu"] = optional_value(k.mu);
            d["beta"] = optional_value(k.beta);
            d["minimizer"] = k.minimizer ? py::object(to_array(*k.minimizer)) : py::none();
            return d;
          },
          "the exact facts of the problem (None where unknown): min_value (inf L), mu (PL), beta (smoothness), "
          "minimizer")
      .def(
          "loss",
          [](const PyObjective& o, const py::object& theta) {
            const Array a = vector_array(theta, "theta");
            if (a.shape(0) != o.get().dimension()) throw py::value_error("theta: wrong length");
            return o.get().loss(view_of(a));
          },
          py::arg("theta"), "L(theta)")
      .def(
          "loss_and_gradient",
          [](const PyObjective& o, const py::object& theta) {
            const Array a = vector_array(theta, "theta");
            if (a.shape(0) != o.get().dimension()) throw py::value_error("theta: wrong length");
            Vector g(a.shape(0));
            const double loss = o.get().loss_and_gradient(view_of(a), g);
            return py::make_tuple(loss, to_array(g));
          },
          py::arg("theta"), "(L(theta), grad L(theta))")
      .def(
          "hessian_vector",
          [](const PyObjective& o, const py::object& theta, const py::object& v) {
            const Array a = vector_array(theta, "theta"), b = vector_array(v, "v");
            if (a.shape(0) != o.get().dimension() || b.shape(0) != a.shape(0)) {
              throw py::value_error("theta and v: wrong length");
            }
            Vector hv(a.shape(0));
            o.get().hessian_vector(view_of(a), view_of(b), hv);
            return to_array(hv);
          },
          py::arg("theta"), py::arg("v"), "H(theta) v (exact for the built-in problems)")
      .def("__repr__", [](const PyObjective& o) {
        return "<gradflow objective " + o.get().name() + ", p = " + std::to_string(o.get().dimension()) + ">";
      });

  py::class_<PythonFunction>(m, "Function", R"doc(Function(f, dimension, hvp=None, min_value=None, name="function")

A loss written in Python: f(theta) -> (loss, grad), theta a float64 ndarray of shape (p,), loss a
float and grad an array of shape (p,). hvp(theta, v) -> H(theta) v, optional (exact; without it
the implicit BDF methods use a difference of gradients). min_value: inf L when known exactly
(then the runs report the PL ratio and, with mu, the rate bound).

A plain callable passed to flow() or descend() is wrapped the same way (hvp and min_value then
given to the run). Each call costs one Python call; the C++ run holds the GIL only during it.
)doc")
      .def(py::init([](py::object f, Eigen::Index dimension, py::object hvp, std::optional<double> min_value,
                       std::string name) {
             if (!PyCallable_Check(f.ptr())) throw py::value_error("f: must be callable");
             if (!hvp.is_none() && !PyCallable_Check(hvp.ptr())) throw py::value_error("hvp: must be callable");
             return PythonFunction(std::move(f), dimension, std::move(hvp), min_value, std::move(name));
           }),
           py::arg("f"), py::arg("dimension"), py::arg("hvp") = py::none(), py::arg("min_value") = py::none(),
           py::arg("name") = "function")
      .def_property_readonly("dimension", &PythonFunction::dimension, "p, the number of parameters");

  py::class_<PyEvent>(m, "Event", R"doc(Event(name, g, direction=0, terminal=True)

A located event: a sign change of g(t, theta, row) along the run, row a dict of the row's fields
(t, loss, grad_norm, dist_from_init, pl_ratio, bound; descent adds iter and step_size).
direction +1: rising crossings only, -1: falling only, 0: both. terminal: the run ends at the
first crossing with status "event_stop". The flow locates the crossing on the step's interpolant
to |dt| <= 1e-12 (1 + |t|); descent checks g at the iterates.
)doc")
      .def(py::init([](std::string name, py::object g, int direction, bool terminal) {
             if (!PyCallable_Check(g.ptr())) throw py::value_error("g: must be callable");
             return PyEvent{std::move(name), std::move(g), direction, terminal};
           }),
           py::arg("name"), py::arg("g"), py::arg("direction") = 0, py::arg("terminal") = true)
      .def_readonly("name", &PyEvent::name)
      .def_readonly("direction", &PyEvent::direction)
      .def_readonly("terminal", &PyEvent::terminal);

  // Built-ins.
  py::class_<PyQuadratic, PyObjective>(m, "Quadratic", R"doc(Quadratic(A, minimizer=None)

L = 1/2 (theta - theta*)^T A (theta - theta*), A symmetric positive semidefinite (a non-symmetric
or indefinite A is a ValueError with the reason), theta* = minimizer (default 0). Exact facts:
mu = smallest positive eigenvalue, beta = largest, min 0, and the closed-form flow.
Quadratic.generated(p, cond, seed) is the command line's generated problem.)doc")
      .def(py::init([](const py::object& a, const py::object& minimizer) {
             const Matrix matrix = to_matrix(a, "A");
             if (matrix.rows() != matrix.cols()) throw py::value_error("A: must be square");
             if (!matrix.allFinite()) throw py::value_error("A: has a non-finite entry");
             if (const auto why = Quadratic::check_matrix(matrix)) throw py::value_error("A: " + *why);
             const Vector star = minimizer.is_none() ? Vector::Zero(matrix.rows()) : to_vector(minimizer, "minimizer");
             if (star.size() != matrix.rows()) throw py::value_error("minimizer: length differs from A's size");
             if (!star.allFinite()) throw py::value_error("minimizer: has a non-finite entry");
             return PyQuadratic{{std::make_shared<Quadratic>(matrix, star)}};
           }),
           py::arg("A"), py::arg("minimizer") = py::none())
      .def_static(
          "generated",
          [](Eigen::Index p, double cond, std::uint64_t seed) {
            if (p < 1) throw py::value_error("p = " + std::to_string(p) + ": must be >= 1");
            if (!(cond >= 1.0) || !std::isfinite(cond)) {
              throw py::value_error("cond = " + std::to_string(cond) + ": must be a finite number >= 1");
            }
            return PyQuadratic{{std::make_shared<Quadratic>(Quadratic::generated(p, cond, seed))}};
          },
          py::arg("p"), py::arg("cond") = 100.0, py::arg("seed") = 0,
          "A = Q diag(lambda) Q^T, Q a seeded random orthogonal matrix, lambda log-spaced from 1/cond to 1 (the "
          "command line's --dim, --cond, --seed)")
      .def_property_readonly(
          "A",
          [](const PyQuadratic& q) {
            const Matrix& a = static_cast<const Quadratic&>(*q.objective).matrix();
            return states_array(a.transpose());  // (rows, cols), row-major
          },
          "the matrix A");
  py::class_<PyLeastSquares, PyObjective>(m, "LeastSquares", R"doc(LeastSquares(X, y)

L = 1/2 ||X theta - y||^2, any shape. Exact facts: mu = s_r^2, beta = s_1^2 (singular values of X),
the minimum value, the closed-form flow; the PL certificate applies (certify()).)doc")
      .def(py::init([](const py::object& x, const py::object& y) {
             Matrix xm = to_matrix(x, "X");
             Vector yv = to_vector(y, "y");
             if (yv.size() != xm.rows()) throw py::value_error("y: length differs from the rows of X");
             if (!xm.allFinite() || !yv.allFinite()) throw py::value_error("X and y: must be finite");
             return PyLeastSquares{{std::make_shared<LeastSquares>(std::move(xm), std::move(yv))}};
           }),
           py::arg("X"), py::arg("y"));
  py::class_<PyKarimi, PyObjective>(
      m, "Karimi", "Karimi(p)\n\nL = sum_j theta_j^2 + 3 sin^2 theta_j: nonconvex, mu = 1/32, beta = 8.")
      .def(py::init([](Eigen::Index p) {
             if (p < 1) throw py::value_error("p = " + std::to_string(p) + ": must be >= 1");
             return PyKarimi{{std::make_shared<Karimi>(p)}};
           }),
           py::arg("p"));
  py::class_<PyRosenbrock, PyObjective>(
      m, "Rosenbrock",
      "Rosenbrock(p)\n\nThe extended Rosenbrock function, sum over pairs 100 (theta_{2k+1} - theta_{2k}^2)^2 + (1 - "
      "theta_{2k})^2, p even: min 0 at all ones, no mu (give mu= to the run for a bound).")
      .def(py::init([](Eigen::Index p) {
             if (p < 2 || p % 2 != 0) throw py::value_error("p = " + std::to_string(p) + ": must be even and >= 2");
             return PyRosenbrock{{std::make_shared<Rosenbrock>(p)}};
           }),
           py::arg("p"));

  py::class_<PyMlp, PyObjective>(m, "MLP", R"doc(MLP(X, y, widths=[64], activation="tanh", bias=False, threads=1)

L = 1/2 sum_i (f(x_i; theta) - y_i)^2, f a feedforward network with scalar output,
f(x) = W_L s(W_{L-1} ... s(W_1 x)); X is n x d (rows are samples), y has n entries.
Parameter layout: layer by layer from the input, each W_l (rows = outputs) row-major, then b_l
when bias is on. Exact gradient, Hessian-vector product and Jacobian. threads: of one evaluation
(0 = all cores); the results are the same bits for every count.
)doc")
      .def(py::init([](const py::object& x, const py::object& y, std::vector<Eigen::Index> widths,
                       const std::string& activation, bool bias, int threads) {
             MlpArchitecture a;
             Matrix xm = to_matrix(x, "X");
             Vector yv = to_vector(y, "y");
             if (yv.size() != xm.rows()) throw py::value_error("y: length differs from the rows of X");
             if (!xm.allFinite() || !yv.allFinite()) throw py::value_error("X and y: must be finite");
             a.input_dim = xm.cols();
             a.widths = std::move(widths);
             a.activation =
                 parse_name<Activation>("activation", activation, activation_from_string, activation_names());
             a.bias = bias;
             if (const std::string why = a.check(); !why.empty()) throw py::value_error(why);
             if (threads < 0) throw py::value_error("threads = " + std::to_string(threads) + ": must be >= 0");
             auto mlp = std::make_shared<Mlp>(a, std::move(xm), std::move(yv));
             mlp->set_threads(threads);
             return PyMlp{{mlp}};
           }),
           py::arg("X"), py::arg("y"), py::arg("widths") = std::vector<Eigen::Index>{64},
           py::arg("activation") = "tanh", py::arg("bias") = false, py::arg("threads") = 1)
      .def(
          "init",
          [](const PyMlp& m, const std::string& name, std::uint64_t seed, double output_scale) {
            return to_array(initialize(m.mlp().architecture(), init_options(name, seed, output_scale)));
          },
          py::arg("name") = "positive", py::arg("seed") = 0, py::arg("output_scale") = 1.0,
          R"doc(init(name="positive", seed=0, output_scale=1.0) -> ndarray

An initial point: positive (the theory's), xavier_uniform, xavier_normal, kaiming_uniform,
kaiming_normal, lecun_normal, orthogonal or zeros; the output layer multiplied by output_scale,
biases 0. gradflow's own seeded generators: the same seed gives the same bits everywhere.)doc")
      .def(
          "predict",
          [](const PyMlp& m, const py::object& theta) {
            const Vector x = to_vector(theta, "theta");
            if (x.size() != m.mlp().dimension()) throw py::value_error("theta: wrong length");
            return to_array(m.mlp().predict(x));
          },
          py::arg("theta"), "f(x_i; theta) for every sample");

  // Results.
  py::class_<PyFlowResult>(m, "FlowResult", R"doc(The outcome of flow().

status (str), message, success (bool), theta (final state; the last good one after a failure),
t_final; the rows as arrays: t, loss, grad_norm, dist_from_init, pl_ratio, bound (NaN where
undefined); states (rows x p, with record_states=True); at(t) (with dense_output=True);
event_hits (list of dicts: name, t, theta and the row's fields); stats (dict of counters and
wall_seconds); bound_holds and radius_holds (True, False or None when not checked); to_dict().)doc")
      .def_property_readonly(
          "status", [](const PyFlowResult& p) { return std::string(to_string(p.r.status)); },
          "reached_end_time, tolerance_reached, event_stop, max_steps, step_size_too_small, non_finite_value, "
          "backend_error, callback_error, ...")
      .def_property_readonly(
          "message", [](const PyFlowResult& p) { return p.r.message; }, "why the run ended")
      .def_property_readonly(
          "success", [](const PyFlowResult& p) { return p.r.succeeded(); }, "whether the run did what was asked")
      .def_property_readonly(
          "theta", [](const PyFlowResult& p) { return to_array(p.r.theta); }, "the final state")
      .def_property_readonly(
          "t_final", [](const PyFlowResult& p) { return p.r.t_final; }, "the final time")
      .def_property_readonly(
          "loss0", [](const PyFlowResult& p) { return p.r.loss0; }, "L(theta0)")
      .def_property_readonly(
          "loss_final", [](const PyFlowResult& p) { return p.r.loss_final; }, "L at the final state")
      .def_property_readonly(
          "path_length", [](const PyFlowResult& p) { return p.r.path_length; }, "sum of the accepted steps' lengths")
      .def_property_readonly(
          "mu", [](const PyFlowResult& p) { return optional_value(p.r.mu); }, "the PL constant of the bound")
      .def_property_readonly(
          "min_value", [](const PyFlowResult& p) { return optional_value(p.r.min_value); }, "L_min")
      .def_property_readonly(
          "t", [](const PyFlowResult& p) { return column(p.r.rows, &FlowRow::t); }, "row times")
      .def_property_readonly(
          "loss", [](const PyFlowResult& p) { return column(p.r.rows, &FlowRow::loss); }, "L at the rows")
      .def_property_readonly(
          "grad_norm", [](const PyFlowResult& p) { return column(p.r.rows, &FlowRow::grad_norm); },
          "||grad L|| at the rows")
      .def_property_readonly(
          "dist_from_init", [](const PyFlowResult& p) { return column(p.r.rows, &FlowRow::dist_from_init); },
          "||theta - theta0|| at the rows")
      .def_property_readonly(
          "pl_ratio", [](const PyFlowResult& p) { return column(p.r.rows, &FlowRow::pl_ratio); },
          "||grad L||^2 / (2 (L - L_min)) at the rows")
      .def_property_readonly(
          "bound", [](const PyFlowResult& p) { return column(p.r.rows, &FlowRow::bound); },
          "L_min + (L0 - L_min) exp(-2 mu t) at the rows")
      .def_property_readonly(
          "states",
          [](const PyFlowResult& p) -> py::object {
            if (!p.r.options.save.states) return py::none();
            return states_array(p.r.states);
          },
          "theta at every row, shape (rows, p); None without record_states=True")
      .def_property_readonly(
          "event_hits", [](const PyFlowResult& p) { return flow_hits(p.r); }, "the located crossings, in time order")
      .def_property_readonly(
          "stats", [](const PyFlowResult& p) { return stats_dict(p.r.stats); }, "counters and wall time")
      .def_property_readonly(
          "bound_holds", [](const PyFlowResult& p) { return optional_bool(p.r.bound_holds); },
          "the rate bound's verdict (None: no mu or L_min, or nothing checked)")
      .def_property_readonly(
          "radius_holds", [](const PyFlowResult& p) { return optional_bool(p.r.radius_holds); },
          "the containment verdict with radius= (None otherwise)")
      .def_property_readonly(
          "stiffness_hint", [](const PyFlowResult& p) { return p.r.stiffness_hint; },
          "set when an explicit method was held at its stability limit")
      .def(
          "at",
          [](const PyFlowResult& p, double t) {
            try {
              return to_array(p.r.at(t));
            } catch (const std::out_of_range& e) {
              throw py::value_error(e.what());
            } catch (const std::logic_error&) {
              throw py::value_error("at(): the run kept no interpolant; run flow() with dense_output=True");
            }
          },
          py::arg("t"), "theta(t) for t in [0, t_final] from the dense output (dense_output=True); ValueError outside")
      .def(
          "to_dict", [](const PyFlowResult& p) { return flow_to_dict(p.r); },
          "everything as a plain dict of numbers, strings and ndarrays (rows under 'rows')")
      .def(
          "report", [](const PyFlowResult& p) { return p.r.full_report(); }, "the library's report, a few lines")
      .def("__repr__", [](const PyFlowResult& p) { return "<gradflow.FlowResult " + p.r.brief_report() + ">"; });

  py::class_<PyDescentResult>(m, "DescentResult", R"doc(The outcome of descend().

status, message, success, theta, iterations, t_final; the rows as arrays: iter, t, loss,
grad_norm, dist_from_init, step_size, bound, pl_ratio; states (rows x p, with record_states=True);
event_hits; stats; guarantee (dict: q, radius, note); bound_holds, radius_holds; to_dict().)doc")
      .def_property_readonly(
          "status", [](const PyDescentResult& p) { return std::string(to_string(p.r.status)); },
          "reached_max_iters, tolerance_reached, max_steps, event_stop, step_size_too_small, non_finite_value, "
          "diverged, callback_error, ...")
      .def_property_readonly(
          "message", [](const PyDescentResult& p) { return p.r.message; }, "why the run ended")
      .def_property_readonly(
          "success", [](const PyDescentResult& p) { return p.r.succeeded(); }, "whether the run did what was asked")
      .def_property_readonly(
          "theta", [](const PyDescentResult& p) { return to_array(p.r.theta); },
          "the final iterate (the last finite one after a failure)")
      .def_property_readonly(
          "iterations", [](const PyDescentResult& p) { return p.r.iterations; }, "k, the iterations made")
      .def_property_readonly(
          "t_final", [](const PyDescentResult& p) { return p.r.t_final; }, "the sum of the step sizes")
      .def_property_readonly(
          "loss0", [](const PyDescentResult& p) { return p.r.loss0; }, "L(theta0)")
      .def_property_readonly(
          "loss_final", [](const PyDescentResult& p) { return p.r.loss_final; }, "L at the final iterate")
      .def_property_readonly(
          "iter", [](const PyDescentResult& p) { return column(p.r.rows, &DescentRow::iter); }, "k at the rows")
      .def_property_readonly(
          "t", [](const PyDescentResult& p) { return column(p.r.rows, &DescentRow::t); },
          "the sum of the steps at the rows")
      .def_property_readonly(
          "loss", [](const PyDescentResult& p) { return column(p.r.rows, &DescentRow::loss); }, "L at the rows")
      .def_property_readonly(
          "grad_norm", [](const PyDescentResult& p) { return column(p.r.rows, &DescentRow::grad_norm); },
          "||grad L|| at the rows")
      .def_property_readonly(
          "dist_from_init", [](const PyDescentResult& p) { return column(p.r.rows, &DescentRow::dist_from_init); },
          "||theta_k - theta0|| at the rows")
      .def_property_readonly(
          "step_size", [](const PyDescentResult& p) { return column(p.r.rows, &DescentRow::step_size); },
          "eta_{k-1} at the rows (0 at k = 0)")
      .def_property_readonly(
          "bound", [](const PyDescentResult& p) { return column(p.r.rows, &DescentRow::bound); },
          "L_min + q^k (L0 - L_min) at the rows (NaN without a guarantee)")
      .def_property_readonly(
          "pl_ratio", [](const PyDescentResult& p) { return column(p.r.rows, &DescentRow::pl_ratio); },
          "||grad L||^2 / (2 (L - L_min)) at the rows")
      .def_property_readonly(
          "states",
          [](const PyDescentResult& p) -> py::object {
            if (!p.r.options.save.states) return py::none();
            return states_array(p.r.states);
          },
          "theta at every row, shape (rows, p); None without record_states=True")
      .def_property_readonly(
          "event_hits", [](const PyDescentResult& p) { return descent_hits(p.r); },
          "the events seen at the iterates (dicts: name, iter, t, theta and the row's fields)")
      .def_property_readonly(
          "stats", [](const PyDescentResult& p) { return stats_dict(p.r.stats); }, "counters and wall time")
      .def_property_readonly(
          "guarantee", [](const PyDescentResult& p) { return guarantee_dict(p.r.guarantee); },
          "the rule's guarantee: q (contraction per step), radius, note (None where the theory gives none)")
      .def_property_readonly(
          "bound_holds", [](const PyDescentResult& p) { return optional_bool(p.r.bound_holds); },
          "the guarantee's verdict (None: no guarantee, or no iteration)")
      .def_property_readonly(
          "radius_holds", [](const PyDescentResult& p) { return optional_bool(p.r.radius_holds); },
          "the containment verdict (None: no radius)")
      .def(
          "to_dict", [](const PyDescentResult& p) { return descent_to_dict(p.r); },
          "everything as a plain dict of numbers, strings and ndarrays (rows under 'rows')")
      .def(
          "report", [](const PyDescentResult& p) { return p.r.full_report(); }, "the library's report, a few lines")
      .def("__repr__", [](const PyDescentResult& p) { return "<gradflow.DescentResult " + p.r.brief_report() + ">"; });

  m.def("flow", &flow, py::arg("objective"), py::arg("theta0"), py::kw_only(), py::arg("solver") = "dopri5",
        py::arg("t_end") = 10.0, py::arg("rtol") = 1e-8, py::arg("atol") = 1e-10, py::arg("dt") = py::none(),
        py::arg("times") = py::none(), py::arg("save_every") = 0.0, py::arg("loss_tol") = 0.0,
        py::arg("grad_tol") = 0.0, py::arg("mu") = py::none(), py::arg("radius") = py::none(),
        py::arg("record_states") = false, py::arg("dense_output") = false, py::arg("events") = py::tuple(),
        py::arg("max_steps") = 1000000, py::arg("krylov") = "gmres", py::arg("hvp") = py::none(),
        py::arg("min_value") = py::none(), "see gradflow.flow");
  m.def("descend", &descend_py, py::arg("objective"), py::arg("theta0"), py::kw_only(), py::arg("step") = "fixed",
        py::arg("lr") = 0.1, py::arg("gamma") = py::none(), py::arg("armijo_b") = 0.5, py::arg("armijo_c") = 0.5,
        py::arg("max_iters") = 100000, py::arg("loss_tol") = 0.0, py::arg("grad_tol") = 0.0, py::arg("save_every") = 1,
        py::arg("mu") = py::none(), py::arg("beta") = py::none(), py::arg("ball_radius") = py::none(),
        py::arg("divergence_factor") = 1e10, py::arg("seed") = 0, py::arg("record_states") = false,
        py::arg("events") = py::tuple(), py::arg("hvp") = py::none(), py::arg("min_value") = py::none(),
        "see gradflow.descend");

  m.def(
      "certify",
      [](const PyObjective& o, const py::object& theta0) {
        const Vector x = to_vector(theta0, "theta0");
        if (x.size() != o.get().dimension()) throw py::value_error("theta0: wrong length");
        if (!x.allFinite()) throw py::value_error("theta0: has a non-finite entry");
        Certificate c;
        {
          py::gil_scoped_release release;
          c = certify(o.get(), x);
        }
        return certificate_dict(c);
      },
      py::arg("objective"), py::arg("theta0"), "see gradflow.certify");
  m.def(
      "find_scale",
      [](const PyMlp& m, std::uint64_t seed, bool for_descent) {
        ScaleSearch s;
        {
          py::gil_scoped_release release;
          s = find_positive_scale(m.mlp(), init_options("positive", seed, 1.0), for_descent);
        }
        py::dict d;
        d["found"] = s.found;
        d["scale"] = s.scale;
        d["why_not"] = s.why_not;
        d["certificate"] = certificate_dict(s.certificate);
        return d;
      },
      py::arg("network"), py::arg("seed") = 0, py::arg("for_descent") = false, "see gradflow.find_scale");
  m.def(
      "probability",
      [](const PyMlp& m, const std::string& init, std::uint64_t seed, double output_scale, long draws, double alpha,
         double eps, long steps, const std::string& step, double lr, int threads) {
        ProbabilityOptions o;
        o.draws = draws;
        o.alpha = alpha;
        o.eps = eps;
        o.steps = steps;
        o.descent.step = parse_name<StepRule>("step", step, step_rule_from_string, step_rule_names());
        o.descent.lr = lr;
        o.threads = threads;
        raise_option_error(o.validate());
        const InitOptions io = init_options(init, seed, output_scale);
        ProbabilityResult r;
        {
          py::gil_scoped_release release;
          r = estimate_probability(m.mlp(), io, o);
        }
        if (r.status == Status::invalid_options) throw py::value_error(r.message);
        const auto n = static_cast<py::ssize_t>(r.draws.size());
        py::array_t<double> sigma0(n), mu(n), loss0(n), loss_final(n);
        py::array_t<bool> certified(n), reached(n);
        py::array_t<long> iterations(n);
        py::array_t<std::uint64_t> init_seed(n);
        for (py::ssize_t i = 0; i < n; ++i) {
          const DrawResult& d = r.draws[static_cast<std::size_t>(i)];
          sigma0.mutable_at(i) = d.sigma0;
          mu.mutable_at(i) = d.mu;
          loss0.mutable_at(i) = d.loss0;
          loss_final.mutable_at(i) = d.loss_final;
          certified.mutable_at(i) = d.certified;
          reached.mutable_at(i) = d.reached;
          iterations.mutable_at(i) = d.iterations;
          init_seed.mutable_at(i) = d.init_seed;
        }
        py::dict out;
        out["status"] = std::string(to_string(r.status));
        out["message"] = r.message;
        out["draws"] = static_cast<long>(r.draws.size());
        out["certified"] = r.certified;
        out["reached"] = r.reached;
        out["certified_interval"] = py::make_tuple(r.certified_interval.lower, r.certified_interval.upper);
        out["reached_interval"] = py::make_tuple(r.reached_interval.lower, r.reached_interval.upper);
        out["why_not_applicable"] = r.why_not_applicable;
        out["threads_used"] = r.threads_used;
        out["warnings"] = r.warnings;
        out["wall_seconds"] = r.wall_seconds;
        out["init_seed"] = init_seed;
        out["certified_draws"] = certified;
        out["reached_draws"] = reached;
        out["sigma0"] = sigma0;
        out["mu"] = mu;
        out["loss0"] = loss0;
        out["iterations"] = iterations;
        out["loss_final"] = loss_final;
        return out;
      },
      py::arg("network"), py::kw_only(), py::arg("init") = "positive", py::arg("seed") = 0,
      py::arg("output_scale") = 1.0, py::arg("draws") = ProbabilityOptions{}.draws,
      py::arg("alpha") = ProbabilityOptions{}.alpha, py::arg("eps") = ProbabilityOptions{}.eps,
      py::arg("steps") = ProbabilityOptions{}.steps,
      py::arg("step") = std::string(to_string(ProbabilityOptions{}.descent.step)),
      py::arg("lr") = ProbabilityOptions{}.descent.lr, py::arg("threads") = ProbabilityOptions{}.threads,
      R"doc(Monte Carlo estimate over seeded draws of an initialization (docs/theory.md §6).

    At each of `draws` initializations (seeds derived from seed) the certificate is checked
    (rigorous at each draw) and gradient descent (step, lr) is run for `steps` iterations; a draw
    succeeds when the loss reaches eps L0 (eps default 1e-6, as the command line). Returns a dict: certified and reached (counts), their
    Clopper-Pearson intervals at level 1 - alpha (sampled estimates, not certificates), and per draw
    the arrays init_seed, certified_draws, reached_draws, sigma0, mu, loss0, iterations, loss_final.
    The draws run on `threads` threads (0 = all cores); the result does not depend on the count.
)doc");
  const CompareInitsSpec compare_defaults;
  std::vector<std::string> default_inits;
  for (const InitScheme scheme : compare_defaults.inits) default_inits.emplace_back(to_string(scheme));
  m.def("compare_inits", &compare_inits_py, py::arg("X"), py::arg("y"), py::kw_only(), py::arg("inits") = default_inits,
        py::arg("widths") = compare_defaults.widths, py::arg("seeds") = compare_defaults.seeds,
        py::arg("depth") = compare_defaults.depth,
        py::arg("activation") = std::string(to_string(compare_defaults.activation)),
        py::arg("protocol") = std::string(to_string(compare_defaults.protocol)), py::arg("solver") = py::none(),
        py::arg("lr_grid") = py::none(), py::arg("eps") = py::none(), py::arg("loss_tol") = py::none(),
        py::arg("max_steps") = compare_defaults.max_steps, py::arg("lr") = compare_defaults.lr,
        py::arg("output_scale") = py::none(), py::arg("scale_margin") = compare_defaults.scale_margin,
        py::arg("preprocess") = std::string(to_string(compare_defaults.preprocess)),
        py::arg("observe") = std::vector<std::string>{}, py::arg("threads") = 0,
        R"doc(The comparison of `gradflow compare-inits` on your data (X: n x d, y: n), in memory.

    Every scheme of inits, at every width, from `seeds` seeded initializations (seeds 0..seeds-1; the
    initial weights derive from them as in the command), trained by the protocol: "armijo" descent,
    "tuned-fixed" (a fixed step lr = c / beta0 for each c of lr_grid, each scheme at its best c) or
    "flow" (the solver). The positive scheme runs at scale_margin x its smallest certified output
    scale for the method (output_scale=None), or at output_scale. A run converges at loss <= eps L0
    (or loss <= loss_tol, absolute; not both). solver: the flow protocol's (default dopri5); lr_grid: the
    tuned-fixed protocol's factors (default 0.25, 0.5, 1, 1.5, 1.9, 2.5, 4); each is refused with another
    protocol. An item listed twice in inits, widths or lr_grid is refused (ValueError). preprocess: none, standardize, scale or whiten the inputs.
    observe: any of "ntk", "sharpness", "sharpness2", "condition", watched at each run's recorded rows.

    Returns a dict: runs (one dict per run: init, width, seed, method, lr_c, init_seed, output_scale,
    certified, beta0, lr, loss0, reached, steps_to_eps, final_loss, grad_evals, loss_evals, hvp_evals,
    status, and with observe ntk_min, ntk_max, pl_minus_ntk_min, sharpness0, sharpness_max,
    eta_sharpness_max, sharpness_min: the columns of runs.csv), summary (one dict per scheme and width:
    the columns of summary.csv, among them converged, the medians and quartiles of the work, and
    speedup_X with speedup_X_low and speedup_X_high: median of the scheme / median of positive with its
    bootstrap 95% interval, None for positive itself), table and
    verdict (the command's text), tolerance. The runs use `threads` threads (0 = all cores); the
    results do not depend on the count. Nothing is written to disk.
)doc");
}
