#include "callbacks.hpp"

#include "interrupt.hpp"

#include <gradflow/discrete/options.hpp>

#include <algorithm>
#include <cmath>

namespace gradflow::python {

namespace {

// "str": the name of an object's type, for the messages about what a callable returned.
std::string type_name(const py::handle& object) { return Py_TYPE(object.ptr())->tp_name; }

// A float from what a callable returned: a Python float or int, a numpy scalar or a 0-d array of a
// real number; nullopt for anything else (a str, None, a tuple, an object whose __float__ raises).
std::optional<double> real_number(const py::handle& object) {
  if (PyUnicode_Check(object.ptr()) || PyBytes_Check(object.ptr()) || PyComplex_Check(object.ptr()) ||
      object.is_none()) {
    return std::nullopt;
  }
  if (!PyFloat_Check(object.ptr()) && !PyLong_Check(object.ptr()) && !PyNumber_Check(object.ptr())) return std::nullopt;
  const double x = PyFloat_AsDouble(object.ptr());
  if (x == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    return std::nullopt;
  }
  return x;
}

// "(2, 3)": an array's shape.
std::string shape_text(const py::array& a) {
  std::string text = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) text += (i > 0 ? ", " : "") + std::to_string(a.shape(i));
  return text + (a.ndim() == 1 ? ",)" : ")");
}

}  // namespace

SharedObject share(const py::object& object) {
  return SharedObject(new py::object(object), [](py::object* o) {
    GilAcquire gil;
    guard_exit([o] { delete o; });
  });
}

void CallbackState::fail(py::error_already_set&& e, const char* where) {
  std::string text = std::string(where) + " raised " + e.what();
  if (!error) error.emplace(std::move(e));
  throw CallbackError(text);
}

void CallbackState::fail_with(const std::string& message) {
  try {
    throw py::value_error(message);
  } catch (py::value_error& e) {
    e.set_error();
  }
  fail(py::error_already_set(), "the callable");
}

PythonFunction::PythonFunction(py::object f, Eigen::Index p, py::object hvp, std::optional<double> min_value,
                               std::string name)
    : f_(std::move(f)), hvp_(std::move(hvp)), p_(p), min_value_(min_value), name_(std::move(name)) {
  if (p_ < 1) throw py::value_error("dimension = " + std::to_string(p_) + ": must be >= 1");
  if (!PyCallable_Check(f_.ptr())) {
    throw py::value_error("f: must be callable f(theta) -> (loss, gradient), got " + type_name(f_));
  }
  if (!hvp_.is_none() && !PyCallable_Check(hvp_.ptr())) {
    throw py::value_error("hvp: must be callable hvp(theta, v) -> H v, or None, got " + type_name(hvp_));
  }
  if (min_value_ && !std::isfinite(*min_value_)) {
    throw py::value_error("min_value = " + full_precision(*min_value_) + ": must be a finite number (inf L), or None");
  }
}

namespace {

bool is_complex_array(const py::handle& object) {
  return py::isinstance<py::array>(object) && py::reinterpret_borrow<py::array>(object).dtype().kind() == 'c';
}

// f(theta) -> (loss, grad) as the library's loss_and_gradient, the GIL taken around the call.
FunctionObjective::LossAndGradient loss_callable(const SharedObject& f, Eigen::Index p, CallbackState& state) {
  return [f, p, &state](ConstVectorView theta, VectorView grad) {
    GilAcquire gil;
    return guard_exit([&] {
      const auto expected = [p] {  // made only for a message: not on every call
        return "the loss function must return (loss, grad): loss a float, grad an array of shape (" +
               std::to_string(p) + ",)";
      };
      double loss = 0.0;
      try {
        const py::object out = call_python(*f, py::make_tuple(to_array(theta)));
        if (!py::isinstance<py::tuple>(out) && !py::isinstance<py::list>(out)) {
          state.fail_with(expected() + "; it returned a " + type_name(out));
        }
        const py::sequence pair = py::reinterpret_borrow<py::sequence>(out);
        if (pair.size() != 2) {
          state.fail_with(expected() + "; it returned a " + type_name(out) + " of " + std::to_string(pair.size()) +
                          " items");
        }
        const std::optional<double> value = real_number(pair[0]);
        if (!value) state.fail_with(expected() + "; the loss it returned is a " + type_name(pair[0]));
        loss = *value;
        const py::object gradient = pair[1];
        // numpy would drop the imaginary part (a ComplexWarning only): refused, as for the inputs.
        if (is_complex_array(gradient)) state.fail_with(expected() + "; the gradient it returned is complex");
        const Array g = Array::ensure(gradient);
        if (!g) {
          PyErr_Clear();
          state.fail_with(expected() + "; the gradient it returned is a " + type_name(gradient) +
                          ", not convertible to an array of float64");
        }
        if (g.ndim() != 1 || g.shape(0) != p) {
          state.fail_with(expected() + "; the gradient it returned has shape " + shape_text(g));
        }
        std::copy(g.data(), g.data() + p, grad.data());
      } catch (py::error_already_set& e) {
        state.fail(std::move(e), "the loss function");
      } catch (py::cast_error&) {
        state.fail_with(expected());
      }
      return loss;
    });
  };
}

}  // namespace

