// flow() and descend(): keyword arguments into FlowOptions and DescentOptions (their defaults are the
// structs' own), the run with the GIL released (Ctrl-C ends it: interrupt.hpp), the result.
#include "runs.hpp"

#include "callbacks.hpp"
#include "docs.hpp"
#include "interrupt.hpp"
#include "objectives.hpp"
#include "results.hpp"

#include <gradflow/discrete/against_flow.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/discrete/ensemble.hpp>
#include <gradflow/discrete/flow_models.hpp>
#include <gradflow/flow/simulate_flow.hpp>

#include <pybind11/stl.h>

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace gradflow::python {
namespace {

// The keyword that sets each options field whose name differs from it.
const std::map<std::string, std::string> kFlowKeywords{{"save.times", "times"},
                                                       {"save.every_t", "save_every"},
                                                       {"save.states", "record_states"},
                                                       {"save.dense", "dense_output"},
                                                       {"stop.max_steps", "max_steps"}};
const std::map<std::string, std::string> kDescentKeywords{
    {"save.every_steps", "save_every"}, {"save.states", "record_states"}, {"stop.max_steps", "max_iters"}};

Observables observables(const std::vector<std::string>& names) {
  Observables what;
  const std::string problem = parse_observables(names, what);
  if (!problem.empty()) throw py::value_error("observe: " + problem);
  return what;
}

struct FlowArgs {
  std::string solver, krylov;
  double t_end, rtol, atol;
  std::optional<double> dt;
  py::object times;
  double save_every, loss_tol, grad_tol, max_wall_seconds;
  std::optional<double> mu, radius;
  bool record_states, dense_output;
  long max_steps;
  std::vector<std::string> observe;
  double max_step;
  std::optional<double> first_step;
  py::object observer, row_sink;  // None, or Python callables (callbacks.hpp)
};

FlowOptions flow_options(const FlowArgs& a) {
  FlowOptions o;
  o.solver = parse_name<Solver>("solver", a.solver, solver_from_string, solver_names());
  o.krylov = parse_name<KrylovMethod>("krylov", a.krylov, krylov_from_string, std::vector<std::string>{"gmres", "pcg"});
  o.t_end = a.t_end;
  o.rtol = a.rtol;
  o.atol = a.atol;
  if (a.dt) o.dt = *a.dt;
  if (!a.times.is_none()) {
    const Vector t = to_vector(a.times, "times");
    o.save.times.assign(t.data(), t.data() + t.size());
  }
  o.save.every_t = a.save_every;
  o.save.states = a.record_states;
  o.save.dense = a.dense_output;
  o.stop.loss_tol = a.loss_tol;
  o.stop.grad_tol = a.grad_tol;
  o.stop.max_steps = a.max_steps;
  o.stop.max_wall_seconds = a.max_wall_seconds;
  o.mu = a.mu;
  o.radius = a.radius;
  o.observe = observables(a.observe);
  o.max_step = a.max_step;
  o.first_step = a.first_step;
  return o;
}

py::object flow(const py::object& objective, const py::object& theta0_in, const FlowArgs& args,
                const py::iterable& events, const py::object& hvp, std::optional<double> min_value) {
  const Vector theta0 = to_vector(theta0_in, "theta0");
  if (theta0.size() == 0) throw py::value_error("theta0: is empty (it needs at least one entry)");
  FlowOptions o = flow_options(args);
  RunObjective run;
  resolve(run, objective, theta0.size(), hvp, min_value);
  o.events = to_events(events, run.state, kFlowRows, o.observe);
  if (!args.row_sink.is_none()) o.save.sink = to_row_sink(args.row_sink, run.state, kFlowRows, o.observe);
  const Observer observer =
      args.observer.is_none() ? Observer{} : to_observer(args.observer, run.state, kFlowRows, o.observe);
  raise_if(o.validate(), kFlowKeywords);
  PyFlowResult result;
  InterruptScope interrupt;
  try {
    GilRelease release;  // taking the GIL back at the interpreter's exit: interrupt.hpp
    result.r = simulate_flow(*run.objective, theta0, o, observer);
  } catch (const CallbackError&) {
    rethrow_kept(run);  // the library did not catch it (it always should): the Python exception still comes back
  }
  if (result.r.status == Status::invalid_options) throw py::value_error(result.r.message);
  // The event functions hold the callback state by reference: drop them (keeping the events' names,
  // directions and flags) before it goes.
  for (Event& event : result.r.options.events) event.g = nullptr;
  result.r.options.save.sink = nullptr;  // it too holds the callback state
  mark_interrupted(run, result.r);
  py::object out = py::cast(std::move(result));
  reraise(run, out);
  interrupt.raise_if_interrupted(out);
  return out;
}

struct DescentArgs {
  py::object step;  // a rule's name, or a Python rule (PythonStepRule)
  double lr, armijo_b, armijo_c, loss_tol, grad_tol, divergence_factor, max_wall_seconds;
  std::optional<double> gamma, mu, beta, ball_radius;
  long max_iters, save_every;
  std::uint64_t seed;
  bool record_states;
  std::vector<std::string> observe;
  py::object observer, row_sink;  // None, or Python callables (callbacks.hpp)
};

// A rule's name, given as str (or bytes, which pybind11 converts to a std::string too); false for a rule
// object (PythonStepRule).
bool is_rule_name(const py::object& step) { return py::isinstance<py::str>(step) || py::isinstance<py::bytes>(step); }

DescentOptions descent_options(const DescentArgs& a) {
  DescentOptions o;
  if (is_rule_name(a.step)) {
    o.step = parse_name<StepRule>("step", a.step.cast<std::string>(), step_rule_from_string, step_rule_names());
  }
  o.lr = a.lr;
  o.gamma = a.gamma;
  o.armijo_b = a.armijo_b;
  o.armijo_c = a.armijo_c;
  o.stop.max_steps = a.max_iters;
  o.stop.loss_tol = a.loss_tol;
  o.stop.grad_tol = a.grad_tol;
  o.stop.max_wall_seconds = a.max_wall_seconds;
  o.save.every_steps = a.save_every;
  o.save.states = a.record_states;
  o.mu = a.mu;
  o.beta = a.beta;
  o.ball_radius = a.ball_radius;
  o.divergence_factor = a.divergence_factor;
  o.seed = a.seed;
  o.observe = observables(a.observe);
  return o;
}

py::object descend(const py::object& objective, const py::object& theta0_in, const DescentArgs& args,
                   const py::iterable& events, const py::object& hvp, std::optional<double> min_value) {
  const Vector theta0 = to_vector(theta0_in, "theta0");
  if (theta0.size() == 0) throw py::value_error("theta0: is empty (it needs at least one entry)");
  DescentOptions o = descent_options(args);
  RunObjective run;
  resolve(run, objective, theta0.size(), hvp, min_value);
  o.events = to_events(events, run.state, kDescentRows, o.observe);
  if (!args.row_sink.is_none()) o.save.sink = to_row_sink(args.row_sink, run.state, kDescentRows, o.observe);
  const Observer observer =
      args.observer.is_none() ? Observer{} : to_observer(args.observer, run.state, kDescentRows, o.observe);
  raise_if(o.validate(), kDescentKeywords);
  PyDescentResult result;
  InterruptScope interrupt;
  try {
    if (is_rule_name(args.step)) {
      GilRelease release;  // taking the GIL back at the interpreter's exit: interrupt.hpp
      result.r = gradflow::descend(*run.objective, theta0, o, observer);
    } else {
      PythonStepRule rule(args.step, run.state);  // ValueError here when it is not a rule
      GilRelease release;
      result.r = gradflow::descend(*run.objective, theta0, std::move(rule), o, observer);
    }
  } catch (const CallbackError&) {
    rethrow_kept(run);
  }
  for (Event& event : result.r.options.events) event.g = nullptr;  // it holds the callback state by reference
  result.r.options.save.sink = nullptr;                            // it too holds the callback state
  if (result.r.status == Status::invalid_options) throw py::value_error(result.r.message);
  mark_interrupted(run, result.r);
  py::object out = py::cast(std::move(result));
  reraise(run, out);
  interrupt.raise_if_interrupted(out);
  return out;
}

// Descent with a fixed step against the flows that model it (discrete/against_flow.hpp): the rows'
// columns as arrays (descend --against-flow's names) and the follower's findings.
py::dict descend_against_flow(const py::object& objective, const py::object& theta0_in, double lr, long max_iters,
                              const std::optional<std::string>& model_name, double leave_tol, long save_every) {
  const Vector theta0 = to_vector(theta0_in, "theta0");
  if (theta0.size() == 0) throw py::value_error("theta0: is empty (it needs at least one entry)");
  std::optional<FlowModel> model;
  if (model_name) {
    const FlowModel which = flow_model_named(*model_name);
    if (which == FlowModel::central || which == FlowModel::edge) model = which;
  }
  if (!(std::isfinite(leave_tol) && leave_tol > 0.0))
    throw py::value_error("leave_tol = " + std::to_string(leave_tol) + ": must be finite and > 0");
  DescentOptions o;
  o.step = StepRule::fixed;
  o.lr = lr;
  o.stop.max_steps = max_iters;
  o.save.every_steps = save_every;
  o.save.keep_rows = false;
  o.observe.sharpness = true;
  raise_if(o.validate(), kDescentKeywords);
  RunObjective run;
  resolve(run, objective, theta0.size(), py::none(), std::nullopt);
  FlowFollower follower(*run.objective, theta0, leave_tol);
  if (model) {
    try {
      follower.add_edge_of_stability_flow(*model);
    } catch (const std::invalid_argument& e) {
      throw py::value_error("model = '" + *model_name + "': " + e.what());
    }
  }
  const std::vector<std::string> names = comparison_columns(model);
  std::vector<std::vector<double>> columns(names.size() + 4);  // iter, t, loss, sharpness, then names
  o.save.sink = [&](const Row& row, ConstVectorView theta) {
    const std::vector<double> values = comparison_values(follower.compare(row, theta, lr), model.has_value());
    columns[0].push_back(static_cast<double>(row.iter));
    columns[1].push_back(row.t);
    columns[2].push_back(row.loss);
    columns[3].push_back(row.observed.sharpness);
    for (std::size_t i = 0; i < values.size(); ++i) columns[i + 4].push_back(values[i]);
  };
  DescentResult r;
  InterruptScope interrupt;
  try {
    GilRelease release;
    r = gradflow::descend(*run.objective, theta0, o);
  } catch (const CallbackError&) {
    rethrow_kept(run);
  }
  py::dict rows;
  const std::vector<std::string> leading{"iter", "t", "loss", "sharpness"};
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const Vector v = Eigen::Map<const Vector>(columns[i].data(), static_cast<Eigen::Index>(columns[i].size()));
    rows[py::str(i < 4 ? leading[i] : names[i - 4])] = to_array(v);
  }
  const auto leave = [](const std::optional<LeaveFlow>& left) -> py::object {
    if (!left) return py::none();
    py::dict d;
    d["iter"] = left->iter;
    d["t"] = left->t;
    d["relative_distance"] = left->relative_distance;
    d["sharpness"] = left->sharpness;
    d["eta_sharpness"] = left->eta_sharpness;
    return std::move(d);
  };
  py::dict out;
  out["status"] = std::string(to_string(r.status));
  out["iterations"] = r.iterations;
  out["theta"] = to_array(r.theta);
  out["rows"] = rows;
  out["left_flow"] = leave(follower.left());
  out["left_modified_flow"] = leave(follower.left_modified());
  out["edge"] = leave(follower.reached_edge());
  out["max_eta_sharpness"] = follower.max_eta_sharpness();
  out["rows_at_edge"] = follower.rows_at_edge();
  out["time_at_edge"] = follower.time_at_edge();
  const Fidelity& f = follower.fidelity();
  py::dict fidelity;
  fidelity["rows"] = f.rows;
  fidelity["plain"] = f.plain;
  fidelity["modified"] = f.modified;
  if (model) {
    fidelity["model_rows"] = f.model_rows;
    fidelity["model"] = f.model;
    fidelity["model_sharpness"] = f.model_sharpness;
  }
  out["fidelity"] = fidelity;
  py::dict work;
  work["flow_gradient_evals"] = follower.flow_stats().num_gradient_evals;
  work["modified_flow_gradient_evals"] = follower.modified_flow_stats().num_gradient_evals;
  if (model) {
    work["model_gradient_evals"] = follower.edge_of_stability_stats().num_gradient_evals;
    work["model_hessian_vector_evals"] = follower.edge_of_stability_stats().num_hessian_vector_evals;
  }
  out["work"] = work;
  out["model"] = model ? py::object(py::str(std::string(to_string(*model)))) : py::object(py::none());
  out["flow_failure"] = follower.failure();
  interrupt.raise_if_interrupted(out);
  return out;
}

}  // namespace

