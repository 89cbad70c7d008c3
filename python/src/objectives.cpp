#include "objectives.hpp"

#include <gradflow/discrete/flow_models.hpp>

#include <gradflow/problems/activation.hpp>
#include <gradflow/problems/karimi.hpp>
#include <gradflow/problems/least_squares.hpp>
#include <gradflow/problems/quadratic.hpp>
#include <gradflow/problems/rosenbrock.hpp>

#include <pybind11/stl.h>

#include <cmath>
#include <vector>

namespace gradflow::python {

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

namespace {

py::object optional_value(const std::optional<double>& v) { return v ? py::object(py::float_(*v)) : py::none(); }

}  // namespace

namespace {

// Objective (the built-ins' base), Function (a Python loss) and Event.
void bind_base(py::module_& m) {
  py::class_<PyObjective>(m, "Objective", R"doc(A built-in objective of the C++ library.

Objectives are made by their constructors (Quadratic, LeastSquares, Karimi, Rosenbrock, MLP) and
passed to flow() and descend(). They can also be evaluated directly:

  f.loss(theta) -> float
  f.loss_and_gradient(theta) -> (float, ndarray)
  f.hessian_vector(theta, v) -> ndarray
  f.dimension, f.name, f.known (a dict of the exact constants: min_value, mu, beta, minimizer)

Threads: one objective may be shared by any number of Python threads. flow() and descend() release
the GIL, and the built-ins' evaluations are safe from several threads at once: every call gets the
bits it would get alone.
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
}

// The flow model named model for step lr, or a ValueError naming the argument.
FlowModel checked_flow_model(const std::string& model, double lr) {
  const FlowModel which = flow_model_named(model);
  if (!(std::isfinite(lr) && lr > 0.0)) throw py::value_error("lr = " + std::to_string(lr) + ": must be > 0");
  return which;
}

// The built-ins, each a subclass of Objective.
void bind_builtins(py::module_& m) {
  m.def(
      "flow_model",
      [](const PyObjective& base, const std::string& model, double lr) {
        const FlowModel which = checked_flow_model(model, lr);
        // The model refers to the base objective: one holder keeps both alive as long as the result.
        struct Holder {
          std::shared_ptr<Objective> base;
          std::unique_ptr<Objective> model;
        };
        auto holder = std::make_shared<Holder>();
        holder->base = base.objective;
        try {
          holder->model = flow_model_objective(base.get(), which, lr);
        } catch (const std::invalid_argument& e) {
          throw py::value_error(std::string("model = '") + model + "': " + e.what());
        }
        if (!holder->model) return PyObjective{base.objective};
        return PyObjective{std::shared_ptr<Objective>(holder, holder->model.get())};
      },
      py::arg("objective"), py::arg("model"), py::arg("lr"),
      R"doc(The flow that models gradient descent with step lr (docs/theory.md §2.10), as an objective that
flow() integrates with any solver: "modified" (theta' = -(grad L + (lr/2) H grad L): descent follows it to
O(lr^2); its loss is L + (lr/4) ||grad L||^2), "central" (the central flow at the edge of stability,
-(grad L + (sigma^2/2) grad S), sigma^2 holding the sharpness S at 2/lr), "edge" (the edge flow: the
centre c, direction u and amplitude a of descent's oscillation c +- a u, a state of 2p + 1 entries
(c, u, a) started by flow_model_start(); its loss is the predicted time-averaged loss
(L(c + a u) + L(c - a u))/2), or "plain" (the objective itself). "central" and "edge" need exact
Hessian-vector products. Built-in objectives only.
)doc");
  m.def(
      "flow_model_start",
      [](const PyObjective& base, const std::string& model, double lr, const py::object& theta0) {
        const FlowModel which = checked_flow_model(model, lr);
        const Vector start = to_vector(theta0, "theta0");
        if (start.size() != base.get().dimension())
          throw py::value_error("theta0: length " + std::to_string(start.size()) + ", the objective has " +
                                std::to_string(base.get().dimension()) + " parameters");
        try {
          return to_array(flow_model_start(base.get(), which, lr, start));
        } catch (const std::invalid_argument& e) {
          throw py::value_error(std::string("model = '") + model + "': " + e.what());
        }
      },
      py::arg("objective"), py::arg("model"), py::arg("lr"), py::arg("theta0"),
      R"doc(The state flow_model(objective, model, lr) starts from at theta0: theta0 itself, except for
"edge": (theta0, u0, a0), u0 the top Hessian eigenvector at theta0 and a0 = (lr/2) |u0 . grad L(theta0)|;
the centre c is the first p entries of a state.
)doc");
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
              throw py::value_error("cond = " + full_precision(cond) + ": must be a finite number >= 1");
            }
            if (p == 1 && cond != 1.0) {
              throw py::value_error("cond = " + full_precision(cond) +
                                    ": needs p >= 2 (one eigenvalue has condition number 1; give cond=1 for p = 1)");
            }
            // A, the orthogonal factor and the workspace of its QR: checked before any is allocated.
            check_memory_estimate(SizeEstimate().add({p, p, 8, 8}), "p", std::to_string(p),
                                  "a dense " + std::to_string(p) + " x " + std::to_string(p) + " quadratic");
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
             // Its minimizer (known) and any run keep vectors of p entries: a few of them must fit.
             check_memory_estimate(SizeEstimate().add({p, 8, 8}), "p", std::to_string(p),
                                   "a run on " + std::to_string(p) + " parameters (several vectors of p)");
             return PyKarimi{{std::make_shared<Karimi>(p)}};
           }),
           py::arg("p"));
  py::class_<PyRosenbrock, PyObjective>(
      m, "Rosenbrock",
      "Rosenbrock(p)\n\nThe extended Rosenbrock function, sum over pairs 100 (theta_{2k+1} - theta_{2k}^2)^2 + (1 - "
      "theta_{2k})^2, p even: min 0 at all ones, no mu (give mu= to the run for a bound).")
      .def(py::init([](Eigen::Index p) {
             if (p < 2 || p % 2 != 0) throw py::value_error("p = " + std::to_string(p) + ": must be even and >= 2");
             check_memory_estimate(SizeEstimate().add({p, 8, 8}), "p", std::to_string(p),
                                   "a run on " + std::to_string(p) + " parameters (several vectors of p)");
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
             if (const std::string why = a.check(); !why.empty()) throw py::value_error("widths: " + why);
             if (threads < 0) throw py::value_error("threads = " + std::to_string(threads) + ": must be >= 0");
             std::string listed;
             for (const Eigen::Index w : a.widths) {
               listed += listed.empty() ? "[" : ", ";
               listed += std::to_string(w);
             }
             check_memory_estimate(network_memory(a, static_cast<long>(xm.rows())), "widths", listed + "]",
                                   "a network of " + std::to_string(a.widths.size()) +
                                       (a.widths.size() == 1 ? " hidden layer on " : " hidden layers on ") +
                                       std::to_string(xm.rows()) + " samples");
             auto mlp = std::make_shared<Mlp>(a, std::move(xm), std::move(yv));
             mlp->set_threads(threads);
             return PyMlp{{mlp}, mlp};
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
}

}  // namespace

FlowModel flow_model_named(const std::string& model) {
  const auto which = flow_model_from_string(model);
  if (!which) {
    std::string known;
    for (const std::string& name : flow_model_names()) known += (known.empty() ? "" : ", ") + name;
    throw py::value_error("model = '" + model + "': unknown (known: " + known + ")");
  }
  return *which;
}

void bind_objectives(py::module_& m) {
  bind_base(m);
  bind_builtins(m);
}

}  // namespace gradflow::python
