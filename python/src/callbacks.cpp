#include "callbacks.hpp"

#include <algorithm>

namespace gradflow::python {

SharedObject share(const py::object& object) {
  return SharedObject(new py::object(object), [](py::object* o) {
    py::gil_scoped_acquire gil;
    delete o;
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
}

namespace {

// f(theta) -> (loss, grad) as the library's loss_and_gradient, the GIL taken around the call.
FunctionObjective::LossAndGradient loss_callable(const SharedObject& f, Eigen::Index p, CallbackState& state) {
  return [f, p, &state](ConstVectorView theta, VectorView grad) {
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
  };
}

}  // namespace

std::unique_ptr<FunctionObjective> PythonFunction::make(CallbackState& state) const {
  const Eigen::Index p = p_;
  auto objective = std::make_unique<FunctionObjective>(p, loss_callable(share(f_), p, state));
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
    const SharedObject g = share(e.g);
    out.push_back(Event{e.name,
                        [g, &state, output, observe](double t, ConstVectorView theta, const Row& row) {
                          py::gil_scoped_acquire gil;
                          try {
                            return (*g)(t, to_array(theta), row_dict(row, output, observe)).cast<double>();
                          } catch (py::error_already_set& error) {
                            state.fail(std::move(error), "an event function");
                          } catch (py::cast_error& error) {
                            state.fail_with(std::string("an event function must return a float: ") + error.what());
                          }
                        },
                        e.direction, e.terminal});
  }
  return out;
}

void rethrow_kept(RunObjective& run) {
  if (!run.state.error) throw;
  py::error_already_set error = std::move(*run.state.error);
  run.state.error.reset();
  throw error;
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
