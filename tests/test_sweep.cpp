// Sweeps: the summary's statistics on a hand-made runs.csv, identical rows on 1 and 2 threads (and on 1
// and 2 MPI ranks when MPI is built), resuming after a killed sweep, torn lines, and the plots.
#include <gradflow/apps/sweep/sweep_files.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/experiments/sweep_runner.hpp>
#include <gradflow/experiments/sweep_spec.hpp>
#include <gradflow/experiments/sweep_summary.hpp>

#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using namespace gradflow;

namespace {

fs::path sandbox(const std::string& name) {
  const fs::path dir = fs::path(GRADFLOW_TESTS_BINARY_DIR) / "sweep_sandbox" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The rows of runs.csv without the wall_seconds column (the only one that depends on the load).
std::vector<std::string> rows_without_time(const fs::path& runs) {
  std::vector<std::string> rows;
  std::istringstream in(slurp(runs));
  std::string line;
  // The columns train_seconds and wall_seconds depend on the machine's load.
  std::vector<bool> keep;
  while (std::getline(in, line)) {
    const auto fields = gradflow::split_csv_line(line);
    REQUIRE(fields);
    if (keep.empty()) {
      for (const std::string& name : *fields) keep.push_back(name != "train_seconds" && name != "wall_seconds");
    }
    REQUIRE(fields->size() == keep.size());
    std::string row;
    for (std::size_t i = 0; i < keep.size(); ++i)
      if (keep[i]) row += (*fields)[i] + ",";
    rows.push_back(row);
  }
  return rows;
}

// summary.csv without the columns of wall time (train_seconds quartiles and speedup_wall).
std::vector<std::vector<std::string>> summary_without_time(const fs::path& summary) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(slurp(summary));
  std::string line;
  std::vector<bool> keep;
  while (std::getline(in, line)) {
    const auto fields = gradflow::split_csv_line(line);
    REQUIRE(fields);
    if (keep.empty()) {
      for (const std::string& name : *fields)
        keep.push_back(name.find("train_seconds") == std::string::npos &&
                       name.find("speedup_wall") == std::string::npos);
    }
    REQUIRE(fields->size() == keep.size());
    std::vector<std::string> row;
    for (std::size_t i = 0; i < keep.size(); ++i)
      if (keep[i]) row.push_back((*fields)[i]);
    rows.push_back(row);
  }
  return rows;
}

// Runs gradflow with these arguments (no shell); returns the exit code.
int run(const std::vector<std::string>& args, const fs::path& scratch, std::string* err = nullptr) {
  std::vector<std::string> argv{GRADFLOW_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  const gradflow::test::ProgramRun r = gradflow::test::run_capture(argv, "", scratch);
  if (err) *err = r.err;
  return r.exit_code;
}

void write_config(const fs::path& path, const fs::path& out, long seeds, const std::string& methods) {
  std::ofstream(path) << "inits = [\"positive\", \"xavier_normal\", \"orthogonal\"]\nwidths = [8, 16]\ndepths = [1]\n"
                         "activations = [\"tanh\"]\nseeds = "
                      << seeds << "\nmethods = " << methods
                      << "\ndatasets = [\"synthetic:6x12\"]\neps = 1e-4\nmax-steps = 3000\nout = \"" << out.string()
                      << "\"\n";
}

RunRecord record(const std::string& init, long width, long seed, bool reached, long steps) {
  RunRecord r;
  r.run = {*init_scheme_from_string(init),
           width,
           1,
           Activation::tanh,
           seed,
           Method{StepRule::armijo},
           *DatasetSpec::from_string("synthetic:4x8")};
  r.reached = reached;
  r.steps_to_eps = reached ? steps : -1;
  r.time_to_eps = reached ? 0.5 * static_cast<double>(steps) : std::numeric_limits<double>::quiet_NaN();
  r.steps = steps;
  r.certified = init == "positive" ? 1 : 0;
  r.status = reached ? "tolerance_reached" : "max_steps";
  return r;
}

}  // namespace

TEST_CASE("The summary's medians, quartiles and speedups are right on hand-made runs", "[sweep]") {
  std::vector<RunRecord> runs;
  // positive at width 8: steps 10, 20, 30, 40 -> median 25, q25 17.5, q75 32.5
  for (long s = 0; s < 4; ++s) runs.push_back(record("positive", 8, s, true, 10 * (s + 1)));
  // xavier at width 8: 50, 100, 150 and one failure (inf) -> median 125, q75 inf; speedup 125 / 25 = 5
  for (long s = 0; s < 3; ++s) runs.push_back(record("xavier_normal", 8, s, true, 50 * (s + 1)));
  runs.push_back(record("xavier_normal", 8, 3, false, 3000));
  // width 16: positive never converges -> median inf; orthogonal converges -> speedup 0 (positive is slower)
  for (long s = 0; s < 2; ++s) runs.push_back(record("positive", 16, s, false, 3000));
  for (long s = 0; s < 2; ++s) runs.push_back(record("orthogonal", 16, s, true, 7));
  const std::vector<SummaryRow> rows = summarize(runs);
  const auto find = [&](const std::string& init, long width) {
    for (const SummaryRow& r : rows)
      if (r.init == init && r.width == width) return r;
    FAIL("no row " << init << " " << width);
    return SummaryRow{};
  };
  const SummaryRow positive = find("positive", 8);
  CHECK(positive.runs == 4);
  CHECK(positive.converged == 4);
  CHECK(positive.steps.median == 25.0);
  CHECK(positive.steps.q25 == 17.5);
  CHECK(positive.steps.q75 == 32.5);
  CHECK(positive.median_time == 12.5);
  CHECK(positive.certified == 4);
  CHECK(std::isnan(positive.speedup_steps.estimate));
  const SummaryRow xavier = find("xavier_normal", 8);
  CHECK(xavier.converged == 3);
  CHECK(xavier.steps.median == 125.0);
  CHECK(std::isinf(xavier.steps.q75));
  CHECK(xavier.speedup_steps.estimate == 5.0);
  CHECK(std::isinf(find("positive", 16).steps.median));
  CHECK(find("orthogonal", 16).speedup_steps.estimate == 0.0);
  // Quantiles interpolate linearly, like numpy's default.
  std::vector<double> values{4, 1, 3, 2};
  CHECK(quantile(values, 0.5) == 2.5);
  CHECK(quantile(values, 0.25) == 1.75);
  // The CSV line round-trips, and a torn line is not a run.
  const std::string line = to_csv_line(runs[5]);
  const RunsCsvReader reader(runs_csv_header());
  REQUIRE(reader.parse(line));
  CHECK(to_csv_line(*reader.parse(line)) == line);
  CHECK_FALSE(reader.parse(line.substr(0, line.size() / 2)));
}

TEST_CASE("A sweep gives identical rows on 1 and 2 threads and writes valid PNG and SVG plots", "[sweep]") {
  const fs::path dir = sandbox("threads");
  write_config(dir / "a.toml", dir / "one", 3, "[\"armijo\"]");
  write_config(dir / "b.toml", dir / "two", 3, "[\"armijo\"]");
  REQUIRE(run({"sweep", "--config", (dir / "a.toml").string(), "--threads", "1", "--quiet"}, dir) == 0);
  REQUIRE(run({"sweep", "--config", (dir / "b.toml").string(), "--threads", "2", "--quiet"}, dir) == 0);
  const auto one = rows_without_time(dir / "one" / "runs.csv");
  CHECK(one.size() == 1 + 3 * 2 * 3);
  CHECK(one == rows_without_time(dir / "two" / "runs.csv"));
  CHECK(summary_without_time(dir / "one" / "summary.csv") == summary_without_time(dir / "two" / "summary.csv"));
  for (const char* name : {"loss", "pl_ratio", "distance", "steps_vs_width"}) {
    INFO(name);
    const std::string png = slurp(dir / "one" / "plots" / (std::string(name) + ".png"));
    REQUIRE(png.size() > 1000);
    CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
    const std::string svg = slurp(dir / "one" / "plots" / (std::string(name) + ".svg"));
    CHECK(svg.find("<svg") != std::string::npos);
    CHECK(svg.find("</svg>") != std::string::npos);
  }
}

TEST_CASE("Resuming a killed sweep yields the same rows as an uninterrupted one, with no torn line", "[sweep]") {
  const fs::path dir = sandbox("resume");
  const std::string methods = "[\"armijo\", \"fixed\"]";
  write_config(dir / "whole.toml", dir / "whole", 4, methods);
  write_config(dir / "killed.toml", dir / "killed", 4, methods);
  REQUIRE(run({"sweep", "--config", (dir / "whole.toml").string(), "--threads", "1", "--quiet", "--no-plots"}, dir) ==
          0);

  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const std::string config = (dir / "killed.toml").string();
    execl(GRADFLOW_CLI, GRADFLOW_CLI, "sweep", "--config", config.c_str(), "--threads", "2", "--quiet", "--no-plots",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill it once a few runs are recorded (or when it has finished, on a fast machine).
  const fs::path partial = dir / "killed" / "runs.csv";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(partial) && std::count(std::istreambuf_iterator<char>(*std::make_unique<std::ifstream>(partial)),
                                          std::istreambuf_iterator<char>(), '\n') >= 4) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  // Whatever was written is whole lines: each parses as a run (or is the header).
  const std::string content = slurp(partial);
  REQUIRE(!content.empty());
  CHECK(content.back() == '\n');
  std::istringstream lines(content);
  std::string line;
  std::getline(lines, line);
  const RunsCsvReader reader(line);
  while (std::getline(lines, line)) CHECK(reader.parse(line).has_value());

  REQUIRE(run({"sweep", "--config", (dir / "killed.toml").string(), "--threads", "2", "--quiet", "--no-plots"}, dir) ==
          0);
  CHECK(rows_without_time(dir / "killed" / "runs.csv") == rows_without_time(dir / "whole" / "runs.csv"));
  // A torn last line (a write cut short) is ignored and dropped on the next run.
  {
    std::ofstream append(partial, std::ios::app);
    append << "init=positive;width=8;depth=1;activation=tanh;seed=0;method=armijo;dataset=synth";
  }
  REQUIRE(run({"sweep", "--config", (dir / "killed.toml").string(), "--quiet", "--no-plots"}, dir) == 0);
  CHECK(rows_without_time(dir / "killed" / "runs.csv") == rows_without_time(dir / "whole" / "runs.csv"));
}

TEST_CASE("Under MPI 2 ranks give the same rows as 1 process", "[sweep][mpi]") {
#if GRADFLOW_TEST_MPI
  const fs::path dir = sandbox("mpi");
  write_config(dir / "one.toml", dir / "one", 2, "[\"armijo\"]");
  write_config(dir / "two.toml", dir / "two", 2, "[\"armijo\"]");
  REQUIRE(run({"sweep", "--config", (dir / "one.toml").string(), "--quiet", "--no-plots"}, dir) == 0);
  // OpenMPI does not free its own buffers at MPI_Finalize: LeakSanitizer would report them (sanitize
  // preset), so leak checking is off for this one command (env sets it; no shell).
  const gradflow::test::ProgramRun mpi = gradflow::test::run_capture(
      {"env", "ASAN_OPTIONS=detect_leaks=0", GRADFLOW_MPIEXEC, "--allow-run-as-root", "--oversubscribe", "-n", "2",
       GRADFLOW_CLI, "sweep", "--config", (dir / "two.toml").string(), "--threads", "1", "--quiet", "--no-plots"},
      "", dir);
  INFO(mpi.out << mpi.err);
  REQUIRE(mpi.exit_code == 0);
  CHECK(rows_without_time(dir / "two" / "runs.csv") == rows_without_time(dir / "one" / "runs.csv"));
  CHECK_FALSE(fs::exists(dir / "two" / "runs.rank1.csv"));
#else
  WARN("built without MPI: the MPI sweep is not tested");
#endif
}

TEST_CASE("A sweep file with a bad key or value is rejected naming the key", "[sweep]") {
  const fs::path dir = sandbox("bad");
  const auto rejects = [&](const std::string& content, const std::string& expected) {
    std::ofstream(dir / "bad.toml") << content;
    std::string err;
    const int code = run({"sweep", "--config", (dir / "bad.toml").string(), "--quiet"}, dir, &err);
    INFO(content << " -> " << err);
    CHECK(code == 2);
    CHECK_THAT(err, Catch::Contains(expected));
    CHECK_FALSE(fs::exists(dir / "results"));
  };
  rejects("bogus = 1\n", "unknown key 'bogus'");
  rejects("inits = [\"he\"]\n", "unknown initialization 'he'");
  rejects("widths = [0]\n", "key 'widths': the item '0' must be an integer in [1, 100000]");
  rejects("methods = [\"sgd\"]\n", "unknown method 'sgd'");
  rejects("datasets = [\"synthetic:4\"]\n", "synthetic:NxD");
  rejects("eps = 2\n", "eps");
  rejects("seeds = 0\n", "seeds");
}