PythonStepRule::PythonStepRule(const py::object& rule, CallbackState& state) : rule_(share(rule)), state_(&state) {
  if (!py::hasattr(rule, "propose") || !PyCallable_Check(rule.attr("propose").ptr())) {
    std::string names;
    for (const auto& n : step_rule_names()) names += (names.empty() ? "" : ", ") + n;
    throw py::value_error("step: must be one of " + names +
                          " (a rule's name), or an object with propose(theta, loss, grad, iter) -> step size; got a " +
                          type_name(rule));
  }
  has_guarantee_ = py::hasattr(rule, "guarantee") && PyCallable_Check(rule.attr("guarantee").ptr());
  name_ = py::hasattr(rule, "name") && py::isinstance<py::str>(rule.attr("name"))
              ? rule.attr("name").cast<std::string>()
              : std::string("python");
}

StepProposal PythonStepRule::propose(const StepInput& in, Vector&) {
  GilAcquire gil;
  return guard_exit([&] {
    StepProposal proposal;
    try {
      const py::object out =
          call_python(rule_->attr("propose"), py::make_tuple(to_array(in.theta), in.loss, to_array(in.grad), in.iter));
      const std::optional<double> eta = real_number(out);
      if (!eta) {
        state_->fail_with(
            "a step rule's propose(theta, loss, grad, iter) must return a float step size; it returned a " +
            type_name(out));
      }
      proposal.eta = *eta;
    } catch (py::error_already_set& e) {
      state_->fail(std::move(e), "the step rule's propose()");
    }
    return proposal;
  });
}

RateGuarantee PythonStepRule::guarantee(const StepFacts& facts) const {
  RateGuarantee g;
  if (!has_guarantee_) {
    g.note = "no guarantee (the Python step rule has no guarantee())";
    return g;
  }
  GilAcquire gil;
  return guard_exit([&] {
    try {
      py::dict f;
      const auto optional = [](const std::optional<double>& x) { return x ? py::object(py::float_(*x)) : py::none(); };
      f["mu"] = optional(facts.mu);
      f["beta"] = optional(facts.beta);
      f["min_value"] = optional(facts.min_value);
      f["loss0"] = facts.loss0;
      const py::object out = call_python(rule_->attr("guarantee"), py::make_tuple(f));
      if (out.is_none()) {
        g.note = "no guarantee (the step rule's guarantee() returned None)";
        return g;
      }
      if (!py::isinstance<py::dict>(out)) {
        state_->fail_with(
            "a step rule's guarantee(facts) must return None or a dict (q, radius, note); it returned a " +
            type_name(out));
      }
      const py::dict d = py::reinterpret_borrow<py::dict>(out);
      for (const char* key : {"q", "radius"}) {
        if (!d.contains(key) || d[key].is_none()) continue;
        const std::optional<double> value = real_number(d[key]);
        if (!value) state_->fail_with(std::string("a step rule's guarantee: ") + key + " must be a float or None");
        (std::string(key) == "q" ? g.q : g.radius) = *value;
      }
      g.note = d.contains("note") ? py::str(d["note"]).cast<std::string>() : std::string("the Python rule's guarantee");
    } catch (py::error_already_set& e) {
      state_->fail(std::move(e), "the step rule's guarantee()");
    }
    return g;
  });
}

void not_initialized(const char* what) {
  throw py::type_error(std::string(what) +
                       " was made by __new__ without __init__: make it with its class, e.g. gradflow.Quadratic(A)");
}

