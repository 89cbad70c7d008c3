// The command line: `gradflow flow` runs and writes its files; every kind of bad input exits with code
// 2, one line naming the option and the value, and no output file; config files; reproducible seeds.
#include <gradflow/core/text.hpp>
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <boost/math/distributions/beta.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A fresh directory per test, holding the inputs it writes and whatever the command writes.
class Sandbox {
 public:
  explicit Sandbox(const std::string& name) : dir_(fs::path(GRADFLOW_TESTS_BINARY_DIR) / "cli_sandbox" / name) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  std::string file(const std::string& name, const std::string& content) const {
    std::ofstream(dir_ / name) << content;
    return (dir_ / name).string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // Runs gradflow with the words of args (split at spaces) in the sandbox, without a shell.
  Run run(const std::string& args) const {
    std::vector<std::string> argv{GRADFLOW_CLI};
    for (std::string& word : gradflow::test::split_words(args)) argv.push_back(std::move(word));
    return run(argv);
  }
  Run run(const std::vector<std::string>& argv) const {
    const gradflow::test::ProgramRun r = gradflow::test::run_capture(argv, dir_.string(), dir_.parent_path());
    return Run{r.exit_code, r.out, r.err};
  }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  fs::path dir_;
};

long count_lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

}  // namespace

static nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(slurp(path)); }

// A numeric CSV file with a header: the columns by name, each the column's values in row order.
struct NumericTable {
  std::vector<std::string> names;
  std::vector<std::vector<double>> rows;
  double at(std::size_t row, const std::string& name) const {
    const auto found = std::find(names.begin(), names.end(), name);
    REQUIRE(found != names.end());
    return rows.at(row).at(static_cast<std::size_t>(found - names.begin()));
  }
};

static NumericTable read_numeric_csv(const std::string& path) {
  NumericTable table;
  std::istringstream in(slurp(path));
  std::string line, field;
  std::getline(in, line);
  std::istringstream header(line);
  while (std::getline(header, field, ',')) table.names.push_back(field);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::vector<double> row;
    while (std::getline(fields, field, ',')) row.push_back(std::stod(field));
    REQUIRE(row.size() == table.names.size());
    table.rows.push_back(row);
  }
  return table;
}

static double relative_difference(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-300); }

