#include <gradflow/apps/sweep/sweep_command.hpp>

#include <gradflow/apps/cli_support.hpp>
#include <gradflow/apps/common_options.hpp>
#include <gradflow/apps/list_option.hpp>
#include <gradflow/apps/observe_output.hpp>
#include <gradflow/apps/support/folder_lock.hpp>
#include <gradflow/apps/support/memory_limit.hpp>
#include <gradflow/apps/support/output_file.hpp>
#include <gradflow/apps/sweep/sweep_file.hpp>
#include <gradflow/apps/sweep/sweep_files.hpp>
#include <gradflow/apps/sweep/sweep_manifest.hpp>
#include <gradflow/apps/sweep/sweep_memory.hpp>
#include <gradflow/apps/sweep/sweep_plots.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/core/thread_pool.hpp>
#include <gradflow/core/tolerances.hpp>
#include <gradflow/experiments/run_record.hpp>
#include <gradflow/experiments/sweep_runner.hpp>
#include <gradflow/experiments/sweep_summary.hpp>
#include <gradflow/flow/options.hpp>

#ifdef GRADFLOW_HAVE_MPI
#include <mpi.h>
#endif

#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
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

void stop_mpi(const MpiContext& context);

// Finalizes MPI on every path; an exception on one rank aborts them all (the others would wait for it).
struct MpiGuard {
  MpiContext context;
  ~MpiGuard() {
#ifdef GRADFLOW_HAVE_MPI
    if (context.active && context.size > 1 && std::uncaught_exceptions() > 0) MPI_Abort(MPI_COMM_WORLD, 3);
#endif
    stop_mpi(context);
  }
};

// Rank 0's verdict on the folder (0 go, else the exit code), given to every rank.
int broadcast_code(const MpiContext& context, int code) {
#ifdef GRADFLOW_HAVE_MPI
  if (context.active && context.size > 1) MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
#else
  (void)context;
#endif
  return code;
}

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
  if (!context.active) return;
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

struct SweepRun {
  int threads = 0;
  bool quiet = false;
  bool no_plots = false;
  bool overwrite = false;
  std::vector<NamedPath> inputs;                // the config file and the file data sets
  std::string out_option;                       // how the folder was given: "--out" or "--config FILE out"
  std::string scale_option = "--output-scale";  // names output-scale auto in an error
  std::string preprocess_option = "--whiten";   // names the transform in an error
  std::string data_option = "--synthetic";      // names a synthetic data set too large for memory
  std::string config_label;                     // "--config 'f.toml'" for a sweep file ("" for flags)
  // The option that names a setting in an error: the sweep file's key, or compare-inits' flag.
  std::string option_for(const std::string& field) const {
    std::string dashed = field;
    for (char& ch : dashed)
      if (ch == '_') ch = '-';
    return config_label.empty() ? "--" + dashed : config_label + " " + dashed;
  }
};

