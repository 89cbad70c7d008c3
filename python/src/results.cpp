#include "results.hpp"

#include <gradflow/core/stats.hpp>

#include <pybind11/stl.h>

namespace gradflow::python {
namespace {

RowOutput output_of(const FlowResult&) { return kFlowRows; }
RowOutput output_of(const DescentResult&) { return kDescentRows; }

// The located (flow) or seen (descent) events: dicts of the row's columns, the name, t and theta (and
// the iteration for descent).
py::list event_hits(const TrajectoryResult& r, RowOutput output, const Observables& observe) {
  py::list hits;
  for (const EventHit& hit : r.event_hits) {
    py::dict d = row_dict(hit.row, output, observe);
    d["name"] = hit.name;
    if (output == kDescentRows) d["iter"] = hit.iter;
    d["t"] = hit.t;
    d["theta"] = to_array(hit.theta);
    hits.append(d);
  }
  return hits;
}

// solve_ivp's status for a run: 0 the run reached its end (the flow's t_end, descent's max_iters),
// 1 it stopped early on a termination condition (a terminal event, loss_tol / grad_tol, an observer),
// -1 it failed (every other status; the reason is in status and message). One mapping for FlowResult,
// DescentResult and solve_flow.
int scipy_status(Status status) {
  switch (status) {
    case Status::reached_end_time:
    case Status::reached_max_iters:
      return 0;
    case Status::tolerance_reached:
    case Status::event_stop:
    case Status::stopped_by_observer:
      return 1;
    default:
      return -1;
  }
}

// solve_ivp's t_events and y_events: one array per event of options.events, in their order (the flow's
// own tolerance stop is not one of them); None when the run had no events.
template <class Result>
py::object events_by_index(const Result& r, bool states) {
  if (r.options.events.empty()) return py::none();
  py::list out;
  const auto p = static_cast<py::ssize_t>(r.theta.size());
  for (std::size_t index = 0; index < r.options.events.size(); ++index) {
    std::vector<const EventHit*> mine;
    for (const EventHit& hit : r.event_hits)
      if (hit.event == static_cast<int>(index)) mine.push_back(&hit);
    const auto m = static_cast<py::ssize_t>(mine.size());
    if (states) {
      py::array_t<double> y({m, p});
      for (py::ssize_t i = 0; i < m; ++i)
        std::copy(mine[i]->theta.data(), mine[i]->theta.data() + p, y.mutable_data(i, 0));
      out.append(y);
    } else {
      py::array_t<double> t(m);
      for (py::ssize_t i = 0; i < m; ++i) t.mutable_at(i) = mine[i]->t;
      out.append(t);
    }
  }
  return out;
}

template <class Result>
py::dict result_dict(const Result& r) {
  py::dict d = to_dict(r.summary());
  d["theta"] = to_array(r.theta);
  d["rows"] = row_arrays(r.rows, output_of(r), r.options.observe);
  d["states"] = r.options.save.states ? py::object(states_array(r.states)) : py::none();
  d["event_hits"] = event_hits(r, output_of(r), r.options.observe);
  d["stats"] = to_dict(stats_values(r.stats));
  return d;
}

// The properties both results have: the shared fields, every column of the kind's rows as an array
// (the observed ones NaN where not observed), states, events, stats, to_dict, report.
template <class Py>
void add_trajectory_members(py::class_<Py>& c, RowOutput output) {
  c.def_property_readonly(
       "status", [](const Py& p) { return std::string(to_string(p.r.status)); },
       "how the run ended: reached_end_time, tolerance_reached, event_stop, reached_max_iters, max_steps, "
       "time_limit, step_size_too_small, non_finite_value, diverged, backend_error, callback_error, interrupted, ...")
      .def_property_readonly(
          "message", [](const Py& p) { return p.r.message; }, "why the run ended")
      .def_property_readonly(
          "success", [](const Py& p) { return p.r.succeeded(); }, "whether the run did what was asked")
      .def_property_readonly(
          "theta", [](const Py& p) { return to_array(p.r.theta); },
          "the final state (the last good one after a failure)")
      .def_property_readonly(
          "t_final", [](const Py& p) { return p.r.t_final; }, "the final time (descent: the sum of the steps)")
      .def_property_readonly(
          "loss0", [](const Py& p) { return p.r.loss0; }, "L(theta0)")
      .def_property_readonly(
          "loss_final", [](const Py& p) { return p.r.loss_final; }, "L at the final state")
      .def_property_readonly(
          "path_length", [](const Py& p) { return p.r.path_length; }, "sum of the accepted steps' lengths")
      .def_property_readonly(
          "min_value", [](const Py& p) { return to_python(optional_value(p.r.min_value)); }, "L_min (None: unknown)")
      .def_property_readonly(
          "bound_holds", [](const Py& p) { return to_python(optional_value(p.r.bound_holds)); },
          "the rate bound's verdict (None: no bound, or nothing checked)")
      .def_property_readonly(
          "radius_holds", [](const Py& p) { return to_python(optional_value(p.r.radius_holds)); },
          "the containment verdict (None: no radius)")
      .def_property_readonly(
          "states",
          [](const Py& p) -> py::object {
            if (!p.r.options.save.states) return py::none();
            return states_array(p.r.states);
          },
          "theta at every row, shape (rows, p); None without record_states=True")
      .def_property_readonly(
          "event_hits", [output](const Py& p) { return event_hits(p.r, output, p.r.options.observe); },
          "the events' crossings, in order (dicts: name, t, theta and the row's columns)")
      .def_property_readonly(
          "stats", [](const Py& p) { return to_dict(stats_values(p.r.stats)); }, "counters and wall time")
      .def_property_readonly(
          "y",
          [](const Py& p) -> py::object {
            if (!p.r.options.save.states) return py::none();
            return states_array(p.r.states).attr("T");
          },
          "solve_ivp's y: theta at every row as columns, shape (p, rows), a transposed view of states; None "
          "without record_states=True")
      .def_property_readonly(
          "status_code", [](const Py& p) { return scipy_status(p.r.status); },
          "solve_ivp's status: 0 the run reached its end (t_end, or max_iters for descent), 1 a termination "
          "condition stopped it (a terminal event, loss_tol / grad_tol, the observer), -1 it failed "
          "(status says why)")
      .def_property_readonly(
          "nfev", [](const Py& p) { return p.r.stats.num_gradient_evals + p.r.stats.num_loss_evals; },
          "solve_ivp's nfev: the gradient evaluations (each giving the loss too) plus the loss-only ones")
      .def_property_readonly(
          "njev", [](const Py& p) { return p.r.stats.num_jacobian_evals; },
          "solve_ivp's njev: Hessian (Jacobian) evaluations of the implicit solvers (0 otherwise)")
      .def_property_readonly(
          "nlu", [](const Py& p) { return p.r.stats.num_linear_setups; },
          "solve_ivp's nlu: linear-solver setups of the implicit solvers (an LU factorization each for "
          "cvode-bdf; 0 otherwise)")
      .def_property_readonly(
          "t_events", [](const Py& p) { return events_by_index(p.r, false); },
          "solve_ivp's t_events: for each of events= in order, the times of its crossings (an array each); "
          "None without events")
      .def_property_readonly(
          "y_events", [](const Py& p) { return events_by_index(p.r, true); },
          "solve_ivp's y_events: for each of events= in order, theta at its crossings (an array of shape "
          "(crossings, p) each); None without events")
      .def(
          "to_dict", [](const Py& p) { return result_dict(p.r); },
          "every field as a plain dict of numbers, strings and ndarrays (rows under 'rows')")
      .def(
          "report", [](const Py& p) { return p.r.full_report(); }, "the library's report, a few lines");
  for (const RowField& field : row_fields()) {
    if ((field.outputs & output) == 0) continue;
    const std::string doc = std::string(field.doc) + " (" + std::string(field.unit) + "), at the rows";
    c.def_property_readonly(
        std::string(field.name).c_str(), [&field](const Py& p) { return column(p.r.rows, field); }, doc.c_str());
  }
}

// theta at a scalar t (shape (p,)) or at each of a 1-D array of times (shape (p, m)), from the dense output.
py::array_t<double> dense_at(const PyFlowResult& p, const py::object& t) {
  const py::array_t<double, py::array::forcecast> times = py::array_t<double, py::array::forcecast>::ensure(t);
  if (!times) throw py::value_error("sol(t): t must be a real number or a 1-D array of them");
  if (times.ndim() > 1)
    throw py::value_error("sol(t): t must be a scalar or a 1-D array, got " + std::to_string(times.ndim()) +
                          " dimensions");
  const auto n = static_cast<py::ssize_t>(p.r.theta.size());
  const py::ssize_t m = times.ndim() == 0 ? 1 : times.shape(0);
  py::array_t<double> out = times.ndim() == 0 ? py::array_t<double>(n) : py::array_t<double>({n, m});
  double* data = out.mutable_data();
  for (py::ssize_t j = 0; j < m; ++j) {
    Vector theta;
    try {
      theta = p.r.at(times.data()[j]);
    } catch (const std::out_of_range& e) {
      throw py::value_error(std::string("sol(t): ") + e.what());
    }
    for (py::ssize_t i = 0; i < n; ++i) data[i * m + j] = theta[i];
  }
  return out;
}

}  // namespace

void bind_results(py::module_& m) {
  py::class_<PyFlowResult> flow(m, "FlowResult", R"doc(The outcome of flow().

status (str), message, success (bool), theta (final state; the last good one after a failure),
t_final; the rows as arrays, one per column of the trajectory (t, loss, grad_norm, dist_from_init,
pl_ratio, bound, and the observed ntk_min, ntk_max, condition, sharpness, sharpness_min: NaN where
undefined or not observed); states (rows x p, with record_states=True); at(t) (with
dense_output=True); event_hits (list of dicts); stats (dict of counters and wall_seconds);
bound_holds and radius_holds (True, False or None when not checked); to_dict(). And solve_ivp's
fields: y (p x rows, with record_states=True), sol (with dense_output=True: sol(t) for scalars and
arrays), t_events and y_events (one array per event), nfev, njev, nlu, and status_code (0 / 1 / -1:
status itself stays gradflow's name).)doc");
  add_trajectory_members(flow, kFlowRows);
  flow.def_property_readonly(
          "mu", [](const PyFlowResult& p) { return to_python(optional_value(p.r.mu)); }, "the PL constant of the bound")
      .def_property_readonly(
          "stiffness_hint", [](const PyFlowResult& p) { return p.r.stiffness_hint; },
          "set when an explicit method was held at its stability limit")
      .def_property_readonly(
          "solver_switches",
          [](const PyFlowResult& p) {
            py::list out;
            for (const SolverSwitch& s : p.r.solver_switches) {
              py::dict d;
              d["t"] = s.t;
              d["from"] = std::string(to_string(s.from));
              d["to"] = std::string(to_string(s.to));
              d["reason"] = s.reason;
              out.append(d);
            }
            return out;
          },
          "solver='auto': every hand-over between dopri5 and BDF, in order (dicts: t, from, to, reason)")
      .def_property_readonly(
          "flow_departure", [](const PyFlowResult& p) { return p.r.flow_departure; },
          "set when the run's steps broke the dissipation identity: its end point is not where the flow is")
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
      .def_property_readonly(
          "sol",
          [](const py::object& self) -> py::object {
            if (!self.cast<const PyFlowResult&>().r.options.save.dense) return py::none();
            return py::cpp_function(
                [self](const py::object& t) { return dense_at(self.cast<const PyFlowResult&>(), t); });
          },
          "solve_ivp's sol (with dense_output=True; None otherwise): sol(t) is theta(t), shape (p,) for a "
          "scalar t, (p, m) for m times, t in [0, t_final]; ValueError outside")
      .def("__repr__", [](const PyFlowResult& p) { return "<gradflow.FlowResult " + p.r.brief_report() + ">"; });

  py::class_<PyDescentResult> descent(m, "DescentResult", R"doc(The outcome of descend().

status, message, success, theta, iterations, t_final; the rows as arrays, one per column (iter, t,
loss, grad_norm, dist_from_init, step_size, pl_ratio, bound, and the observed columns); states
(rows x p, with record_states=True); event_hits; stats; guarantee (dict: q, radius, note);
bound_holds, radius_holds; to_dict(). And solve_ivp's fields: y (p x rows, with record_states=True),
t_events and y_events (one array per event), nfev, njev, nlu, status_code (0 reached max_iters, 1 a
termination condition, -1 a failure).)doc");
  add_trajectory_members(descent, kDescentRows);
  descent
      .def_property_readonly(
          "iterations", [](const PyDescentResult& p) { return p.r.iterations; }, "k, the iterations made")
      .def_property_readonly(
          "guarantee",
          [](const PyDescentResult& p) {
            py::dict d;
            d["q"] = to_python(optional_value(p.r.guarantee.q));
            d["radius"] = to_python(optional_value(p.r.guarantee.radius));
            d["note"] = p.r.guarantee.note;
            return d;
          },
          "the rule's guarantee: q (contraction per step), radius, note (None where the theory gives none)")
      .def("__repr__", [](const PyDescentResult& p) { return "<gradflow.DescentResult " + p.r.brief_report() + ">"; });
}

}  // namespace gradflow::python