TEST_CASE("gradflow flow writes the trajectory CSV the final theta and the JSON summary", "[cli]") {
  const Sandbox box("writes_outputs");
  const Run r = box.run(
      "flow --problem quadratic --dim 20 --cond 100 --solver dopri5 --t-end 30 "
      "--out traj.csv --theta-out theta.csv --json summary.json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("reached_end_time") && Catch::Contains("rate bound"));
  const std::string csv = slurp(box.path("traj.csv"));
  CHECK_THAT(csv, Catch::StartsWith("t,loss,grad_norm,dist_from_init,pl_ratio,bound\n"));
  CHECK(count_lines(csv) > 10);
  CHECK(count_lines(slurp(box.path("theta.csv"))) == 20);
  const std::string json = slurp(box.path("summary.json"));
  for (const char* key : {"\"status\": \"reached_end_time\"", "\"solver\": \"dopri5\"", "\"t_final\": 30.0",
                          "\"loss0\"", "\"loss_final\"", "\"grad_norm_final\"", "\"dist_from_init\"", "\"mu\"",
                          "\"bound_holds\": true", "\"num_gradient_evals\"", "\"wall_seconds\""}) {
    CHECK_THAT(json, Catch::Contains(key));
  }
  // Only the requested files: no temporary files left behind.
  CHECK(box.files() == std::vector<std::string>{"summary.json", "theta.csv", "traj.csv"});
  // The summary's values against the trajectory's rows, and the derived columns by hand: bound = L0 exp(-2 mu t)
  // with mu = 1/cond (docs/theory.md §3.1), pl_ratio = ||grad L||^2 / (2 L).
  const nlohmann::json summary = read_json(box.path("summary.json"));
  const NumericTable rows = read_numeric_csv(box.path("traj.csv"));
  const std::size_t last = rows.rows.size() - 1;
  CHECK(summary["rows"].get<std::size_t>() == rows.rows.size());
  CHECK(summary["loss0"].get<double>() == rows.at(0, "loss"));
  CHECK(summary["loss_final"].get<double>() == rows.at(last, "loss"));
  CHECK(relative_difference(summary["grad_norm_final"].get<double>(), rows.at(last, "grad_norm")) < 1e-15);
  CHECK(summary["dist_from_init"].get<double>() == rows.at(last, "dist_from_init"));
  CHECK(rows.at(last, "t") == 30.0);
  CHECK(relative_difference(summary["mu"].get<double>(), 1.0 / 100) < 1e-12);
  for (std::size_t i = 0; i < rows.rows.size(); ++i) {
    INFO("row " << i);
    const double loss0 = rows.at(0, "loss");
    CHECK(relative_difference(rows.at(i, "bound"), loss0 * std::exp(-2.0 / 100 * rows.at(i, "t"))) < 1e-12);
    CHECK(relative_difference(rows.at(i, "pl_ratio"), std::pow(rows.at(i, "grad_norm"), 2) / (2 * rows.at(i, "loss"))) <
          1e-12);
    CHECK(rows.at(i, "loss") <= rows.at(i, "bound") * (1 + 1e-7));
  }

  // The exact flow of a diagonal quadratic (docs/theory.md §3.1), L = 1/2 sum_i lambda_i x_i^2:
  // x_i(t) = x_i(0) exp(-lambda_i t), so every row's loss, gradient norm and distance have closed forms.
  const Sandbox exact("writes_outputs_closed_form");
  exact.file("A.csv", "2,0,0\n0,0.5,0\n0,0,0.1\n");
  exact.file("x0.csv", "1\n-2\n3\n");
  const Run e = exact.run(
      "flow --matrix A.csv --theta0 x0.csv --solver dopri5 --t-end 3 --rtol 1e-10 --atol 1e-14 --out traj.csv "
      "--theta-out theta.csv --json summary.json --quiet");
  INFO(e.err);
  REQUIRE(e.exit_code == 0);
  const double lambda[3] = {2.0, 0.5, 0.1}, x0[3] = {1.0, -2.0, 3.0};
  const NumericTable traj = read_numeric_csv(exact.path("traj.csv"));
  REQUIRE(traj.rows.size() > 10);
  for (std::size_t i = 0; i < traj.rows.size(); ++i) {
    const double t = traj.at(i, "t");
    double loss = 0, grad2 = 0, dist2 = 0;
    for (int k = 0; k < 3; ++k) {
      const double x = x0[k] * std::exp(-lambda[k] * t);
      loss += 0.5 * lambda[k] * x * x;
      grad2 += lambda[k] * lambda[k] * x * x;
      dist2 += (x - x0[k]) * (x - x0[k]);
    }
    INFO("t = " << t);
    // dopri5 at rtol 1e-10 keeps the state to ~1e-10 relative (measured ~1e-12).
    CHECK(relative_difference(traj.at(i, "loss"), loss) < 1e-8);
    CHECK(relative_difference(traj.at(i, "grad_norm"), std::sqrt(grad2)) < 1e-8);
    CHECK(std::abs(traj.at(i, "dist_from_init") - std::sqrt(dist2)) < 1e-8);
    // mu = the smallest eigenvalue, 0.1
    CHECK(relative_difference(traj.at(i, "bound"), 2.45 * std::exp(-2 * 0.1 * t)) < 1e-12);
  }
  CHECK(traj.at(traj.rows.size() - 1, "t") == 3.0);
  CHECK(read_json(exact.path("summary.json"))["loss_final"].get<double>() == traj.at(traj.rows.size() - 1, "loss"));
  std::istringstream theta(slurp(exact.path("theta.csv")));
  for (int k = 0; k < 3; ++k) {
    std::string value;
    REQUIRE(std::getline(theta, value));
    CHECK(relative_difference(std::stod(value), x0[k] * std::exp(-lambda[k] * 3.0)) < 1e-8);
  }
}

TEST_CASE("The same seed reproduces the same bits and theta-out reads back as --theta0", "[cli]") {
  const Sandbox box("seeds");
  REQUIRE(box.run("flow --problem quadratic --dim 8 --seed 3 --t-end 2 --quiet --theta-out a.csv").exit_code == 0);
  REQUIRE(box.run("flow --problem quadratic --dim 8 --seed 3 --t-end 2 --quiet --theta-out b.csv").exit_code == 0);
  REQUIRE(box.run("flow --problem quadratic --dim 8 --seed 4 --t-end 2 --quiet --theta-out c.csv").exit_code == 0);
  CHECK(slurp(box.path("a.csv")) == slurp(box.path("b.csv")));
  CHECK(slurp(box.path("a.csv")) != slurp(box.path("c.csv")));
  // Continuing from the written state for 0 extra... a second leg from a.csv runs and differs from it.
  const Run r = box.run("flow --problem quadratic --dim 8 --seed 3 --t-end 1 --quiet --theta0 a.csv --theta-out d.csv");
  REQUIRE(r.exit_code == 0);
  CHECK(slurp(box.path("d.csv")) != slurp(box.path("a.csv")));
}

TEST_CASE("Options can live in a TOML config file and the command line wins", "[cli]") {
  const Sandbox box("config");
  box.file("run.toml",
           "# a flow run\nproblem = \"karimi\"\ndim = 3\nsolver = \"cvode-bdf\"\nt_end = 4\n"
           "times = [1, 2, 4]\nrtol = 1e-9\n");
  Run r = box.run("flow --config run.toml --quiet --out traj.csv --json s.json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(count_lines(slurp(box.path("traj.csv"))) == 5);  // header, t = 0, 1, 2, 4
  CHECK_THAT(slurp(box.path("s.json")),
             Catch::Contains("\"solver\": \"cvode-bdf\"") && Catch::Contains("\"t_final\": 4.0"));
  r = box.run("flow --config run.toml --solver rk4 --dt 0.01 --quiet --json s.json");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(slurp(box.path("s.json")), Catch::Contains("\"solver\": \"rk4\""));
  box.file("section.toml", "[flow]\nproblem = \"rosenbrock\"\nt-end = 0.5\n");
  r = box.run("flow --config section.toml --quiet --json s.json");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(slurp(box.path("s.json")), Catch::Contains("\"problem\": \"rosenbrock\""));
}

TEST_CASE("gradflow flow --help explains the command its options and its outputs", "[cli]") {
  const Sandbox box("help");
  Run r = box.run("flow --help");
  CHECK(r.exit_code == 0);
  for (const char* text : {"--solver", "cvode-bdf-krylov", "--loss-tol", "--config", "dist_from_init", "Exit status"}) {
    CHECK_THAT(r.out, Catch::Contains(text));
  }
  r = box.run("--help");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("flow"));
}

TEST_CASE("Every kind of bad input exits 2 with one line naming the option and value and writes nothing", "[cli]") {
  const Sandbox box("bad_input");
  box.file("ragged.csv", "1,0\n0\n");
  box.file("text.csv", "1,x\nx,1\n");
  box.file("nan.csv", "1,nan\nnan,1\n");
  box.file("inf.csv", "1,0\n0,inf\n");
  box.file("nonsym.csv", "1,0.5\n0.2,1\n");
  box.file("indefinite.csv", "1,2\n2,1\n");
  box.file("spd.csv", "2,0\n0,1\n");
  box.file("theta3.csv", "1\n2\n3\n");
  box.file("theta_nan.csv", "1\nnan\n");
  box.file("data.csv", "x,y\n1,2\n3,4\n");
  box.file("bad.toml", "bogus = 1\n");
  const std::string outputs = " --out o.csv --theta-out t.csv --json j.json";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"--problem nope", "--problem nope"},
      {"--solver rk45", "--solver rk45"},
      {"--krylov cg", "--krylov cg"},
      {"--matrix missing.csv", "--matrix missing.csv"},
      {"--matrix ragged.csv", "--matrix ragged.csv"},
      {"--matrix text.csv", "--matrix text.csv"},
      {"--matrix nan.csv", "--matrix nan.csv"},
      {"--matrix inf.csv", "--matrix inf.csv"},
      {"--matrix nonsym.csv", "not symmetric"},
      {"--matrix indefinite.csv", "indefinite"},
      {"--matrix spd.csv --theta0 theta3.csv", "--theta0 theta3.csv"},
      {"--matrix spd.csv --theta0 theta_nan.csv", "--theta0 theta_nan.csv"},
      {"--matrix spd.csv --minimizer theta3.csv", "--minimizer theta3.csv"},
      {"--matrix spd.csv --dim 5", "--dim 5"},
      {"--problem least-squares", "--data"},
      {"--problem least-squares --data data.csv --theta0 theta3.csv", "--theta0 theta3.csv"},
      {"--rtol 0", "--rtol 0"},
      {"--rtol -1e-3", "--rtol -0.001"},
      {"--atol 0", "--atol 0"},
      {"--atol nan", "--atol nan"},
      {"--t-end 0", "--t-end 0"},
      {"--t-end -5", "--t-end -5"},
      {"--dt 0", "--dt 0"},
      {"--solver euler --dt -1", "--dt -1"},
      {"--times 2,1", "--times 1"},
      {"--times 0.5,20", "--times 20"},
      {"--save-every -1", "--save-every -1"},
      {"--max-steps 0", "--max-steps 0"},
      {"--mu 0", "--mu 0"},
      {"--loss-tol -1", "--loss-tol -1"},
      {"--rtol abc", "--rtol"},
      {"--dim 3 --problem rosenbrock", "--dim 3"},
      {"--problem karimi --cond 10", "--cond 10"},
      {"--matrix spd.csv --cond 10", "--cond 10"},
      {"--no-such-option 1", "--no-such-option"},
      {"--config bad.toml", "--config bad.toml"},
      {"--config missing.toml", "--config missing.toml"},
      {"--out no/such/dir/o.csv", "--out no/such/dir/o.csv"},
  };
  for (const auto& [args, expected] : cases) {
    const Run r = box.run("flow " + args + (args.find("--out") == std::string::npos ? outputs : ""));
    INFO("gradflow flow " << args << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains(expected));
    CHECK_FALSE(fs::exists(box.path("o.csv")));
    CHECK_FALSE(fs::exists(box.path("t.csv")));
    CHECK_FALSE(fs::exists(box.path("j.json")));
  }
}