// The ensembles (discrete/ensemble.hpp): one built-in objective from each row of starts, on the pool's
// threads with the GIL released; Ctrl-C stops them (interrupt.hpp), the results so far attached.
template <class Args>
py::object many(const py::object& objective, const py::object& starts_in, int threads, const Args& args,
                const py::iterable& events, const py::object& hvp, std::optional<double> min_value) {
  constexpr bool is_flow = std::is_same_v<Args, FlowArgs>;
  if (!py::isinstance<PyObjective>(objective)) {
    throw py::value_error(
        "objective: an ensemble runs a built-in objective (Quadratic, LeastSquares, Karimi, Rosenbrock, MLP); a "
        "Python loss holds the GIL at every evaluation, so its runs cannot overlap: call " +
        std::string(is_flow ? "flow()" : "descend()") + " in a loop");
  }
  if (py::len(events) != 0) throw py::value_error("events: not supported by an ensemble (run the starts one by one)");
  if (!args.observer.is_none() || !args.row_sink.is_none()) {
    throw py::value_error("observer, row_sink: not supported by an ensemble (Python callables hold the GIL)");
  }
  if (!hvp.is_none() || min_value) throw py::value_error("hvp, min_value: for a Python loss only");
  if (threads < 0) throw py::value_error("threads = " + std::to_string(threads) + ": must be >= 0 (0: all cores)");
  const Matrix starts = to_matrix(starts_in, "starts");
  const Objective& f = objective.cast<const PyObjective&>().get();
  if (starts.cols() != f.dimension()) {
    throw py::value_error("starts: each row must have p = " + std::to_string(f.dimension()) +
                          " entries (the objective's dimension), got " + std::to_string(starts.cols()));
  }
  py::list out;
  InterruptScope interrupt;
  if constexpr (is_flow) {
    FlowOptions o = flow_options(args);
    raise_if(o.validate(), kFlowKeywords);
    std::vector<FlowResult> results;
    {
      GilRelease release;
      results = simulate_flows(f, starts, o, threads);
    }
    for (FlowResult& r : results) {
      if (r.status == Status::invalid_options) throw py::value_error(r.message);
      PyFlowResult p;
      p.r = std::move(r);
      out.append(py::cast(std::move(p)));
    }
  } else {
    if (!is_rule_name(args.step)) {
      throw py::value_error(
          "step: an ensemble takes a rule's name (a Python rule holds the GIL at every step: call "
          "descend() in a loop)");
    }
    DescentOptions o = descent_options(args);
    raise_if(o.validate(), kDescentKeywords);
    std::vector<DescentResult> results;
    {
      GilRelease release;
      results = descend_many(f, starts, o, threads);
    }
    for (DescentResult& r : results) {
      if (r.status == Status::invalid_options) throw py::value_error(r.message);
      PyDescentResult p;
      p.r = std::move(r);
      out.append(py::cast(std::move(p)));
    }
  }
  interrupt.raise_if_interrupted(out);
  return out;
}

