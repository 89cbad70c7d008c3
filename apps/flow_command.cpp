#include <gradflow/apps/flow_command.hpp>

#include <gradflow/apps/certificate_output.hpp>
#include <gradflow/apps/cli_support.hpp>
#include <gradflow/apps/csv.hpp>
#include <gradflow/apps/json_support.hpp>
#include <gradflow/apps/list_option.hpp>
#include <gradflow/apps/observe_output.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/memory_limit.hpp>
#include <gradflow/core/tolerances.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/mlp.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <ostream>
#include <vector>

namespace gradflow::cli {
namespace {

nlohmann::json summary_json(const FlowResult& result, const FlowCommand& flow) {
  nlohmann::json j;
  j["status"] = std::string(to_string(result.status));
  j["success"] = result.succeeded();
  j["message"] = result.message;
  j["problem"] = result.problem;
  j["dim"] = result.theta.size();
  j["solver"] = std::string(to_string(result.options.solver));
  j["t_end"] = result.options.t_end;
  j["t_final"] = result.t_final;
  j["loss0"] = result.loss0;
  j["loss_final"] = result.loss_final;
  j["grad_norm_final"] = result.grad_norm_final;
  j["dist_from_init"] = result.dist_from_init;
  j["path_length"] = result.path_length;
  j["min_value"] = optional_json(result.min_value);
  j["mu"] = optional_json(result.mu);
  j["mu_source"] = flow.options.mu ? "option" : (result.mu ? "problem (exact)" : "unknown");
  j["bound_holds"] = optional_json(result.bound_holds);
  j["first_bound_violation_t"] = optional_json(result.first_bound_violation_t);
  j["rtol"] = result.options.rtol;
  j["atol"] = result.options.atol;
  if (is_fixed_step(result.options.solver)) j["dt"] = result.options.dt;
  j["rows"] = result.rows.size();
  const Stats& s = result.stats;
  j["stats"] = {{"num_gradient_evals", s.num_gradient_evals},
                {"num_loss_evals", s.num_loss_evals},
                {"num_hessian_vector_evals", s.num_hessian_vector_evals},
                {"num_jacobian_evals", s.num_jacobian_evals},
                {"num_steps", s.num_steps},
                {"num_rejected_steps", s.num_rejected_steps},
                {"num_nonlinear_iters", s.num_nonlinear_iters},
                {"num_linear_iters", s.num_linear_iters},
                {"wall_seconds", s.wall_seconds}};
  return j;
}

// The trajectory CSV's header and one line per recorded row, written as the run goes.
constexpr const char* kTrajectoryHeader = "t,loss,grad_norm,dist_from_init,pl_ratio,bound\n";

void write_trajectory_line(std::ostream& out, const FlowRow& row, const Observables& observe) {
  char line[256];
  std::snprintf(line, sizeof line, "%.17g,%.17g,%.17g,%.17g,%.17g,%.17g", row.t, row.loss, row.grad_norm,
                row.dist_from_init, row.pl_ratio, row.bound);
  out << line << observe_fields(observe, row.observed) << '\n';
}

// Prints "t = ... (..%), loss ..." over itself on a terminal, at most five times a second.
class ProgressLine {
 public:
  explicit ProgressLine(double t_end) : t_end_(t_end), last_(std::chrono::steady_clock::now()) {}
  bool operator()(const FlowRow& row) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return false;
    last_ = now;
    std::fprintf(stderr, "\r  t = %.6g of %.6g (%5.1f%%), loss %.3e   ", row.t, t_end_, 100.0 * row.t / t_end_,
                 row.loss);
    std::fflush(stderr);
    shown_ = true;
    return false;
  }
  void finish() const {
    if (shown_) std::fprintf(stderr, "\r%80s\r", "");
  }

 private:
  double t_end_;
  std::chrono::steady_clock::time_point last_;
  bool shown_ = false;
};

// The solver's memory against the limit: a dense p x p Newton matrix for cvode-bdf. The rows are not
// kept: they are streamed to --out and --states-out as they are recorded (only the first and the last
// stay in memory), so a run of any number of steps needs the same memory.
void check_flow_memory(const FlowCommand& flow, const LoadedProblem& loaded) {
  const long long p = loaded.objective->dimension();
  SizeEstimate solver;
  solver.add({p, 8, 40});
  if (flow.options.solver == Solver::cvode_bdf) {
    solver.add({p, p, 8, 4});
    check_memory(solver, "--solver", flow.solver,
                 "cvode-bdf's dense Newton matrices for p = " + std::to_string(p) +
                     " (cvode-bdf-krylov is the matrix-free BDF method)");
  }
}

}  // namespace

