#include <gradflow/apps/trajectory_output.hpp>

#include <gradflow/apps/certificate_output.hpp>
#include <gradflow/apps/observe_output.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/experiments/held_out.hpp>

#include <iostream>
#include <variant>

namespace gradflow::cli {

PreparedRun prepare_run(CLI::App& c, const char* name, ProblemArgs& problem, const OutputArgs& output, long threads,
                        bool certify, const Observables& observe,
                        const std::vector<std::pair<const char*, std::string>>& extra_outputs) {
  if (threads < 0) throw InputError("--threads", std::to_string(threads), "must be >= 0 (0 = all cores)");
  prepare_problem_args(c, problem);
  if (certify) check_certificate_depth(problem, "--certify");
  check_output_paths(c, output, problem, extra_outputs);
  PreparedRun run{load_problem(c, problem), 1};
  check_observe(*run.loaded.objective, observe);
  run.threads = set_network_threads(run.loaded, threads, name, output.quiet);
  return run;
}

Certificate certify_start(CLI::App& c, double mu, const LoadedProblem& loaded, const std::string& theta0_path,
                          bool quiet) {
  if (option_given(c, "--mu"))
    throw InputError("--mu", full_precision(mu), "cannot be combined with --certify (the certificate sets mu)");
  check_certificate_theta0(*loaded.objective, loaded.theta0, theta0_path);
  Certificate certificate = gradflow::certify(*loaded.objective, loaded.theta0);
  if (!quiet) std::cout << certificate_report(certificate);
  return certificate;
}

void warn_unused(CLI::App& c, bool quiet, const char* name, const char* option, const std::string& chosen,
                 const char* users) {
  if (option_given(c, option) && !quiet) {
    std::cerr << "gradflow " << name << ": warning: " << option << " is ignored by " << chosen << " (used by " << users
              << ")\n";
  }
}

void add_stop_options(CLI::App& c, Stop& stop, long& budget, const char* budget_flag, const std::string& help) {
  c.add_option("--loss-tol", stop.loss_tol, "Stop once loss <= loss-tol (0 = not checked)")->capture_default_str();
  c.add_option("--grad-tol", stop.grad_tol,
               "Stop once ||grad L|| <= grad-tol (0 = not checked; with both, both must hold)")
      ->capture_default_str();
  c.add_option(budget_flag, budget, help)->capture_default_str();
  c.add_option("--max-wall-seconds", stop.max_wall_seconds,
               "End the run (status time_limit, exit 1) once this much wall time has passed (0 = no limit)")
      ->capture_default_str();
}

const std::map<std::string, std::string> kFlowFlags{{"save.every_t", "--save-every"},
                                                    {"save.every_steps", "--save-every-steps"}};
const std::map<std::string, std::string> kDescentFlags{{"save.every_steps", "--save-every"},
                                                       {"stop.max_steps", "--max-iters"}};

std::string columns_help(RowOutput output) {
  std::string text;
  for (const RowField& field : row_fields()) {
    if ((field.outputs & output) == 0) continue;
    text += "  " + std::string(field.name) + " (" + std::string(field.unit) + "): " + std::string(field.doc) + "\n";
  }
  return text;
}

nlohmann::json to_json(const NamedValues& values) {
  nlohmann::json j = nlohmann::json::object();
  for (const NamedValue& v : values) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            j[v.name] = nullptr;
          } else {
            j[v.name] = x;
          }
        },
        v.value);
  }
  return j;
}

TrajectoryOutputs::TrajectoryOutputs(RunKind kind, const OutputArgs& output, const std::string& states_out,
                                     const Observables& observe, Eigen::Index p, std::string extra_header,
                                     CsvRowWriter::Extra extra)
    : kind_(kind), quiet_(output.quiet), rows_file_("--out", output.out), states_file_("--states-out", states_out) {
  if (rows_file_.active()) rows_.emplace(rows_file_.stream(), kind, observe, std::move(extra_header), std::move(extra));
  if (states_file_.active()) states_.emplace(states_file_.stream(), kind, p);
}

