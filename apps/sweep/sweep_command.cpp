#include <gradflow/apps/sweep/sweep_command.hpp>

#include <gradflow/apps/cli_support.hpp>
#include <gradflow/apps/sweep/sweep_file.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/experiments/sweep_plots.hpp>
#include <gradflow/experiments/sweep_runner.hpp>
#include <gradflow/experiments/sweep_summary.hpp>

#ifdef GRADFLOW_HAVE_MPI
#include <mpi.h>
#endif

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

namespace gradflow::cli {
namespace {

namespace fs = std::filesystem;

struct MpiContext {
  int rank = 0;
  int size = 1;
  bool active = false;
};

// MPI is used only when the process was started by an MPI launcher.
MpiContext start_mpi() {
  MpiContext context;
#ifdef GRADFLOW_HAVE_MPI
  if (std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK")) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) MPI_Init(nullptr, nullptr);
    MPI_Comm_rank(MPI_COMM_WORLD, &context.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &context.size);
    context.active = true;
  }
#endif
  return context;
}

void stop_mpi(const MpiContext& context) {
#ifdef GRADFLOW_HAVE_MPI
  if (context.active) MPI_Finalize();
#else
  (void)context;
#endif
}

// Rank 0 receives every rank's new lines.
std::string gather_lines(const MpiContext& context, const std::string& mine) {
#ifdef GRADFLOW_HAVE_MPI
  if (context.active && context.size > 1) {
    int length = static_cast<int>(mine.size());
    std::vector<int> lengths(static_cast<std::size_t>(context.size));
    MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
    std::vector<int> offsets(static_cast<std::size_t>(context.size), 0);
    std::string all;
    if (context.rank == 0) {
      for (int r = 1; r < context.size; ++r) offsets[r] = offsets[r - 1] + lengths[r - 1];
      all.resize(static_cast<std::size_t>(offsets.back() + lengths.back()));
    }
    MPI_Gatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, 0, MPI_COMM_WORLD);
    return all;
  }
#endif
  (void)context;
  return mine;
}

int execute_sweep(const SweepSpec& spec, int threads, bool quiet, bool no_plots) {
  const MpiContext mpi = start_mpi();
  const fs::path out(spec.out);
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec || !fs::is_directory(out)) throw InputError("out", spec.out, "cannot create the output directory");
  const std::string runs_path = (out / "runs.csv").string();

