#include <gradflow/apps/descend_command.hpp>

#include <gradflow/apps/certificate_output.hpp>
#include <gradflow/apps/cli_support.hpp>
#include <gradflow/apps/json_support.hpp>
#include <gradflow/apps/observe_output.hpp>
#include <gradflow/apps/support/memory_limit.hpp>
#include <gradflow/apps/support/output_file.hpp>
#include <gradflow/apps/support/spawn.hpp>
#include <gradflow/apps/trajectory_output.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/discrete/against_flow.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/problems/mlp.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <ostream>
#include <sstream>
#include <vector>

namespace gradflow::cli {
namespace {

// --against-flow's columns after the table's (discrete/against_flow.hpp's comparison_columns()).
std::string against_flow_header(const std::optional<FlowModel>& model) {
  std::string header;
  for (const std::string& name : comparison_columns(model)) header += "," + name;
  return header;
}

std::string against_flow_fields(const FlowComparison& c, bool with_model) {
  std::string text;
  char number[32];
  for (const double x : comparison_values(c, with_model)) {
    std::snprintf(number, sizeof number, ",%.17g", x);
    text += number;
  }
  return text;
}

// Why descent left the modified flow: past the edge of stability, or a step too large for the expansion.
const char* departure_kind(const LeaveFlow& left) {
  if (std::isnan(left.eta_sharpness)) return "unknown (no sharpness)";
  return left.eta_sharpness >= 2.0 ? "unstable" : "large step";
}

nlohmann::json number_or_null(double x) { return std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x); }

// Where descent left a flow, as the summary's keys.
void add_leave_fields(nlohmann::json& j, const LeaveFlow& left) {
  j["leave_iter"] = left.iter;
  j["leave_t"] = left.t;
  j["leave_relative_distance"] = left.relative_distance;
  j["sharpness_at_leave"] = number_or_null(left.sharpness);
  j["eta_sharpness_at_leave"] = number_or_null(left.eta_sharpness);
}

nlohmann::json against_flow_json(const FlowFollower& follower) {
  nlohmann::json j;
  j["leave_tol"] = follower.leave_tol();
  j["flow_solver"] = std::string(to_string(follower.flow_options().solver));
  j["flow_rtol"] = follower.flow_options().rtol;
  j["flow_atol"] = follower.flow_options().atol;
  j["flow_gradient_evals"] = follower.flow_stats().num_gradient_evals;
  j["left_flow"] = follower.left().has_value();
  if (const auto& left = follower.left()) add_leave_fields(j, *left);
  nlohmann::json modified;
  modified["left"] = follower.left_modified().has_value();
  if (const auto& left = follower.left_modified()) {
    add_leave_fields(modified, *left);
    modified["kind"] = departure_kind(*left);
  }
  modified["gradient_evals"] = follower.modified_flow_stats().num_gradient_evals;
  j["modified_flow"] = modified;
  j["max_eta_sharpness"] = number_or_null(follower.max_eta_sharpness());
  j["edge_reached"] = follower.reached_edge().has_value();
  if (const auto& edge = follower.reached_edge()) {
    j["edge_iter"] = edge->iter;
    j["edge_t"] = edge->t;
  }
  j["rows_at_edge"] = follower.rows_at_edge();
  j["time_at_edge"] = follower.time_at_edge();
  if (const auto& model = follower.edge_of_stability_model()) {
    nlohmann::json m;
    m["gradient_evals"] = follower.edge_of_stability_stats().num_gradient_evals;
    m["hessian_vector_evals"] = follower.edge_of_stability_stats().num_hessian_vector_evals;
    j[std::string(to_string(*model)) + "_flow"] = m;
  }
  if (!follower.failure().empty()) j["flow_failure"] = follower.failure();
  return j;
}

std::string against_flow_report(const FlowFollower& follower) {
  char line[480];
  std::string text;
  // Three separate findings: the modified flow (O(eta^2)), the edge of stability, and the plain flow,
  // whose distance also holds Euler's O(eta) error (docs/theory.md §2.9).
  if (const auto& left = follower.left_modified()) {
    if (left->eta_sharpness >= 2.0) {
      std::snprintf(line, sizeof line,
                    "against flow    descent leaves the flow at iteration %ld (t = %.6g): unstable, eta x sharpness = "
                    "%.4g >= 2; relative distance to the modified flow %.3e > leave-tol %.3g; sharpness there %.6g "
                    "(estimate)\n",
                    left->iter, left->t, left->eta_sharpness, left->relative_distance, follower.leave_tol(),
                    left->sharpness);
    } else {
      std::snprintf(line, sizeof line,
                    "against flow    descent is beyond the modified flow from iteration %ld (t = %.6g): a large step, "
                    "eta x sharpness = %.4g < 2 (stable), where the O(eta^2) expansion no longer holds to leave-tol "
                    "(relative distance %.3e > %.3g); sharpness there %.6g (estimate)\n",
                    left->iter, left->t, left->eta_sharpness, left->relative_distance, follower.leave_tol(),
                    left->sharpness);
    }
  } else {
    std::snprintf(line, sizeof line,
                  "against flow    descent stays within leave-tol %.3g (relative) of the modified flow "
                  "theta' = -(grad L + (eta/2) H grad L) at every recorded row\n",
                  follower.leave_tol());
  }
  text += line;
  if (const auto& edge = follower.reached_edge()) {
    std::snprintf(line, sizeof line,
                  "against flow    edge of stability: eta x sharpness = %.4g >= 2 first at iteration %ld (t = %.6g); "
                  "largest %.4g; at the edge (eta x sharpness >= %.3g) %ld rows, t = %.6g in all\n",
                  edge->eta_sharpness, edge->iter, edge->t, follower.max_eta_sharpness(), kAtEdge,
                  follower.rows_at_edge(), follower.time_at_edge());
  } else {
    std::snprintf(line, sizeof line, "against flow    edge of stability: not reached (largest eta x sharpness %.4g)\n",
                  follower.max_eta_sharpness());
  }
  text += line;
  if (const auto& plain = follower.left()) {
    std::snprintf(line, sizeof line,
                  "against flow    the plain flow theta' = -grad L: relative distance > leave-tol from iteration %ld "
                  "(t = %.6g, %.3e), which holds Euler's O(eta) error\n",
                  plain->iter, plain->t, plain->relative_distance);
  } else {
    std::snprintf(line, sizeof line,
                  "against flow    the plain flow theta' = -grad L: within leave-tol at every recorded row\n");
  }
  text += line;
  if (!follower.failure().empty()) text += "against flow    " + follower.failure() + "\n";
  return text;
}

// The comparison's figure: the losses of both, eta x sharpness against the edge 2, and the relative
// distance; gnuplot started without a shell in dir, writing against_flow.png and .svg there.
struct PlotPoint {
  long iter;
  double descent_loss, flow_loss, eta_sharpness, relative_distance, modified_flow_loss, modified_relative_distance;
};

std::string plot_number(double x) {
  if (!std::isfinite(x)) return "NaN";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", x);
  return buffer;
}

void write_against_flow_plot(const std::string& dir, const std::vector<PlotPoint>& points, double leave_tol,
                             bool quiet) {
  namespace fs = std::filesystem;
  // Absolute: gnuplot runs in the folder, and its log (opened for it) and the figures' paths must not be
  // read relative to the folder a second time (a relative --plot p wrote nothing and named p/p/...).
  const fs::path folder = fs::absolute(dir);
  fs::create_directories(folder);
  write_file_atomically("--plot", (folder / "against_flow.dat").string(), [&](std::ostream& out) {
    out << "# iter descent_loss flow_loss eta_sharpness relative_distance modified_flow_loss "
           "relative_distance_modified\n";
    for (const PlotPoint& p : points) {
      out << p.iter << ' ' << plot_number(p.descent_loss) << ' ' << plot_number(p.flow_loss) << ' '
          << plot_number(p.eta_sharpness) << ' ' << plot_number(p.relative_distance) << ' '
          << plot_number(p.modified_flow_loss) << ' ' << plot_number(p.modified_relative_distance) << '\n';
    }
  });
  std::ostringstream plot;
  plot << "set multiplot layout 3,1\nset xlabel 'iteration k (t_k = sum of the steps)'\nset key top right\n"
       << "set logscale y\nset ylabel 'loss'\nplot 'against_flow.dat' using 1:2 with lines title 'descent', "
       << "'' using 1:3 with lines title 'flow at t_k', '' using 1:6 with lines dashtype 3 title 'modified flow at "
          "t_k'\n"
       << "unset logscale y\nset ylabel 'eta x sharpness'\nplot 'against_flow.dat' using 1:4 with lines title "
       << "'eta x sharpness (Lanczos estimate)', 2 with lines dashtype 2 title 'edge: 2'\n"
       << "set logscale y\nset ylabel '||theta_k - theta(t_k)|| (relative)'\nplot 'against_flow.dat' using 1:5 "
       << "with lines title 'to the flow (holds Euler O(eta))', '' using 1:7 with lines title 'to the modified flow "
          "(O(eta^2))', "
       << plot_number(leave_tol) << " with lines dashtype 2 title 'leave-tol'\n"
       << "unset multiplot\n";
  std::ostringstream script;
  // Written under temporary names and renamed once gnuplot has finished.
  script << "set terminal pngcairo size 960,1000 noenhanced font ',11'\nset output 'against_flow.png.part'\n"
         << plot.str() << "set terminal svg size 960,1000 noenhanced font 'Sans,11'\n"
         << "set output 'against_flow.svg.part'\n"
         << plot.str() << "unset output\n";
  write_file_atomically("--plot", (folder / "against_flow.gp").string(),
                        [&](std::ostream& out) { out << script.str(); });
  if (!find_program("gnuplot")) {
    if (!quiet)
      std::cerr << "gradflow descend: warning: gnuplot is not installed; the data and script are in " << dir << "\n";
    return;
  }
  SpawnOptions options;
  options.working_directory = folder.string();
  options.stderr_file = (folder / "against_flow.log").string();
  const SpawnResult run = run_program({"gnuplot", "against_flow.gp"}, options);
  std::error_code error;
  for (const char* name : {"against_flow.png", "against_flow.svg"}) {
    const fs::path part = folder / (std::string(name) + ".part");
    if (run.succeeded() && fs::exists(part) && figure_is_whole(part.string())) {
      fs::rename(part, folder / name, error);
    } else {
      if (run.succeeded() && fs::exists(part) && !quiet) {
        std::cerr << "gradflow descend: warning: gnuplot wrote an incomplete " << (folder / name).string()
                  << " (disk full?): removed\n";
      }
      fs::remove(part, error);
    }
  }
  if (!run.succeeded() && !quiet) {
    std::cerr << "gradflow descend: warning: gnuplot failed (see " << (folder / "against_flow.log").string() << ")\n";
  } else {
    fs::remove(folder / "against_flow.log", error);
  }
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
      "Output: --out writes a CSV with the columns\n" +
      columns_help(kDescentRows) +
      "  (the observed ones with --observe); --against-flow adds flow_loss, distance_to_flow,\n"
      "  relative_distance, eta_sharpness, modified_flow_loss, distance_to_modified_flow,\n"
      "  relative_distance_modified.\n"
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
  c->add_option("--save-every", o.save.every_steps, "Record a row every this many iterations (>= 1)")
      ->capture_default_str();
  add_stop_options(*c, o.stop, d.max_iters, "--max-iters", "Iteration budget (>= 1)");
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
  add_observe_option(*c, d.observe);
  c->add_option(
       "--against-flow", d.flows,
       "[central|edge] Integrate the gradient flow from the same start (dopri5, rtol 1e-10) and compare at every "
       "row: "
       "adds flow_loss, distance_to_flow, relative_distance (to max(||theta(t_k)||, ||theta0||)) and "
       "eta_sharpness to --out (implies --observe sharpness), and the same for the modified flow "
       "-(grad L + (eta/2) H grad L) that descent follows to O(eta^2) (modified_flow_loss, "
       "distance_to_modified_flow, relative_distance_modified); the summary tells apart where descent "
       "leaves the modified flow (unstable or a large step), the edge of stability, and the plain flow's "
       "O(eta) Euler error (docs/theory.md §2.9). --against-flow central or edge also integrates that model "
       "of the edge of stability (docs/theory.md §2.10; exact Hessian-vector products): the central flow "
       "or the edge flow (centre, direction and amplitude of the oscillation), with the columns M_flow_loss "
       "(L at its centre), M_average_loss (the time-averaged loss it predicts), M_sharpness, "
       "distance_to_M_flow (edge: to the nearer of the two iterates it predicts), "
       "distance_of_average_to_M_flow (of the mean of this and the previous row's iterate), M_sigma2 (the "
       "oscillation's squared size), M = central or edge")
      ->expected(0, 1);
  c->add_option("--leave-tol", d.leave_tol,
                "--against-flow: descent leaves a flow where its relative distance to it exceeds this (> 0)")
      ->capture_default_str();
  c->add_option("--plot", d.plot,
                "--against-flow: write against_flow.png and .svg (gnuplot) with their data and script in this "
                "existing folder: the losses of descent, the flow and the modified flow, eta x sharpness against 2, "
                "the distances to both flows");
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
  if (option_given(c, "--observe")) d.options.observe = parse_observe(d.observe);
  d.against_flow = option_given(c, "--against-flow");
  // The model of the edge of stability to add: central or edge (plain and modified are always compared).
  std::optional<FlowModel> eos_model;
  for (const std::string& flow : d.flows) {
    const auto model = flow_model_from_string(flow);
    if (model == FlowModel::central || model == FlowModel::edge) {
      eos_model = model;
    } else if (!flow.empty() && flow != "true" && !model) {  // true: a flag in a config file
      throw InputError("--against-flow", flow,
                       "unknown flow (plain and modified are always compared; central or edge adds that flow)");
    }
  }
  const bool with_model = eos_model.has_value();
  const std::string model_name = with_model ? std::string(to_string(*eos_model)) : "";
  if (option_given(c, "--leave-tol") || option_given(c, "--plot")) {
    if (!d.against_flow) {
      throw InputError(option_given(c, "--plot") ? "--plot" : "--leave-tol",
                       option_given(c, "--plot") ? d.plot : full_precision(d.leave_tol), "needs --against-flow");
    }
  }
  if (d.against_flow) {
    if (!(d.leave_tol > 0.0) || !std::isfinite(d.leave_tol)) {
      throw InputError("--leave-tol", full_precision(d.leave_tol), "must be finite and > 0");
    }
    d.options.observe.sharpness = true;  // eta x sharpness in every row
  }
  const auto rule = step_rule_from_string(d.step);
  if (!rule) throw InputError("--step", d.step, "unknown step rule (known: " + join_names(step_rule_names()) + ")");
  d.options.step = *rule;
  d.options.seed = d.problem.spec.seed;
  d.options.stop.max_steps = d.max_iters;
  if (const auto error = d.options.validate()) {
    throw InputError(flag_for_field(error->field, kDescentFlags), error->value, error->constraint);
  }
  std::vector<std::pair<const char*, std::string>> extra_outputs{{"--states-out", d.states_out}};
  if (!d.plot.empty()) {
    for (const char* name : {"against_flow.png", "against_flow.svg", "against_flow.dat", "against_flow.gp"}) {
      extra_outputs.emplace_back("--plot", (std::filesystem::path(d.plot) / name).string());
    }
  }
  PreparedRun prepared =
      prepare_run(c, "descend", d.problem, d.output, d.threads, d.certify, d.options.observe, extra_outputs);
  const LoadedProblem& loaded = prepared.loaded;
  const int threads_used = prepared.threads;
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
    certificate = certify_start(c, d.mu, loaded, d.problem.theta0, d.output.quiet);
    if (certificate->applies && certificate->descent_holds) {
      d.options.mu = certificate->mu;
      d.options.beta = certificate->beta;
      d.options.ball_radius = certificate->descent_radius;
    }
  }
  const std::string chosen = "--step " + d.step;
  const auto warn = [&](const char* option, const char* users) {
    warn_unused(c, d.output.quiet, "descend", option, chosen, users);
  };
  if (*rule != StepRule::polyak) warn("--gamma", "polyak");
  if (*rule != StepRule::armijo) {
    warn("--armijo-b", "armijo");
    warn("--armijo-c", "armijo");
  }
  if (*rule == StepRule::inverse_smoothness || *rule == StepRule::polyak) warn("--lr", "fixed and armijo");

