// Sweeps: the summary's statistics on a hand-made runs.csv, identical rows on 1 and 2 threads (and on 1
// and 2 MPI ranks when MPI is built), resuming after a killed sweep, torn lines, and the plots.
#include <gradflow/apps/sweep/sweep_file.hpp>
#include <gradflow/apps/sweep/sweep_files.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/experiments/sweep_runner.hpp>
#include <gradflow/experiments/sweep_spec.hpp>
#include <gradflow/experiments/sweep_summary.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/theory/certificate.hpp>

#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <Eigen/SVD>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
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

// A CSV file with a header as one map per line, column name -> text.
static std::vector<std::map<std::string, std::string>> read_table(const fs::path& path) {
  std::vector<std::map<std::string, std::string>> table;
  std::istringstream in(slurp(path));
  std::string line;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    const auto fields = gradflow::split_csv_line(line);
    REQUIRE(fields);
    if (header.empty()) {
      header = *fields;
      continue;
    }
    REQUIRE(fields->size() == header.size());
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size(); ++i) row[header[i]] = (*fields)[i];
    table.push_back(std::move(row));
  }
  return table;
}

static double number(const std::map<std::string, std::string>& row, const std::string& column) {
  const auto found = row.find(column);
  REQUIRE(found != row.end());
  if (found->second == "inf") return std::numeric_limits<double>::infinity();
  return std::stod(found->second);
}

// numpy's default quantile written out: the sorted values at position q (n - 1), interpolated linearly
// between the two neighbours; a position on one sample is that sample, and one next to +inf is +inf.
static double quantile_by_hand(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const std::size_t below = static_cast<std::size_t>(std::floor(position));
  const double fraction = position - static_cast<double>(below);
  if (fraction == 0.0) return values[below];
  if (std::isinf(values[below + 1])) return std::numeric_limits<double>::infinity();
  return values[below] + fraction * (values[below + 1] - values[below]);
}

// The numbers of a gnuplot data file (comment lines skipped), one vector per line; blank lines end blocks.
static std::vector<std::vector<std::vector<double>>> read_blocks(const fs::path& path) {
  std::vector<std::vector<std::vector<double>>> blocks(1);
  std::istringstream in(slurp(path));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '#') continue;
    if (line.empty()) {
      if (!blocks.back().empty()) blocks.emplace_back();
      continue;
    }
    std::istringstream words(line);
    std::vector<double> values;
    std::string word;
    while (words >> word) values.push_back(std::stod(word));
    blocks.back().push_back(values);
  }
  if (blocks.back().empty()) blocks.pop_back();
  return blocks;
}

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