void add_flow_command(CLI::App& app, FlowCommand& flow) {
  CLI::App* c = app.add_subcommand("flow", "Integrate the gradient flow theta' = -grad L(theta) of a problem");
  flow.command = c;
  c->footer(
      "Output: a summary on the terminal; --out writes the trajectory as CSV with the columns\n"
      "  t (flow time), loss, grad_norm (||grad L||), dist_from_init (||theta - theta0||),\n"
      "  pl_ratio (||grad L||^2 / (2 (L - L_min))), bound (L_min + (L0 - L_min) exp(-2 mu t));\n"
      "  nan marks a value that is undefined (no mu, or L = L_min).\n"
      "  --observe adds ntk_min, ntk_max (eigenvalues of J J^T), condition, sharpness, sharpness_min\n"
      "  (Hessian eigenvalues, Lanczos estimates); every row checks pl_ratio >= ntk_min.\n"
      "Exit status: 0 the run did what was asked, 1 it ended early (solver failure or --max-steps),\n"
      "  2 bad input (nothing is run and no file is written).\n"
      "Every option can also be given in a TOML file (--config run.toml), one per line, e.g.\n"
      "  solver = \"cvode-bdf\"\n  t-end = 5000\n  times = [1, 10, 100]");

  add_problem_options(*c, flow.problem);

  FlowOptions& o = flow.options;
  c->add_option("--solver", flow.solver, "Integrator: " + join_names(solver_names()))->capture_default_str();
  c->add_option("--t-end", o.t_end, "Final flow time (> 0)")->capture_default_str();
  c->add_option("--rtol", o.rtol, "Relative tolerance of adaptive solvers, in (0, 1)")->capture_default_str();
  c->add_option("--atol", o.atol, "Absolute tolerance of adaptive solvers (> 0)")->capture_default_str();
  c->add_option("--dt", o.dt, "Step of the fixed-step solvers euler and rk4 (> 0)")->capture_default_str();
  add_list_option(*c, "--times", flow.times, "Record rows at these times, comma separated, increasing, in (0, t-end]");
  c->add_option("--save-every", o.save_every, "Record rows every this much flow time (default: every accepted step)");
  c->add_option("--loss-tol", o.loss_tol, "Stop once loss <= loss-tol (0 = not checked)")->capture_default_str();
  c->add_option("--grad-tol", o.grad_tol,
                "Stop once ||grad L|| <= grad-tol (0 = not checked; with both, both must hold)")
      ->capture_default_str();
  c->add_option("--max-steps", o.max_steps, "Budget of accepted steps (>= 1)")->capture_default_str();
  c->add_option("--mu", flow.mu, "PL constant for the bound L0 exp(-2 mu t) (default: the problem's exact one)");
  c->add_option("--krylov", flow.krylov, "cvode-bdf-krylov: linear solver, gmres or pcg")->capture_default_str();
  c->add_flag("--certify", flow.certify,
              "Compute the PL certificate at theta0 (least-squares, mlp); when it holds, the rows get the certified "
              "bound L0 exp(-2 mu t) and the run checks ||theta - theta0|| against the certified travel");

  c->add_option("--threads", flow.threads,
                "Threads of each network evaluation (--problem mlp; 0 = all cores); the results are the same bits "
                "for every thread count; the other problems use one thread")
      ->capture_default_str();
  add_observe_option(*c, flow.observe);
  add_output_options(*c, flow.output, "Write the trajectory CSV here");
  c->add_option(
      "--states-out", flow.states_out,
      "Write theta at every recorded row as CSV here: t, then theta_1 ... theta_p, one line per row of --out");
}