// flow()'s and flow_many()'s keywords, written once: the lambda's parameters, the struct they fill, and
// pybind11's names and defaults (the library's: f is a default FlowOptions).
#define GRADFLOW_FLOW_PARAMETERS                                                                                       \
  const std::string &solver, double t_end, double rtol, double atol, std::optional<double> dt,                         \
      const py::object &times, double save_every, double loss_tol, double grad_tol, std::optional<double> mu,          \
      std::optional<double> radius, bool record_states, bool dense_output, const py::iterable &events, long max_steps, \
      const std::string &krylov, const py::object &hvp, std::optional<double> min_value,                               \
      const std::vector<std::string>&observe, double max_wall_seconds, double max_step,                                \
      std::optional<double> first_step, const py::object &observer, const py::object &row_sink
#define GRADFLOW_FLOW_ARGS                                                                                      \
  FlowArgs {                                                                                                    \
    solver, krylov, t_end, rtol, atol, dt, times, save_every, loss_tol, grad_tol, max_wall_seconds, mu, radius, \
        record_states, dense_output, max_steps, observe, max_step, first_step, observer, row_sink               \
  }
#define GRADFLOW_FLOW_KEYWORDS                                                                                       \
  py::arg("solver") = std::string(to_string(f.solver)), py::arg("t_end") = f.t_end, py::arg("rtol") = f.rtol,        \
  py::arg("atol") = f.atol, py::arg("dt") = py::none(), py::arg("times") = py::none(),                               \
  py::arg("save_every") = f.save.every_t, py::arg("loss_tol") = f.stop.loss_tol,                                     \
  py::arg("grad_tol") = f.stop.grad_tol, py::arg("mu") = py::none(), py::arg("radius") = py::none(),                 \
  py::arg("record_states") = f.save.states, py::arg("dense_output") = f.save.dense, py::arg("events") = py::tuple(), \
  py::arg("max_steps") = max_steps_default(RunKind::flow), py::arg("krylov") = std::string(to_string(f.krylov)),     \
  py::arg("hvp") = py::none(), py::arg("min_value") = py::none(), py::arg("observe") = std::vector<std::string>{},   \
  py::arg("max_wall_seconds") = f.stop.max_wall_seconds, py::arg("max_step") = f.max_step,                           \
  py::arg("first_step") = py::none(), py::arg("observer") = py::none(), py::arg("row_sink") = py::none()