int execute_sweep(const SweepSpec& spec, const SweepRun& how) {
  MpiGuard guard{start_mpi()};
  const MpiContext& mpi = guard.context;
  const fs::path out(spec.out);
  const std::string runs_path = (out / "runs.csv").string();

  // Everything is checked before the folder is created or touched.
  set_activity("checking the sweep");
  const bool manifest_is_input = check_sweep_paths(spec.out, how.inputs, how.out_option);
  // The grid's size is known before it is enumerated: its memory is checked first.
  const std::uint64_t count = sweep_run_count(spec);
  const ThreadPlan plan =
      plan_threads(how.threads, static_cast<long>(std::min<std::uint64_t>(count, LONG_MAX)), mpi.size);
  check_sweep_memory(spec, plan.threads, "--threads", how.data_option);
  const std::vector<RunSpec> all = enumerate_runs(spec);
  // Every data set must survive its transform (whitening needs independent inputs).
  if (const auto error = check_datasets(spec)) {
    throw InputError(error->field == "preprocess" ? how.preprocess_option : how.option_for(error->field), error->value,
                     error->constraint);
  }
  if (const auto error = check_auto_scale(spec)) {
    throw InputError(error->field == "preprocess" ? how.preprocess_option : how.scale_option, error->value,
                     error->constraint);
  }
  if (!plan.warning.empty() && !how.quiet && mpi.rank == 0)
    std::cerr << "gradflow sweep: warning: " << plan.warning << "\n";

  // The folder: locked for the run, its manifest checked (rank 0; the others follow its verdict).
  std::optional<SweepFolder> opened;
  std::exception_ptr refused;
  int code = 0;
  if (mpi.rank == 0) {
    try {
      opened.emplace(open_sweep_folder(spec, how.overwrite, how.out_option, manifest_is_input));
    } catch (const InputError&) {
      refused = std::current_exception();
      code = kExitBadInput;
    } catch (...) {
      refused = std::current_exception();
      code = kExitResources;
    }
  }
  code = broadcast_code(mpi, code);
  if (refused) std::rethrow_exception(refused);
  if (code != 0) return code;
  // Every file and sub-folder is reached from the folder's descriptor: a link planted in it is refused.
  const OutputFolder folder = mpi.rank == 0 ? std::move(opened->folder) : OutputFolder(how.out_option, spec.out, true);
  const auto warn = [&](const std::string& warning) {
    if (!how.quiet) std::cerr << "gradflow sweep: warning: " << warning << "\n";
  };

  // What earlier (possibly killed) sweeps finished: runs.csv and any per-rank files left behind. A torn
  // last line or a malformed row of the file this process appends to is dropped first (with a warning),
  // so that no new line continues it, and its run is done again.
  set_activity("reading the runs already done");
  const std::string runs_name = "runs.csv";
  const std::string append_name = mpi.size > 1 ? "runs.rank" + std::to_string(mpi.rank) + ".csv" : runs_name;
  if (mpi.rank == 0 && append_name != runs_name) repair_runs_file(folder, runs_name, warn);
  repair_runs_file(folder, append_name, warn);
  std::set<std::string> done;
  for (const RunRecord& r : read_runs_in(folder, runs_name)) done.insert(r.run.key());
  for (const std::string& name : folder.names()) {
    if (is_rank_file(name)) {
      for (auto& r : read_runs_in(folder, name)) done.insert(r.run.key());
    }
  }
  std::vector<RunSpec> pending;
  long skipped = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (done.count(all[i].key())) {
      ++skipped;
      continue;
    }
    if (static_cast<int>(i % static_cast<std::size_t>(mpi.size)) == mpi.rank) pending.push_back(all[i]);
  }
  const int workers = std::max(1, std::min(plan.threads, static_cast<int>(std::max<std::size_t>(pending.size(), 1))));
  if (!how.quiet && mpi.rank == 0) {
    std::printf("sweep: %zu runs in the grid, %ld already done, %zu to run%s on %d thread(s)%s\n", all.size(), skipped,
                pending.size(), mpi.size > 1 ? " on this rank" : "", workers,
                mpi.size > 1 ? (" x " + std::to_string(mpi.size) + " MPI ranks").c_str() : "");
    std::fflush(stdout);
  }
  SweepProgress progress;
  progress.total = static_cast<long>(pending.size());
  const bool show_progress = !how.quiet && mpi.rank == 0 && stderr_is_terminal();
  const auto started = std::chrono::steady_clock::now();
  const auto tick = [&] {
    if (!show_progress || progress.total == 0) return;
    const long finished = progress.done.load();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const int bar = static_cast<int>(30.0 * static_cast<double>(finished) / static_cast<double>(progress.total));
    const double eta =
        finished > 0 ? elapsed / static_cast<double>(finished) * static_cast<double>(progress.total - finished) : 0.0;
    std::fprintf(stderr, "\r  [%-30s] %ld/%ld runs, ETA %4.0f s ",
                 std::string(static_cast<std::size_t>(bar), '#').c_str(), finished, progress.total, eta);
    std::fflush(stderr);
  };
  set_activity("running the sweep");
  const std::vector<RunRecord> fresh =
      run_with_progress([&] { return execute_pending(pending, spec, workers, folder, append_name, &progress, warn); },
                        tick, std::chrono::milliseconds(250));
  if (show_progress) std::fprintf(stderr, "\r%72s\r", "");

  // Ranks on other machines write their files elsewhere: rank 0 also receives their lines.
  std::string mine;
  for (const RunRecord& r : fresh) mine += to_csv_line(r) + "\n";
  const std::string gathered = gather_lines(mpi, mine);
  if (mpi.rank == 0) {
    // The sorted runs.csv is built from what is on disk (runs.csv and the ranks' files), with the
    // gathered lines only for runs that no file on this machine holds.
    set_activity("writing runs.csv");
    std::vector<RunRecord> records = read_runs_in(folder, runs_name);
    std::vector<std::string> rank_files;
    for (const std::string& name : folder.names())
      if (is_rank_file(name)) rank_files.push_back(name);
    for (const std::string& file : rank_files)
      for (auto& r : read_runs_in(folder, file)) records.push_back(std::move(r));
    if (mpi.size > 1) {
      std::istringstream lines(gathered);
      std::string line;
      const RunsCsvReader reader(runs_csv_header());
      while (std::getline(lines, line)) {
        if (auto r = reader.parse(line)) records.push_back(std::move(*r));
      }
    }
    write_runs_sorted(folder, runs_name, records);
    for (const std::string& file : rank_files) folder.remove(file);
    const std::vector<RunRecord> final_records = read_runs_in(folder, runs_name);
    SummaryOptions summary_options;
    summary_options.verdict_on = spec.verdict_on;
    const std::vector<SummaryRow> summary = summarize(final_records, summary_options);
    const std::string summary_path = (out / "summary.csv").string();
    const std::string tolerance = tolerance_label(spec);
    write_summary(folder, "summary.csv", summary, tolerance);
    PlotResult plots;
    set_activity("drawing the plots");
    const std::vector<ConditioningFit> conditioning = fit_conditioning(summary);
    if (!conditioning.empty()) {
      write_file_atomically("conditioning", folder, "conditioning.csv", [&](std::ostream& out) {
        out << conditioning_csv_header() << "\n";
        for (const ConditioningFit& fit : conditioning) out << conditioning_csv_line(fit) << "\n";
      });
    }
    if (!how.no_plots) plots = make_plots(folder, spec, final_records, summary);
    if (!how.quiet) {
      if (spec.holdout > 0.0 || spec.test_file) {
        const RunRecord* any = final_records.empty() ? nullptr : &final_records.front();
        std::cout << "held-out: "
                  << (spec.holdout > 0.0
                          ? format_number("%.4g", 100.0 * spec.holdout) + "% of each data set (split seed " +
                                std::to_string(spec.holdout_seed) + ", --holdout-seed)"
                          : "the points of " + spec.test_data)
                  << (any ? ", " + std::to_string(any->held_out.points) + " points; " + std::to_string(any->n) +
                                " for training"
                          : std::string())
                  << "\n";
      }
      std::cout << format_summary(summary, tolerance);
      std::cout << format_verdict(summary);
      std::cout << format_scale_path(summary);
      std::cout << format_conditioning(conditioning);
      std::cout << "runs:    " << runs_path << "\nsummary: " << summary_path << "\n";
      if (!plots.files.empty())
        std::cout << "plots:   " << (out / "plots").string() << " (" << plots.files.size() << " files)\n";
    }
    if (!plots.warning.empty()) std::cerr << "gradflow sweep: warning: " << plots.warning << "\n";
  }
  return kExitSuccess;
}