TEST_CASE("sort_by_key puts the records in the order of their keys' text and keeps one per key", "[sweep]") {
  std::vector<RunRecord> runs;
  // Seeds 10, 2 and 1 of one scheme, 2 and 1 of another, and a second record of one key: the order is
  // the keys' text (runs.csv's order as before), so seed=10 comes before seed=1.
  for (const long seed : {10L, 2L, 1L}) runs.push_back(record("xavier_normal", 8, seed, true, 5 * seed));
  for (const long seed : {2L, 1L}) runs.push_back(record("positive", 8, seed, true, 3 * seed));
  runs.push_back(record("positive", 8, 2, false, 99));  // a duplicate key
  sort_by_key(runs);
  std::vector<std::string> keys;
  for (const RunRecord& r : runs) keys.push_back(r.run.key());
  std::vector<std::string> expected = keys;
  std::sort(expected.begin(), expected.end());
  expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
  CHECK(keys == expected);
  REQUIRE(runs.size() == 5);
  CHECK(runs[0].run.init == InitScheme::positive);
  CHECK(runs[0].run.seed == 1);
  CHECK(runs[1].run.seed == 2);
  CHECK(runs[1].reached);         // of the two records of this key, the first one given
  CHECK(runs[2].run.seed == 10);  // "seed=10;..." < "seed=1;..." ('0' < ';')
  CHECK(runs[3].run.seed == 1);
  CHECK(runs[4].run.seed == 2);
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

  // Every run again, outside the sweep: the data set synthetic:6x12 (seed 0), the network, the recorded
  // initialization seed and scale, and descent (armijo from lr, stopping at eps L0 = 1e-4 L0 or 3000 steps).
  const auto runs = read_table(dir / "one" / "runs.csv");
  REQUIRE(runs.size() == 18);
  const NetworkData data = synthetic_data(6, 12, 0);
  const Eigen::JacobiSVD<Matrix> x_svd(data.x);
  for (const auto& run : runs) {
    INFO(run.at("key"));
    MlpArchitecture arch;
    arch.input_dim = 12;
    arch.widths = {static_cast<Eigen::Index>(number(run, "width"))};
    arch.activation = Activation::tanh;
    const Mlp f(arch, data.x, data.y);
    CHECK(number(run, "params") == static_cast<double>(f.dimension()));
    CHECK(number(run, "input_condition") ==
          Approx(x_svd.singularValues()[0] / x_svd.singularValues()[5]).epsilon(1e-12));
    InitOptions init;
    init.scheme = *init_scheme_from_string(run.at("init"));
    init.seed = std::stoull(run.at("init_seed"));
    init.output_scale = number(run, "output_scale");
    const Vector theta0 = initialize(arch, init);
    const double loss0 = 0.5 * (f.predict(theta0) - data.y).squaredNorm();
    CHECK(number(run, "loss0") == Approx(loss0).epsilon(1e-14));
    CHECK(number(run, "loss_target") == Approx(1e-4 * loss0).epsilon(1e-14));
    DescentOptions descent;
    descent.step = StepRule::armijo;
    descent.lr = number(run, "lr");
    descent.stop.loss_tol = 1e-4 * loss0;
    descent.stop.grad_tol = 0.0;
    descent.stop.max_steps = 3000;
    const DescentResult d = descend(f, theta0, descent);
    const bool reached = d.status == Status::tolerance_reached && d.loss_final <= 1e-4 * loss0;
    CHECK(number(run, "reached") == (reached ? 1.0 : 0.0));
    CHECK(number(run, "steps") == static_cast<double>(d.iterations));
    CHECK(number(run, "steps_to_eps") == (reached ? static_cast<double>(d.iterations) : -1.0));
    CHECK(number(run, "final_loss") == Approx(d.loss_final).epsilon(1e-12));
    CHECK(number(run, "grad_evals") == static_cast<double>(d.stats.num_gradient_evals));
    if (init.scheme == InitScheme::positive) {
      // output-scale auto: 1.05 times the smallest scale at which the descent certificate holds, so at
      // the recorded scale / 1.05 max phi = 2 ||r0|| (descent margin 0, to the search's precision).
      CHECK(number(run, "certified") == 1.0);
      InitOptions threshold = init;
      threshold.output_scale = init.output_scale / 1.05;
      CHECK(std::abs(certify(f, initialize(arch, threshold)).descent_margin) < 1e-7);
    }
  }

  // The summary against counts and quantiles of runs.csv done here (steps_to_eps = -1: infinitely many).
  const auto summary = read_table(dir / "one" / "summary.csv");
  REQUIRE(summary.size() == 6);
  std::map<std::pair<std::string, std::string>, std::vector<double>> steps;  // (init, width) -> steps to eps
  std::map<std::pair<std::string, std::string>, std::vector<double>> final_over_l0;
  std::map<std::pair<std::string, std::string>, double> converged, certified;
  std::map<std::string, double> longest;  // width -> the most steps of a run
  std::map<std::pair<std::string, std::string>, std::vector<std::pair<double, double>>> ends;  // (steps, L / L0)
  for (const auto& run : runs) {
    const std::pair<std::string, std::string> cell{run.at("init"), run.at("width")};
    const double to_eps = number(run, "steps_to_eps");
    steps[cell].push_back(to_eps < 0 ? std::numeric_limits<double>::infinity() : to_eps);
    final_over_l0[cell].push_back(number(run, "final_loss") / number(run, "loss0"));
    converged[cell] += number(run, "reached");
    certified[cell] += number(run, "certified") == 1.0 ? 1.0 : 0.0;
    longest[run.at("width")] = std::max(longest[run.at("width")], number(run, "steps"));
    ends[cell].push_back({number(run, "steps"), number(run, "final_loss") / number(run, "loss0")});
  }
  for (const auto& row : summary) {
    const std::pair<std::string, std::string> cell{row.at("init"), row.at("width")};
    INFO(cell.first << " at width " << cell.second);
    REQUIRE(steps[cell].size() == 3);
    CHECK(number(row, "runs") == 3.0);
    CHECK(number(row, "converged") == converged[cell]);
    CHECK(number(row, "converged_fraction") == Approx(converged[cell] / 3.0).epsilon(1e-15));
    CHECK(number(row, "certified_fraction") == Approx(certified[cell] / 3.0).epsilon(1e-15));
    const double median = quantile_by_hand(steps[cell], 0.5);
    CHECK(number(row, "median_steps_to_eps") == median);
    CHECK(number(row, "q25_steps") == quantile_by_hand(steps[cell], 0.25));
    CHECK(number(row, "q75_steps") == quantile_by_hand(steps[cell], 0.75));
    if (cell.first != "positive") {
      // speedup = median(scheme) / median(positive) at the same width.
      const double positive = quantile_by_hand(steps[{"positive", cell.second}], 0.5);
      CHECK(number(row, "speedup_steps") == Approx(median / positive).epsilon(1e-14));
    }
  }

  // The data behind the figures. steps_vs_width plots data/<init>_steps.dat: width, median, q25, q75.
  const fs::path plots = dir / "one" / "plots";
  const std::string steps_script = slurp(plots / "steps_vs_width.gp");
  const std::string loss_script = slurp(plots / "loss.gp");
  for (const char* init : {"positive", "xavier_normal", "orthogonal"}) {
    INFO(init);
    CHECK_THAT(steps_script, Catch::Contains("'data/" + std::string(init) + "_steps.dat' using 1:2:3:4"));
    const auto table = read_blocks(plots / "data" / (std::string(init) + "_steps.dat"));
    REQUIRE(table.size() == 1);
    REQUIRE(table[0].size() == 2);
    for (const auto& line : table[0]) {
      REQUIRE(line.size() == 4);
      const std::vector<double>& cell = steps[{init, std::to_string(static_cast<long>(line[0]))}];
      REQUIRE(cell.size() == 3);
      CHECK(line[1] == quantile_by_hand(cell, 0.5));
      CHECK(line[2] == quantile_by_hand(cell, 0.25));
      CHECK(line[3] == quantile_by_hand(cell, 0.75));
    }
    // The loss figure (the widest width, 16) plots data/<init>_loss.dat (median, q25, q75 of L / L0) and
    // data/<init>_runs.dat (one block per run). The medians carry every run forward to the scheme's
    // longest run's last step and end there, so their last line holds the runs' final L / L0 and the first
    // line L0 / L0 = 1; each run's own line ends at its own last step (a flat line after it, or after the
    // scheme's last run, would read as a plateau).
    CHECK_THAT(loss_script, Catch::Contains("'data/" + std::string(init) + "_loss.dat' using 1:2 with lines"));
    CHECK_THAT(loss_script, Catch::Contains("'data/" + std::string(init) + "_runs.dat' using 1:2 with lines"));
    const auto loss = read_blocks(plots / "data" / (std::string(init) + "_loss.dat"));
    REQUIRE(loss.size() == 1);
    REQUIRE(loss[0].size() >= 2);
    // (at step 0 the curve is interpolated in log space: exp(log L0) / L0 is 1 to round-off)
    REQUIRE(loss[0].front().size() == 4);
    CHECK(loss[0].front()[0] == 0.0);
    for (int k = 1; k < 4; ++k) CHECK(loss[0].front()[k] == Approx(1.0).epsilon(1e-14));
    const std::vector<double>& last = loss[0].back();
    REQUIRE(last.size() == 4);
    const std::vector<double>& finals = final_over_l0[{init, "16"}];
    double scheme_longest = 0.0;
    for (const auto& [end_step, end_loss] : ends[{init, "16"}]) scheme_longest = std::max(scheme_longest, end_step);
    CHECK(last[0] == scheme_longest);
    CHECK(last[0] <= longest["16"]);
    CHECK(last[1] == Approx(quantile_by_hand(finals, 0.5)).epsilon(1e-12));
    CHECK(last[2] == Approx(quantile_by_hand(finals, 0.25)).epsilon(1e-12));
    CHECK(last[3] == Approx(quantile_by_hand(finals, 0.75)).epsilon(1e-12));
    const auto blocks = read_blocks(plots / "data" / (std::string(init) + "_runs.dat"));
    REQUIRE(blocks.size() == 3);
    std::vector<std::pair<double, double>> block_ends;
    for (const auto& block : blocks) {
      REQUIRE(!block.empty());
      REQUIRE(block.front().size() == 2);
      CHECK(block.front()[0] == 0.0);
      CHECK(block.front()[1] == Approx(1.0).epsilon(1e-14));
      block_ends.push_back({block.back()[0], block.back()[1]});
    }
    std::vector<std::pair<double, double>> expected = ends[{init, "16"}];
    REQUIRE(expected.size() == 3);
    std::sort(expected.begin(), expected.end());
    std::sort(block_ends.begin(), block_ends.end());
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(block_ends[i].first == expected[i].first);
      CHECK(block_ends[i].second == Approx(expected[i].second).epsilon(1e-12));
    }
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

TEST_CASE("The sweep file's key table is the parser's: every key is accepted, --keys prints the table", "[sweep]") {
  const std::vector<cli::SweepKey>& keys = cli::sweep_file_keys();
  REQUIRE(keys.size() >= 30);
  std::string unknown_message;
  try {
    (void)cli::parse_sweep_text("bogus = 1\n", "s.toml");
  } catch (const InputError& e) {
    unknown_message = e.what();
  }
  REQUIRE_THAT(unknown_message, Catch::Contains("unknown key 'bogus'"));
  for (const cli::SweepKey& key : keys) {
    INFO(key.name);
    // Each key is known: whatever a sample value makes of it, the parser never calls it unknown.
    for (const char* value : {"1", "\"auto\"", "[1]", "true"}) {
      try {
        (void)cli::parse_sweep_text(std::string(key.name) + " = " + value + "\n", "s.toml");
      } catch (const InputError& e) {
        CHECK_THAT(std::string(e.what()), !Catch::Contains("unknown key"));
      }
    }
    CHECK_THAT(unknown_message, Catch::Contains(key.name));
    CHECK(std::string(key.value).size() > 0);
    CHECK(std::string(key.meaning).size() > 0);
  }
  const fs::path dir = sandbox("keys");
  const gradflow::test::ProgramRun keys_run = gradflow::test::run_capture({GRADFLOW_CLI, "sweep", "--keys"}, "", dir);
  REQUIRE(keys_run.exit_code == 0);
  const std::string& out = keys_run.out;
  std::size_t lines = 0;
  for (std::size_t at = 0; (at = out.find('\n', at)) != std::string::npos; ++at) ++lines;
  CHECK(lines == keys.size());
  CHECK_THAT(out, Catch::StartsWith(std::string(keys.front().name) + "\t" + keys.front().value + "\t"));
  // --columns: runs.csv's columns in the file's order, each with its unit and meaning.
  const gradflow::test::ProgramRun columns_run =
      gradflow::test::run_capture({GRADFLOW_CLI, "sweep", "--columns"}, "", dir);
  REQUIRE(columns_run.exit_code == 0);
  std::string names;
  std::size_t start = 0;
  for (std::size_t end; (end = columns_run.out.find('\n', start)) != std::string::npos; start = end + 1) {
    const std::string line = columns_run.out.substr(start, end - start);
    const std::size_t tab = line.find('\t');
    REQUIRE(tab != std::string::npos);
    CHECK(line.find('\t', tab + 1) > tab + 1);  // a unit that is not empty
    names += (names.empty() ? "" : ",") + line.substr(0, tab);
  }
  CHECK(names == runs_csv_header());
  std::string err;
  CHECK(run({"sweep"}, dir, &err) == 2);
  CHECK_THAT(err, Catch::Contains("--config"));
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