#define GRADFLOW_DESCENT_PARAMETERS                                                                                 \
  const py::object &step, double lr, std::optional<double> gamma, double armijo_b, double armijo_c, long max_iters, \
      double loss_tol, double grad_tol, long save_every, std::optional<double> mu, std::optional<double> beta,      \
      std::optional<double> ball_radius, double divergence_factor, std::uint64_t seed, bool record_states,          \
      const py::iterable &events, const py::object &hvp, std::optional<double> min_value,                           \
      const std::vector<std::string>&observe, double max_wall_seconds, const py::object &observer,                  \
      const py::object &row_sink
#define GRADFLOW_DESCENT_ARGS                                                                               \
  DescentArgs {                                                                                             \
    step, lr, armijo_b, armijo_c, loss_tol, grad_tol, divergence_factor, max_wall_seconds, gamma, mu, beta, \
        ball_radius, max_iters, save_every, seed, record_states, observe, observer, row_sink                \
  }
#define GRADFLOW_DESCENT_KEYWORDS                                                                                \
  py::arg("step") = std::string(to_string(d.step)), py::arg("lr") = d.lr, py::arg("gamma") = py::none(),         \
  py::arg("armijo_b") = d.armijo_b, py::arg("armijo_c") = d.armijo_c,                                            \
  py::arg("max_iters") = max_steps_default(RunKind::descent), py::arg("loss_tol") = d.stop.loss_tol,             \
  py::arg("grad_tol") = d.stop.grad_tol, py::arg("save_every") = d.save.every_steps, py::arg("mu") = py::none(), \
  py::arg("beta") = py::none(), py::arg("ball_radius") = py::none(),                                             \
  py::arg("divergence_factor") = d.divergence_factor, py::arg("seed") = d.seed,                                  \
  py::arg("record_states") = d.save.states, py::arg("events") = py::tuple(), py::arg("hvp") = py::none(),        \
  py::arg("min_value") = py::none(), py::arg("observe") = std::vector<std::string>{},                            \
  py::arg("max_wall_seconds") = d.stop.max_wall_seconds, py::arg("observer") = py::none(),                       \
  py::arg("row_sink") = py::none()