// The inputs of a sweep: its config file and its file data sets.
std::vector<NamedPath> sweep_inputs(const SweepSpec& spec, const std::string& config) {
  std::vector<NamedPath> inputs;
  if (!config.empty()) inputs.push_back({"--config", config});
  for (const DatasetSpec& dataset : spec.datasets)
    if (dataset.kind == DatasetSpec::Kind::file) inputs.push_back({"datasets", dataset.path});
  if (!spec.test_data.empty()) inputs.push_back({"test-data", spec.test_data});
  return inputs;
}

void add_trial_observe_option(CLI::App& command, std::vector<std::string>& raw, const std::string& note) {
  add_list_option(
      command, "--observe", raw,
      "Watch at each run's recorded rows, comma separated: ntk (extreme eigenvalues of J J^T), "
      "sharpness (largest Hessian eigenvalue, a Lanczos estimate), sharpness2, condition (or ntk_condition: "
      "ntk_max / ntk_min); adds "
      "runs.csv's observed_rows, ntk_min, ntk_max, pl_minus_ntk_min, sharpness0, sharpness_max, "
      "eta_sharpness_max and sharpness_min and the curves' ntk_min and sharpness. Costs no gradient; a flow run is "
      "observed at every accepted step" +
          (note.empty() ? std::string() : " " + note));
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
      "  datasets = [\"synthetic:16x32\"]   eps = 1e-6   max-steps = 5000   lr = 1.0\n"
      "  output-scale = \"auto\"   scale-margin = 1.05   t-end = 1e6   gamma = 0   teacher = false\n"
      "  rtol = 1e-8   atol = 1e-10   time-accuracy = 0.01 (flow methods: the solver's tolerances; the time to the\n"
      "  target to that relative accuracy, by repeating a run with rtol and atol / 10 until two times agree; 0: off)\n"
      "  curve-points = 200   loss-tol = 1e-4 (absolute, instead of eps)   lr-grid = [0.5, 1, 1.5] (tuned\n"
      "  fixed: the fixed method once per c, lr = c / beta0)   preprocess = \"none\" (standardize, scale, whiten)\n"
      "  observe = [\"ntk\", \"sharpness\"] (watched at each run's recorded rows)   out = \"results/sweep\"\n"
      "  output-scale = [1, 10, \"auto\", \"4x\"] (the scale path; or scale-path = N, scale-start, scale-end)\n"
      "  condition-path = [1, 0.5, 0] (X -> U S^a V^T: work against cond(X), conditioning.csv)   holdout = 0.25\n"
      "  holdout-seed = 0   test-data = \"test.csv\" (held-out points)   verdict-on = \"work\" (test_loss, "
      "test_error)\n"
      "(one key per line). A method is a descent step rule or a flow solver. Results go to <out>/runs.csv (one\n"
      "row per run, appended as runs finish), <out>/summary.csv and <out>/plots/*.png, *.svg. Running the same\n"
      "sweep again skips finished runs. Under mpirun -n K the runs are split across ranks and rank 0\n"
      "gathers them.");
  c->add_option("--config", d.config, "The sweep file (TOML); required unless --keys or --columns");
  c->add_flag("--columns", d.columns,
              "Print runs.csv's columns (name, unit, meaning; one per line, tab separated) and exit");
  c->add_flag("--keys", d.keys,
              "Print the sweep file's keys (name, value, meaning; one per line, tab separated) and exit");
  c->add_option("--out", d.out, "Output directory (overrides the file's 'out')");
  c->add_option(
       "--threads", d.threads,
       "Worker threads per process (0 = this machine's cores divided by the number of MPI ranks; at most 4x the "
       "cores)")
      ->capture_default_str();
  c->add_flag("--overwrite", d.overwrite,
              "Discard the results in the folder when they were made with other settings (see sweep.toml)");
  add_memory_option(*c, d.max_memory);
  add_trial_observe_option(*c, d.observe, "(overrides the file's 'observe')");
  c->add_option("--verdict-on", d.verdict_on,
                "What the verdict compares: work (default), test_loss or test_error (held-out points; overrides the "
                "file's 'verdict-on')");
  c->add_flag("--no-plots", d.no_plots, "Skip the gnuplot figures");
  c->add_flag("--quiet", d.quiet, "No progress and no summary on the terminal");
}