RowSink TrajectoryOutputs::sink() {
  return [this](const Row& row, ConstVectorView theta) {
    if (rows_) (*rows_)(row, theta);
    extremes_(row, theta);
    if (states_) (*states_)(row, theta);
  };
}

Observer TrajectoryOutputs::progress(double total) {
  if (quiet_ || !stderr_is_terminal()) return {};
  progress_.emplace(kind_, total);
  return [this](const Row& row, ConstVectorView theta) { return (*progress_)(row, theta); };
}

void TrajectoryOutputs::end_progress() const {
  if (progress_) progress_->finish();
}

void TrajectoryOutputs::finish() {
  rows_file_.finish();
  states_file_.finish();
}

void TrajectoryOutputs::commit() {
  rows_file_.commit();
  states_file_.commit();
}

std::string mu_source(bool certified, bool given, bool known) {
  return certified ? "certificate (rigorous)" : given ? "option" : known ? "problem (exact)" : "unknown";
}

int finish_run(const RunEnd& end, TrajectoryOutputs& outputs) {
  const TrajectoryResult& result = *end.result;
  const OutputArgs& o = *end.output;
  set_activity("writing the outputs");
  // Every output is written whole before any replaces its file: a run that cannot write one of them (a
  // full disk, ulimit -f) leaves all the files it would have replaced as they were.
  outputs.finish();
  StreamedOutput theta_file("--theta-out", o.theta_out);
  if (theta_file.active()) {
    for (Eigen::Index i = 0; i < result.theta.size(); ++i)
      theta_file.stream() << full_precision(result.theta[i]) << "\n";
    theta_file.finish();
  }
  std::string ntk_margin_line;
  nlohmann::json ntk_margin_json;
  if (end.certificate && end.certified && end.observe->ntk) {
    ntk_margin_line = certificate_ntk_margin(end.certificate->mu, outputs.extremes().ntk_min(), ntk_margin_json);
  }
  // Held-out points (--holdout, --test-data): what the final theta does there.
  std::string held_out_line;
  nlohmann::json held_out_json;
  if (end.loaded->network && end.loaded->test && end.loaded->train && result.theta.allFinite()) {
    const HeldOutMetrics m =
        held_out_metrics(end.loaded->network->architecture(), result.theta, *end.loaded->train, *end.loaded->test);
    held_out_json = to_json(held_out_values(m));
    const auto shown = [](double x) { return std::isnan(x) ? std::string("-") : format_number("%.6g", x); };
    held_out_line = "held-out (" + std::to_string(m.points) + " points): test_loss " + shown(m.test_loss) +
                    " (mean squared error), test_accuracy " + shown(m.test_accuracy) +
                    ", distance to the minimum-norm linear interpolant " + shown(m.interpolant_distance) +
                    " (its own test_loss " + shown(m.linear_test_loss) + ", accuracy " + shown(m.linear_test_accuracy) +
                    ")\n";
  }
  StreamedOutput json_file("--json", o.json);
  if (json_file.active()) {
    nlohmann::json summary = to_json(end.summary);
    if (!held_out_json.is_null()) summary["held_out"] = held_out_json;
    summary["rows"] = outputs.rows();
    summary["stats"] = to_json(stats_values(result.stats));
    summary["threads"] = end.threads;
    summary["problem_details"] = end.loaded->description;
    if (end.observe->any())
      summary["observe"] =
          observe_json(*end.observe, outputs.extremes(), result.stats, observed_residuals(*end.loaded->objective));
    if (end.certificate) {
      summary["certificate"] = certificate_json(*end.certificate);
      if (!ntk_margin_json.is_null()) summary["certificate"].update(ntk_margin_json);
    }
    if (end.add_json) end.add_json(summary);
    json_file.stream() << summary.dump(2) << "\n";
    json_file.finish();
  }
  outputs.commit();
  theta_file.commit();
  json_file.commit();
  if (!o.quiet) std::cout << end.report << ntk_margin_line << held_out_line << end.extra_report;
  if (!result.succeeded()) {
    std::cerr << "gradflow " << end.command << ": " << to_string(result.status) << ": " << result.message << "\n";
    return kExitRunFailed;
  }
  return kExitSuccess;
}

}  // namespace gradflow::cli
