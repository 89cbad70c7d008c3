// The fair comparison of initializations (compare-inits): the bootstrap of a ratio of medians, the
// tuned-fixed protocol's choice of step, the data transforms, output-scale auto for the method that
// runs, and the tolerance that means the same for every run.
#include <gradflow/apps/sweep/sweep_command.hpp>
#include <gradflow/apps/sweep/sweep_files.hpp>
#include <gradflow/apps/sweep/sweep_plots.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/core/tolerances.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/experiments/bootstrap.hpp>
#include <gradflow/experiments/data_transform.hpp>
#include <gradflow/experiments/probability.hpp>
#include <gradflow/experiments/sweep_runner.hpp>
#include <gradflow/experiments/sweep_summary.hpp>
#include <gradflow/experiments/trial.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/quadratic.hpp>

#include "test_support.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace fs = std::filesystem;
using namespace gradflow;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

fs::path sandbox(const std::string& name) {
  const fs::path dir = fs::path(GRADFLOW_TESTS_BINARY_DIR) / "compare_sandbox" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

test::ProgramRun gradflow_cli(const fs::path& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv{GRADFLOW_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  return test::run_capture(argv, dir.string(), dir);
}

// The exact bootstrap distribution of median(a*) / median(b*): every resample of a and of b, each
// equally likely (independent of the library's resampling). Returns the sorted ratios with their
// probabilities.
std::vector<std::pair<double, double>> exact_ratio_distribution(const std::vector<double>& a,
                                                                const std::vector<double>& b) {
  const auto medians = [](const std::vector<double>& values) {
    std::map<double, double> out;  // median -> probability
    const std::size_t n = values.size();
    std::size_t total = 1;
    for (std::size_t i = 0; i < n; ++i) total *= n;
    std::vector<double> pick(n);
    for (std::size_t code = 0; code < total; ++code) {
      std::size_t c = code;
      for (std::size_t i = 0; i < n; ++i) {
        pick[i] = values[c % n];
        c /= n;
      }
      std::sort(pick.begin(), pick.end());
      const double m = n % 2 ? pick[n / 2] : 0.5 * (pick[n / 2 - 1] + pick[n / 2]);
      out[m] += 1.0 / static_cast<double>(total);
    }
    return out;
  };
  std::map<double, double> ratios;
  for (const auto& [ma, pa] : medians(a))
    for (const auto& [mb, pb] : medians(b)) ratios[ma / mb] += pa * pb;
  return {ratios.begin(), ratios.end()};
}

// The smallest value whose cumulative probability reaches q.
double exact_quantile(const std::vector<std::pair<double, double>>& distribution, double q) {
  double cumulative = 0.0;
  for (const auto& [value, p] : distribution) {
    cumulative += p;
    if (cumulative >= q - 1e-12) return value;
  }
  return distribution.back().first;
}

// The one-hidden-layer tanh network (no biases) of the commands' synthetic runs.
MlpArchitecture tanh_layer(Eigen::Index d, Eigen::Index width) {
  MlpArchitecture arch;
  arch.input_dim = d;
  arch.widths = {width};
  arch.activation = Activation::tanh;
  return arch;
}

}  // namespace

TEST_CASE("The bootstrap interval of a ratio of medians agrees with the exact bootstrap distribution", "[compare]") {
  for (const auto& [a, b] : std::vector<std::pair<std::vector<double>, std::vector<double>>>{
           {{1, 2, 3, 4, 5}, {2, 2, 2}}, {{10, 20, 30}, {1, 2, 3}}, {{7, 9, 12, 30}, {3, 4, 8}}}) {
    const RatioInterval ci = bootstrap_median_ratio(a, b, 20260101, 2000, 0.95);
    const auto exact = exact_ratio_distribution(a, b);
    std::vector<double> sa = a, sb = b;
    CHECK(ci.estimate == Approx(quantile(sa, 0.5) / quantile(sb, 0.5)));
    CHECK(ci.resamples == 2000);
    CHECK(ci.undefined == 0);
    // 2000 resamples put the 2.5% quantile within about 3 standard errors (0.0035 each) of the exact one.
    INFO("low " << ci.low << " high " << ci.high);
    CHECK(ci.low >= exact_quantile(exact, 0.025 - 0.012));
    CHECK(ci.low <= exact_quantile(exact, 0.025 + 0.012));
    CHECK(ci.high >= exact_quantile(exact, 0.975 - 0.012));
    CHECK(ci.high <= exact_quantile(exact, 0.975 + 0.012));
  }
}

TEST_CASE("The bootstrap reproduces its bits from the seed and handles ties and runs that never converged",
          "[compare]") {
  const std::vector<double> a{5, 8, 13, 21, 34, 55}, b{2, 3, 5, 8};
  const RatioInterval one = bootstrap_median_ratio(a, b, 7), two = bootstrap_median_ratio(a, b, 7);
  CHECK(one.low == two.low);
  CHECK(one.high == two.high);
  const RatioInterval other = bootstrap_median_ratio(a, b, 8);
  CHECK((other.low != one.low || other.high != one.high));
  // Constant samples: every resample gives the same ratio.
  const RatioInterval constant = bootstrap_median_ratio({4, 4, 4}, {2, 2}, 1);
  CHECK(constant.estimate == 2.0);
  CHECK(constant.low == 2.0);
  CHECK(constant.high == 2.0);
  // A scheme that never converged needs infinitely more work; both never converging is undefined.
  const double inf = std::numeric_limits<double>::infinity();
  const RatioInterval never = bootstrap_median_ratio({inf, inf, inf}, {1, 2, 3}, 1);
  CHECK(std::isinf(never.estimate));
  CHECK(std::isinf(never.low));
  const RatioInterval neither = bootstrap_median_ratio({inf, inf}, {inf}, 1, 100);
  CHECK(std::isnan(neither.estimate));
  CHECK(neither.undefined == 100);
  CHECK(std::isnan(neither.low));
  CHECK(work_ratio(3.0, inf) == 0.0);
}

TEST_CASE("tuned-fixed picks c = 2 beta / (mu + beta) on a quadratic, the step 2 / (mu + beta)", "[compare]") {
  // Eigenvalues 1/3 ... 1: the best fixed step 2 / (mu + beta) is c = 1.5 in units of 1 / beta.
  Vector eigenvalues(4);
  eigenvalues << 1.0 / 3.0, 0.5, 0.8, 1.0;
  const Quadratic quadratic(Matrix(eigenvalues.asDiagonal()));
  const std::vector<double> grid{0.25, 0.5, 1, 1.5, 1.9, 2.5, 4};
  std::vector<StepFactorResult> results;
  for (const double c : grid) {
    std::vector<double> steps;
    long converged = 0;
    for (std::uint64_t seed = 0; seed < 5; ++seed) {
      const Vector theta0 = default_theta0(4, seed);
      const double beta0 = initial_sharpness(quadratic, theta0, seed);
      CHECK(beta0 == Approx(1.0).epsilon(1e-5));
      DescentOptions o;
      o.step = StepRule::fixed;
      o.lr = c / beta0;
      o.stop.max_steps = 2000;
      o.stop.loss_tol = 1e-6 * quadratic.loss(theta0);
      const DescentResult run = descend(quadratic, theta0, o);
      const bool reached = run.status == Status::tolerance_reached;
      converged += reached ? 1 : 0;
      steps.push_back(reached ? static_cast<double>(run.iterations) : std::numeric_limits<double>::infinity());
    }
    results.push_back({c, static_cast<double>(converged) / 5.0, quantile(steps, 0.5)});
  }
  std::string choice;
  const std::size_t best = choose_best_c(results, 0.9, &choice);
  CHECK(results[best].c == 1.5);
  CHECK_THAT(choice, Catch::Contains("lowest median steps"));
  // c = 2.5 and 4 diverge (|1 - c| > 1): they never qualify.
  CHECK(results[5].converged_fraction == 0.0);
  CHECK(results[6].converged_fraction == 0.0);
}

TEST_CASE("The summary reports each scheme of tuned-fixed at its best c among those where 90% converged", "[compare]") {
  std::vector<RunRecord> records;
  const auto add = [&](const char* init, double c, long seed, bool reached, long steps) {
    RunRecord r;
    r.run = {*init_scheme_from_string(init),
             8,
             1,
             Activation::tanh,
             seed,
             Method{StepRule::fixed},
             *DatasetSpec::from_string("synthetic:4x8"),
             c};
    r.reached = reached;
    r.steps_to_eps = reached ? steps : -1;
    r.grad_evals = steps + 1;
    r.steps = steps;
    records.push_back(r);
  };
  for (long s = 0; s < 10; ++s) {
    add("positive", 0.5, s, true, 40 + s);
    add("positive", 1.0, s, true, 20 + s);
    add("positive", 2.0, s, s != 0, 10 + s);  // 90% converged, fewest steps: the best
    add("xavier_normal", 1.0, s, s > 1, 5);   // 80%: does not qualify
    add("xavier_normal", 0.5, s, true, 30);
  }
  const std::vector<SummaryRow> rows = summarize(records);
  REQUIRE(rows.size() == 2);
  for (const SummaryRow& row : rows) {
    if (row.init == "positive") {
      CHECK(row.lr_c == 2.0);
      CHECK(row.converged == 9);
    } else {
      CHECK(row.lr_c == 0.5);
      CHECK(row.steps.median == 30.0);
      // positive's median (at c = 2): steps 11..19 and one inf -> 15.5; 30 / 15.5.
      CHECK(row.speedup_steps.estimate == Approx(30.0 / 15.5));
      CHECK(row.speedup_grad_evals.estimate == Approx(31.0 / 16.5));
    }
  }
  CHECK_THAT(format_verdict(rows), Catch::Contains("positive is FASTER") && Catch::Contains("positive 9/10"));
  // Both medians infinite: no verdict.
  for (RunRecord& r : records) r.reached = false;
  CHECK_THAT(format_verdict(summarize(records)), Catch::Contains("CANNOT SAY"));
}

TEST_CASE("Whitening gives X X^T = I, scaling keeps the rank, and the condition number is the SVD's", "[compare]") {
  const NetworkData data = synthetic_data(6, 12, 3);
  const NetworkData white = transform_inputs(data, Preprocess::whiten);
  CHECK((white.x * white.x.transpose() - Matrix::Identity(6, 6)).norm() < 1e-12);
  CHECK(input_condition_number(white.x) == Approx(1.0).epsilon(1e-12));
  CHECK(white.y == data.y);
  NetworkData skewed = data;
  skewed.x.col(0) *= 1000.0;
  const NetworkData scaled = transform_inputs(skewed, Preprocess::scale);
  for (Eigen::Index j = 0; j < 12; ++j) CHECK(scaled.x.col(j).squaredNorm() / 6.0 == Approx(1.0));
  CHECK(independence_report(scaled.x).rank == 6);
  const Eigen::JacobiSVD<Matrix> svd(skewed.x);
  CHECK(input_condition_number(skewed.x) == Approx(svd.singularValues()[0] / svd.singularValues()[5]));
  // Centring n <= d samples leaves rank n - 1: no condition number, no whitening.
  const NetworkData centred = transform_inputs(data, Preprocess::standardize);
  CHECK(std::isinf(input_condition_number(centred.x)));
  CHECK_THROWS_AS(transform_inputs(centred, Preprocess::whiten), std::invalid_argument);
  CHECK_THROWS_AS(transform_inputs(synthetic_data(8, 4, 0), Preprocess::whiten), std::invalid_argument);
}

TEST_CASE("Every command's default tolerance is 1e-6 relative to L0", "[compare]") {
  CHECK(SweepSpec{}.eps == 1e-6);
  CHECK(ProbabilityOptions{}.eps == 1e-6);
  CHECK(cli::CompareInitsCommand{}.spec.to_sweep().eps == 1e-6);
  CHECK(CompareInitsSpec{}.to_sweep().eps == 1e-6);
}

TEST_CASE("The presets find the shipped data sets and an unknown preset is refused", "[compare]") {
  const std::string digits = cli::find_preset_file("digits");
  CHECK(fs::is_regular_file(digits));
  CHECK(fs::path(digits).filename() == "digits.csv");
  CHECK(fs::path(cli::find_preset_file("breast-cancer")).filename() == "breast_cancer.csv");
  CHECK_THROWS_AS(cli::find_preset_file("iris"), InputError);
}

TEST_CASE("output-scale auto is the descent threshold for descent and the flow threshold for the flow",
          "[compare][cli]") {
  const fs::path dir = sandbox("auto");
  for (const std::string protocol : {"armijo", "flow"}) {
    INFO(protocol);
    const auto run = gradflow_cli(
        dir, {"compare-inits", "--inits", "positive", "--widths", "8", "--seeds", "2", "--synthetic", "6x12",
              "--protocol", protocol, "--max-steps", "300", "--out", protocol, "--no-plots", "--quiet"});
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    const std::vector<RunRecord> runs = read_runs((dir / protocol / "runs.csv").string());
    REQUIRE(runs.size() == 2);
    for (const RunRecord& r : runs) {
      const auto certify = gradflow_cli(
          dir, {"certify", "--problem", "mlp", "--widths", "8", "--synthetic", "6,12", "--init", "positive",
                "--init-seed", std::to_string(r.init_seed), "--find-scale", "--json", "-", "--quiet"});
      INFO(certify.err);
      REQUIRE(certify.exit_code == 0);
      const nlohmann::json found = nlohmann::json::parse(certify.out)["find_scale"];
      const double flow = found["scale"].get<double>(), descent = found["descent_scale"].get<double>();
      CHECK(descent > 1.5 * flow);  // descent needs about twice the flow's scale
      CHECK(r.output_scale == Approx(1.05 * (protocol == "armijo" ? descent : flow)).epsilon(1e-12));
      CHECK(r.certified == 1);  // the certificate of the method that ran, at 1.05 times its threshold
    }
  }
}

TEST_CASE("output-scale auto with softplus is exit 2 naming softplus-centered, and a number runs uncertified",
          "[compare][cli]") {
  const fs::path dir = sandbox("softplus");
  auto run = gradflow_cli(dir, {"compare-inits", "--activation", "softplus", "--widths", "4", "--seeds", "1",
                                "--synthetic", "3x6", "--out", "r", "--no-plots", "--quiet"});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.err, Catch::Contains("--output-scale auto") && Catch::Contains("softplus-centered") &&
                          Catch::Contains("sigma(0)"));
  CHECK_FALSE(fs::exists(dir / "r"));
  // n > d: no certificate either.
  run = gradflow_cli(dir, {"compare-inits", "--widths", "4", "--seeds", "1", "--synthetic", "8x4", "--out", "r",
                           "--no-plots", "--quiet"});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.err, Catch::Contains("--output-scale auto"));
  run = gradflow_cli(dir, {"compare-inits",
                           "--activation",
                           "softplus",
                           "--output-scale",
                           "1",
                           "--inits",
                           "positive",
                           "--widths",
                           "4",
                           "--seeds",
                           "1",
                           "--synthetic",
                           "3x6",
                           "--max-steps",
                           "50",
                           "--eps",
                           "1e-2",
                           "--out",
                           "r",
                           "--no-plots",
                           "--quiet"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const std::vector<RunRecord> runs = read_runs((dir / "r" / "runs.csv").string());
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].certified != 1);  // the certificate cannot hold with sigma(0) != 0
  CHECK(runs[0].output_scale == 1.0);
}