int run_sweep_command(SweepCommand& d) {
  if (d.columns) {
    for (const RunField& field : run_fields())
      std::printf("%.*s\t%.*s\t%.*s\n", static_cast<int>(field.name.size()), field.name.data(),
                  static_cast<int>(field.unit.size()), field.unit.data(), static_cast<int>(field.doc.size()),
                  field.doc.data());
    return 0;
  }
  if (d.keys) {
    for (const SweepKey& key : sweep_file_keys()) std::printf("%s\t%s\t%s\n", key.name, key.value, key.meaning);
    return 0;
  }
  if (d.config.empty())
    throw InputError("--config", "", "is required: the sweep file (TOML), e.g. --config sweep.toml");
  set_activity("reading the sweep file");
  check_input_options(*d.command);
  apply_memory_option(d.max_memory);
  if (d.threads < 0) throw InputError("--threads", std::to_string(d.threads), "must be >= 0");
  SweepSpec spec = read_sweep_file(d.config);
  SweepRun how;
  how.out_option = "--config " + quote_text(d.config) + " out";
  how.scale_option = "--config " + quote_text(d.config) + " output-scale";
  how.preprocess_option = "--config " + quote_text(d.config) + " preprocess";
  how.config_label = "--config " + quote_text(d.config);
  how.data_option = "--config " + quote_text(d.config) + " datasets";
  if (option_given(*d.command, "--out")) {
    spec.out = d.out;
    how.out_option = "--out";
  }
  if (option_given(*d.command, "--observe")) spec.observe = parse_observe(d.observe);
  if (option_given(*d.command, "--verdict-on")) {
    const auto on = verdict_on_from_string(d.verdict_on);
    if (!on) throw InputError("--verdict-on", d.verdict_on, "must be one of work, test_loss, test_error");
    spec.verdict_on = *on;
  }
  how.threads = d.threads;
  how.quiet = d.quiet;
  how.no_plots = d.no_plots;
  how.overwrite = d.overwrite;
  how.inputs = sweep_inputs(spec, d.config);
  return execute_sweep(spec, how);
}

