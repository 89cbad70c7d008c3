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
#include <gradflow/experiments/probability.hpp>
#include <gradflow/experiments/sweep_runner.hpp>
#include <gradflow/experiments/sweep_summary.hpp>
#include <gradflow/theory/certificate.hpp>

#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>

namespace gradflow::python {
namespace {

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
                       std::optional<double> loss_tol, long max_steps, double lr, std::optional<double> output_scale,
                       double scale_margin, const std::string& preprocess, const std::vector<std::string>& observe,
                       int threads) {
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
  spec.output_scale = output_scale;
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
      throw py::value_error("preprocess = '" + preprocess + "': " + error->constraint);
    }
    if (const auto error = check_auto_scale(sweep)) throw py::value_error(error->message());
    const std::vector<RunSpec> runs = enumerate_runs(sweep);
    GilRelease release;
    records = run_grid(runs, sweep, workers, {}, nullptr, [&](const std::string& w) { warnings += w; });
    // In the command's order (runs.csv sorted by key): the bootstrap resamples by position.
    std::sort(records.begin(), records.end(),
              [](const RunRecord& a, const RunRecord& b) { return a.run.key() < b.run.key(); });
    try {
      rows = summarize(records);
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
  py::list run_list;
  for (const RunRecord& r : records) run_list.append(to_dict(run_values(r)));
  const std::string tolerance = tolerance_label(sweep);
  py::list summary;
  for (const SummaryRow& r : rows) summary.append(to_dict(summary_values(r, tolerance)));
  py::dict out;
  out["tolerance"] = tolerance;
  out["runs"] = run_list;
  out["summary"] = summary;
  out["table"] = summary_cancelled ? std::string() : format_summary(rows, tolerance);
  out["verdict"] = summary_cancelled ? std::string() : format_verdict(rows);
  out["warnings"] = warnings;
  interrupt.raise_if_interrupted(out);
  return out;
}

}  // namespace

void bind_experiments(py::module_& m) {
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
        py::arg("observe") = std::vector<std::string>{}, py::arg("threads") = 0,
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

}  // namespace gradflow::python