int run_flow_command(FlowCommand& flow) {
  CLI::App& c = *flow.command;
  set_activity("reading the options");
  apply_config_file(c, flow.output.config);
  if (option_given(c, "--mu")) flow.options.mu = flow.mu;
  if (option_given(c, "--times")) flow.options.times = parse_number_list(flow.times, "--times");
  if (option_given(c, "--observe")) flow.options.observe = parse_observe(flow.observe);

  const auto solver = solver_from_string(flow.solver);
  if (!solver) throw InputError("--solver", flow.solver, "unknown solver (known: " + join_names(solver_names()) + ")");
  flow.options.solver = *solver;
  const auto krylov = krylov_from_string(flow.krylov);
  if (!krylov) throw InputError("--krylov", flow.krylov, "unknown Krylov method (known: gmres, pcg)");
  flow.options.krylov = *krylov;
  if (const auto error = flow.options.validate()) {
    throw InputError(flag_for_field(error->field), error->value, error->constraint);
  }
  if (flow.threads < 0) throw InputError("--threads", std::to_string(flow.threads), "must be >= 0 (0 = all cores)");
  prepare_problem_args(c, flow.problem);
  if (flow.certify) check_certificate_depth(flow.problem, "--certify");
  check_output_paths(c, flow.output, flow.problem, {{"--states-out", flow.states_out}});
  const LoadedProblem loaded = load_problem(c, flow.problem);
  check_flow_memory(flow, loaded);
  check_observe(*loaded.objective, flow.options.observe);
  const int threads_used = set_network_threads(loaded, flow.threads, "flow", flow.output.quiet);
  print_problem_report(loaded, "flow", flow.output.quiet);
  std::optional<Certificate> certificate;
  if (flow.certify) {
    if (option_given(c, "--mu"))
      throw InputError("--mu", full_precision(flow.mu), "cannot be combined with --certify (the certificate sets mu)");
    certificate = gradflow::certify(*loaded.objective, loaded.theta0);
    if (certificate->applies && certificate->holds) {
      flow.options.mu = certificate->mu;
      flow.options.radius = certificate->travel;
    }
    if (!flow.output.quiet) std::cout << certificate_report(*certificate);
  }
  // Options of other solvers are ignored, with a warning (a shared config file may set them).
  const auto warn_unused = [&](const char* option, const char* users) {
    if (option_given(c, option) && !flow.output.quiet) {
      std::cerr << "gradflow flow: warning: " << option << " is ignored by --solver " << flow.solver << " (used by "
                << users << ")\n";
    }
  };
  if (is_fixed_step(flow.options.solver)) {
    warn_unused("--rtol", "the adaptive solvers");
    warn_unused("--atol", "the adaptive solvers");
  } else {
    warn_unused("--dt", "euler and rk4");
  }
  if (flow.options.solver != Solver::cvode_bdf_krylov) warn_unused("--krylov", "cvode-bdf-krylov");
  if (flow.options.solver == Solver::cvode_bdf && !loaded.objective->has_hessian() &&
      loaded.objective->dimension() > tolerances::kMaxDenseHessianParameters && !flow.output.quiet) {
    std::cerr << "gradflow flow: warning: cvode-bdf on p = " << loaded.objective->dimension()
              << " parameters without a dense Hessian forms difference-quotient Jacobians (p gradients each) and "
                 "factors a dense p x p matrix at every Newton setup; cvode-bdf-krylov is the matrix-free BDF method\n";
  }

  const bool show_progress = !flow.output.quiet && stderr_is_terminal();
  ProgressLine progress(flow.options.t_end);
  FlowObserver observer;
  if (show_progress) observer = [&progress](const FlowRow& row, ConstVectorView) { return progress(row); };
  // The rows go to the files as they are recorded; only the first and the last stay in memory.
  StreamedOutput trajectory("--out", flow.output.out);
  StreamedOutput states("--states-out", flow.states_out);
  const Observables& observe = flow.options.observe;
  if (trajectory.active()) {
    std::string header = kTrajectoryHeader;
    header.insert(header.size() - 1, observe_header(observe));
    trajectory.stream() << header;
  }
  ObserveTracker tracker;
  if (states.active()) states.stream() << states_header("t", loaded.objective->dimension());
  long rows_recorded = 0;
  flow.options.keep_rows = false;
  flow.options.row_sink = [&](const FlowRow& row, ConstVectorView theta) {
    ++rows_recorded;
    if (trajectory.active()) write_trajectory_line(trajectory.stream(), row, observe);
    if (observe.any()) tracker.add(row.observed, row.pl_ratio);
    if (states.active()) write_state_line(states.stream(), row.t, theta);
  };
  set_activity("integrating the flow");
  const FlowResult result = simulate_flow(*loaded.objective, loaded.theta0, flow.options, observer);
  progress.finish();

  set_activity("writing the outputs");
  const OutputArgs& o = flow.output;
  trajectory.commit();
  states.commit();
  if (!o.theta_out.empty()) write_theta("--theta-out", o.theta_out, result.theta);
  std::string ntk_margin_line;
  nlohmann::json ntk_margin_json;
  if (certificate && certificate->applies && certificate->holds && observe.ntk) {
    ntk_margin_line = certificate_ntk_margin(certificate->mu, tracker.ntk_min_along_path(), ntk_margin_json);
  }
  if (!o.json.empty()) {
    write_output("--json", o.json, [&](std::ostream& out) {
      nlohmann::json summary = summary_json(result, flow);
      summary["rows"] = rows_recorded;
      summary["threads"] = threads_used;
      summary["problem_details"] = loaded.description;
      if (observe.any())
        summary["observe"] = tracker.json(observe, result.stats, observed_residuals(*loaded.objective));
      if (certificate) {
        summary["certificate"] = certificate_json(*certificate);
        if (!ntk_margin_json.is_null()) summary["certificate"].update(ntk_margin_json);
        summary["mu_source"] = certificate->holds ? "certificate (rigorous)" : summary["mu_source"];
        summary["radius"] = optional_json(result.options.radius);
        summary["radius_holds"] = optional_json(result.radius_holds);
        summary["first_radius_violation_t"] = optional_json(result.first_radius_violation_t);
      }
      out << summary.dump(2) << "\n";
    });
  }
  if (!o.quiet) std::cout << result.full_report();
  if (!o.quiet) std::cout << ntk_margin_line;
  if (!result.succeeded()) {
    std::cerr << "gradflow flow: " << to_string(result.status) << ": " << result.message << "\n";
    return kExitRunFailed;
  }
  return kExitSuccess;
}

}  // namespace gradflow::cli