namespace {

std::string default_lr_grid_text() {
  std::string text;
  for (const double c : default_lr_grid()) text += (text.empty() ? "" : ",") + format_number("%g", c);
  return text;
}

struct Preset {
  const char* name;
  const char* file;
};
constexpr Preset kPresets[] = {{"digits", "digits.csv"},
                               {"breast-cancer", "breast_cancer.csv"},
                               {"digits-all", "digits_all.csv"},
                               {"breast-cancer-all", "breast_cancer_all.csv"}};

std::string executable_folder() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : self.parent_path().string();
}

}  // namespace

std::string find_preset_file(const std::string& preset) {
  const Preset* found = nullptr;
  for (const Preset& p : kPresets)
    if (preset == p.name) found = &p;
  if (!found)
    throw InputError("--preset", preset,
                     "unknown preset (known: digits, breast-cancer, digits-all, breast-cancer-all)");
  std::vector<std::string> places;
  if (const char* env = std::getenv("GRADFLOW_DATA_DIR"); env && *env) places.emplace_back(env);
  if (const std::string exe = executable_folder(); !exe.empty())
    places.push_back((fs::path(exe) / ".." / "share" / "gradflow" / "data").lexically_normal().string());
#ifdef GRADFLOW_SOURCE_DATA_DIR
  places.emplace_back(GRADFLOW_SOURCE_DATA_DIR);
#endif
#ifdef GRADFLOW_INSTALL_DATA_DIR
  places.emplace_back(GRADFLOW_INSTALL_DATA_DIR);
#endif
  std::string tried;
  for (const std::string& place : places) {
    const fs::path file = fs::path(place) / found->file;
    std::error_code ec;
    if (fs::is_regular_file(file, ec)) return file.string();
    tried += (tried.empty() ? "" : ", ") + file.string();
  }
  throw InputError("--preset", preset,
                   "the data file " + std::string(found->file) + " was not found (tried " + tried +
                       "); set GRADFLOW_DATA_DIR to the folder that holds it, or give --data FILE");
}