TEST_CASE("A solver failure exits 1 and still writes the last good state", "[cli]") {
  const Sandbox box("failure");
  const Run r = box.run(
      "flow --problem quadratic --dim 5 --t-end 100 --max-steps 3 --quiet --json s.json "
      "--theta-out t.csv");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("max_steps"));
  CHECK_THAT(slurp(box.path("s.json")), Catch::Contains("\"status\": \"max_steps\""));
  CHECK(count_lines(slurp(box.path("t.csv"))) == 5);
}

TEST_CASE("gradflow descend writes its rows and summary and matches the flow's euler bit for bit", "[cli]") {
  const Sandbox box("descend_outputs");
  Run r = box.run(
      "descend --problem quadratic --dim 12 --cond 50 --step inverse-smoothness --max-iters 300 "
      "--out rows.csv --json d.json --theta-out gd.csv");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("reached_max_iters") && Catch::Contains("rate bound"));
  const std::string csv = slurp(box.path("rows.csv"));
  CHECK_THAT(csv, Catch::StartsWith("iter,t,loss,grad_norm,dist_from_init,step_size,pl_ratio,bound\n"));
  CHECK(count_lines(csv) == 302);
  const std::string json = slurp(box.path("d.json"));
  for (const char* key : {"\"status\": \"reached_max_iters\"", "\"step\": \"inverse-smoothness\"", "\"q\"",
                          "\"radius\"", "\"bound_holds\": true", "\"radius_holds\": true",
                          "\"beta_source\": \"problem (exact)\"", "\"num_gradient_evals\": 301"}) {
    CHECK_THAT(json, Catch::Contains(key));
  }
  // Explicit Euler with dt = eta is gradient descent with step eta.
  r = box.run("descend --problem quadratic --dim 12 --cond 50 --lr 0.5 --max-iters 40 --quiet --theta-out a.csv");
  REQUIRE(r.exit_code == 0);
  r = box.run(
      "flow --problem quadratic --dim 12 --cond 50 --solver euler --dt 0.5 --t-end 20 --quiet --theta-out b.csv");
  REQUIRE(r.exit_code == 0);
  CHECK(slurp(box.path("a.csv")) == slurp(box.path("b.csv")));
}

