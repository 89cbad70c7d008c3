// certify(), find_scale(), probability() and compare_inits(): the library's experiments, their options
// from the keyword arguments (defaults: the library's, the command line's), their results as dicts.
#include "experiments.hpp"

#include "docs.hpp"
#include "interrupt.hpp"
#include "objectives.hpp"

#include <gradflow/apps/sweep/sweep_memory.hpp>
#include <gradflow/core/cancellation.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/thread_pool.hpp>
#include <gradflow/experiments/compare_inits.hpp>
#include <gradflow/experiments/held_out.hpp>
#include <gradflow/experiments/probability.hpp>
#include <gradflow/experiments/sweep_runner.hpp>
#include <gradflow/experiments/sweep_summary.hpp>
#include <gradflow/theory/certificate.hpp>

#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>

namespace gradflow::python {
namespace {

// The runs as dicts (run_fields(), the columns of runs.csv): each column's name made once for all the
// runs, not once per run. Ctrl-C returns them as the partial result: 15000 runs convert in 0.1 s, not
// 0.25 s.
py::list run_dicts(const std::vector<RunRecord>& records) {
  const std::vector<RunField>& fields = run_fields();
  std::vector<py::str> names;
  names.reserve(fields.size());
  for (const RunField& field : fields) names.emplace_back(std::string(field.name));
  py::list out(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    py::dict d;
    for (std::size_t j = 0; j < fields.size(); ++j) d[names[j]] = to_python(fields[j].get(records[i]));
    out[i] = std::move(d);
  }
  return out;
}

py::dict probability(const PyMlp& m, const std::string& init, std::uint64_t seed, double output_scale, long draws,
                     double alpha, double eps, long steps, const std::string& step, double lr, int threads) {
  ProbabilityOptions o;
  o.draws = draws;
  o.alpha = alpha;
  o.eps = eps;
  o.steps = steps;
  o.descent.step = parse_name<StepRule>("step", step, step_rule_from_string, step_rule_names());
  o.descent.lr = lr;
  o.threads = threads;
  raise_if(o.validate(), {{"descent.lr", "lr"}});
  const InitOptions io = init_options(init, seed, output_scale);
  ProbabilityResult r;
  InterruptScope interrupt;
  {
    GilRelease release;
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
  interrupt.raise_if_interrupted(out);
  return out;
}

// compare_inits: the comparison of compare-inits (experiments/compare_inits.hpp: the same spec, the
// same validation, the same runner) on the caller's data, in memory: nothing is written.
py::dict compare_inits(const py::object& x, const py::object& y, const std::vector<std::string>& inits,
                       const std::vector<long>& widths, long seeds, long depth, const std::string& activation,
                       const std::string& protocol, const std::optional<std::string>& solver,
                       std::optional<double> rtol, std::optional<double> atol, double time_accuracy,
                       const std::optional<std::vector<double>>& lr_grid, std::optional<double> eps,
                       std::optional<double> loss_tol, long max_steps, double lr, const py::object& output_scale,
                       double scale_margin, const std::string& preprocess, const std::vector<std::string>& observe,
                       int threads, std::optional<long> scale_path_count, double scale_start, double scale_end,
                       const std::optional<std::vector<double>>& condition_path, bool compare_whitened, double holdout,
                       std::uint64_t holdout_seed, const py::object& test, const std::string& verdict_on) {
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
  spec.rtol = rtol;
  spec.atol = atol;
  spec.time_accuracy = time_accuracy;
  spec.lr_grid = lr_grid;
  spec.eps = eps;
  spec.loss_tol = loss_tol;
  spec.max_steps = max_steps;
  spec.lr = lr;
  // output_scale: None (auto), a number, a name ("auto", "4x") or a list of them (the scale path), as
  // --output-scale takes them.
  if (!output_scale.is_none()) {
    std::vector<std::string> items;
    const auto item_text = [](const py::handle& h) {
      if (py::isinstance<py::str>(h)) return h.cast<std::string>();
      if (py::isinstance<py::bool_>(h) || !(py::isinstance<py::float_>(h) || py::isinstance<py::int_>(h)))
        throw py::type_error("output_scale: each entry must be a number or a name (auto, 4x, path:k/N)");
      return full_precision(h.cast<double>());
    };
    if (py::isinstance<py::str>(output_scale) || py::isinstance<py::float_>(output_scale) ||
        py::isinstance<py::int_>(output_scale)) {
      items.push_back(item_text(output_scale));
    } else {
      for (const py::handle h : output_scale) items.push_back(item_text(h));
    }
    if (const auto bad = read_output_scales(items, spec.output_scale, spec.output_scales)) {
      throw py::value_error("output_scale = " + *bad +
                            ": not an output scale (a number > 0, auto, Fx for F times the certified scale, or "
                            "path:k/N)");
    }
  }
  spec.scale_path = scale_path_count;
  spec.scale_start = scale_start;
  spec.scale_end = scale_end;
  if (condition_path) spec.condition_path = *condition_path;
  spec.compare_whitened = compare_whitened;
  spec.holdout = holdout;
  spec.holdout_seed = holdout_seed;
  if (!test.is_none()) {
    const py::tuple pair = test.cast<py::tuple>();
    if (pair.size() != 2) throw py::value_error("test: must be a pair (X_test, y_test)");
    NetworkData held{to_matrix(pair[0], "test X"), to_vector(pair[1], "test y")};
    if (held.y.size() != held.x.rows()) throw py::value_error("test: y_test's length differs from the rows of X_test");
    if (!held.x.allFinite() || !held.y.allFinite()) throw py::value_error("test: must be finite");
    spec.test_data = "array";
    spec.test = std::move(held);
  }
  spec.verdict_on = parse_name<VerdictOn>("verdict_on", verdict_on, verdict_on_from_string,
                                          std::vector<std::string>{"work", "test_loss", "test_error"});
  spec.scale_margin = scale_margin;
  spec.preprocess = parse_name<Preprocess>("preprocess", preprocess, preprocess_from_string,
                                           std::vector<std::string>{"none", "standardize", "scale", "whiten"});
  const std::string observe_problem = parse_observables(observe, spec.observe);
  if (!observe_problem.empty()) throw py::value_error("observe: " + observe_problem);
  spec.dataset.kind = DatasetSpec::Kind::file;
  spec.dataset.path = "array";  // the runs' initial seeds derive from this name, as from a file's name
  spec.data = std::move(data);
  if (const auto error = spec.validate()) {
    OptionError named = *error;
    if (named.field == "data") named.field = "X";
    raise_option_error(named);
  }
  const SweepSpec sweep = spec.to_sweep();
  std::vector<RunRecord> records;
  std::vector<SummaryRow> rows;
  std::string warnings;
  bool summary_cancelled = false;
  InterruptScope interrupt;
  try {
    const int workers = plan_threads(threads, static_cast<long>(sweep_run_count(sweep))).threads;
    check_sweep_memory(sweep, workers, "threads");
    if (const auto error = check_datasets(sweep)) {
      if (error->field == "preprocess")
        throw py::value_error("preprocess = '" + preprocess + "': " + error->constraint);
      throw py::value_error(error->message());
    }
    if (const auto error = check_auto_scale(sweep)) throw py::value_error(error->message());
    const std::vector<RunSpec> runs = enumerate_runs(sweep);
    GilRelease release;
    records = run_grid(runs, sweep, workers, {}, nullptr, [&](const std::string& w) { warnings += w; });
    // In the command's order (runs.csv sorted by key): the bootstrap resamples by position.
    sort_by_key(records);
    try {
      SummaryOptions summary_options;
      summary_options.verdict_on = sweep.verdict_on;
      rows = summarize(records, summary_options);
    } catch (const Cancelled&) {
      // Ctrl-C in the summary's bootstrap: the finished runs come back (as gradflow_result), unsummarized.
      summary_cancelled = true;
      warnings += "interrupted during the summary: runs only (no summary, table or verdict)\n";
    }
  } catch (const InputError& e) {
    throw py::value_error(e.what());
  } catch (const Cancelled&) {  // stopped inside the automatic scale's search, before any run
    interrupt.raise_if_interrupted(py::none());
    throw;
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
  const py::list run_list = run_dicts(records);
  const std::string tolerance = tolerance_label(sweep);
  py::list summary;
  for (const SummaryRow& r : rows) summary.append(to_dict(summary_values(r, tolerance)));
  py::dict out;
  out["tolerance"] = tolerance;
  out["runs"] = run_list;
  out["summary"] = summary;
  out["table"] = summary_cancelled ? std::string() : format_summary(rows, tolerance);
  out["verdict"] = summary_cancelled ? std::string() : format_verdict(rows);
  out["scale_path"] = summary_cancelled ? std::string() : format_scale_path(rows);
  py::list conditioning;
  std::vector<ConditioningFit> fits;
  if (!summary_cancelled) fits = fit_conditioning(rows);
  for (const ConditioningFit& f : fits) {
    py::dict d;
    d["dataset"] = f.dataset;
    d["method"] = f.method;
    d["activation"] = f.activation;
    d["depth"] = f.depth;
    d["width"] = f.width;
    d["init"] = f.init;
    d["scale"] = f.scale;
    d["conditions"] = f.conditions;
    d["work"] = f.work;
    d["exponent"] = f.law.exponent;
    d["factor"] = f.law.factor;
    d["r2"] = f.law.r2;
    d["crossing_condition"] = f.crossing;
    conditioning.append(d);
  }
  out["conditioning"] = conditioning;
  out["conditioning_table"] = format_conditioning(fits);
  out["warnings"] = warnings;
  interrupt.raise_if_interrupted(out);
  return out;
}

}  // namespace

py::dict split_holdout_py(const py::object& x, const py::object& y, double fraction, std::uint64_t seed) {
  NetworkData data{to_matrix(x, "X"), to_vector(y, "y")};
  if (data.y.size() != data.x.rows()) throw py::value_error("y: length differs from the rows of X");
  HoldoutSplit split;
  try {
    split = split_holdout(data, fraction, seed);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(std::string("fraction: ") + e.what());
  }
  py::dict d;
  d["X_train"] = states_array(Matrix(split.train.x.transpose()));  // (rows, d) in C order
  d["y_train"] = to_array(split.train.y);
  d["X_test"] = states_array(Matrix(split.test.x.transpose()));
  d["y_test"] = to_array(split.test.y);
  d["test_rows"] = split.test_rows;
  return d;
}

py::dict held_out_metrics_py(const PyMlp& network, const py::object& theta, const py::object& x_train,
                             const py::object& y_train, const py::object& x_test, const py::object& y_test) {
  const Vector t = to_vector(theta, "theta");
  if (t.size() != network.mlp().dimension()) throw py::value_error("theta: wrong length");
  NetworkData train{to_matrix(x_train, "X_train"), to_vector(y_train, "y_train")};
  NetworkData test{to_matrix(x_test, "X_test"), to_vector(y_test, "y_test")};
  if (train.y.size() != train.x.rows() || test.y.size() != test.x.rows())
    throw py::value_error("y: a length differs from the rows of its X");
  if (train.x.cols() != network.mlp().architecture().input_dim || test.x.cols() != train.x.cols())
    throw py::value_error("X_train and X_test: must have the network's input dimension as columns");
  return to_dict(held_out_values(held_out_metrics(network.mlp().architecture(), t, train, test)));
}

void bind_experiments(py::module_& m) {
  m.def("split_holdout", &split_holdout_py, py::arg("X"), py::arg("y"), py::arg("fraction"), py::arg("seed") = 0,
        R"doc(The seeded held-out split of compare-inits --holdout (experiments/held_out.hpp): a permutation of
    the rows seeded by seed, the last round(fraction n) held out, each side in the original order. Returns a
    dict X_train, y_train, X_test, y_test, test_rows. The same data and seed give the same split everywhere.
)doc");
  m.def("held_out_metrics", &held_out_metrics_py, py::arg("network"), py::arg("theta"), py::arg("X_train"),
        py::arg("y_train"), py::arg("X_test"), py::arg("y_test"),
        R"doc(What the network (its architecture) at theta does on held-out points, as runs.csv reports it: a
    dict test_points, test_loss (the mean squared error), test_accuracy (labels +-1, 0/1 or integer
    classes; NaN otherwise), interpolant_distance (the root mean square distance to the minimum-norm
    linear interpolant x^T X_train^+ y_train; NaN unless n <= d and rank n), linear_test_loss and
    linear_test_accuracy (the interpolant's own).
)doc");
  m.def(
      "fit_power_law",
      [](const std::vector<double>& x, const std::vector<double>& y) {
        if (x.size() != y.size()) throw py::value_error("x and y: must have the same length");
        const PowerLaw law = fit_power_law(x, y);
        py::dict d;
        d["exponent"] = law.exponent;
        d["factor"] = law.factor;
        d["points"] = law.points;
        d["r2"] = law.r2;
        return d;
      },
      py::arg("x"), py::arg("y"),
      R"doc(y = factor x^exponent by least squares on log-log axes over the points with finite positive x
    and y (the conditioning path's fit): a dict exponent, factor, points, r2.
)doc");
  m.def(
      "certify",
      [](const PyObjective& o, const py::object& theta0) {
        const Vector x = to_vector(theta0, "theta0");
        if (x.size() == 0) throw py::value_error("theta0: is empty (it needs at least one entry)");
        if (x.size() != o.get().dimension()) throw py::value_error("theta0: wrong length");
        if (!x.allFinite()) throw py::value_error("theta0: has a non-finite entry");
        Certificate c;
        InterruptScope interrupt;
        try {
          GilRelease release;
          c = certify(o.get(), x);
        } catch (const Cancelled&) {
          interrupt.raise_if_interrupted(py::none());  // KeyboardInterrupt (nothing partial to attach)
          throw;
        }
        return to_dict(c.values());
      },
      py::arg("objective"), py::arg("theta0"), kCertifyDoc);
  m.def(
      "find_scale",
      [](const PyMlp& network, std::uint64_t seed, bool for_descent) {
        ScaleSearch s;
        InterruptScope interrupt;
        try {
          GilRelease release;
          s = find_positive_scale(network.mlp(), init_options("positive", seed, 1.0), for_descent);
        } catch (const Cancelled&) {
          interrupt.raise_if_interrupted(py::none());
          throw;
        }
        py::dict d;
        d["found"] = s.found;
        d["scale"] = s.scale;
        d["why_not"] = s.why_not;
        d["certificate"] = to_dict(s.certificate.values());
        return d;
      },
      py::arg("network"), py::arg("seed") = 0, py::arg("for_descent") = false, kFindScaleDoc);
  m.def("probability", &probability, py::arg("network"), py::kw_only(), py::arg("init") = "positive",
        py::arg("seed") = 0, py::arg("output_scale") = 1.0, py::arg("draws") = ProbabilityOptions{}.draws,
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
  m.def("compare_inits", &compare_inits, py::arg("X"), py::arg("y"), py::kw_only(), py::arg("inits") = default_inits,
        py::arg("widths") = compare_defaults.widths, py::arg("seeds") = compare_defaults.seeds,
        py::arg("depth") = compare_defaults.depth,
        py::arg("activation") = std::string(to_string(compare_defaults.activation)),
        py::arg("protocol") = std::string(to_string(compare_defaults.protocol)), py::arg("solver") = py::none(),
        py::arg("rtol") = py::none(), py::arg("atol") = py::none(),
        py::arg("time_accuracy") = compare_defaults.time_accuracy, py::arg("lr_grid") = py::none(),
        py::arg("eps") = py::none(), py::arg("loss_tol") = py::none(),
        py::arg("max_steps") = compare_defaults.max_steps, py::arg("lr") = compare_defaults.lr,
        py::arg("output_scale") = py::none(), py::arg("scale_margin") = compare_defaults.scale_margin,
        py::arg("preprocess") = std::string(to_string(compare_defaults.preprocess)),
        py::arg("observe") = std::vector<std::string>{}, py::arg("threads") = 0, py::arg("scale_path") = py::none(),
        py::arg("scale_start") = compare_defaults.scale_start, py::arg("scale_end") = compare_defaults.scale_end,
        py::arg("condition_path") = py::none(), py::arg("compare_whitened") = false,
        py::arg("holdout") = compare_defaults.holdout, py::arg("holdout_seed") = compare_defaults.holdout_seed,
        py::arg("test") = py::none(), py::arg("verdict_on") = std::string("work"),
        R"doc(The comparison of `gradflow compare-inits` on your data (X: n x d, y: n), in memory.

    Every scheme of inits, at every width, from `seeds` seeded initializations (seeds 0..seeds-1; the
    initial weights derive from them as in the command), trained by the protocol: "armijo" descent,
    "tuned-fixed" (a fixed step lr = c / beta0 for each c of lr_grid, each scheme at its best c) or
    "flow" (the solver). The positive scheme runs at scale_margin x its smallest certified output
    scale for the method (output_scale=None), or at output_scale. A run converges at loss <= eps L0
    (or loss <= loss_tol, absolute; not both). solver, rtol, atol: the flow protocol's solver and its
    tolerances (default dopri5, 1e-8, 1e-10; rtol in [100 machine epsilons, 1), atol > 0); lr_grid: the
    tuned-fixed protocol's factors (default 0.25, 0.5, 1, 1.5, 1.9, 2.5, 4); each is refused with another
    protocol. time_accuracy: the flow's time to the target is computed to this relative accuracy, by
    repeating a run with rtol and atol divided by 10 until two times agree (0: off; in [0, 0.5)). An item listed twice in inits, widths or lr_grid is refused (ValueError). preprocess: none, standardize, scale or whiten the inputs.
    observe: any of "ntk", "sharpness", "sharpness2", "condition" (alias "ntk_condition"), watched at each
    run's recorded rows.

    When the positive initialization is faster (docs/theory.md §6.5): output_scale may be a list (the scale
    path: numbers, "auto", "Fx" for F times the certified scale s*) or scale_path=N (N scales geometric
    from scale_start to scale_end x s*); condition_path=[a1, a2, ...] runs every scheme on the inputs
    X = U S V^T -> U S^a V^T (compare_whitened=True is [1, 0]) and fits the work against cond(X) per
    scheme (the result's conditioning, with the exponents and the crossing); holdout=FRACTION holds out a
    split seeded by holdout_seed, or test=(X_test, y_test) gives the held-out points: each run then has
    test_loss, test_accuracy (class labels), interpolant_distance (to the minimum-norm linear interpolant
    x^T X^+ y) and the summary their medians with intervals; verdict_on="test_loss" or "test_error" makes
    the verdict compare those instead of the work.

    Returns a dict: runs (one dict per run: init, width, seed, method, lr_c, init_seed, output_scale,
    certified, beta0, lr, loss0, reached, steps_to_eps, final_loss, grad_evals, loss_evals, hvp_evals,
    status, and with observe ntk_min, ntk_max, pl_minus_ntk_min, sharpness0, sharpness_max,
    eta_sharpness_max, sharpness_min: the columns of runs.csv), summary (one dict per scheme and width:
    the columns of summary.csv, among them converged, the medians and quartiles of the work, and
    speedup_X with speedup_X_low and speedup_X_high: median of the scheme / median of positive with its
    bootstrap 95% interval, None for positive itself), table, verdict, scale_path and
    conditioning_table (the command's text), conditioning (one dict per scheme on the condition path),
    tolerance. The runs use `threads` threads (0 = all cores); the
    results do not depend on the count. Nothing is written to disk.
)doc");
}

}  // namespace gradflow::python