void bind_runs(py::module_& m) {
  const FlowOptions f;
  m.def(
      "flow",
      [](const py::object& objective, const py::object& theta0, GRADFLOW_FLOW_PARAMETERS) {
        return flow(objective, theta0, GRADFLOW_FLOW_ARGS, events, hvp, min_value);
      },
      py::arg("objective"), py::arg("theta0"), py::kw_only(), GRADFLOW_FLOW_KEYWORDS, kFlowDoc);
  m.def(
      "_flow_many",
      [](const py::object& objective, const py::object& starts, int threads, GRADFLOW_FLOW_PARAMETERS) {
        return many(objective, starts, threads, GRADFLOW_FLOW_ARGS, events, hvp, min_value);
      },
      py::arg("objective"), py::arg("starts"), py::kw_only(), py::arg("threads") = 0, GRADFLOW_FLOW_KEYWORDS,
      "flow_many()'s run (gradflow/_ensemble.py): a list of FlowResult, one per row of starts");
  const DescentOptions d;
  m.def(
      "descend",
      [](const py::object& objective, const py::object& theta0, GRADFLOW_DESCENT_PARAMETERS) {
        return descend(objective, theta0, GRADFLOW_DESCENT_ARGS, events, hvp, min_value);
      },
      py::arg("objective"), py::arg("theta0"), py::kw_only(), GRADFLOW_DESCENT_KEYWORDS, kDescendDoc);
  m.def(
      "_descend_many",
      [](const py::object& objective, const py::object& starts, int threads, GRADFLOW_DESCENT_PARAMETERS) {
        return many(objective, starts, threads, GRADFLOW_DESCENT_ARGS, events, hvp, min_value);
      },
      py::arg("objective"), py::arg("starts"), py::kw_only(), py::arg("threads") = 0, GRADFLOW_DESCENT_KEYWORDS,
      "descend_many()'s run (gradflow/_ensemble.py): a list of DescentResult, one per row of starts");
  m.def(
      "descend_against_flow", &descend_against_flow, py::arg("objective"), py::arg("theta0"), py::kw_only(),
      py::arg("lr"), py::arg("max_iters"), py::arg("model") = py::none(), py::arg("leave_tol") = 1e-3,
      py::arg("save_every") = 1,
      R"doc(descend_against_flow(objective, theta0, *, lr, max_iters, model=None, leave_tol=1e-3, save_every=1) -> dict

Gradient descent with the fixed step lr beside the flows that model it, from the same start on its clock
t = k lr, as `gradflow descend --against-flow [model]` (docs/theory.md §2.8 to §2.10): the plain flow,
the modified flow and, with model "central" or "edge", that model of the edge of stability (exact
Hessian-vector products: a built-in objective). Every save_every-th iterate is a row. Returns a dict:
"rows" (a dict of arrays: iter, t, loss, sharpness (Lanczos estimate), then the command's columns:
flow_loss, distance_to_flow, relative_distance, eta_sharpness, modified_flow_loss,
distance_to_modified_flow, relative_distance_modified, and with a model M: M_flow_loss, M_average_loss,
M_sharpness, distance_to_M_flow, distance_of_average_to_M_flow, M_sigma2), "left_flow",
"left_modified_flow" and "edge" (None, or a dict of iter, t, relative_distance, sharpness,
eta_sharpness), "max_eta_sharpness", "rows_at_edge", "time_at_edge", "fidelity" (the largest relative
deviations: plain, modified, and the model's predicted average loss and sharpness), "work" (the
flows' evaluations), "status", "iterations", "theta", "model", "flow_failure" ("" unless a flow
stopped short).
)doc");
}

}  // namespace gradflow::python