TEST_CASE("gradflow descend reports a divergence with the step size and exits 1", "[cli]") {
  const Sandbox box("descend_diverges");
  const Run r =
      box.run("descend --problem quadratic --dim 5 --cond 10 --lr 2.5 --max-iters 100000 --quiet --json d.json");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("diverged") && Catch::Contains("eta = 2.5"));
  CHECK_THAT(slurp(box.path("d.json")), Catch::Contains("\"status\": \"diverged\""));
}

TEST_CASE("gradflow descend rejects bad input with exit 2 and one line and writes nothing", "[cli]") {
  const Sandbox box("descend_bad_input");
  box.file("theta3.csv", "1\n2\n3\n");
  const std::vector<std::pair<std::string, std::string>> cases{
      {"--step newton", "--step newton"},
      {"--lr 0", "--lr 0"},
      {"--lr -1", "--lr -1"},
      {"--step armijo --armijo-b 1.5", "--armijo-b 1.5"},
      {"--step armijo --armijo-c 0", "--armijo-c 0"},
      {"--step polyak --gamma -1", "--gamma -1"},
      {"--max-iters 0", "--max-iters 0"},
      {"--save-every 0", "--save-every 0"},
      {"--divergence-factor 0.5", "--divergence-factor 0.5"},
      {"--loss-tol -1", "--loss-tol -1"},
      {"--mu -3", "--mu -3"},
      {"--problem rosenbrock --step polyak", "--gamma"},
      {"--theta0 theta3.csv", "--theta0 theta3.csv"},
      {"--problem nope", "--problem nope"},
      {"--json no/such/dir/d.json", "--json no/such/dir/d.json"},
  };
  for (const auto& [args, expected] : cases) {
    const std::string outputs =
        args.find("--json") == std::string::npos ? " --out o.csv --json j.json" : " --out o.csv";
    const Run r = box.run("descend " + args + outputs);
    INFO("gradflow descend " << args << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains(expected));
    CHECK_FALSE(fs::exists(box.path("o.csv")));
    CHECK_FALSE(fs::exists(box.path("j.json")));
  }
}

TEST_CASE("gradflow flow and descend run the network problem and report its data and architecture", "[cli]") {
  const Sandbox box("mlp");
  Run r = box.run(
      "flow --problem mlp --synthetic 8,16 --widths 16 --init positive --output-scale 4 "
      "--solver cvode-bdf --t-end 10000 --loss-tol 1e-22 --times 10000 --json m.json --theta-out t.csv");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("rank(X) = 8") && Catch::Contains("tolerance_reached"));
  const std::string json = slurp(box.path("m.json"));
  for (const char* key : {"\"activation\": \"tanh\"", "\"init\": \"positive\"", "\"inputs_independent\": true",
                          "\"parameters\": 272", "\"rank\": 8"}) {
    CHECK_THAT(json, Catch::Contains(key));
  }
  CHECK(count_lines(slurp(box.path("t.csv"))) == 272);
  // The final state reads back as a starting point of the same network.
  r = box.run("descend --problem mlp --synthetic 8,16 --widths 16 --theta0 t.csv --max-iters 10 --quiet");
  CHECK(r.exit_code == 0);
  // n > d and relu: warnings, not errors.
  r = box.run(
      "descend --problem mlp --synthetic 20,4 --widths 8 --activation relu --init kaiming_normal --lr 0.01 "
      "--max-iters 20");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("n > d") && Catch::Contains("relu"));
}

TEST_CASE("The network options reject bad input with exit 2 and one line", "[cli]") {
  const Sandbox box("mlp_bad_input");
  box.file("data.csv", "x1,x2,y\n1,0,1\n0,1,2\n");
  box.file("theta3.csv", "1\n2\n3\n");
  const std::vector<std::pair<std::string, std::string>> cases{
      {"--problem mlp --synthetic 4,8 --widths 16,0", "--widths 16,0: the item '0': a width must be"},
      {"--problem mlp --synthetic 4,8 --activation swish", "--activation swish"},
      {"--problem mlp --synthetic 4,8 --init he", "--init he"},
      {"--problem mlp", "--synthetic"},
      {"--problem mlp --synthetic 4", "--synthetic 4"},
      {"--problem mlp --synthetic 4,0", "--synthetic 4,0: the item '0'"},
      {"--problem mlp --data data.csv --synthetic 4,8", "cannot be combined"},
      {"--problem mlp --data data.csv --widths 5 --theta0 theta3.csv", "the network with d = 2 inputs"},
      {"--problem quadratic --widths 8", "--widths: is used only by --problem mlp"},
      {"--problem karimi --init positive", "--init: is used only by --problem mlp"},
  };
  for (const auto& [args, expected] : cases) {
    const Run r = box.run("flow " + args + " --json j.json");
    INFO("gradflow flow " << args << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains(expected));
    CHECK_FALSE(fs::exists(box.path("j.json")));
  }
}