TEST_CASE("The option loss-tol is one absolute target for every run, and the summary says which tolerance",
          "[compare][cli]") {
  const fs::path dir = sandbox("loss_tol");
  auto run = gradflow_cli(dir, {"compare-inits", "--widths", "4", "--seeds", "2", "--synthetic", "3x6", "--loss-tol",
                                "0.001", "--max-steps", "200", "--out", "abs", "--no-plots"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("loss <= 0.001 (absolute, --loss-tol)"));
  for (const RunRecord& r : read_runs((dir / "abs" / "runs.csv").string())) CHECK(r.loss_target == 0.001);
  CHECK_THAT(test::read_text(dir / "abs" / "summary.csv"), Catch::Contains("absolute, --loss-tol"));
  run = gradflow_cli(dir, {"compare-inits", "--widths", "4", "--seeds", "2", "--synthetic", "3x6", "--max-steps", "200",
                           "--out", "rel", "--no-plots"});
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("loss <= 1e-06 L0 (relative"));
  for (const RunRecord& r : read_runs((dir / "rel" / "runs.csv").string())) CHECK(r.loss_target == 1e-6 * r.loss0);
  run = gradflow_cli(dir, {"compare-inits", "--eps", "1e-3", "--loss-tol", "0.1", "--out", "both", "--no-plots"});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.err, Catch::Contains("--loss-tol 0.1") && Catch::Contains("cannot be combined with an eps"));
}

