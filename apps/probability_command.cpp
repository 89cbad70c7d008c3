#include <gradflow/apps/probability_command.hpp>

#include <gradflow/apps/cli_support.hpp>
#include <gradflow/apps/support/memory_limit.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/thread_pool.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <thread>

namespace gradflow::cli {
void add_probability_command(CLI::App& app, ProbabilityCommand& d) {
  CLI::App* c = app.add_subcommand(
      "probability",
      "Monte Carlo over seeded initializations: how often the certificate holds, and how often descent converges");
  d.command = c;
  c->footer(
      "For N draws of --init (seeds derived from --init-seed and the draw number), reports the fraction of\n"
      "draws where the certificate holds (checked rigorously at each draw) and the fraction where descent\n"
      "reaches loss <= eps L0 within K steps, each with a Clopper-Pearson interval at level 1 - alpha.\n"
      "The certified fraction is the fraction (with its own Clopper-Pearson interval) of initializations that\n"
      "satisfy a sufficient condition for linear convergence of the flow. It is NOT a lower bound on the\n"
      "converged fraction: that counts descent runs that reach the target within K steps, and a certified\n"
      "draw may need many more (measured: 38 of 40 certified, 0 of 40 converged within the budget).\n"
      "Draws run in parallel (--threads, default all cores); the result does not depend on the thread count.\n"
      "--out writes one row per draw: draw, init_seed, certified, sigma0, mu, loss0, reached, iterations,\n"
      "loss_final.");
  add_problem_options(*c, d.problem);
  ProbabilityOptions& o = d.options;
  c->add_option("--draws", o.draws, "Number of draws N (>= 1)")->capture_default_str();
  c->add_option("--alpha", o.alpha, "Clopper-Pearson level: 1 - alpha confidence, alpha in (0, 1)")
      ->capture_default_str();
  c->add_option("--eps", o.eps, "Success of a descent run: loss <= eps L0 (relative to the draw's L0), eps in (0, 1)")
      ->capture_default_str();
  c->add_option("--loss-tol", d.loss_tol, "Success at loss <= this absolute value instead of eps L0 (> 0)");
  c->add_option("--steps", o.steps, "Descent steps K per draw (>= 1)")->capture_default_str();
  c->add_option("--step", d.step, "Descent step rule: " + join_names(step_rule_names()))->capture_default_str();
  c->add_option("--lr", o.descent.lr, "fixed: step size; armijo: first trial step (> 0)")->capture_default_str();
  c->add_option("--gamma", d.gamma, "polyak: damping (> 0)");
  c->add_option("--armijo-b", o.descent.armijo_b, "armijo: shrink factor in (0, 1)")->capture_default_str();
  c->add_option("--armijo-c", o.descent.armijo_c, "armijo: sufficient-decrease constant in (0, 1)")
      ->capture_default_str();
  c->add_option("--threads", o.threads, "Worker threads (0 = all cores; at most 4x the cores, more is capped)")
      ->capture_default_str();
  c->add_option("--out", d.out, "Write one CSV row per draw here ('-': standard output)");
  c->add_option("--json", d.json, "Write the summary as JSON here ('-': standard output)");
  c->add_option("--config", d.config, "TOML file with any of these options (the command line wins)");
  c->add_flag("--quiet", d.quiet, "No progress and no summary on the terminal");
}

int run_probability_command(ProbabilityCommand& d) {
  CLI::App& c = *d.command;
  set_activity("reading the options");
  apply_config_file(c, d.config);
  ProbabilityOptions& o = d.options;
  prepare_problem_args(c, d.problem);
  check_certificate_depth(d.problem, "probability (a certificate per draw)");
  if (d.problem.spec.problem != ProblemKind::mlp)
    throw InputError("--problem", d.problem.problem, "probability needs --problem mlp");
  const auto rule = step_rule_from_string(d.step);
  if (!rule) throw InputError("--step", d.step, "unknown step rule (known: " + join_names(step_rule_names()) + ")");
  o.descent.step = *rule;
  if (option_given(c, "--gamma")) o.descent.gamma = d.gamma;
  if (option_given(c, "--loss-tol")) {
    if (option_given(c, "--eps"))
      throw InputError("--loss-tol", full_precision(d.loss_tol), "give --eps or --loss-tol, not both");
    o.loss_tol = d.loss_tol;
  }
  // The descent options' fields ("descent.lr") have the flags of their last part (--lr).
  if (const auto error = o.validate()) throw InputError(flag_for_field(error->field), error->value, error->constraint);
  if (!d.problem.theta0.empty())
    throw InputError("--theta0", d.problem.theta0, "probability draws its own initializations");
  if (*rule == StepRule::polyak && !o.descent.gamma)
    throw InputError("--gamma", "", "is required by --step polyak here");
  check_paths(input_paths(d.problem, d.config), given_outputs(c, {{"--out", d.out}, {"--json", d.json}}),
              /*dash_is_stdout=*/true);
  const ThreadPlan plan = plan_threads(o.threads, o.draws);
  const LoadedProblem loaded = load_problem(c, d.problem);
  print_problem_report(loaded, "probability", d.quiet);
  const Mlp& network = *loaded.network;  // --problem mlp, checked above
  InitOptions init;
  init.scheme = d.problem.spec.init;
  init.seed = d.problem.spec.init_seed;
  init.output_scale = d.problem.spec.output_scale;

  // One copy of the network per thread, and the draws' rows.
  check_network_memory(network.architecture(), network.inputs().rows(), plan.threads);
  {
    SizeEstimate draws;
    draws.add({o.draws, static_cast<long long>(sizeof(DrawResult)), 2});
    check_memory(draws, "--draws", std::to_string(o.draws), "the rows of " + std::to_string(o.draws) + " draws");
  }
  if (!plan.warning.empty() && !d.quiet) std::cerr << "gradflow probability: warning: " << plan.warning << "\n";
  o.threads = plan.threads;

  std::atomic<long> done{0};
  const bool show_progress = !d.quiet && stderr_is_terminal();
  const auto started = std::chrono::steady_clock::now();
  const auto warn = [&](const std::string& warning) {
    if (!d.quiet) std::cerr << "gradflow probability: warning: " << warning << "\n";
  };
  set_activity("running the draws");
  const auto tick = [&] {
    if (!show_progress) return;
    const long finished = done.load();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const double eta =
        finished > 0 ? elapsed / static_cast<double>(finished) * static_cast<double>(o.draws - finished) : 0.0;
    std::fprintf(stderr, "\r  draw %ld of %ld, ETA %.0f s   ", finished, o.draws, eta);
    std::fflush(stderr);
  };
  const ProbabilityResult result = run_with_progress(
      [&] { return estimate_probability(network, init, o, &done, warn); }, tick, std::chrono::milliseconds(200));
  if (show_progress) std::fprintf(stderr, "\r%60s\r", "");
  if (!result.succeeded()) {
    std::cerr << "gradflow probability: " << to_string(result.status) << ": " << result.message << "\n";
    return kExitRunFailed;
  }

  nlohmann::json j;
  j["status"] = std::string(to_string(result.status));
  j["message"] = result.message;
  j["problem_details"] = loaded.description;
  j["init"] = d.problem.init;
  j["init_seed"] = d.problem.spec.init_seed;
  j["output_scale"] = d.problem.spec.output_scale;
  j["draws"] = o.draws;
  j["alpha"] = o.alpha;
  j["eps"] = o.eps;
  j["loss_tol"] = o.loss_tol ? nlohmann::json(*o.loss_tol) : nlohmann::json(nullptr);
  j["tolerance"] = o.loss_tol ? "absolute (loss_tol)" : "relative to each draw's L0 (eps)";
  j["steps"] = o.steps;
  j["step"] = d.step;
  j["certified"] = {{"kind", "certificate (rigorous) at each draw"},
                    {"count", result.certified},
                    {"fraction", static_cast<double>(result.certified) / static_cast<double>(o.draws)},
                    {"interval", {result.certified_interval.lower, result.certified_interval.upper}}};
  if (!result.why_not_applicable.empty()) j["certified"]["why_not"] = result.why_not_applicable;
  j["reached"] = {{"kind", "empirical (descent run)"},
                  {"count", result.reached},
                  {"fraction", static_cast<double>(result.reached) / static_cast<double>(o.draws)},
                  {"interval", {result.reached_interval.lower, result.reached_interval.upper}}};
  j["threads"] = result.threads_used;
  j["wall_seconds"] = result.wall_seconds;

  set_activity("writing the outputs");
  // Both outputs are written whole before either replaces its file (a full disk leaves both as they were).
  StreamedOutput draws_file("--out", d.out);
  if (draws_file.active()) {
    std::ostream& out = draws_file.stream();
    out << "draw,init_seed,certified,sigma0,mu,loss0,reached,iterations,loss_final\n";
    for (const DrawResult& draw : result.draws) {
      out << draw.draw << "," << draw.init_seed << "," << (draw.certified ? 1 : 0) << "," << full_precision(draw.sigma0)
          << "," << full_precision(draw.mu) << "," << full_precision(draw.loss0) << "," << (draw.reached ? 1 : 0) << ","
          << draw.iterations << "," << full_precision(draw.loss_final) << "\n";
    }
    draws_file.finish();
  }
  StreamedOutput json_file("--json", d.json);
  if (json_file.active()) {
    json_file.stream() << j.dump(2) << "\n";
    json_file.finish();
  }
  draws_file.commit();
  json_file.commit();
  if (!d.quiet) {
    const int percent = static_cast<int>(std::lround(100 * (1 - o.alpha)));
    std::printf("%ld draws of %s (output scale %g), %d threads, %.2f s\n", o.draws, d.problem.init.c_str(),
                d.problem.spec.output_scale, result.threads_used, result.wall_seconds);
    std::printf("  certificate holds (rigorous):        %ld / %ld = %.4f   %d%% interval [%.6f, %.6f]\n",
                result.certified, o.draws, static_cast<double>(result.certified) / static_cast<double>(o.draws),
                percent, result.certified_interval.lower, result.certified_interval.upper);
    if (!result.why_not_applicable.empty())
      std::printf("    (the theory does not apply: %s)\n", result.why_not_applicable.c_str());
    std::printf("  descent reached the target in K steps: %ld / %ld = %.4f   %d%% interval [%.6f, %.6f]\n",
                result.reached, o.draws, static_cast<double>(result.reached) / static_cast<double>(o.draws), percent,
                result.reached_interval.lower, result.reached_interval.upper);
    if (o.loss_tol) {
      std::printf("  (target: loss <= %g, absolute)\n", *o.loss_tol);
    } else {
      std::printf("  (target: loss <= %g L0, relative to each draw's L0)\n", o.eps);
    }
    std::printf(
        "  (the certified fraction counts draws that satisfy a sufficient condition for the flow's linear\n"
        "   convergence in unbounded time; it is not a lower bound on the fraction converged within K steps)\n");
  }
  return kExitSuccess;
}

}  // namespace gradflow::cli