TEST_CASE("The --krylov option is used by cvode-bdf-krylov and auto, and said to be ignored by the others", "[cli]") {
  const Sandbox box("krylov_option");
  const Run automatic = box.run(
      "flow --problem quadratic --dim 300 --cond 1e4 --t-end 1e4 --rtol 1e-6 --solver auto "
      "--krylov pcg --json a.json");
  INFO(automatic.err);
  REQUIRE(automatic.exit_code == 0);
  CHECK_THAT(automatic.err, !Catch::Contains("--krylov is ignored"));
  // p = 300 > 200: auto's BDF is cvode-bdf-krylov, which ran with PCG (linear iterations were made).
  const nlohmann::json a = read_json(box.path("a.json"));
  CHECK(a["stats"]["num_solver_switches"].get<long>() >= 1);
  CHECK(a["stats"]["num_linear_iters"].get<long>() > 0);
  const Run explicit_run = box.run("flow --problem quadratic --solver dopri5 --krylov pcg --json d.json");
  REQUIRE(explicit_run.exit_code == 0);
  CHECK_THAT(explicit_run.err,
             Catch::Contains("--krylov is ignored by --solver dopri5 (used by cvode-bdf-krylov and auto)"));
}

TEST_CASE("gradflow certify reports the certificate, the scale threshold, or labelled estimates", "[cli]") {
  const Sandbox box("certify");
  Run r = box.run("certify --problem mlp --synthetic 6,12 --widths 10 --init positive --find-scale --json c.json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("smallest certified output scale s*") && Catch::Contains("HOLDS"));
  CHECK_THAT(slurp(box.path("c.json")),
             Catch::Contains("\"scale\"") && Catch::Contains("\"kind\": \"certificate (rigorous)\""));
  {
    // The certificate's algebra by hand from its inputs (docs/theory.md §4.2, §4.3), and at s* the margin
    // max phi / ||r0|| - 1 is zero to the search's precision (§5.5: relative 1e-9 in s).
    const nlohmann::json c = read_json(box.path("c.json"))["certificate"];
    const double r0 = c["residual_norm"].get<double>(), sigma0 = c["sigma0"].get<double>();
    const double j0 = c["jacobian_norm"].get<double>(), l = c["lipschitz_at_radius"].get<double>();
    const double radius = c["flow"]["radius"].get<double>();
    const double slack = sigma0 - l * radius;
    CHECK(relative_difference(c["loss0"].get<double>(), 0.5 * r0 * r0) < 1e-12);
    CHECK(relative_difference(c["criterion"]["sigma0_squared"].get<double>(), sigma0 * sigma0) < 1e-12);
    CHECK(relative_difference(c["criterion"]["four_l_r0"].get<double>(), 4 * l * r0) < 1e-12);
    CHECK(relative_difference(c["criterion"]["phi_max"].get<double>(), radius * slack) < 1e-12);
    CHECK(relative_difference(c["flow"]["mu"].get<double>(), slack * slack) < 1e-12);
    CHECK(relative_difference(c["flow"]["rate"].get<double>(), 2 * slack * slack) < 1e-12);
    CHECK(relative_difference(c["flow"]["travel"].get<double>(), r0 / slack) < 1e-12);
    CHECK(c["flow"]["holds"].get<bool>());
    CHECK(c["flow"]["margin"].get<double>() > 0.0);
    CHECK(c["flow"]["margin"].get<double>() < 1e-7);
    CHECK(relative_difference(c["flow"]["margin"].get<double>() + 1, radius * slack / r0) < 1e-12);
    const double beta = std::pow(j0 + l * radius, 2) + l * (r0 + j0 * radius + l * radius * radius / 2);
    CHECK(relative_difference(c["descent"]["beta"].get<double>(), beta) < 1e-12);
    CHECK(relative_difference(1 - c["descent"]["q"].get<double>(), slack * slack / beta) < 1e-10);
    // Below the descent threshold: max phi = ||r0|| < 2 ||r0||, a descent margin of -1/2.
    CHECK_FALSE(c["descent"]["holds"].get<bool>());
    CHECK(std::abs(c["descent"]["margin"].get<double>() + 0.5) < 1e-7);
    // With sigma(0) = 0 the outputs at the positive initialization vanish: ||r0|| = ||y|| whatever the scale,
    // and sigma0 = |s| k0 is proportional to it (§5.5). Twice s*: the same ||r0||, twice sigma0.
    const double scale = read_json(box.path("c.json"))["find_scale"]["scale"].get<double>();
    r = box.run("certify --problem mlp --synthetic 6,12 --widths 10 --init positive --output-scale " +
                gradflow::full_precision(2 * scale) + " --json c2.json");
    REQUIRE(r.exit_code == 0);
    const nlohmann::json c2 = read_json(box.path("c2.json"))["certificate"];
    CHECK(relative_difference(c2["residual_norm"].get<double>(), r0) < 1e-12);
    CHECK(relative_difference(c2["sigma0"].get<double>(), 2 * sigma0) < 1e-10);
  }
  r = box.run("certify --problem mlp --synthetic 6,12 --widths 10 --activation softplus --find-scale");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("no certified output scale") && Catch::Contains("softplus-centered"));
  r = box.run("certify --problem mlp --synthetic 20,5 --widths 10 --output-scale 100");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("does not apply") && Catch::Contains("n = 20 > d = 5"));
  r = box.run("certify --problem karimi --dim 3 --radius 0.5 --samples 20 --json e.json");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("ESTIMATE (sampled, not a certificate)"));
  CHECK_THAT(slurp(box.path("e.json")), Catch::Contains("\"kind\": \"estimate (sampled, not a certificate)\""));
  {
    // Karimi (docs/theory.md §3.3): every PL quotient is at least the tight constant 0.175531 (> 1/32), and
    // f'' = 2 + 6 cos 2x <= 8 bounds every Hessian norm; the samples cannot fall outside either.
    const nlohmann::json estimate = read_json(box.path("e.json"))["estimate"];
    CHECK(estimate["mu_estimate"].get<double>() >= 0.17553);
    CHECK(estimate["beta_estimate"].get<double>() <= 8.0 * (1 + 1e-12));
    CHECK(estimate["samples"].get<int>() == 20);
  }
  r = box.run("certify --problem least-squares --data ls.csv");
  CHECK(r.exit_code == 2);
  r = box.run("certify --problem karimi --find-scale");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--find-scale"));
}

