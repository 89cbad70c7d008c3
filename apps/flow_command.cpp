#include <gradflow/apps/flow_command.hpp>

#include <gradflow/apps/certificate_output.hpp>
#include <gradflow/apps/cli_support.hpp>
#include <gradflow/apps/csv.hpp>
#include <gradflow/apps/json_support.hpp>
#include <gradflow/apps/list_option.hpp>
#include <gradflow/apps/observe_output.hpp>
#include <gradflow/apps/support/memory_limit.hpp>
#include <gradflow/apps/trajectory_output.hpp>
#include <gradflow/core/counting_objective.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/core/tolerances.hpp>
#include <gradflow/discrete/flow_models.hpp>
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
  c->footer("Output: a summary on the terminal; --out writes the trajectory as CSV with the columns\n" +
            columns_help(kFlowRows) +
            "  nan marks a value that is undefined (no mu, or L = L_min); every row with --observe ntk checks\n"
            "  pl_ratio >= ntk_min.\n"
            "Exit status: 0 the run did what was asked, 1 it ended early (solver failure or --max-steps),\n"
            "  2 bad input (nothing is run and no file is written).\n"
            "Every option can also be given in a TOML file (--config run.toml), one per line, e.g.\n"
            "  solver = \"cvode-bdf\"\n  t-end = 5000\n  times = [1, 10, 100]");

  add_problem_options(*c, flow.problem);

  FlowOptions& o = flow.options;
  c->add_option("--solver", flow.solver, "Integrator: " + join_names(solver_names()))->capture_default_str();
  c->add_option("--t-end", o.t_end, "Final flow time (> 0)")->capture_default_str();
  c->add_option("--rtol", o.rtol, "Relative tolerance of adaptive solvers, in (0, 1)")->capture_default_str();
  c->add_option("--atol", o.atol, "Absolute tolerance of adaptive solvers (in (0, 1))")->capture_default_str();
  c->add_option("--dt", o.dt, "Step of the fixed-step solvers euler and rk4 (> 0)")->capture_default_str();
  add_list_option(*c, "--times", flow.times, "Record rows at these times, comma separated, increasing, in (0, t-end]");
  c->add_option("--save-every", o.save.every_t, "Record rows every this much flow time (default: every accepted step)");
  c->add_option("--save-every-steps", o.save.every_steps,
                "Record a row every this many accepted steps (>= 1; when neither --times nor --save-every is given)")
      ->capture_default_str();
  add_stop_options(*c, o.stop, flow.max_steps, "--max-steps", "Budget of accepted steps (>= 1)");
  c->add_option("--mu", flow.mu, "PL constant for the bound L0 exp(-2 mu t) (default: the problem's exact one)");
  c->add_option("--krylov", flow.krylov, "cvode-bdf-krylov: linear solver, gmres or pcg")->capture_default_str();
  c->add_flag("--certify", flow.certify,
              "Compute the PL certificate at theta0 (least-squares, mlp); when it holds, the rows get the certified "
              "bound L0 exp(-2 mu t) and the run checks ||theta - theta0|| against the certified travel");
  c->add_option("--flow", flow.model,
                "The flow: plain (theta' = -grad L), modified (-(grad L + (lr/2) H grad L): the flow gradient descent "
                "with step --lr follows to O(lr^2); the rows' loss is L + (lr/4) ||grad L||^2), central (the "
                "central flow of descent at the edge of stability: -(grad L + (sigma^2/2) grad S), sigma^2 holding "
                "the sharpness S at 2/lr) or edge (the edge flow: the centre c, direction u and amplitude a of "
                "descent's oscillation c +- a u; the rows' loss is the predicted time-averaged loss (L(c + a u) + "
                "L(c - a u))/2, the states written are c, the rows' grad_norm and dist_from_init are of the whole "
                "state); central and edge need exact Hessian-vector products; "
                "docs/theory.md §2.10; any solver")
      ->capture_default_str();
  c->add_option("--lr", flow.lr, "--flow modified, central or edge: the descent step size they model (> 0)");

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
  if (option_given(c, "--times")) flow.options.save.times = parse_number_list(flow.times, "--times");
  flow.options.stop.max_steps = flow.max_steps;
  if (option_given(c, "--observe")) flow.options.observe = parse_observe(flow.observe);

  const auto solver = solver_from_string(flow.solver);
  if (!solver) throw InputError("--solver", flow.solver, "unknown solver (known: " + join_names(solver_names()) + ")");
  flow.options.solver = *solver;
  const auto krylov = krylov_from_string(flow.krylov);
  if (!krylov) throw InputError("--krylov", flow.krylov, "unknown Krylov method (known: gmres, pcg)");
  flow.options.krylov = *krylov;
  if (const auto error = flow.options.validate()) {
    throw InputError(flag_for_field(error->field, kFlowFlags), error->value, error->constraint);
  }
  const auto model = flow_model_from_string(flow.model);
  if (!model) throw InputError("--flow", flow.model, "unknown flow (known: " + join_names(flow_model_names()) + ")");
  if (*model == FlowModel::plain) {
    if (option_given(c, "--lr"))
      throw InputError("--lr", full_precision(flow.lr), "is for --flow modified, central or edge");
  } else {
    if (!option_given(c, "--lr"))
      throw InputError("--flow", flow.model, "needs --lr, the descent step size the flow models");
    if (!(std::isfinite(flow.lr) && flow.lr > 0.0))
      throw InputError("--lr", full_precision(flow.lr), "must be a finite number > 0");
    if (flow.certify)
      throw InputError("--certify", "", "certifies the plain flow; it does not apply to --flow " + flow.model);
    if (flow.options.observe.any())
      throw InputError("--observe", "", "watches the plain flow's quantities; not with --flow " + flow.model);
  }
  PreparedRun prepared = prepare_run(c, "flow", flow.problem, flow.output, flow.threads, flow.certify,
                                     flow.options.observe, {{"--states-out", flow.states_out}});
  const LoadedProblem& loaded = prepared.loaded;
  const int threads_used = prepared.threads;
  check_flow_memory(flow, loaded);
  print_problem_report(loaded, "flow", flow.output.quiet);
  std::optional<Certificate> certificate;
  if (flow.certify) {
    certificate = certify_start(c, flow.mu, loaded, flow.problem.theta0, flow.output.quiet);
    if (certificate->applies && certificate->holds) {
      flow.options.mu = certificate->mu;
      flow.options.radius = certificate->travel;
    }
  }
  // Options of other solvers are ignored, with a warning (a shared config file may set them).
  const std::string chosen = "--solver " + flow.solver;
  const auto warn = [&](const char* option, const char* users) {
    warn_unused(c, flow.output.quiet, "flow", option, chosen, users);
  };
  if (is_fixed_step(flow.options.solver)) {
    warn("--rtol", "the adaptive solvers");
    warn("--atol", "the adaptive solvers");
  } else {
    warn("--dt", "euler and rk4");
  }
  // auto uses cvode-bdf-krylov above 200 parameters, and --krylov with it.
  if (flow.options.solver != Solver::cvode_bdf_krylov && flow.options.solver != Solver::automatic)
    warn("--krylov", "cvode-bdf-krylov and auto");
  if (flow.options.solver == Solver::cvode_bdf && !loaded.objective->has_hessian() &&
      loaded.objective->dimension() > tolerances::kMaxDenseHessianParameters && !flow.output.quiet) {
    std::cerr << "gradflow flow: warning: cvode-bdf on p = " << loaded.objective->dimension()
              << " parameters without a dense Hessian forms difference-quotient Jacobians (p gradients each) and "
                 "factors a dense p x p matrix at every Newton setup; cvode-bdf-krylov is the matrix-free BDF method\n";
  }

  // A model flow integrates its own field over L, counted on L (the solver's count is of field evaluations).
  const CountingObjective counted(*loaded.objective);
  std::unique_ptr<Objective> model_objective;
  Vector start = loaded.theta0;  // the edge flow's state is (c, u, a)
  if (*model != FlowModel::plain) {
    try {
      model_objective = flow_model_objective(counted, *model, flow.lr);
      start = flow_model_start(counted, *model, flow.lr, loaded.theta0);
    } catch (const std::invalid_argument& e) {
      throw InputError("--flow", flow.model, e.what());
    }
  }
  const bool edge_of_stability = *model == FlowModel::central || *model == FlowModel::edge;
  // The parameters in the flow's state: the edge flow's state is (c, u, a), and its rows' states are c.
  const Eigen::Index p = loaded.objective->dimension();

  // The rows go to the files as they are recorded; only the first and the last stay in memory.
  TrajectoryOutputs outputs(RunKind::flow, flow.output, flow.states_out, flow.options.observe, p);
  flow.options.save.keep_rows = false;
  flow.options.save.sink = outputs.sink();
  if (start.size() != p) {
    flow.options.save.sink = [sink = outputs.sink(), p](const Row& row, ConstVectorView z) { sink(row, z.head(p)); };
  }
  const Observer progress = outputs.progress(flow.options.t_end);
  set_activity("integrating the flow");
  FlowResult result =
      simulate_flow(model_objective ? *model_objective : *loaded.objective, start, flow.options, progress);
  long field_evaluations = 0;
  if (model_objective) {
    field_evaluations = result.stats.num_gradient_evals;
    const EvaluationCounts k = counted.counts();
    result.stats.num_gradient_evals = k.num_gradient_evals;
    result.stats.num_loss_evals = k.num_loss_evals;
    result.stats.num_hessian_vector_evals = k.num_hessian_vector_evals;
  }
  outputs.end_progress();
  // The model's prediction at the end, from L itself (not counted with the run's work).
  std::optional<ModelState> end_state;
  if (edge_of_stability && result.theta.size() == start.size()) {
    end_state = edge_of_stability_flow(*loaded.objective, *model, flow.lr)->state(result.theta);
    result.theta = end_state->center;  // the parameters: the edge flow's centre
  }

  RunEnd end = run_end("flow", RunKind::flow, result, loaded, flow.output, flow.options.observe, threads_used);
  end.certificate = certificate;
  end.certified = certificate && certificate->applies && certificate->holds;
  std::string model_report;
  nlohmann::json model_json;
  if (model_objective) {
    model_json = {{"flow", flow.model},
                  {"lr", flow.lr},
                  {"field_evaluations", field_evaluations},
                  {"counts", "stats count the evaluations of L (gradients, Hessian-vector products)"}};
    model_report = "flow model      " + flow.model + " with lr " + format_number("%.6g", flow.lr) + ": " +
                   std::to_string(field_evaluations) + " evaluations of its field (stats count those of L)\n";
    if (end_state) {
      model_json["sharpness_final"] = end_state->sharpness;
      model_json["sigma2_final"] = end_state->sigma2;
      model_json["average_loss_final"] = end_state->average_loss;
      model_json["loss_at_centre_final"] = end_state->loss;
      model_report += flow.model + " flow" + std::string(flow.model.size() < 11 ? 11 - flow.model.size() : 1, ' ') +
                      "at the end: sharpness " + format_number("%.6g", end_state->sharpness) +
                      " (2/lr = " + format_number("%.6g", 2.0 / flow.lr) + "), sigma^2 " +
                      format_number("%.6g", end_state->sigma2) + ", predicted time-averaged loss of descent " +
                      format_number("%.6g", end_state->average_loss) + "\n";
    }
  }
  end.add_json = [&](nlohmann::json& summary) {
    summary["mu_source"] = mu_source(end.certified, option_given(c, "--mu"), result.mu.has_value());
    if (!model_json.is_null()) summary["flow_model"] = model_json;
  };
  end.extra_report = model_report;
  return finish_run(end, outputs);
}

}  // namespace gradflow::cli