  std::optional<FlowFollower> follower;
  if (d.against_flow) {
    follower.emplace(*loaded.objective, loaded.theta0, d.leave_tol);
    if (eos_model) {
      try {
        follower->add_edge_of_stability_flow(*eos_model);
      } catch (const std::invalid_argument& e) {
        throw InputError("--against-flow", model_name, e.what());
      }
    }
  }
  std::vector<PlotPoint> plot_points;
  const double fixed_eta = *rule == StepRule::fixed ? d.options.lr : std::numeric_limits<double>::quiet_NaN();
  // --against-flow's columns after the table's: the flow at the row's t.
  CsvRowWriter::Extra against;
  if (follower) {
    against = [&](const Row& row, ConstVectorView theta) {
      const double eta = row.step_size > 0.0 ? row.step_size : fixed_eta;
      const FlowComparison comparison = follower->compare(row, theta, eta);
      if (!d.plot.empty()) {
        plot_points.push_back({row.iter, row.loss, comparison.flow_loss, comparison.eta_sharpness,
                               comparison.relative_distance, comparison.modified_flow_loss,
                               comparison.modified_relative_distance});
      }
      return against_flow_fields(comparison, with_model);
    };
  }
  // The rows go to the files as they are recorded; only the first and the last stay in memory. Without
  // --out the comparison still runs (for the summary and the plot).
  TrajectoryOutputs outputs(RunKind::descent, d.output, d.states_out, d.options.observe, loaded.objective->dimension(),
                            follower ? against_flow_header(eos_model) : "",
                            d.output.out.empty() ? CsvRowWriter::Extra{} : against);
  d.options.save.keep_rows = false;
  d.options.save.sink = outputs.sink();
  if (follower && d.output.out.empty()) {
    d.options.save.sink =
        all_of({d.options.save.sink, [&](const Row& row, ConstVectorView theta) { against(row, theta); }});
  }
  const Observer progress = outputs.progress(static_cast<double>(d.max_iters));
  set_activity("running gradient descent");
  const DescentResult result = descend(*loaded.objective, loaded.theta0, d.options, progress);
  outputs.end_progress();
  // Options that only the run could find impossible (a zero beta for 1/beta): bad input, no files.
  if (result.status == Status::invalid_options) throw InputError("--step", d.step, result.message);

