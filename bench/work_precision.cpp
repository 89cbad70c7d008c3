// Work-precision diagrams, as the ODE community draws them to choose a solver: for the quadratic flow
// (p = 200, kappa = 1e4, to t = 5000; error against the exact solution) and the network (32 x 64, width
// 64, tanh, to t = 50; error against a reference solution by fehlberg78 at rtol 1e-13), every adaptive
// solver at rtol = 1e-4 ... 1e-10 (atol = rtol / 100): relative error of the final state against wall
// time (best of --repeats) and against gradient evaluations.
//
//   build/release/bench/gradflow_work_precision [--out results/work-precision] [--repeats 3]
//
// Writes work_precision.csv (problem, solver, rtol, atol, wall_seconds, grad_evals, hvp_evals,
// jac_evals, steps, rel_error, status) and, with gnuplot, <problem>_error_vs_time.{png,svg} and
// <problem>_error_vs_evals.{png,svg}.
#include <gradflow/apps/cli_support.hpp>
#include <gradflow/apps/support/spawn.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include "bench_problems.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;
using namespace gradflow;

int main(int argc, char** argv) {
  CLI::App app{"gradflow work-precision diagrams: error against wall time and gradient evaluations for every solver"};
  std::string out = "results/work-precision";
  int repeats = 3;
  app.add_option("--out", out, "Output directory")->capture_default_str();
  app.add_option("--repeats", repeats, "Repeats per measurement (the minimum wall time is kept)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (repeats < 1) {
    std::cerr << "gradflow_work_precision: --repeats " << repeats << ": must be >= 1\n";
    return 2;
  }
  fs::create_directories(out);
  const std::vector<std::string> solvers{"dopri5",    "cash-karp54",      "fehlberg78", "bulirsch-stoer",
                                         "cvode-bdf", "cvode-bdf-krylov", "cvode-adams"};
  const std::vector<double> tolerances{1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10};
  std::ostringstream csv;
  csv << "problem,solver,rtol,atol,wall_seconds,grad_evals,hvp_evals,jac_evals,steps,rel_error,status\n";
  struct Case {
    std::string name;
    double t_end;
  };
  for (const Case& c : {Case{"quadratic-1e4", 5000.0}, Case{"mlp", 50.0}}) {
    const Objective& f = bench::problem(c.name);
    const Vector theta0 = bench::start(c.name);
    Vector reference;
    if (f.has_exact_flow()) {
      reference = f.exact_flow(theta0, c.t_end);
    } else {
      FlowOptions tight;
      tight.solver = Solver::fehlberg78;
      tight.t_end = c.t_end;
      tight.rtol = 1e-13;
      tight.atol = 1e-15;
      tight.save.times = {c.t_end};
      reference = simulate_flow(f, theta0, tight).theta;
    }
    std::cout << c.name << ":\n";
    for (const std::string& name : solvers) {
      std::ofstream data(fs::path(out) / (c.name + "_" + name + ".dat"));
      data << "# wall_seconds grad_evals rel_error rtol\n";
      if (name == "cvode-bdf" && !f.has_hessian()) {
        // Without a dense Hessian, CVODE's difference-quotient Jacobian costs p gradients and every
        // Newton setup a dense p x p factorization: minutes per run at p = 4160. The matrix-free
        // cvode-bdf-krylov is the BDF method for networks.
        std::printf("  %-17s skipped: no dense Hessian at p = %ld (use cvode-bdf-krylov)\n", name.c_str(),
                    static_cast<long>(f.dimension()));
        continue;
      }
      for (const double rtol : tolerances) {
        FlowOptions o;
        o.solver = *solver_from_string(name);
        o.t_end = c.t_end;
        o.rtol = rtol;
        o.atol = rtol / 100.0;
        o.save.times = {c.t_end};
        FlowResult best;
        double wall = 1e300;
        for (int r = 0; r < repeats; ++r) {
          FlowResult result = simulate_flow(f, theta0, o);
          if (result.stats.wall_seconds < wall) wall = result.stats.wall_seconds;
          best = std::move(result);
        }
        const double error = (best.theta - reference).norm() / reference.norm();
        csv << c.name << "," << name << "," << rtol << "," << o.atol << "," << full_precision(wall) << ","
            << best.stats.num_gradient_evals << "," << best.stats.num_hessian_vector_evals << ","
            << best.stats.num_jacobian_evals << "," << best.stats.num_steps << "," << full_precision(error) << ","
            << to_string(best.status) << "\n";
        if (best.succeeded())
          data << wall << " " << best.stats.num_gradient_evals << " " << error << " " << rtol << "\n";
        std::printf("  %-17s rtol %.0e: %10.3e s, %8ld gradient evals, error %.3e\n", name.c_str(), rtol, wall,
                    best.stats.num_gradient_evals, error);
        std::fflush(stdout);
      }
    }
  }
  const std::string csv_path = (fs::path(out) / "work_precision.csv").string();
  write_file_atomically("--out", csv_path, [&](std::ostream& stream) { stream << csv.str(); });
  std::cout << "table: " << csv_path << "\n";
  std::cout.flush();

  if (!gradflow::find_program("gnuplot")) {
    std::cerr << "gradflow_work_precision: gnuplot not found: figures not drawn\n";
    return 0;
  }
  for (const std::string problem : {"quadratic-1e4", "mlp"}) {
    for (const auto& [suffix, column, label] :
         {std::tuple{"time", 1, "wall time (s)"}, std::tuple{"evals", 2, "gradient evaluations"}}) {
      const std::string name = problem + "_error_vs_" + suffix;
      std::ostringstream script;
      std::ostringstream plot;
      int color = 1;
      bool first = true;
      for (const std::string& solver : solvers) {
        // Only solvers with measured points (cvode-bdf is skipped on the network).
        std::ifstream data(fs::path(out) / (problem + "_" + solver + ".dat"));
        std::string header, point;
        std::getline(data, header);
        if (std::getline(data, point)) {
          plot << (first ? "" : ", ") << "'" << problem << "_" << solver << ".dat' using " << column
               << ":3 with linespoints lw 2 lc " << color << " title '" << solver << "'";
          first = false;
        }
        ++color;
      }
      const std::string setup = "set title 'Work-precision: " + problem +
                                "'\nset logscale xy\nset format y '%.0e'\n"
                                "set xlabel '" +
                                std::string(label) +
                                "'\nset ylabel 'relative error of the final state'\n"
                                "set key outside right\nset grid\n";
      script << "set terminal pngcairo size 960,600 noenhanced font ',11'\nset output '" << name << ".png.part'\n"
             << setup << "plot " << plot.str() << "\nset terminal svg size 960,600 noenhanced\nset output '" << name
             << ".svg.part'\nreplot\nunset output\n";
      std::ofstream(fs::path(out) / (name + ".gp")) << script.str();
      // No shell: gnuplot runs in the output folder with the script's name as its argument.
      gradflow::SpawnOptions options;
      options.working_directory = out;
      options.inherit_stderr = true;
      if (gradflow::run_program({"gnuplot", name + ".gp"}, options).succeeded()) {
        for (const char* ext : {".png", ".svg"})
          fs::rename(fs::path(out) / (name + ext + ".part"), fs::path(out) / (name + ext));
        std::cout << "figure: " << (fs::path(out) / (name + ".png")).string() << " (and .svg)\n";
      } else {
        std::cerr << "gradflow_work_precision: gnuplot failed on " << name << ".gp\n";
      }
    }
  }
  return 0;
}