  // What earlier (possibly killed) sweeps finished: runs.csv and any per-rank files left behind.
  std::vector<RunRecord> existing = read_runs(runs_path);
  for (const auto& entry : fs::directory_iterator(out)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("runs.rank", 0) == 0 && entry.path().extension() == ".csv") {
      for (auto& r : read_runs(entry.path().string())) existing.push_back(std::move(r));
    }
  }
  std::set<std::string> done;
  for (const RunRecord& r : existing) done.insert(r.run.key());
  const std::vector<RunSpec> all = enumerate_runs(spec);
  std::vector<RunSpec> pending;
  long skipped = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (done.count(all[i].key())) {
      ++skipped;
      continue;
    }
    if (static_cast<int>(i % static_cast<std::size_t>(mpi.size)) == mpi.rank) pending.push_back(all[i]);
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int workers = threads > 0 ? threads : std::max(1, static_cast<int>(cores) / mpi.size);
  if (!quiet && mpi.rank == 0) {
    std::printf("sweep: %zu runs in the grid, %ld already done, %zu to run%s on %d thread(s)%s\n", all.size(), skipped,
                pending.size(), mpi.size > 1 ? " on this rank" : "", workers,
                mpi.size > 1 ? (" x " + std::to_string(mpi.size) + " MPI ranks").c_str() : "");
    std::fflush(stdout);
  }
  const std::string append_path =
      mpi.size > 1 ? (out / ("runs.rank" + std::to_string(mpi.rank) + ".csv")).string() : runs_path;
  SweepProgress progress;
  progress.total = static_cast<long>(pending.size());
  auto future =
      std::async(std::launch::async, [&] { return execute_pending(pending, spec, workers, append_path, &progress); });
  const bool show_progress = !quiet && mpi.rank == 0 && stderr_is_terminal();
  const auto started = std::chrono::steady_clock::now();
  while (future.wait_for(std::chrono::milliseconds(250)) != std::future_status::ready) {
    if (!show_progress || progress.total == 0) continue;
    const long finished = progress.done.load();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const int bar = static_cast<int>(30.0 * static_cast<double>(finished) / static_cast<double>(progress.total));
    const double eta =
        finished > 0 ? elapsed / static_cast<double>(finished) * static_cast<double>(progress.total - finished) : 0.0;
    std::fprintf(stderr, "\r  [%-30s] %ld/%ld runs, ETA %4.0f s ",
                 std::string(static_cast<std::size_t>(bar), '#').c_str(), finished, progress.total, eta);
    std::fflush(stderr);
  }
  if (show_progress) std::fprintf(stderr, "\r%72s\r", "");
  const std::vector<RunRecord> fresh = future.get();

  std::string mine;
  for (const RunRecord& r : fresh) mine += to_csv_line(r) + "\n";
  const std::string gathered = gather_lines(mpi, mine);
  int exit_code = kExitSuccess;
  if (mpi.rank == 0) {
    std::vector<RunRecord> records = existing;
    std::istringstream lines(gathered);
    std::string line;
    while (std::getline(lines, line)) {
      if (auto r = parse_csv_line(line)) records.push_back(std::move(*r));
    }
    write_runs_sorted(runs_path, records);
    for (const auto& entry : fs::directory_iterator(out)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("runs.rank", 0) == 0) fs::remove(entry.path(), ec);
    }
    const std::vector<RunRecord> final_records = read_runs(runs_path);
    const std::vector<SummaryRow> summary = summarize(final_records);
    const std::string summary_path = (out / "summary.csv").string();
    write_summary(summary_path, summary);
    PlotResult plots;
    if (!no_plots) plots = make_plots(spec, final_records, summary);
    if (!quiet) {
      std::cout << format_summary(summary);
      std::cout << "runs:    " << runs_path << "\nsummary: " << summary_path << "\n";
      if (!plots.files.empty())
        std::cout << "plots:   " << (out / "plots").string() << " (" << plots.files.size() << " files)\n";
    }
    if (!plots.warning.empty()) std::cerr << "gradflow sweep: warning: " << plots.warning << "\n";
  }
  stop_mpi(mpi);
  return exit_code;
}

}  // namespace

void add_sweep_command(CLI::App& app, SweepCommand& d) {
  CLI::App* c = app.add_subcommand(
      "sweep", "Run a grid of network trainings from a TOML file: tables and plots, parallel and resumable");
  d.command = c;
  c->footer(
      "The sweep file (--config sweep.toml) holds the grid and the settings, e.g.\n"
      "  inits = [\"positive\", \"xavier_normal\"]   widths = [16, 32, 64]   depths = [1]\n"
      "  activations = [\"tanh\"]   seeds = 20   methods = [\"armijo\", \"cvode-bdf\"]\n"
      "  datasets = [\"synthetic:16x32\"]   eps = 1e-3   max-steps = 5000   lr = 1.0\n"
      "  output-scale = \"auto\"   t-end = 1e6   gamma = 0   teacher = false   curve-points = 200\n"
      "  out = \"results/sweep\"\n"
      "(one key per line). A method is a descent step rule or a flow solver. Results go to <out>/runs.csv (one\n"
      "row per run, appended as runs finish), <out>/summary.csv and <out>/plots/*.png, *.svg. Running the same\n"
      "sweep again skips finished runs. Under mpirun -n K the runs are split across ranks and rank 0\n"
      "gathers them.");
  c->add_option("--config", d.config, "The sweep file (TOML)")->required();
  c->add_option("--out", d.out, "Output directory (overrides the file's 'out')");
  c->add_option("--threads", d.threads, "Worker threads per process (0 = all cores, divided among MPI ranks)")
      ->capture_default_str();
  c->add_flag("--no-plots", d.no_plots, "Skip the gnuplot figures");
  c->add_flag("--quiet", d.quiet, "No progress and no summary on the terminal");
}