TEST_CASE("flow and descend --certify put the certified bound and radius in the run", "[cli]") {
  const Sandbox box("certify_runs");
  Run r = box.run(
      "flow --problem mlp --synthetic 6,12 --widths 10 --init positive --output-scale 400 --certify "
      "--solver cvode-bdf --t-end 0.5 --json f.json --out f.csv --quiet");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string flow = slurp(box.path("f.json"));
  CHECK_THAT(flow, Catch::Contains("\"mu_source\": \"certificate (rigorous)\"") &&
                       Catch::Contains("\"radius_holds\": true") && Catch::Contains("\"bound_holds\": true"));
  {
    // The run used the certificate's constants, as docs/theory.md §4.2 derives them from its inputs:
    // mu = (sigma0 - l r*)^2 and the radius ||r0|| / (sigma0 - l r*); its final loss is under L0 exp(-2 mu t).
    const nlohmann::json j = nlohmann::json::parse(flow);
    const nlohmann::json& c = j["certificate"];
    const double slack =
        c["sigma0"].get<double>() - c["lipschitz_at_radius"].get<double>() * c["flow"]["radius"].get<double>();
    CHECK(relative_difference(j["mu"].get<double>(), slack * slack) < 1e-12);
    CHECK(relative_difference(j["radius"].get<double>(), c["residual_norm"].get<double>() / slack) < 1e-12);
    CHECK(relative_difference(j["loss0"].get<double>(), 0.5 * std::pow(c["residual_norm"].get<double>(), 2)) < 1e-12);
    CHECK(j["dist_from_init"].get<double>() <= j["radius"].get<double>());
    // Every row's bound column is L0 exp(-2 mu t), and the loss is under it within the solver's tolerance
    // (10 rtol relative, and a round-off floor of 16 eps L0 once the bound underflows).
    const NumericTable rows = read_numeric_csv(box.path("f.csv"));
    REQUIRE(rows.rows.size() > 10);
    const double loss0 = j["loss0"].get<double>();
    for (std::size_t i = 0; i < rows.rows.size(); ++i) {
      INFO("t = " << rows.at(i, "t"));
      const double bound = loss0 * std::exp(-2 * slack * slack * rows.at(i, "t"));
      CHECK(std::abs(rows.at(i, "bound") - bound) <= 1e-12 * bound + 1e-300);
      CHECK(rows.at(i, "loss") <= bound * (1 + 10 * 1e-8) + 16 * std::numeric_limits<double>::epsilon() * loss0);
      CHECK(rows.at(i, "dist_from_init") <= j["radius"].get<double>());
    }
    CHECK(j["loss_final"].get<double>() == rows.at(rows.rows.size() - 1, "loss"));
  }
  r = box.run(
      "descend --problem mlp --synthetic 6,12 --widths 10 --init positive --output-scale 2000 --certify "
      "--step inverse-smoothness --max-iters 200 --json d.json --out d.csv --quiet");
  REQUIRE(r.exit_code == 0);
  const std::string descent = slurp(box.path("d.json"));
  CHECK_THAT(descent, Catch::Contains("\"beta_source\": \"certificate (beta_r, rigorous)\"") &&
                          Catch::Contains("\"radius_holds\": true") && Catch::Contains("\"bound_holds\": true"));
  {
    // beta_r, q and the radius by hand from the certificate's inputs (docs/theory.md §4.3, §2.3):
    // beta_r = (||J0|| + l r)^2 + l (||r0|| + ||J0|| r + l r^2 / 2), step 1/beta_r, q = 1 - mu/beta_r,
    // radius 2 ||r0|| / (sigma0 - l r); and every row's bound is L0 q^k.
    const nlohmann::json j = nlohmann::json::parse(descent);
    const nlohmann::json& c = j["certificate"];
    const double r0 = c["residual_norm"].get<double>(), j0 = c["jacobian_norm"].get<double>();
    const double l = c["lipschitz_at_radius"].get<double>(), radius = c["descent"]["radius"].get<double>();
    const double slack = c["sigma0"].get<double>() - l * radius;
    const double beta = std::pow(j0 + l * radius, 2) + l * (r0 + j0 * radius + l * radius * radius / 2);
    const double q = 1 - slack * slack / beta;
    CHECK(relative_difference(j["beta"].get<double>(), beta) < 1e-12);
    CHECK(relative_difference(j["step_size"].get<double>(), 1 / beta) < 1e-12);
    CHECK(relative_difference(1 - j["q"].get<double>(), slack * slack / beta) < 1e-10);
    CHECK(relative_difference(j["radius"].get<double>(), 2 * r0 / slack) < 1e-12);
    const NumericTable rows = read_numeric_csv(box.path("d.csv"));
    REQUIRE(rows.rows.size() == 201);
    for (std::size_t k = 0; k < rows.rows.size(); ++k) {
      INFO("iteration " << k);
      CHECK(rows.at(k, "iter") == static_cast<double>(k));
      const double bound = j["loss0"].get<double>() * std::pow(q, static_cast<double>(k));
      CHECK(relative_difference(rows.at(k, "bound"), bound) < 1e-9);
      CHECK(rows.at(k, "loss") <= bound);
      CHECK(rows.at(k, "dist_from_init") <= j["radius"].get<double>());
    }
    CHECK(j["loss_final"].get<double>() == rows.at(200, "loss"));
  }
  r = box.run("descend --problem mlp --synthetic 6,12 --widths 10 --certify --step polyak --gamma 0.1");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--certify"));
  r = box.run("flow --problem mlp --synthetic 6,12 --widths 10 --certify --mu 1");
  CHECK(r.exit_code == 2);
}