TEST_CASE("compare-inits on a preset reports the input condition number and the verdict", "[compare][cli]") {
  const fs::path dir = sandbox("preset");
  auto run = gradflow_cli(dir, {"compare-inits", "--preset",  "breast-cancer", "--inits",     "positive,xavier_normal",
                                "--widths",      "4",         "--seeds",       "3",           "--protocol",
                                "tuned-fixed",   "--lr-grid", "0.5,1",         "--max-steps", "300",
                                "--eps",         "1e-2",      "--out",         "r",           "--no-plots"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("breast_cancer.csv: input condition number"));
  CHECK_THAT(run.out, Catch::Contains("verdict"));
  CHECK(read_runs((dir / "r" / "runs.csv").string()).size() == 2 * 3 * 2);
  for (const auto& [args, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--preset", "iris"}, "--preset iris: unknown preset"},
           {{"--preset", "digits", "--synthetic", "4x8"}, "give one of --data, --preset and --synthetic"},
           {{"--whiten", "--standardize"}, "at most one of"},
           {{"--protocol", "sgd"}, "--protocol sgd: must be one of armijo, tuned-fixed, flow"},
           {{"--lr-grid", "1,x", "--protocol", "tuned-fixed"}, "--lr-grid x: a factor c is not a number"},
           {{"--lr-grid", "0", "--protocol", "tuned-fixed"}, "--lr-grid 0: must be a finite number > 0"},
           {{"--lr-grid", "1"}, "--lr-grid 1 factors: is for the tuned-fixed protocol only"},
           {{"--scale-margin", "0.5"}, "--scale-margin 0.5"},
           {{"--synthetic", "8x4", "--whiten", "--output-scale", "1"}, "--whiten"}}) {
    std::vector<std::string> argv{"compare-inits", "--out", "bad", "--quiet"};
    argv.insert(argv.end(), args.begin(), args.end());
    run = gradflow_cli(dir, argv);
    INFO(Catch::Detail::stringify(args) << " -> " << run.err);
    CHECK(run.exit_code == 2);
    CHECK_THAT(run.err, Catch::Contains(message));
  }
}

TEST_CASE("Carried-forward medians are monotone where every run's loss is, and the median bound too", "[compare]") {
  // Three runs whose losses fall monotonically and stop at different steps (the fast ones first), and
  // a certified bound L0 exp(-2 mu t) per run.
  std::vector<std::vector<CurvePoint>> curves;
  const std::vector<double> rates{0.5, 0.1, 0.02}, stops{10, 60, 300}, loss0{1.0, 3.0, 2.0};
  for (std::size_t i = 0; i < 3; ++i) {
    std::vector<CurvePoint> curve;
    for (double k = 0; k <= stops[i]; k += 1.0) {
      const double loss = loss0[i] * std::exp(-rates[i] * k);
      curve.push_back({k, k, loss, 0.0, 0.0, 0.0, loss0[i] * std::exp(-0.5 * rates[i] * k)});
    }
    curves.push_back(curve);
  }
  std::vector<double> steps;
  for (double t = 0; t <= 400; t += 5) steps.push_back(t);
  for (double CurvePoint::*field : {&CurvePoint::loss, &CurvePoint::bound}) {
    const std::vector<double> median = carried_forward_median(curves, loss0, steps, field, true);
    REQUIRE(median.size() == steps.size());
    for (std::size_t k = 1; k < median.size(); ++k) {
      INFO("step " << steps[k]);
      CHECK(median[k] <= median[k - 1]);
    }
  }
  // After every run stopped, the median is the median of the final values (not the one survivor's).
  const std::vector<double> last = carried_forward_median(curves, loss0, {400}, &CurvePoint::loss, true);
  std::vector<double> finals{std::exp(-0.5 * 10), std::exp(-0.1 * 60), std::exp(-0.02 * 300)};
  CHECK(last[0] == Approx(quantile(finals, 0.5)));
  CHECK(value_carried_forward(curves[0], 200, &CurvePoint::loss, true) == curves[0].back().loss);
  CHECK(std::isnan(value_carried_forward(curves[0], -1, &CurvePoint::loss, true)));
}

TEST_CASE("The same trial gives the same bits through run_trial, compare-inits (a sweep) and probability",
          "[compare][cli]") {
  const fs::path dir = sandbox("pipeline");
  auto run =
      gradflow_cli(dir, {"compare-inits", "--inits", "xavier_normal", "--widths", "8", "--seeds", "2", "--synthetic",
                         "6x12", "--max-steps", "300", "--threads", "2", "--out", "c", "--no-plots", "--quiet"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  run = gradflow_cli(dir,
                     {"probability",   "--problem",   "mlp", "--widths", "8",         "--synthetic", "6,12", "--init",
                      "xavier_normal", "--init-seed", "5",   "--draws",  "2",         "--steps",     "300",  "--step",
                      "armijo",        "--threads",   "2",   "--out",    "draws.csv", "--quiet"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const NetworkData data = synthetic_data(6, 12, 0);
  const MlpArchitecture arch = tanh_layer(12, 8);
  const Mlp network(arch, data.x, data.y);
  const auto direct = [&](std::uint64_t seed) {
    TrialSpec trial;
    trial.init.scheme = InitScheme::xavier_normal;
    trial.init.seed = seed;
    trial.method = Method{StepRule::armijo};
    trial.eps = 1e-6;
    trial.max_steps = 300;
    trial.lr = 1.0;
    trial.measure_beta0 = false;
    return run_trial(network, trial);
  };
  // compare-inits (the sweep's path): runs.csv holds each run's seed and its numbers at full precision.
  const std::vector<RunRecord> runs = read_runs((dir / "c" / "runs.csv").string());
  REQUIRE(runs.size() == 2);
  for (const RunRecord& r : runs) {
    const TrialResult t = direct(r.init_seed);
    CHECK(r.final_loss == t.final_loss);
    CHECK(r.steps == t.steps);
    CHECK(r.loss0 == t.loss0);
    CHECK(r.grad_evals == t.stats.num_gradient_evals);
  }
  // probability's path: one row per draw (draw, init_seed, certified, sigma0, mu, loss0, reached, iterations,
  // loss_final).
  std::istringstream lines(test::read_text(dir / "draws.csv"));
  std::string line;
  std::getline(lines, line);
  int rows = 0;
  while (std::getline(lines, line)) {
    const auto f = split_csv_line(line);
    REQUIRE(f);
    REQUIRE(f->size() == 9);
    const TrialResult t = direct(std::stoull((*f)[1]));
    CHECK(std::stod((*f)[5]) == t.loss0);
    CHECK(std::stol((*f)[7]) == t.steps);
    CHECK(std::stod((*f)[8]) == t.final_loss);
    ++rows;
  }
  CHECK(rows == 2);
}

TEST_CASE(
    "Observing (--observe) compare-inits and sweep runs: their ntk and sharpness against dense references, the "
    "training unchanged",
    "[compare][cli][observe]") {
  const fs::path dir = sandbox("observe");
  const std::vector<std::string> common{"compare-inits",
                                        "--inits",
                                        "positive,xavier_normal",
                                        "--widths",
                                        "6",
                                        "--seeds",
                                        "2",
                                        "--synthetic",
                                        "5x10",
                                        "--max-steps",
                                        "150",
                                        "--eps",
                                        "1e-3",
                                        "--no-plots",
                                        "--quiet"};
  std::vector<std::string> observed_args = common, plain_args = common;
  observed_args.insert(observed_args.end(), {"--observe", "ntk,sharpness", "--out", "o"});
  plain_args.insert(plain_args.end(), {"--out", "p"});
  auto run = gradflow_cli(dir, observed_args);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  run = gradflow_cli(dir, plain_args);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const std::vector<RunRecord> observed = read_runs((dir / "o" / "runs.csv").string());
  const std::vector<RunRecord> plain = read_runs((dir / "p" / "runs.csv").string());
  REQUIRE(observed.size() == 4);
  REQUIRE(plain.size() == 4);

  const NetworkData data = synthetic_data(5, 10, 0);
  const MlpArchitecture arch = tanh_layer(10, 6);
  const Mlp network(arch, data.x, data.y);
  for (std::size_t i = 0; i < observed.size(); ++i) {
    const RunRecord& r = observed[i];
    INFO(r.run.key());
    // Observing costs no gradient and changes nothing of the training.
    CHECK(plain[i].run.key() == r.run.key());
    CHECK(plain[i].final_loss == r.final_loss);
    CHECK(plain[i].steps == r.steps);
    CHECK(plain[i].grad_evals == r.grad_evals);
    CHECK(std::isnan(plain[i].observed.ntk_min));
    CHECK(plain[i].observed.rows == 0);
    CHECK(std::isnan(r.observed.sharpness_min));  // sharpness, not sharpness2
    // At theta0: the dense Hessian's largest eigenvalue and the Gram matrix's smallest (independent of Lanczos).
    InitOptions init;
    init.scheme = r.run.init;
    init.seed = r.init_seed;
    init.output_scale = r.output_scale;
    const Vector theta0 = initialize(arch, init);
    Matrix hessian(network.dimension(), network.dimension());
    network.hessian(theta0, hessian);
    const Eigen::SelfAdjointEigenSolver<Matrix> h(hessian, Eigen::EigenvaluesOnly);
    const Eigen::SelfAdjointEigenSolver<Matrix> g(network.gram(theta0), Eigen::EigenvaluesOnly);
    CHECK(r.observed.rows >= 2);
    CHECK(r.observed.sharpness0 == Approx(h.eigenvalues()[h.eigenvalues().size() - 1]).epsilon(1e-6));
    CHECK(r.observed.sharpness_max >= r.observed.sharpness0);
    CHECK(r.observed.eta_sharpness_max > 0.0);  // armijo's accepted steps (a fixed step is checked below)
    CHECK(std::isfinite(r.observed.eta_sharpness_max));
    // The smallest ntk_min along the rows is at most theta0's, and the identity kept pl_ratio >= ntk_min.
    CHECK(r.observed.ntk_min <= g.eigenvalues()[0] * (1.0 + 1e-9));
    CHECK(r.observed.ntk_max >= g.eigenvalues()[g.eigenvalues().size() - 1] * (1.0 - 1e-9));
    CHECK(r.observed.pl_margin >= -1e-9 * r.observed.ntk_max);
    // The curve's first point carries the same observations at theta0.
    const std::vector<CurvePoint> curve = read_curve((dir / "o" / curve_file_name(r.run)).string());
    REQUIRE(!curve.empty());
    CHECK(curve.front().iter == 0);
    CHECK(curve.front().observed.sharpness == Approx(r.observed.sharpness0).epsilon(1e-12));
    CHECK(curve.front().observed.ntk_min == Approx(g.eigenvalues()[0]).epsilon(1e-9));
    for (const CurvePoint& point : curve) CHECK(point.observed.ntk_min >= r.observed.ntk_min);
  }
  CHECK_THAT(test::read_text(dir / "o" / "summary.csv"), Catch::Contains("median_sharpness_max"));

  // The observables are a setting of the folder: another --observe is refused, not mixed in.
  std::vector<std::string> again = common;
  again.insert(again.end(), {"--observe", "sharpness", "--out", "o"});
  run = gradflow_cli(dir, again);
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.err, Catch::Contains("observe was ntk,sharpness, now sharpness"));

  // A sweep file's key, and --observe on sweep overriding it; unknown items name the key or the option.
  std::ofstream(dir / "s.toml") << "inits = [\"xavier_normal\"]\nwidths = [4]\nseeds = 1\n"
                                   "datasets = [\"synthetic:4x8\"]\nmax-steps = 50\nobserve = [\"sharpness2\"]\n"
                                   "methods = [\"fixed\"]\nlr = 0.05\n"
                                   "out = \"s\"\n";
  run = gradflow_cli(dir, {"sweep", "--config", "s.toml", "--no-plots", "--quiet"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  std::vector<RunRecord> swept = read_runs((dir / "s" / "runs.csv").string());
  REQUIRE(swept.size() == 1);
  CHECK(swept[0].observed.sharpness0 > 0.0);
  CHECK(std::isnan(swept[0].observed.ntk_min));
  // sharpness2: the smallest Hessian eigenvalue along the rows is at most theta0's (dense reference).
  {
    const NetworkData small = synthetic_data(4, 8, 0);
    const MlpArchitecture a = tanh_layer(8, 4);
    const Mlp net(a, small.x, small.y);
    InitOptions init;
    init.scheme = InitScheme::xavier_normal;
    init.seed = swept[0].init_seed;
    Matrix h(net.dimension(), net.dimension());
    net.hessian(initialize(a, init), h);
    const Eigen::SelfAdjointEigenSolver<Matrix> eig(h, Eigen::EigenvaluesOnly);
    const double top = eig.eigenvalues()[eig.eigenvalues().size() - 1];
    CHECK(swept[0].observed.sharpness0 == Approx(top).epsilon(1e-6));
    CHECK(swept[0].observed.sharpness_min <= eig.eigenvalues()[0] + 1e-6 * top);
    CHECK(swept[0].observed.sharpness_min < swept[0].observed.sharpness_max);
    // A fixed step of 0.05: the first step against the edge is 0.05 x the dense Hessian's top eigenvalue at
    // theta0, and the largest eta x sharpness is at least that; far from 1.9, nothing is at the edge.
    CHECK(swept[0].observed.eta_sharpness0 == Approx(0.05 * top).epsilon(1e-6));
    CHECK(swept[0].observed.eta_sharpness_max >= swept[0].observed.eta_sharpness0 * (1.0 - 1e-12));
    CHECK(swept[0].observed.edge_fraction == 0.0);
    CHECK(swept[0].observed.edge_samples >= 1);
  }
  run = gradflow_cli(dir, {"sweep", "--config", "s.toml", "--observe", "ntk", "--out", "s2", "--no-plots", "--quiet"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  swept = read_runs((dir / "s2" / "runs.csv").string());
  REQUIRE(swept.size() == 1);
  CHECK(std::isnan(swept[0].observed.sharpness0));
  CHECK(swept[0].observed.ntk_min > 0.0);
  std::ofstream(dir / "bad.toml") << "observe = [\"hessian\"]\n";
  run = gradflow_cli(dir, {"sweep", "--config", "bad.toml", "--quiet"});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.err, Catch::Contains("key 'observe': unknown observable 'hessian'"));
  run = gradflow_cli(dir, {"compare-inits", "--observe", "ntk,hessian", "--out", "bad", "--quiet"});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.err, Catch::Contains("--observe ntk,hessian") && Catch::Contains("unknown observable 'hessian'"));
}

TEST_CASE("The memory of --observe (Lanczos bases, Gram matrices) is checked against --max-memory", "[observe][cli]") {
  const fs::path dir = sandbox("observe_memory");
  // karimi at p = 1e5: the problem fits in 100 MB, a sharpness Lanczos basis of up to 300 vectors (240 MB)
  // does not.
  auto run = gradflow_cli(dir, {"flow", "--problem", "karimi", "--dim", "100000", "--t-end", "0.01", "--observe",
                                "sharpness", "--max-memory", "100M", "--quiet"});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.err, Catch::Contains("--observe sharpness"));
  CHECK_THAT(run.err, Catch::Contains("Lanczos"));
  run = gradflow_cli(dir, {"descend", "--problem", "karimi", "--dim", "100000", "--max-iters", "2", "--observe",
                           "sharpness", "--max-memory", "100M", "--quiet"});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.err, Catch::Contains("--observe sharpness"));
  // Without the limit the same run is allowed (the default limit is 75% of physical memory).
  run = gradflow_cli(dir, {"flow", "--problem", "karimi", "--dim", "100000", "--t-end", "0.001", "--observe",
                           "sharpness", "--max-memory", "1G", "--quiet"});
  INFO(run.err);
  CHECK(run.exit_code == 0);
}

TEST_CASE("Holm's adjustment matches the step-down computed by hand, NaN entries are not members", "[compare]") {
  // m = 4 defined values: sorted 0.01, 0.02, 0.03, 0.5 -> 4 x 0.01 = 0.04, max(0.04, 3 x 0.02) = 0.06,
  // max(0.06, 2 x 0.03) = 0.06, max(0.06, 1 x 0.5) = 0.5; in the input's order.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> adjusted = holm_adjust({0.03, nan, 0.5, 0.01, 0.02});
  REQUIRE(adjusted.size() == 5);
  CHECK(adjusted[0] == Approx(0.06));
  CHECK(std::isnan(adjusted[1]));
  CHECK(adjusted[2] == Approx(0.5));
  CHECK(adjusted[3] == Approx(0.04));
  CHECK(adjusted[4] == Approx(0.06));
  // Capped at 1, and monotone in the sorted order.
  const std::vector<double> capped = holm_adjust({0.4, 0.3});
  CHECK(capped[1] == Approx(0.6));
  CHECK(capped[0] == Approx(0.6));  // max(0.6, 1 x 0.4)
  CHECK(holm_adjust({}).empty());
}

TEST_CASE("The bootstrap p-value is twice the smaller tail of the rounds' ratios around 1", "[compare]") {
  // Every round's ratio is > 1 when every value of a is above every value of b: p = 0.
  RatioInterval all_above = bootstrap_median_ratio({10, 11, 12}, {1, 2, 3}, 7, 500);
  CHECK(all_above.p_value == 0.0);
  // Identical samples of one value: every ratio is exactly 1, counted on both sides: p = 1.
  CHECK(bootstrap_median_ratio({5, 5, 5}, {5, 5, 5}, 7, 500).p_value == 1.0);
  // Recount the tails from the rounds (the same draws: the same seed) by hand.
  const std::vector<double> a{3, 5, 9, 4, 12}, b{4, 6, 5, 8, 7};
  const RatioInterval r = bootstrap_median_ratio(a, b, 99, 400);
  Random random(99);
  std::vector<double> sa(a.size()), sb(b.size());
  long below = 0, above = 0;
  for (int k = 0; k < 400; ++k) {
    for (std::size_t i = 0; i < a.size(); ++i)
      sa[i] = a[std::min(a.size() - 1, static_cast<std::size_t>(random.uniform() * static_cast<double>(a.size())))];
    for (std::size_t i = 0; i < b.size(); ++i)
      sb[i] = b[std::min(b.size() - 1, static_cast<std::size_t>(random.uniform() * static_cast<double>(b.size())))];
    std::sort(sa.begin(), sa.end());
    std::sort(sb.begin(), sb.end());
    const double ratio = sa[2] / sb[2];  // odd sizes: the median is the middle order statistic
    below += ratio <= 1.0 ? 1 : 0;
    above += ratio >= 1.0 ? 1 : 0;
  }
  CHECK(r.p_value == Approx(std::min(1.0, 2.0 * static_cast<double>(std::min(below, above)) / 400.0)));
}

TEST_CASE("The verdict compares positive with every scheme under Holm's method and names each class", "[compare]") {
  // Positive needs 100 gradient evaluations; xavier_normal 50 (positive clearly slower), orthogonal 200
  // (positive clearly faster), kaiming_normal the same as positive (not distinguishable), and
  // kaiming_uniform never converges while positive does: positive is faster than it.
  std::vector<RunRecord> records;
  const auto add = [&](const char* init, long seed, bool reached, long evals) {
    RunRecord r;
    r.run = {*init_scheme_from_string(init),
             8,
             1,
             Activation::tanh,
             seed,
             Method{StepRule::armijo},
             *DatasetSpec::from_string("synthetic:4x8"),
             0.0};
    r.reached = reached;
    r.steps_to_eps = reached ? evals - 1 : -1;
    r.grad_evals = evals;
    r.steps = evals - 1;
    records.push_back(r);
  };
  for (long s = 0; s < 12; ++s) {
    add("positive", s, true, 100 + s % 3);
    add("xavier_normal", s, true, 50 + s % 3);
    add("orthogonal", s, true, 200 + s % 3);
    add("kaiming_normal", s, true, 99 + s % 5);
  }
  const std::vector<SummaryRow> rows = summarize(records);
  REQUIRE(rows.size() == 4);
  // Holm recomputed from the rows' own p-values, by hand for m = 3.
  std::vector<double> p;
  for (const SummaryRow& row : rows)
    if (row.init != "positive") p.push_back(row.speedup_grad_evals.p_value);
  std::vector<double> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  const double h1 = std::min(1.0, 3 * sorted[0]);
  const double h2 = std::max(h1, std::min(1.0, 2 * sorted[1]));
  const double h3 = std::max(h2, std::min(1.0, sorted[2]));
  for (const SummaryRow& row : rows) {
    if (row.init == "positive") {
      CHECK(std::isnan(row.holm_p));
      continue;
    }
    const double raw = row.speedup_grad_evals.p_value;
    const double expected = raw == sorted[0] ? h1 : raw == sorted[1] ? h2 : h3;
    CHECK(row.holm_p == Approx(expected));
  }
  const std::string verdict = format_verdict(rows);
  INFO(verdict);
  CHECK_THAT(verdict, Catch::Contains("positive is FASTER than orthogonal") &&
                          Catch::Contains("positive is SLOWER than xavier_normal") &&
                          Catch::Contains("NOT DISTINGUISHABLE from kaiming_normal") &&
                          Catch::Contains("Holm's method over 3 schemes") && Catch::Contains("positive 12/12"));
  // The summary's columns carry both p-values.
  const NamedValues values = summary_values(rows[1], "eps");
  bool raw_column = false, holm_column = false;
  for (const NamedValue& v : values) {
    raw_column |= v.name == "speedup_grad_evals_p";
    holm_column |= v.name == "verdict_p_holm";
  }
  CHECK(raw_column);
  CHECK(holm_column);
  // A scheme that never converges while positive does is slower than positive: p = 0, FASTER.
  for (long s = 0; s < 12; ++s) add("kaiming_uniform", s, false, 5000);
  const std::string five = format_verdict(summarize(records));
  CHECK_THAT(five, Catch::Contains("kaiming_uniform inf") && Catch::Contains("Holm's method over 4 schemes"));
  // Both medians infinite for one scheme: CANNOT SAY against it, the others still decided.
  for (RunRecord& r : records)
    if (r.run.init == InitScheme::positive) r.reached = false;
  const std::string none = format_verdict(summarize(records));
  CHECK_THAT(none, Catch::Contains("CANNOT SAY against kaiming_uniform"));
}

TEST_CASE("When no c converges, the best c is the one with the lowest median final loss, and the table says so",
          "[compare]") {
  // By hand: c = 0.25 ends at 4.8e-3, c = 1.9 at 7.1e-6, c = 4 diverged (NaN); nothing converged.
  std::vector<StepFactorResult> grid{{0.25, 0.0, kInf, 4.8e-3}, {1.9, 0.0, kInf, 7.1e-6}, {4.0, 0.0, kInf, kNaN}};
  std::string choice;
  CHECK(choose_best_c(grid, 0.9, &choice) == 1);
  CHECK(choice == "no c converged: the lowest median final loss");
  // Some run converged somewhere: the converged fraction decides, as before.
  grid[0].converged_fraction = 0.1;
  CHECK(choose_best_c(grid, 0.9, &choice) == 0);
  // Through summarize(): runs.csv's final losses, and the table's note.
  std::vector<RunRecord> records;
  for (const double c : {0.25, 1.9, 4.0}) {
    for (long s = 0; s < 3; ++s) {
      RunRecord r;
      r.run = {InitScheme::positive,
               8,
               1,
               Activation::tanh,
               s,
               Method{StepRule::fixed},
               *DatasetSpec::from_string("synthetic:4x8"),
               c};
      r.reached = false;
      r.steps_to_eps = -1;
      r.final_loss = c == 0.25 ? 4.8e-3 : c == 1.9 ? 7.1e-6 : kNaN;
      records.push_back(r);
    }
  }
  const std::vector<SummaryRow> rows = summarize(records);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].lr_c == 1.9);
  CHECK_THAT(format_summary(rows, "eps"), Catch::Contains("no c converged: the lowest median final loss"));
}

TEST_CASE("The bootstrap's seed takes a file data set by its file name: the same data in another folder, the same bits",
          "[compare]") {
  const auto records_in = [](const std::string& dataset) {
    std::vector<RunRecord> records;
    for (long s = 0; s < 6; ++s) {
      for (const InitScheme init : {InitScheme::positive, InitScheme::xavier_normal}) {
        RunRecord r;
        r.run = {init, 8, 1, Activation::tanh, s, Method{StepRule::armijo}, *DatasetSpec::from_string(dataset), 0.0};
        r.reached = true;
        r.grad_evals = (init == InitScheme::positive ? 100 : 120) + 7 * s % 11;
        r.steps_to_eps = r.grad_evals - 1;
        records.push_back(r);
      }
    }
    return records;
  };
  const std::vector<SummaryRow> here = summarize(records_in("file:/home/a/data/bc.csv"));
  const std::vector<SummaryRow> there = summarize(records_in("file:/srv/clone/data/bc.csv"));
  REQUIRE(here.size() == 2);
  REQUIRE(there.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    if (here[i].init == "positive") continue;
    CHECK(here[i].speedup_grad_evals.low == there[i].speedup_grad_evals.low);
    CHECK(here[i].speedup_grad_evals.high == there[i].speedup_grad_evals.high);
    CHECK(here[i].speedup_grad_evals.p_value == there[i].speedup_grad_evals.p_value);
  }
  // Another file name is another comparison: another seed (intervals may differ; the estimate does not).
  const std::vector<SummaryRow> other = summarize(records_in("file:/home/a/data/digits.csv"));
  CHECK(other[1].speedup_grad_evals.estimate == here[1].speedup_grad_evals.estimate);
}

TEST_CASE("The figures read true: every scheme in every figure, the PL rate per explicit step, no data path in a title",
          "[compare]") {
  // A file data set in a folder whose name must not reach a title; positive never converges (a budget of
  // 3 steps at a tight target), so its steps and speedups are infinite.
  const fs::path dir = sandbox("figures");
  fs::create_directories(dir / "secret-folder");
  {
    std::ofstream data(dir / "secret-folder" / "tiny.csv");
    const NetworkData d = synthetic_data(4, 8, 3);
    for (Eigen::Index i = 0; i < d.x.rows(); ++i) {
      for (Eigen::Index j = 0; j < d.x.cols(); ++j) data << d.x(i, j) << ",";
      data << d.y(i) << "\n";
    }
  }
  const auto run = gradflow_cli(dir, {"compare-inits", "--data", (dir / "secret-folder" / "tiny.csv").string(),
                                      "--inits", "positive,xavier_normal,orthogonal", "--widths", "4,8", "--seeds", "1",
                                      "--eps", "1e-12", "--max-steps", "3", "--out", "r", "--quiet"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const fs::path plots = dir / "r" / "plots";
  for (const char* figure : {"loss", "pl_ratio", "distance", "work"}) {
    INFO(figure);
    const std::string script = test::read_text(plots / (std::string(figure) + ".gp"));
    for (const char* init : {"positive", "xavier_normal", "orthogonal"}) {
      if (std::string(figure) == "work" && std::string(init) == "positive") continue;  // the ratios' denominator
      CHECK_THAT(script, Catch::Contains("title '" + std::string(init)));
    }
    CHECK_THAT(script, !Catch::Contains("secret-folder") && Catch::Contains("tiny.csv"));
    CHECK_THAT(script, Catch::Contains("set key inside"));
  }
  // No run converged at eps 1e-12 in 3 steps: no steps figure, said; the work figure still drawn.
  CHECK_THAT(run.err, Catch::Contains("steps_vs_width not drawn"));
  CHECK(fs::exists(plots / "work.png"));
  // The PL figure plots pl_ratio / beta0: at step 0, one run per scheme at the widest width, it is that run's
  // first curve row's pl_ratio over its runs.csv beta0.
  for (const RunRecord& r : read_runs((dir / "r" / "runs.csv").string())) {
    if (r.run.width != 8) continue;
    const std::string init(to_string(r.run.init));
    INFO(init);
    const std::vector<CurvePoint> curve = read_curve((dir / "r" / curve_file_name(r.run)).string());
    REQUIRE_FALSE(curve.empty());
    std::ifstream pl(plots / "data" / (init + "_pl.dat"));
    std::string header;
    std::getline(pl, header);
    CHECK(header == "# step median_pl_ratio_over_beta0");
    double step = -1.0, value = 0.0;
    pl >> step >> value;
    CHECK(step == 0.0);
    CHECK(value == Approx(curve.front().pl_ratio / r.beta0).epsilon(1e-12));
  }
}

TEST_CASE(
    "The flow's rtol, atol and time accuracy reach every trial from compare-inits and the sweep file, and bad "
    "ones are refused naming them",
    "[compare][cli]") {
  // The defaults are FlowOptions's, and they reach each trial through to_sweep() and the runner.
  CompareInitsSpec spec;
  spec.protocol = Protocol::flow;
  spec.inits = {InitScheme::xavier_normal};
  spec.widths = {4};
  spec.seeds = 1;
  spec.dataset = *DatasetSpec::from_string("synthetic:3x6");
  REQUIRE_FALSE(spec.validate());
  const auto trials = [](const CompareInitsSpec& s) {
    const SweepSpec sweep = s.to_sweep();
    std::vector<TrialSpec> out;
    for (const RunSpec& run : enumerate_runs(sweep)) out.push_back(trial_spec(run, sweep));
    return out;
  };
  CHECK(SweepSpec{}.rtol == FlowOptions{}.rtol);
  CHECK(SweepSpec{}.atol == FlowOptions{}.atol);
  for (const TrialSpec& t : trials(spec)) {
    CHECK(t.rtol == 1e-8);
    CHECK(t.atol == 1e-10);
    CHECK(t.time_accuracy == 0.01);
  }
  spec.rtol = 3e-7;
  spec.atol = 4e-12;
  spec.time_accuracy = 0.0;
  REQUIRE_FALSE(spec.validate());
  const std::vector<TrialSpec> given = trials(spec);
  REQUIRE(given.size() == 1);
  CHECK(given[0].rtol == 3e-7);
  CHECK(given[0].atol == 4e-12);
  CHECK(given[0].time_accuracy == 0.0);
  // The bounds of each (the flow's own rule for rtol: 100 machine epsilons to 1).
  spec.rtol = tolerances::kMinRelativeTolerance;
  CHECK_FALSE(spec.validate());
  spec.rtol = 0.5 * tolerances::kMinRelativeTolerance;
  REQUIRE(spec.validate());
  CHECK(spec.validate()->field == "rtol");
  spec.rtol.reset();
  spec.time_accuracy = 0.5;
  REQUIRE(spec.validate());
  CHECK(spec.validate()->field == "time_accuracy");
  spec.time_accuracy = 0.01;
  spec.protocol = Protocol::armijo;
  spec.atol = 1e-10;
  REQUIRE(spec.validate());
  CHECK(spec.validate()->field == "atol");
  CHECK(spec.validate()->constraint == "is for the flow protocol only");

  // The command line: a tiny flow comparison writes the three into its manifest, a setting that changes a
  // result (a rerun with another --rtol is refused), and the manifest reruns as a sweep file.
  const fs::path dir = sandbox("flow_tolerances");
  const std::vector<std::string> tiny{"compare-inits", "--inits",     "xavier_normal", "--widths",   "4",
                                      "--seeds",       "1",           "--synthetic",   "3x6",        "--eps",
                                      "1e-3",          "--max-steps", "2000",          "--no-plots", "--quiet"};
  // The flow protocol unless the extra options name another.
  const auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = tiny;
    if (std::find(extra.begin(), extra.end(), "--protocol") == extra.end())
      args.insert(args.end(), {"--protocol", "flow"});
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  auto run = gradflow_cli(dir, with({"--out", "r"}));
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const std::string manifest = test::read_text(dir / "r" / "sweep.toml");
  for (const char* line : {"# setting rtol = 1e-08\n", "# setting atol = 1e-10\n", "# setting time-accuracy = 0.01\n",
                           "\nrtol = 1e-08\n", "\natol = 1e-10\n", "\ntime-accuracy = 0.01\n"})
    CHECK_THAT(manifest, Catch::Contains(line));
  REQUIRE(read_runs((dir / "r" / "runs.csv").string()).size() == 1);
  run = gradflow_cli(dir, with({"--out", "r", "--rtol", "1e-10"}));
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.err, Catch::Contains("rtol was 1e-08, now 1e-10"));
  run = gradflow_cli(dir, {"sweep", "--config", "r/sweep.toml", "--no-plots", "--quiet"});
  INFO(run.err);
  CHECK(run.exit_code == 0);

  // Refusals: exit 2 naming the option and the value (as the library prints numbers), nothing written.
  const std::vector<std::pair<std::vector<std::string>, std::string>> refused{
      {{"--rtol", "1e-300"}, "--rtol 1e-300: is below what double precision can meet"},
      {{"--rtol", "2"}, "--rtol 2: must be a number in (0, 1)"},
      {{"--atol", "0"}, "--atol 0: must be a number in (0, 1)"},
      {{"--atol", "5"}, "--atol 5: must be a number in (0, 1)"},
      {{"--time-accuracy", "0.7"}, "--time-accuracy " + full_precision(0.7) + ": must be a number in [0, 0.5)"},
      {{"--time-accuracy", "-0.25"}, "--time-accuracy -0.25: must be a number in [0, 0.5)"},
      {{"--protocol", "armijo", "--rtol", "1e-8"}, "--rtol 1e-08: is for the flow protocol only"},
      {{"--protocol", "tuned-fixed", "--atol", "1e-10"}, "--atol 1e-10: is for the flow protocol only"},
  };
  for (const auto& [extra, message] : refused) {
    std::vector<std::string> args = with(extra);
    args.insert(args.end(), {"--out", "bad"});
    run = gradflow_cli(dir, args);
    INFO(extra.front() << " " << extra.back() << ": " << run.err);
    CHECK(run.exit_code == 2);
    CHECK_THAT(run.err, Catch::Contains(message));
    CHECK_FALSE(fs::exists(dir / "bad"));
  }
  // The sweep file: a number in quotes, and the same checks under the file's spelling of the key.
  const std::vector<std::pair<std::string, std::string>> bad_files{
      {"rtol = \"1e-8\"", "key 'rtol' takes a number, not the string \"1e-8\""},
      {"atol = 0", "key 'atol' = 0: must be a number in (0, 1)"},
      {"time-accuracy = 0.5", "key 'time-accuracy' = 0.5: must be a number in [0, 0.5)"},
      {"rtol = 1e-300", "key 'rtol' = 1e-300: is below what double precision can meet"},
  };
  for (const auto& [key, message] : bad_files) {
    std::ofstream(dir / "bad.toml") << "datasets = [\"synthetic:3x6\"]\nmethods = [\"dopri5\"]\nout = \"bad\"\n"
                                    << key << "\n";
    run = gradflow_cli(dir, {"sweep", "--config", "bad.toml", "--no-plots", "--quiet"});
    INFO(key << ": " << run.err);
    CHECK(run.exit_code == 2);
    CHECK_THAT(run.err, Catch::Contains(message));
    CHECK_FALSE(fs::exists(dir / "bad"));
  }
}

TEST_CASE("The flow protocol's verdict is on flow time x beta0, not on the solver's work", "[compare]") {
  // Flow runs where xavier_normal needs the same gradient evaluations as positive but twice its flow time:
  // positive is FASTER in the flow's time, whatever the solver's work says.
  std::vector<RunRecord> records;
  for (long s = 0; s < 10; ++s) {
    for (const InitScheme init : {InitScheme::positive, InitScheme::xavier_normal}) {
      RunRecord r;
      r.run = {init, 8, 1, Activation::tanh, s, Method{Solver::dopri5}, *DatasetSpec::from_string("synthetic:4x8"),
               0.0};
      r.reached = true;
      r.grad_evals = 500 + s;
      r.steps_to_eps = 80;
      r.beta0 = 2.0;
      r.time_to_eps = (init == InitScheme::positive ? 1.0 : 2.0) + 0.01 * static_cast<double>(s);
      r.time_beta0 = r.time_to_eps * r.beta0;
      r.time_change = init == InitScheme::positive ? 0.002 : 0.004;
      records.push_back(r);
    }
  }
  const std::vector<SummaryRow> rows = summarize(records);
  REQUIRE(rows.size() == 2);
  const SummaryRow& xavier = rows[0].init == "xavier_normal" ? rows[0] : rows[1];
  CHECK(xavier.flow);
  CHECK(xavier.speedup_grad_evals.estimate == Approx(1.0));
  // The medians by hand: positive (1.04 + 1.05) / 2 x 2, xavier (2.04 + 2.05) / 2 x 2.
  CHECK(xavier.speedup_time_beta0.estimate == Approx(2.045 / 1.045));
  CHECK(xavier.time_accuracy == Approx(0.004));
  const std::string verdict = format_verdict(rows);
  INFO(verdict);
  CHECK_THAT(verdict, Catch::Contains("positive is FASTER than xavier_normal") &&
                          Catch::Contains("flow time x beta0") && Catch::Contains("settled to 0.4%"));
  // One run whose repeat at a tighter rtol missed the target: the time is not settled for every run, and
  // the verdict says so instead of "settled to inf%".
  records.back().time_change = std::numeric_limits<double>::infinity();
  const std::string unsettled = format_verdict(summarize(records));
  INFO(unsettled);
  CHECK_THAT(unsettled, Catch::Contains("not settled for every run") && !Catch::Contains("inf%"));
}

TEST_CASE("A flow trial's time to the target is settled by tighter runs and agrees with an independent solver",
          "[compare][trial]") {
  const NetworkData data = synthetic_data(4, 8, 17);
  MlpArchitecture architecture;
  architecture.input_dim = 8;
  architecture.widths = {6};
  architecture.activation = Activation::tanh;
  const Mlp network(architecture, data.x, data.y);
  TrialSpec spec;
  spec.init.scheme = InitScheme::xavier_normal;
  spec.init.seed = 3;
  spec.method = Method{Solver::dopri5};
  spec.eps = 1e-3;
  spec.max_steps = 200000;
  spec.rtol = 1e-4;
  spec.atol = 1e-6;
  spec.time_accuracy = 0.01;
  const TrialResult r = run_trial(network, spec);
  REQUIRE(r.reached);
  CHECK(r.time_rtol < spec.rtol);  // at rtol 1e-4 the time is not settled to 1%: tightened at least once
  CHECK(r.time_change <= 0.01);
  // The reference: another solver at a far tighter tolerance, without the check.
  TrialSpec reference = spec;
  reference.method = Method{Solver::cvode_bdf};
  reference.rtol = 1e-11;
  reference.atol = 1e-13;
  reference.time_accuracy = 0.0;
  const TrialResult ref = run_trial(network, reference);
  REQUIRE(ref.reached);
  CHECK(std::isnan(ref.time_change));
  CHECK(std::abs(r.time_to_eps - ref.time_to_eps) <= 0.02 * ref.time_to_eps);
  // The rule recomputed from the flows themselves: the times at rtol 1e-4, 1e-5, ... (atol likewise / 10),
  // and the first tightening whose time moves by at most 1% is the one reported.
  const Vector theta0 = initialize(network.architecture(), spec.init);
  const double target = spec.eps * network.loss(theta0);
  std::vector<double> times, rtols;
  for (int k = 0; k <= kMaxTimeTightenings; ++k) {
    FlowOptions o;
    o.solver = Solver::dopri5;
    o.t_end = spec.t_end;
    o.rtol = spec.rtol / std::pow(10.0, k);
    o.atol = spec.atol / std::pow(10.0, k);
    o.stop.loss_tol = target;
    o.stop.max_steps = spec.max_steps;
    o.save.keep_rows = false;
    const FlowResult f = simulate_flow(network, theta0, o);
    REQUIRE(f.status == Status::tolerance_reached);
    times.push_back(f.t_final);
    rtols.push_back(o.rtol);
  }
  std::size_t settled = times.size() - 1;
  for (std::size_t k = 1; k < times.size(); ++k) {
    if (std::abs(times[k] - times[k - 1]) / times[k] <= 0.01) {
      settled = k;
      break;
    }
  }
  CHECK(r.time_rtol == Approx(rtols[settled]).epsilon(1e-12));
  CHECK(r.time_to_eps == Approx(times[settled]).epsilon(1e-12));
  CHECK(r.time_change == Approx(std::abs(times[settled] - times[settled - 1]) / times[settled]).epsilon(1e-9));
  // The work stays the first run's: the same as a run with the check off.
  TrialSpec unchecked = spec;
  unchecked.time_accuracy = 0.0;
  const TrialResult plain = run_trial(network, unchecked);
  CHECK(plain.stats.num_gradient_evals == r.stats.num_gradient_evals);
  CHECK(plain.time_rtol == spec.rtol);
}

TEST_CASE("Without positive among the schemes the verdict says why there is none", "[compare]") {
  std::vector<RunRecord> records;
  for (long s = 0; s < 3; ++s) {
    for (const InitScheme init : {InitScheme::xavier_normal, InitScheme::kaiming_normal}) {
      RunRecord r;
      r.run = {init, 8, 1, Activation::tanh, s, Method{StepRule::armijo}, *DatasetSpec::from_string("synthetic:4x8"),
               0.0};
      r.reached = true;
      r.grad_evals = 10 + s;
      r.steps_to_eps = 9 + s;
      records.push_back(r);
    }
  }
  CHECK_THAT(format_verdict(summarize(records)), Catch::Contains("none (positive is not among the schemes"));
}

TEST_CASE("Descent's rises and catapults are those of its every-step losses, counted by hand", "[compare][trial]") {
  // A fixed step far past 2 / sharpness: the loss rises, and may climb and fall back (a catapult). The
  // trial's counts against a hand count over descend()'s rows recorded at every iteration.
  const NetworkData data = synthetic_data(4, 8, 5);
  MlpArchitecture architecture;
  architecture.input_dim = 8;
  architecture.widths = {6};
  architecture.activation = Activation::tanh;
  const Mlp network(architecture, data.x, data.y);
  InitOptions init;
  init.scheme = InitScheme::xavier_normal;
  init.seed = 2;
  const Vector theta0 = initialize(architecture, init);
  const double beta0 = initial_sharpness(network, theta0, derive_seed(init.seed, 7));
  for (const double c : {0.5, 2.2, 3.0}) {
    INFO("c = " << c);
    TrialSpec spec;
    spec.init = init;
    spec.method = Method{StepRule::fixed};
    spec.lr_c = c;
    spec.eps = 1e-8;
    spec.max_steps = 300;
    spec.observe.sharpness = true;
    const TrialResult r = run_trial(network, spec);
    DescentOptions o;
    o.step = StepRule::fixed;
    o.lr = c / beta0;
    o.stop.max_steps = 300;
    o.stop.loss_tol = r.target;
    o.stop.grad_tol = 0.0;
    o.save.every_steps = 1;
    const DescentResult every = descend(network, theta0, o);
    long rises = 0, catapults = 0;
    double lowest = every.rows.front().loss, from = -1.0;
    for (std::size_t k = 1; k < every.rows.size(); ++k) {
      const double loss = every.rows[k].loss;
      if (loss > every.rows[k - 1].loss) ++rises;
      if (from < 0.0 && loss > 1.01 * lowest) from = lowest;
      if (from >= 0.0 && loss < from) {
        ++catapults;
        from = -1.0;
      }
      lowest = std::min(lowest, loss);
    }
    CHECK(r.loss_rises == rises);
    CHECK(r.catapults == catapults);
    // eta x sharpness at theta0: the step c / beta0 times the sharpness there (beta0 itself, to the power
    // iteration's and Lanczos's tolerances).
    CHECK(r.observed.eta_sharpness0 == Approx(c).epsilon(1e-3));
    if (c < 1.0) CHECK(r.observed.edge_fraction == 0.0);
    if (c > 2.0) CHECK(r.observed.edge_fraction > 0.0);
  }
}

TEST_CASE("A sweep whose network has more than 2^63 - 1 parameters is refused by the memory check (found by fuzzing)",
          "[compare][safety]") {
  const fs::path dir = sandbox("parameter_overflow");
  std::ofstream(dir / "k.toml")
      << "inits = [\"positive\"]\nwidths = [86]\ndepths = [4]\nseeds = 1\n"
         "methods = [\"armijo\"]\ndatasets = [\"synthetic:6x182327025183791812\"]\nout = \"r\"\n";
  const auto run = gradflow_cli(dir, {"sweep", "--config", "k.toml", "--quiet", "--no-plots"});
  INFO(run.err);
  CHECK(run.exit_code == 2);
  CHECK_FALSE(fs::exists(dir / "r"));
}

TEST_CASE(
    "A sweep file with both eps and loss-tol is refused naming both lines, and a loss-tol sweep reruns from its "
    "manifest",
    "[compare][sweep]") {
  const fs::path dir = sandbox("eps_and_loss_tol");
  const std::string grid =
      "inits = [\"positive\", \"xavier_normal\"]\nwidths = [4]\nseeds = 1\nmethods = [\"armijo\"]\n"
      "datasets = [\"synthetic:3x6\"]\nmax-steps = 50\nout = \"r\"\n";
  std::ofstream(dir / "both.toml") << grid << "eps = 0.1\nloss-tol = 0.1\n";
  auto run = gradflow_cli(dir, {"sweep", "--config", "both.toml", "--quiet", "--no-plots"});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.err,
             Catch::Contains("not both") && Catch::Contains("eps on line 8") && Catch::Contains("loss-tol on line 9"));
  CHECK_FALSE(fs::exists(dir / "r"));
  std::ofstream(dir / "tol.toml") << grid << "loss-tol = 0.1\n";
  run = gradflow_cli(dir, {"sweep", "--config", "tol.toml", "--quiet", "--no-plots"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  run = gradflow_cli(dir, {"sweep", "--config", "r/sweep.toml", "--no-plots"});
  INFO(run.err);
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("2 already done, 0 to run"));
}