std::unique_ptr<FunctionObjective> PythonFunction::make(CallbackState& state) const {
  if (!f_) not_initialized("this gradflow.Function");
  const Eigen::Index p = p_;
  auto objective = std::make_unique<FunctionObjective>(p, loss_callable(share(f_), p, state));
  if (!hvp_.is_none()) {
    const SharedObject hvp = share(hvp_);
    objective->with_hessian_vector([hvp, p, &state](ConstVectorView theta, ConstVectorView v, VectorView hv) {
      GilAcquire gil;
      guard_exit([&] {
        const auto expected = [p] { return "hvp must return an array of shape (" + std::to_string(p) + ",)"; };
        try {
          const py::object returned = call_python(*hvp, py::make_tuple(to_array(theta), to_array(v)));
          if (is_complex_array(returned))
            state.fail_with("hvp(theta, v) must return a real array; it returned a complex one");
          const Array out = Array::ensure(returned);
          if (!out) {
            PyErr_Clear();
            state.fail_with(expected() + "; it returned a " + type_name(returned) +
                            ", not convertible to an array of float64");
          }
          if (out.ndim() != 1 || out.shape(0) != p)
            state.fail_with(expected() + "; it returned shape " + shape_text(out));
          std::copy(out.data(), out.data() + p, hv.data());
        } catch (py::error_already_set& e) {
          state.fail(std::move(e), "hvp");
        } catch (py::cast_error&) {
          state.fail_with(expected());
        }
      });
    });
  }
  KnownFacts facts;
  facts.min_value = min_value_;
  objective->with_known(facts).with_name(name_);
  return objective;
}

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

std::vector<Event> to_events(const py::iterable& events, CallbackState& state, RowOutput output,
                             const Observables& observe) {
  std::vector<Event> out;
  for (const py::handle item : events) {
    if (!py::isinstance<PyEvent>(item)) {
      throw py::value_error("events: each must be a gradflow.Event(name, g, direction=0, terminal=True)");
    }
    const PyEvent& e = item.cast<const PyEvent&>();
    if (!e.g) not_initialized("this gradflow.Event");
    const SharedObject g = share(e.g);
    out.push_back(Event{e.name,
                        [g, &state, output, observe](double t, ConstVectorView theta, const Row& row) {
                          GilAcquire gil;
                          return guard_exit([&] {
                            try {
                              const py::object out =
                                  call_python(*g, py::make_tuple(t, to_array(theta), row_dict(row, output, observe)));
                              const std::optional<double> value = real_number(out);
                              if (!value) {
                                state.fail_with(
                                    "an event function must return a float g(t, theta, row); it returned a " +
                                    type_name(out));
                              }
                              return *value;
                            } catch (py::error_already_set& error) {
                              state.fail(std::move(error), "an event function");
                            } catch (py::cast_error&) {
                              state.fail_with("an event function must return a float g(t, theta, row)");
                            }
                          });
                        },
                        e.direction, e.terminal});
  }
  return out;
}

Observer to_observer(const py::object& f, CallbackState& state, RowOutput output, const Observables& observe) {
  if (!PyCallable_Check(f.ptr())) {
    throw py::value_error("observer: must be a callable observer(row, theta) -> bool, or None; got " + type_name(f));
  }
  const SharedObject g = share(f);
  return [g, &state, output, observe](const Row& row, ConstVectorView theta) {
    GilAcquire gil;
    return guard_exit([&] {
      bool stop = false;
      try {
        const py::object out = call_python(*g, py::make_tuple(row_dict(row, output, observe), to_array(theta)));
        const int truth = PyObject_IsTrue(out.ptr());
        if (truth < 0) throw py::error_already_set();
        stop = truth == 1;
      } catch (py::error_already_set& error) {
        state.fail(std::move(error), "the observer");
      }
      return stop;
    });
  };
}

RowSink to_row_sink(const py::object& f, CallbackState& state, RowOutput output, const Observables& observe) {
  if (!PyCallable_Check(f.ptr())) {
    throw py::value_error("row_sink: must be a callable row_sink(row, theta), or None; got " + type_name(f));
  }
  const SharedObject g = share(f);
  return [g, &state, output, observe](const Row& row, ConstVectorView theta) {
    GilAcquire gil;
    guard_exit([&] {
      try {
        call_python(*g, py::make_tuple(row_dict(row, output, observe), to_array(theta)));
      } catch (py::error_already_set& error) {
        state.fail(std::move(error), "the row sink");
      }
    });
  };
}

void rethrow_kept(RunObjective& run) {
  if (!run.state.error) throw;
  py::error_already_set error = std::move(*run.state.error);
  run.state.error.reset();
  throw error;
}

void mark_interrupted(const RunObjective& run, TrajectoryResult& result) {
  if (result.status != Status::callback_error || !run.state.error) return;
  if (!run.state.error->matches(PyExc_KeyboardInterrupt)) return;
  result.status = Status::interrupted;
  result.message = "interrupted at t = " + full_precision(result.t_final) + " (KeyboardInterrupt in a Python callable)";
}

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

}  // namespace gradflow::python