void add_compare_inits_command(CLI::App& app, CompareInitsCommand& d) {
  CLI::App* c = app.add_subcommand(
      "compare-inits", "The paper's comparison: positive versus standard random initializations at the same widths");
  d.command = c;
  c->footer(
      "A sweep with defaults: trains the same network from each initialization scheme, at each width, for\n"
      "--seeds seeds, on synthetic linearly independent data (or --data FILE, --preset digits|breast-cancer),\n"
      "and reports the work each needs to reach the target: steps, gradient and loss evaluations, Hessian-\n"
      "vector products and wall time (median and quartiles), and the speedup of positive over each scheme\n"
      "in each of them with a 95% bootstrap interval, then a verdict per width in gradient evaluations:\n"
      "positive against every scheme, Holm's method over the schemes at family-wise level 0.05. Protocols: armijo "
      "(backtracking from --lr), tuned-fixed (fixed step\n"
      "c / beta0 for each c of --lr-grid, beta0 the sharpness at the run's own theta0; each scheme at its\n"
      "best c), flow (--solver, --rtol, --atol, --time-accuracy; flow time x beta0 as well as raw time). The\n"
      "positive initialization uses --scale-margin times the smallest certified scale for the method\n"
      "(descent's threshold for descent, the flow's for the flow) unless --output-scale is a number.\n"
      "Results: <out>/runs.csv, <out>/summary.csv, <out>/plots/.");
  CompareInitsSpec& s = d.spec;
  std::string default_inits;
  for (const InitScheme scheme : s.inits)
    default_inits += (default_inits.empty() ? "" : ",") + std::string(to_string(scheme));
  add_list_option(*c, "--inits", d.inits, "Initialization schemes, comma separated (default " + default_inits + ")");
  std::string default_widths;
  for (const long w : s.widths) default_widths += (default_widths.empty() ? "" : ",") + std::to_string(w);
  add_list_option(*c, "--widths", d.widths, "Hidden widths, comma separated (default " + default_widths + ")");
  c->add_option("--depth", s.depth, "Number of hidden layers")->capture_default_str();
  c->add_option("--activation", d.activation, "Activation")->capture_default_str();
  c->add_option("--seeds", s.seeds, "The number of seeds per scheme and width (a count: 20 means the seeds 0..19)")
      ->capture_default_str();
  c->add_option("--protocol", d.protocol, join_names(protocol_names()))->capture_default_str();
  c->add_option("--solver", d.solver, "flow protocol: the solver (" + join_names(solver_names()) + ")")
      ->capture_default_str();
  c->add_option("--rtol", d.rtol,
                "flow protocol: the solver's relative tolerance (in [" +
                    format_number("%.3g", tolerances::kMinRelativeTolerance) + ", 1))")
      ->capture_default_str();
  c->add_option("--atol", d.atol, "flow protocol: the solver's absolute tolerance (in (0, 1))")->capture_default_str();
  c->add_option("--time-accuracy", s.time_accuracy,
                "flow protocol: the time to the target is computed to this relative accuracy, by repeating a run with "
                "rtol and atol divided by 10 until two times agree (0: off; in [0, 0.5))")
      ->capture_default_str();
  add_list_option(
      *c, "--lr-grid", d.lr_grid,
      "tuned-fixed: the factors c of lr = c / beta0, comma separated (default " + default_lr_grid_text() + ")");
  c->add_option("--synthetic", d.synthetic, "Synthetic data NxD (n samples, d features; n <= d for the theory)")
      ->capture_default_str();
  c->add_option("--data", d.data, "Data CSV (one sample per row, the target last; a header row allowed)");
  c->add_option("--preset", d.preset,
                "A shipped real data set: digits (32 x 64) or breast-cancer (24 x 30), or all of them, digits-all "
                "(1797 x 64) and breast-cancer-all (569 x 30), for held-out error (--holdout 0.965 trains on 20 of "
                "569); with --scale-features unless another transform is given");
  c->add_flag("--standardize", d.standardize,
              "Features and targets to mean 0, sd 1 (centring leaves rank n - 1: no certificate)");
  c->add_flag("--scale-features", d.scale_features,
              "Each feature divided by its root mean square (not centred: rank n kept)");
  c->add_flag("--whiten", d.whiten, "ZCA whitening of the inputs to X X^T = I (needs n <= d, rank n)");
  c->add_flag("--teacher", s.teacher, "Targets from a random teacher network");
  c->add_option("--eps", d.eps, "Converged at loss <= eps L0 (relative to each run's own L0)")->capture_default_str();
  c->add_option("--loss-tol", d.loss_tol,
                "Converged at loss <= this absolute value instead (the data's units, e.g. 1e-6 ||y||^2 / 2)");
  c->add_option("--max-steps", s.max_steps, "Step budget per run")->capture_default_str();
  c->add_option("--lr", s.lr, "armijo: the first trial step")->capture_default_str();
  add_list_option(*c, "--output-scale", d.output_scale,
                  "positive: the output scale, or auto (--scale-margin x the smallest certified scale s* for the "
                  "method; the default); a list is the scale path (positive once per entry): numbers, auto, and Fx for "
                  "F x s*, e.g. 1,10,100,auto,4x");
  c->add_option("--scale-margin", s.scale_margin, "auto: the factor above the certified threshold (>= 1)")
      ->capture_default_str();
  c->add_option("--scale-path", d.scale_path,
                "The scale path as N output scales geometric from --scale-start to --scale-end x s* (N >= 2): work, "
                "held-out error, NTK drift and travel per scale");
  c->add_option("--scale-start", s.scale_start, "--scale-path: the first scale")->capture_default_str();
  c->add_option("--scale-end", s.scale_end, "--scale-path: the last scale, as a factor of s*")->capture_default_str();
  add_list_option(*c, "--condition-path", d.condition_path,
                  "Powers a, comma separated: every scheme on the inputs X = U S V^T -> U S^a V^T (cond(X)^a; 1 raw, "
                  "0 whitened); work against cond(X) fitted per scheme with its exponent and the crossing "
                  "(conditioning.csv)");
  c->add_flag("--compare-whitened", d.compare_whitened,
              "Raw and whitened inputs in one comparison (the condition path 1,0)");
  c->add_option("--holdout", s.holdout,
                "Hold out this fraction of the data (a split seeded by --holdout-seed): test_loss, test_accuracy and "
                "the distance to the minimum-norm linear interpolant per run")
      ->capture_default_str();
  c->add_option("--holdout-seed", s.holdout_seed, "The split's seed")->capture_default_str();
  c->add_option("--test-data", s.test_data, "Held-out points from a CSV file (as --data), instead of --holdout");
  c->add_option("--verdict-on", d.verdict_on,
                "What the verdict compares: work (gradient evaluations, or flow time x beta0), test_loss or "
                "test_error (held-out points; lower is better)")
      ->capture_default_str();
  c->add_option("--out", s.out, "Output directory")->capture_default_str();
  c->add_option("--threads", d.threads, "Worker threads (0 = all cores; at most 4x the cores)")->capture_default_str();
  c->add_option("--config", d.config, "TOML file with any of these options (the command line wins)");
  c->add_flag("--overwrite", d.overwrite,
              "Discard the results in the folder when they were made with other settings (see sweep.toml)");
  add_memory_option(*c, d.max_memory);
  add_trial_observe_option(*c, d.observe, "");
  c->add_flag("--no-plots", d.no_plots, "Skip the gnuplot figures");
  c->add_flag("--quiet", d.quiet, "No progress and no summary on the terminal");
}

