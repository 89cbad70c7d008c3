#include <gradflow/apps/certify_command.hpp>

#include <gradflow/apps/certificate_output.hpp>
#include <gradflow/apps/cli_support.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <iostream>

namespace gradflow::cli {

void add_certify_command(CLI::App& app, CertifyCommand& d) {
  CLI::App* c = app.add_subcommand(
      "certify",
      "The local PL certificate at theta0: is linear convergence to zero loss guaranteed, how fast, how far?");
  d.command = c;
  c->footer(
      "For the squared-loss problems (least-squares, mlp) the certificate is rigorous (docs/theory.md §4):\n"
      "  with sigma0 = sigma_min(J(theta0)) and l(r) a proved bound on the Lipschitz constant of J over\n"
      "  B(theta0, r), gradient flow is certified when r (sigma0 - l(r) r) > ||r0|| for some r (sigma0^2 >\n"
      "  4 l ||r0|| for constant l), descent with step 1/beta_r when it exceeds 2 ||r0||. Networks need a\n"
      "  qualifying activation (tanh, arctan, softplus, sigmoid, softplus-centered), no biases, and linearly\n"
      "  independent inputs (n <= d); otherwise the report says why the theory does not apply.\n"
      "--find-scale (mlp, --init positive): the smallest output scale s* at which the certificate holds.\n"
      "Other problems get sampled ESTIMATES of mu and beta on B(theta0, --radius), labelled as such.\n"
      "Exit status: 0 computed (whatever the verdict), 2 bad input.");
  add_problem_options(*c, d.problem);
  c->add_flag("--find-scale", d.find_scale, "mlp with --init positive: find the smallest certified output scale s*");
  c->add_option("--radius", d.radius, "Problems without residual structure: radius of the sampled ball (> 0)")
      ->capture_default_str();
  c->add_option("--samples", d.samples, "Problems without residual structure: number of sampled points (>= 1)")
      ->capture_default_str();
  c->add_option("--json", d.json, "Write the certificate as JSON here ('-': standard output)");
  c->add_option("--config", d.config, "TOML file with any of these options (the command line wins)");
  c->add_flag("--quiet", d.quiet, "No report on the terminal");
}

int run_certify_command(CertifyCommand& d) {
  CLI::App& c = *d.command;
  set_activity("reading the options");
  apply_config_file(c, d.config);
  if (!(d.radius > 0.0) || !std::isfinite(d.radius))
    throw InputError("--radius", full_precision(d.radius), "must be a finite number > 0");
  if (d.samples < 1 || d.samples > 100000000)
    throw InputError("--samples", std::to_string(d.samples), "must be in [1, 1e8]");
  prepare_problem_args(c, d.problem);
  check_certificate_depth(d.problem, "the certificate");
  if (d.find_scale && d.problem.spec.problem != ProblemKind::mlp)
    throw InputError("--find-scale", "", "needs --problem mlp");
  if (d.find_scale && d.problem.spec.init != InitScheme::positive) {
    throw InputError("--find-scale", "", "needs --init positive (the scale search is for the positive initialization)");
  }
  if (d.find_scale && !d.problem.theta0.empty())
    throw InputError("--find-scale", "", "cannot be combined with --theta0");
  check_paths(input_paths(d.problem, d.config), given_outputs(c, {{"--json", d.json}}), /*dash_is_stdout=*/true);
  const LoadedProblem loaded = load_problem(c, d.problem);
  set_activity("computing the certificate");
  print_problem_report(loaded, "certify", d.quiet);

  nlohmann::json summary;
  summary["problem_details"] = loaded.description;
  std::string report;
  const Mlp* network = loaded.network;
  if (d.find_scale) {
    InitOptions init;
    init.scheme = InitScheme::positive;
    init.seed = d.problem.spec.init_seed;
    const ScaleSearch search = find_positive_scale(*network, init);
    summary["find_scale"] = {{"found", search.found}};
    if (search.found) {
      const ScaleSearch descent = find_positive_scale(*network, init, /*for_descent=*/true);
      summary["find_scale"]["scale"] = search.scale;
      summary["find_scale"]["descent_scale"] = descent.found ? nlohmann::json(descent.scale) : nlohmann::json(nullptr);
      summary["certificate"] = certificate_json(search.certificate);
      report = "smallest certified output scale s* = " + full_precision(search.scale) +
               " for the flow (the condition is monotone in |s|: it holds for every |s| >= s*)\n";
      if (descent.found) {
        report +=
            "smallest output scale certifying descent with step 1/beta_r: " + full_precision(descent.scale) + "\n";
      }
      report += "the certificate at s*:\n" + certificate_report(search.certificate);
    } else {
      summary["find_scale"]["why_not"] = search.why_not;
      report = "no certified output scale: " + search.why_not + "\n";
    }
  } else {
    check_certificate_theta0(*loaded.objective, loaded.theta0, d.problem.theta0);
    const Certificate certificate = certify(*loaded.objective, loaded.theta0);
    summary["certificate"] = certificate_json(certificate);
    report = certificate_report(certificate);
    if (!certificate.applies && !network) {
      const LocalEstimate estimate =
          estimate_local_constants(*loaded.objective, loaded.theta0, d.radius, d.samples, d.problem.spec.seed);
      summary["estimate"] = estimate_json(estimate);
      report += estimate_report(estimate);
    }
  }
  if (!d.json.empty()) {
    set_activity("writing the outputs");
    write_output("--json", d.json, [&](std::ostream& out) { out << summary.dump(2) << "\n"; });
  }
  if (!d.quiet) std::cout << report;
  return kExitSuccess;
}

}  // namespace gradflow::cli