  if (follower && !d.plot.empty()) write_against_flow_plot(d.plot, plot_points, d.leave_tol, d.output.quiet);
  RunEnd end = run_end("descend", RunKind::descent, result, loaded, d.output, d.options.observe, threads_used);
  end.certificate = certificate;
  end.certified = certificate && certificate->applies && certificate->descent_holds;
  end.add_json = [&](nlohmann::json& summary) {
    summary["mu_source"] = mu_source(end.certified, option_given(c, "--mu"), result.facts.mu.has_value());
    summary["beta_source"] = end.certified                 ? "certificate (beta_r, rigorous)"
                             : result.facts.beta_estimated ? "estimated (power iteration at theta0)"
                             : result.facts.beta           ? "problem (exact)"
                                                           : "unknown";
    if (follower) {
      summary["against_flow"] = against_flow_json(*follower);
      const Fidelity& fidelity = follower->fidelity();
      nlohmann::json f = {{"rows", fidelity.rows},
                          {"max_relative_deviation_loss_plain", fidelity.plain},
                          {"max_relative_deviation_loss_modified", fidelity.modified}};
      if (with_model) {
        f[model_name + "_rows"] = fidelity.model_rows;
        f["max_relative_deviation_average_loss_" + model_name] = fidelity.model;
        f["max_relative_deviation_sharpness_" + model_name] = fidelity.model_sharpness;
      }
      summary["against_flow"]["fidelity"] = f;
    }
  };
  if (follower) {
    end.extra_report = against_flow_report(*follower);
    const Fidelity& fidelity = follower->fidelity();
    char line[400];
    std::snprintf(line, sizeof line,
                  "against flow    fidelity over %ld rows: largest relative deviation of the flow's loss from "
                  "descent's: plain %.3g, modified %.3g",
                  fidelity.rows, fidelity.plain, fidelity.modified);
    end.extra_report += line;
    if (with_model) {
      std::snprintf(line, sizeof line, ", %s (its predicted time-averaged loss) %.3g; of the sharpness: %s %.3g",
                    model_name.c_str(), fidelity.model, model_name.c_str(), fidelity.model_sharpness);
      end.extra_report += line;
    }
    end.extra_report += "\n";
  }
  return finish_run(end, outputs);
}

}  // namespace gradflow::cli