int run_compare_inits_command(CompareInitsCommand& d) {
  set_activity("reading the options");
  CLI::App& c = *d.command;
  apply_config_file(c, d.config);
  apply_memory_option(d.max_memory);
  CompareInitsSpec spec = d.spec;
  if (option_given(c, "--widths")) spec.widths = parse_integer_list(d.widths, "--widths", 1, 100000, "a width");
  if (option_given(c, "--inits")) spec.inits = parse_inits(split_list(d.inits, "--inits"), "--inits", "");
  spec.activation = parse_activations({d.activation}, "--activation", "").front();
  const auto protocol = protocol_from_string(d.protocol);
  if (!protocol) throw InputError("--protocol", d.protocol, "must be one of " + join_names(protocol_names()));
  spec.protocol = *protocol;
  if (option_given(c, "--solver")) {
    const auto solver = solver_from_string(d.solver);
    if (!solver) throw InputError("--solver", d.solver, "unknown solver (known: " + join_names(solver_names()) + ")");
    spec.solver = *solver;
  }
  if (option_given(c, "--rtol")) spec.rtol = d.rtol;
  if (option_given(c, "--atol")) spec.atol = d.atol;
  if (option_given(c, "--lr-grid")) {
    spec.lr_grid.emplace();
    for (const std::string& item : split_list(d.lr_grid, "--lr-grid"))
      spec.lr_grid->push_back(parse_finite(item, "--lr-grid", "a factor c"));
  }
  if (option_given(c, "--eps")) spec.eps = d.eps;
  if (option_given(c, "--loss-tol")) spec.loss_tol = d.loss_tol;
  if (option_given(c, "--output-scale")) {
    SweepSpec scales;
    set_output_scales(scales, split_list(d.output_scale, "--output-scale"), "--output-scale", "");
    spec.output_scale = scales.output_scale;
    spec.output_scales = scales.output_scales;
  }
  if (option_given(c, "--scale-path")) spec.scale_path = d.scale_path;
  if (option_given(c, "--condition-path")) {
    for (const std::string& item : split_list(d.condition_path, "--condition-path"))
      spec.condition_path.push_back(parse_finite(item, "--condition-path", "a power a"));
  }
  spec.compare_whitened = d.compare_whitened;
  {
    const auto on = verdict_on_from_string(d.verdict_on);
    if (!on) throw InputError("--verdict-on", d.verdict_on, "must be one of work, test_loss, test_error");
    spec.verdict_on = *on;
  }
  if (!spec.test_data.empty()) {
    SweepSpec read;
    read.test_data = spec.test_data;
    read_test_data(read, "--test-data");
    spec.test = read.test_file;
  }
  if (option_given(c, "--observe")) spec.observe = parse_observe(d.observe);
  // The data.
  const int sources = (option_given(c, "--data") ? 1 : 0) + (option_given(c, "--preset") ? 1 : 0) +
                      (option_given(c, "--synthetic") ? 1 : 0);
  if (sources > 1) throw InputError("--data", d.data, "give one of --data, --preset and --synthetic");
  std::string data_file = d.data;
  if (option_given(c, "--preset")) data_file = find_preset_file(d.preset);
  if (option_given(c, "--data") && d.data.empty()) throw InputError("--data", "", "an empty path (give a CSV file)");
  const std::string data_option = option_given(c, "--preset") ? "--preset" : "--data";
  if (!data_file.empty()) {
    DatasetSpec dataset;
    dataset.kind = DatasetSpec::Kind::file;
    dataset.path = data_file;
    SweepSpec read;
    read.datasets = parse_datasets({dataset.name()}, data_option, "");
    read_file_datasets(read, data_option);
    spec.dataset = read.datasets.front();
    spec.data = read.file_data.begin()->second;
  } else {
    spec.dataset = parse_datasets({"synthetic:" + d.synthetic}, "--synthetic", "").front();
  }
  const int transforms = (d.standardize ? 1 : 0) + (d.scale_features ? 1 : 0) + (d.whiten ? 1 : 0);
  if (transforms > 1)
    throw InputError(d.whiten ? "--whiten" : "--scale-features", "",
                     "give at most one of --standardize, --scale-features and --whiten");
  spec.preprocess = d.standardize                 ? Preprocess::standardize
                    : d.scale_features            ? Preprocess::scale
                    : d.whiten                    ? Preprocess::whiten
                    : option_given(c, "--preset") ? Preprocess::scale
                                                  : Preprocess::none;
  if (d.threads < 0) throw InputError("--threads", std::to_string(d.threads), "must be >= 0");
  static const std::map<std::string, std::string> kFlags{
      {"data", "--data"}, {"datasets", "--data"}, {"output_scales", "--output-scale"}, {"test_data", "--test-data"}};
  if (const auto error = spec.validate())
    throw InputError(flag_for_field(error->field, kFlags), error->value, error->constraint);
  SweepRun how;
  how.out_option = "--out";
  how.threads = d.threads;
  how.quiet = d.quiet;
  how.no_plots = d.no_plots;
  how.overwrite = d.overwrite;
  SweepSpec sweep = spec.to_sweep();
  how.inputs = sweep_inputs(sweep, d.config);
  return execute_sweep(sweep, how);
}

}  // namespace gradflow::cli