TEST_CASE("gradflow probability gives the same draws on 1 and 2 threads and rejects bad input", "[cli]") {
  const Sandbox box("probability");
  const std::string base =
      "probability --problem mlp --synthetic 5,10 --widths 8 --init positive --output-scale 400 "
      "--draws 6 --steps 100 --quiet";
  Run r = box.run(base + " --threads 1 --out one.csv --json p.json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  r = box.run(base + " --threads 2 --out two.csv");
  REQUIRE(r.exit_code == 0);
  CHECK(slurp(box.path("one.csv")) == slurp(box.path("two.csv")));
  CHECK(count_lines(slurp(box.path("one.csv"))) == 7);
  CHECK_THAT(slurp(box.path("p.json")), Catch::Contains("\"interval\"") && Catch::Contains("\"count\": 6"));
  {
    // The counts recounted from the draws' rows, each draw's reached from its own final loss (eps = 1e-6 of
    // its L0), and the intervals from the Beta quantiles of docs/theory.md §6.2.
    const NumericTable draws = read_numeric_csv(box.path("one.csv"));
    const nlohmann::json p = read_json(box.path("p.json"));
    long certified = 0, reached = 0;
    for (std::size_t i = 0; i < draws.rows.size(); ++i) {
      INFO("draw " << i);
      CHECK(draws.at(i, "draw") == static_cast<double>(i));
      CHECK(draws.at(i, "reached") == (draws.at(i, "loss_final") <= 1e-6 * draws.at(i, "loss0") ? 1.0 : 0.0));
      CHECK(draws.at(i, "iterations") <= 100.0);
      // mu = (sigma0 - l r*)^2 < sigma0^2 when certified, 0 when not.
      if (draws.at(i, "certified") == 1.0) {
        CHECK(draws.at(i, "mu") > 0.0);
        CHECK(draws.at(i, "mu") < std::pow(draws.at(i, "sigma0"), 2));
      } else {
        CHECK(draws.at(i, "mu") == 0.0);
      }
      certified += draws.at(i, "certified") == 1.0 ? 1 : 0;
      reached += draws.at(i, "reached") == 1.0 ? 1 : 0;
    }
    CHECK(p["certified"]["count"].get<long>() == certified);
    CHECK(p["reached"]["count"].get<long>() == reached);
    CHECK(p["certified"]["fraction"].get<double>() == static_cast<double>(certified) / 6.0);
    const auto by_hand = [](long k, long n) {
      using boost::math::beta_distribution;
      const double kd = static_cast<double>(k), nd = static_cast<double>(n);
      const double lower = k == 0 ? 0.0 : boost::math::quantile(beta_distribution<>(kd, nd - kd + 1), 0.025);
      const double upper = k == n ? 1.0 : boost::math::quantile(beta_distribution<>(kd + 1, nd - kd), 0.975);
      return std::vector<double>{lower, upper};
    };
    for (const auto& [name, k] : {std::pair<const char*, long>{"certified", certified}, {"reached", reached}}) {
      INFO(name);
      const std::vector<double> expected = by_hand(k, 6);
      CHECK(std::abs(p[name]["interval"][0].get<double>() - expected[0]) <= 1e-9);
      CHECK(std::abs(p[name]["interval"][1].get<double>() - expected[1]) <= 1e-9);
    }
    // A draw is the run of its own seed: certify and descend with the last draw's init_seed, one command
    // each, give its sigma0, L0, mu, iterations and final loss (a seed-to-draw slip would not).
    std::string seed;
    {
      std::istringstream lines(slurp(box.path("one.csv")));
      std::string line;
      while (std::getline(lines, line)) seed = line.substr(line.find(',') + 1);
      seed = seed.substr(0, seed.find(','));
    }
    const std::size_t last = draws.rows.size() - 1;
    const std::string network =
        "--problem mlp --synthetic 5,10 --widths 8 --init positive --output-scale 400 --init-seed " + seed;
    r = box.run("certify " + network + " --json c.json --quiet");
    REQUIRE(r.exit_code == 0);
    const nlohmann::json c = read_json(box.path("c.json"))["certificate"];
    CHECK(relative_difference(c["sigma0"].get<double>(), draws.at(last, "sigma0")) < 1e-14);
    CHECK(relative_difference(c["loss0"].get<double>(), draws.at(last, "loss0")) < 1e-14);
    CHECK(relative_difference(c["flow"]["mu"].get<double>(), draws.at(last, "mu")) < 1e-14);
    r = box.run("descend " + network + " --step armijo --lr 1 --max-iters 100 --loss-tol " +
                gradflow::full_precision(1e-6 * draws.at(last, "loss0")) + " --json d.json --quiet");
    REQUIRE(r.exit_code == 0);
    const nlohmann::json d = read_json(box.path("d.json"));
    CHECK(d["iterations"].get<double>() == draws.at(last, "iterations"));
    CHECK(relative_difference(d["loss_final"].get<double>(), draws.at(last, "loss_final")) < 1e-14);
  }
  for (const std::string& bad : {std::string("--draws 0"), std::string("--alpha 1"), std::string("--eps 0"),
                                 std::string("--steps 0"), std::string("--step newton")}) {
    r = box.run("probability --problem mlp --synthetic 5,10 --widths 8 " + bad + " --json bad.json");
    INFO(bad << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_FALSE(fs::exists(box.path("bad.json")));
  }
  r = box.run("probability --problem quadratic --draws 3");
  CHECK(r.exit_code == 2);
}

TEST_CASE("gradflow probability names the flag and the value of an invalid option, descent options included", "[cli]") {
  const Sandbox box("probability_flags");
  const std::string base = "probability --problem mlp --synthetic 5,10 --widths 8 --json bad.json ";
  for (const auto& [args, expected] : std::vector<std::pair<std::string, std::string>>{
           {"--draws 0", "--draws 0: must be in [1, 1e7]"},
           {"--draws 10000001", "--draws 10000001: must be in [1, 1e7]"},
           {"--alpha 1", "--alpha 1: must be in (0, 1)"},
           {"--eps 0", "--eps 0: must be in (0, 1)"},
           {"--steps 0", "--steps 0: must be >= 1"},
           {"--threads -1", "--threads -1: must be >= 0"},
           {"--lr 0", "--lr 0: must be a finite number > 0"},
           {"--step armijo --armijo-b 1", "--armijo-b 1: must be in (0, 1)"}}) {
    const Run r = box.run(base + args);
    INFO(args << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(expected));
    CHECK_FALSE(fs::exists(box.path("bad.json")));
  }
}

TEST_CASE("flow and descend --states-out write theta at every recorded row", "[cli]") {
  const Sandbox box("states_out");
  Run r = box.run(
      "flow --problem quadratic --dim 3 --t-end 1 --times 0.5,1 --states-out states.csv --out traj.csv "
      "--theta-out theta.csv");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::istringstream states(slurp(box.path("states.csv")));
  std::string line;
  std::getline(states, line);
  CHECK(line == "t,theta_1,theta_2,theta_3");
  std::vector<std::string> lines;
  while (std::getline(states, line)) lines.push_back(line);
  REQUIRE(lines.size() == 3);  // t = 0, 0.5, 1: the rows of --out
  CHECK(count_lines(slurp(box.path("traj.csv"))) == 4);
  CHECK_THAT(lines[0], Catch::StartsWith("0,"));
  CHECK_THAT(lines[1], Catch::StartsWith("0.5,"));
  // The last line is the final theta, written with the same 17 digits as --theta-out.
  std::istringstream last(lines[2]);
  std::string field;
  std::getline(last, field, ',');
  CHECK(field == "1");
  std::string theta_line, theta_csv = slurp(box.path("theta.csv"));
  std::istringstream theta(theta_csv);
  while (std::getline(last, field, ',')) {
    std::getline(theta, theta_line);
    CHECK(field == theta_line);
  }
  r = box.run("descend --problem quadratic --dim 3 --max-iters 10 --save-every 5 --states-out descent_states.csv");
  REQUIRE(r.exit_code == 0);
  const std::string descent = slurp(box.path("descent_states.csv"));
  CHECK_THAT(descent, Catch::StartsWith("iter,theta_1,theta_2,theta_3\n0,"));
  CHECK(count_lines(descent) == 4);  // iterations 0, 5 and 10
}