int run_sweep_command(SweepCommand& d) {
  SweepSpec spec = read_sweep_file(d.config);
  if (!d.out.empty()) spec.out = d.out;
  if (d.threads < 0) throw InputError("--threads", std::to_string(d.threads), "must be >= 0");
  return execute_sweep(spec, d.threads, d.quiet, d.no_plots);
}

void add_compare_inits_command(CLI::App& app, CompareInitsCommand& d) {
  CLI::App* c = app.add_subcommand(
      "compare-inits", "The paper's comparison: positive versus standard random initializations at the same widths");
  d.command = c;
  c->footer(
      "A sweep with defaults: trains the same network from each initialization scheme, at each width, for\n"
      "--seeds seeds, on synthetic linearly independent data, and reports how many steps each needs to reach\n"
      "eps L0 (summary.csv: median, interquartile range, and the speedup of positive over each scheme).\n"
      "The positive initialization uses the output scale 1.05 s* (the smallest certified one) unless\n"
      "--output-scale is given. Results: <out>/runs.csv, <out>/summary.csv, <out>/plots/.");
  SweepSpec& s = d.spec;
  s.widths = {16, 32, 64};
  // The theory is about linear convergence to zero loss: a deep target measures the rate, not only
  // the first transient (at eps = 1e-3 the ranking of the schemes can differ).
  s.eps = 1e-6;
  s.max_steps = 20000;
  s.out = "results/compare-inits";
  c->add_option("--inits", d.inits, "Initialization schemes, comma separated")->delimiter(',')->capture_default_str();
  c->add_option("--widths", s.widths, "Hidden widths, comma separated")->delimiter(',')->capture_default_str();
  c->add_option("--depth", d.depth, "Number of hidden layers")->capture_default_str();
  c->add_option("--activation", d.activation, "Activation")->capture_default_str();
  c->add_option("--seeds", d.seeds, "Seeds per scheme and width")->capture_default_str();
  c->add_option("--method", d.method, "A descent step rule or a flow solver")->capture_default_str();
  c->add_option("--synthetic", d.synthetic, "Synthetic data NxD (n samples, d features; n <= d for the theory)")
      ->capture_default_str();
  c->add_flag("--teacher", s.teacher, "Targets from a random teacher network");
  c->add_option("--eps", s.eps, "Converged at loss <= eps L0")->capture_default_str();
  c->add_option("--max-steps", s.max_steps, "Step budget per run")->capture_default_str();
  c->add_option("--lr", s.lr, "fixed: step size; armijo: first trial step")->capture_default_str();
  c->add_option("--output-scale", d.output_scale, "positive: output scale, or auto (1.05 s*)")->capture_default_str();
  c->add_option("--out", s.out, "Output directory")->capture_default_str();
  c->add_option("--threads", d.threads, "Worker threads (0 = all cores)")->capture_default_str();
  c->add_option("--config", d.config, "TOML file with any of these options (the command line wins)");
  c->add_flag("--no-plots", d.no_plots, "Skip the gnuplot figures");
  c->add_flag("--quiet", d.quiet, "No progress and no summary on the terminal");
}

int run_compare_inits_command(CompareInitsCommand& d) {
  if (!d.config.empty()) apply_config_file(*d.command, d.config);
  SweepSpec spec = d.spec;
  if (d.seeds < 1) throw InputError("--seeds", std::to_string(d.seeds), "must be >= 1");
  spec.seeds.clear();
  for (long s = 0; s < d.seeds; ++s) spec.seeds.push_back(s);
  spec.depths = {d.depth};
  spec.inits = parse_inits(d.inits, "--inits", "");
  spec.activations = parse_activations({d.activation}, "--activation", "");
  spec.methods = parse_methods({d.method}, "--method", "");
  spec.datasets = parse_datasets({"synthetic:" + d.synthetic}, "--synthetic", "");
  spec.output_scale = parse_output_scale(d.output_scale, "--output-scale", "");
  if (d.threads < 0) throw InputError("--threads", std::to_string(d.threads), "must be >= 0");
  validate(spec, "compare-inits");
  return execute_sweep(spec, d.threads, d.quiet, d.no_plots);
}

}  // namespace gradflow::cli
