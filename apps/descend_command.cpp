#include <gradflow/apps/descend_command.hpp>

#include <gradflow/apps/certificate_output.hpp>
#include <gradflow/apps/cli_support.hpp>
#include <gradflow/apps/json_support.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/memory_limit.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/problems/mlp.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <ostream>
#include <vector>

namespace gradflow::cli {
namespace {

nlohmann::json summary_json(const DescentResult& r, const DescendCommand& d) {
  nlohmann::json j;
  j["status"] = std::string(to_string(r.status));
  j["success"] = r.succeeded();
  j["message"] = r.message;
  j["problem"] = r.problem;
  j["dim"] = r.theta.size();
  j["step"] = std::string(to_string(r.options.step));
  j["step_size"] = optional_json(r.step_size);
  j["lr"] = r.options.lr;
  j["gamma"] = optional_json(r.gamma);
  if (r.options.step == StepRule::armijo) {
    j["armijo_b"] = r.options.armijo_b;
    j["armijo_c"] = r.options.armijo_c;
  }
  j["iterations"] = r.iterations;
  j["t_final"] = r.t_final;
  j["loss0"] = r.loss0;
  j["loss_final"] = r.loss_final;
  j["grad_norm_final"] = r.grad_norm_final;
  j["dist_from_init"] = r.dist_from_init;
  j["path_length"] = r.path_length;
  j["min_value"] = optional_json(r.min_value);
  j["mu"] = optional_json(r.facts.mu);
  j["mu_source"] = d.options.mu ? "option" : (r.facts.mu ? "problem (exact)" : "unknown");
  j["beta"] = optional_json(r.facts.beta);
  j["beta_source"] =
      r.facts.beta_estimated ? "estimated (power iteration at theta0)" : (r.facts.beta ? "problem (exact)" : "unknown");
  j["q"] = optional_json(r.guarantee.q);
  j["radius"] = optional_json(r.guarantee.radius);
  j["guarantee"] = r.guarantee.note;
  j["guarantee_is_estimate"] = r.facts.beta_estimated;
  j["bound_holds"] = optional_json(r.bound_holds);
  j["first_bound_violation_iter"] = optional_json(r.first_bound_violation_iter);
  j["radius_holds"] = optional_json(r.radius_holds);
  j["first_radius_violation_iter"] = optional_json(r.first_radius_violation_iter);
  j["rows"] = r.rows.size();
  j["stats"] = {{"num_gradient_evals", r.stats.num_gradient_evals},
                {"num_loss_evals", r.stats.num_loss_evals},
                {"num_hessian_vector_evals", r.stats.num_hessian_vector_evals},
                {"iterations", r.stats.num_steps},
                {"wall_seconds", r.stats.wall_seconds}};
  return j;
}

// The rows CSV's header and one line per recorded row, written as the run goes.
constexpr const char* kRowsHeader = "iter,t,loss,grad_norm,dist_from_init,step_size,bound\n";

void write_row_line(std::ostream& out, const DescentRow& row) {
  char line[256];
  std::snprintf(line, sizeof line, "%ld,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", row.iter, row.t, row.loss,
                row.grad_norm, row.dist_from_init, row.step_size, row.bound);
  out << line;
}

}  // namespace

void add_descend_command(CLI::App& app, DescendCommand& d) {
  CLI::App* c =
      app.add_subcommand("descend", "Gradient descent theta_{k+1} = theta_k - eta_k grad L(theta_k) on a problem");
  d.command = c;
  c->footer(
      "Step rules (--step) and their guarantees, for L mu-PL and beta-smooth (q: contraction of L - L_min\n"
      "per iteration; radius: bound on the path length):\n"
      "  fixed               eta = lr; for eta < 2/beta: q = 1 - mu eta (2 - beta eta),\n"
      "                      radius = sqrt(2 L0 / mu) / (1 - beta eta / 2); eta >= 2/beta may diverge\n"
      "  inverse-smoothness  eta = 1/beta (exact beta, else estimated by power iteration at theta0 and\n"
      "                      reported as an estimate); q = 1 - mu/beta, radius = 2 sqrt(2 L0 / mu)\n"
      "  polyak              eta_k = gamma (L_k - L_min) / ||g_k||^2, default gamma = 2 mu / beta;\n"
      "                      q = 1 - gamma + gamma^2 beta / (4 mu). WARNING: without convexity only\n"
      "                      gamma < 4 mu / beta is guaranteed to contract (the usual gamma in (0, 2)\n"
      "                      needs convexity; Polyak steps can cycle otherwise). No radius is known.\n"
      "  armijo              backtracking from lr by armijo-b until L(theta - eta g) <= L - c eta ||g||^2\n"
      "                      (c = armijo-c); q = 1 - 2 c mu eta_min, eta_min = min(lr, 2 b (1 - c) / beta),\n"
      "                      radius = sqrt(2 L0 / mu) / c\n"
      "Output: --out writes a CSV with the columns iter, t (sum of the step sizes: the flow's time axis),\n"
      "  loss, grad_norm, dist_from_init, step_size (the step that produced the iterate), bound\n"
      "  (L_min + q^k (L0 - L_min); nan without a guarantee).\n"
      "Exit status: 0 the run did what was asked, 1 it ended early (diverged, no acceptable step, or\n"
      "  --max-iters before a requested tolerance), 2 bad input (nothing is run and no file is written).\n"
      "Every option can also be given in a TOML file (--config run.toml), one per line.");
  add_problem_options(*c, d.problem);
  DescentOptions& o = d.options;
  c->add_option("--step", d.step, "Step-size rule: " + join_names(step_rule_names()))->capture_default_str();
  c->add_option("--lr", o.lr, "fixed: the step size; armijo: the first trial step (> 0)")->capture_default_str();
  c->add_option("--gamma", d.gamma, "polyak: damping gamma (> 0; default 2 mu / beta)");
  c->add_option("--armijo-b", o.armijo_b, "armijo: shrink factor b in (0, 1)")->capture_default_str();
  c->add_option("--armijo-c", o.armijo_c, "armijo: sufficient-decrease constant c in (0, 1)")->capture_default_str();
  c->add_option("--max-iters", o.max_iters, "Iteration budget (>= 1)")->capture_default_str();
  c->add_option("--save-every", o.save_every, "Record a row every this many iterations (>= 1)")->capture_default_str();
  c->add_option("--loss-tol", o.loss_tol, "Stop once loss <= loss-tol (0 = not checked)")->capture_default_str();
  c->add_option("--grad-tol", o.grad_tol,
                "Stop once ||grad L|| <= grad-tol (0 = not checked; with both, both must hold)")
      ->capture_default_str();
  c->add_option("--mu", d.mu, "PL constant for the bound (default: the problem's exact one)");
  c->add_option("--divergence-factor", o.divergence_factor,
                "Diverged once L - L_min exceeds this factor times L0 - L_min (> 1)")
      ->capture_default_str();
  c->add_flag("--certify", d.certify,
              "Compute the PL certificate at theta0 (least-squares, mlp; --step fixed or inverse-smoothness): "
              "mu and beta_r then come from it (inverse-smoothness steps 1/beta_r) and the rows get the certified "
              "bound q^k L0");
  c->add_option("--threads", d.threads,
                "Threads of each network evaluation (--problem mlp; 0 = all cores); the results are the same bits "
                "for every thread count; the other problems use one thread")
      ->capture_default_str();
  add_output_options(*c, d.output, "Write the iterates' rows as CSV here");
  c->add_option(
      "--states-out", d.states_out,
      "Write theta at every recorded row as CSV here: iter, then theta_1 ... theta_p, one line per row of --out");
}

int run_descend_command(DescendCommand& d) {
  CLI::App& c = *d.command;
  set_activity("reading the options");
  apply_config_file(c, d.output.config);
  if (option_given(c, "--gamma")) d.options.gamma = d.gamma;
  if (option_given(c, "--mu")) d.options.mu = d.mu;
  const auto rule = step_rule_from_string(d.step);
  if (!rule) throw InputError("--step", d.step, "unknown step rule (known: " + join_names(step_rule_names()) + ")");
  d.options.step = *rule;
  d.options.seed = d.problem.spec.seed;
  if (const auto error = d.options.validate()) {
    throw InputError(flag_for_field(error->field), error->value, error->constraint);
  }
  if (d.threads < 0) throw InputError("--threads", std::to_string(d.threads), "must be >= 0 (0 = all cores)");
  prepare_problem_args(c, d.problem);
  if (d.certify) check_certificate_depth(d.problem, "--certify");
  check_output_paths(c, d.output, d.problem, {{"--states-out", d.states_out}});
  const LoadedProblem loaded = load_problem(c, d.problem);
  const int threads_used = set_network_threads(loaded, d.threads, "descend", d.output.quiet);
  const KnownFacts known = loaded.objective->known();
  if (*rule == StepRule::polyak && !d.options.gamma && !((d.options.mu || known.mu) && known.beta)) {
    throw InputError("--gamma", "",
                     "is required by --step polyak on problem '" + d.problem.problem +
                         "' (the default 2 mu / beta needs mu and beta)");
  }
  print_problem_report(loaded, "descend", d.output.quiet);
  std::optional<Certificate> certificate;
  if (d.certify) {
    if (*rule != StepRule::fixed && *rule != StepRule::inverse_smoothness) {
      throw InputError("--certify", "",
                       "supports --step fixed and inverse-smoothness (the certificate's step is 1/beta_r)");
    }
    if (option_given(c, "--mu"))
      throw InputError("--mu", full_precision(d.mu), "cannot be combined with --certify (the certificate sets mu)");
    certificate = gradflow::certify(*loaded.objective, loaded.theta0);
    if (certificate->applies && certificate->descent_holds) {
      d.options.mu = certificate->mu;
      d.options.beta = certificate->beta;
      d.options.ball_radius = certificate->descent_radius;
    }
    if (!d.output.quiet) std::cout << certificate_report(*certificate);
  }
  const auto warn_unused = [&](const char* option, const char* users) {
    if (option_given(c, option) && !d.output.quiet) {
      std::cerr << "gradflow descend: warning: " << option << " is ignored by --step " << d.step << " (used by "
                << users << ")\n";
    }
  };
  if (*rule != StepRule::polyak) warn_unused("--gamma", "polyak");
  if (*rule != StepRule::armijo) {
    warn_unused("--armijo-b", "armijo");
    warn_unused("--armijo-c", "armijo");
  }
  if (*rule == StepRule::inverse_smoothness || *rule == StepRule::polyak) warn_unused("--lr", "fixed and armijo");

  const bool show_progress = !d.output.quiet && stderr_is_terminal();
  auto last = std::chrono::steady_clock::now();
  bool shown = false;
  DescentObserver observer;
  if (show_progress) {
    observer = [&](const DescentRow& row, ConstVectorView) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last >= std::chrono::milliseconds(200)) {
        last = now;
        shown = true;
        std::fprintf(stderr, "\r  iteration %ld of %ld, loss %.3e   ", row.iter, d.options.max_iters, row.loss);
        std::fflush(stderr);
      }
      return false;
    };
  }
  // The rows go to the files as they are recorded; only the first and the last stay in memory.
  StreamedOutput rows_file("--out", d.output.out);
  StreamedOutput states("--states-out", d.states_out);
  if (rows_file.active()) rows_file.stream() << kRowsHeader;
  if (states.active()) states.stream() << states_header("iter", loaded.objective->dimension());
  long rows_recorded = 0;
  d.options.keep_rows = false;
  d.options.row_sink = [&](const DescentRow& row, ConstVectorView theta) {
    ++rows_recorded;
    if (rows_file.active()) write_row_line(rows_file.stream(), row);
    if (states.active()) write_state_line(states.stream(), static_cast<double>(row.iter), theta);
  };
  set_activity("running gradient descent");
  const DescentResult result = descend(*loaded.objective, loaded.theta0, d.options, observer);
  if (shown) std::fprintf(stderr, "\r%80s\r", "");
  // Options that only the run could find impossible (a zero beta for 1/beta): bad input, no files.
  if (result.status == Status::invalid_options) throw InputError("--step", d.step, result.message);

  set_activity("writing the outputs");
  const OutputArgs& o = d.output;
  rows_file.commit();
  states.commit();
  if (!o.theta_out.empty()) write_theta("--theta-out", o.theta_out, result.theta);
  if (!o.json.empty()) {
    write_output("--json", o.json, [&](std::ostream& out) {
      nlohmann::json summary = summary_json(result, d);
      summary["rows"] = rows_recorded;
      summary["threads"] = threads_used;
      summary["problem_details"] = loaded.description;
      if (certificate) {
        summary["certificate"] = certificate_json(*certificate);
        if (certificate->applies && certificate->descent_holds) {
          summary["mu_source"] = "certificate (rigorous)";
          summary["beta_source"] = "certificate (beta_r, rigorous)";
        }
      }
      out << summary.dump(2) << "\n";
    });
  }
  if (!o.quiet) std::cout << result.full_report();
  if (!result.succeeded()) {
    std::cerr << "gradflow descend: " << to_string(result.status) << ": " << result.message << "\n";
    return kExitRunFailed;
  }
  return kExitSuccess;
}

}  // namespace gradflow::cli
