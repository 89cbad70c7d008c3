// The command line: `gradflow flow` runs and writes its files; every kind of bad input exits with code
// 2, one line naming the option and the value, and no output file; config files; reproducible seeds.
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
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

TEST_CASE("gradflow certify reports the certificate, the scale threshold, or labelled estimates", "[cli]") {
  const Sandbox box("certify");
  Run r = box.run("certify --problem mlp --synthetic 6,12 --widths 10 --init positive --find-scale --json c.json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("smallest certified output scale s*") && Catch::Contains("HOLDS"));
  CHECK_THAT(slurp(box.path("c.json")),
             Catch::Contains("\"scale\"") && Catch::Contains("\"kind\": \"certificate (rigorous)\""));
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
      "--solver cvode-bdf --t-end 0.5 --json f.json --quiet");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string flow = slurp(box.path("f.json"));
  CHECK_THAT(flow, Catch::Contains("\"mu_source\": \"certificate (rigorous)\"") &&
                       Catch::Contains("\"radius_holds\": true") && Catch::Contains("\"bound_holds\": true"));
  r = box.run(
      "descend --problem mlp --synthetic 6,12 --widths 10 --init positive --output-scale 2000 --certify "
      "--step inverse-smoothness --max-iters 200 --json d.json --quiet");
  REQUIRE(r.exit_code == 0);
  const std::string descent = slurp(box.path("d.json"));
  CHECK_THAT(descent, Catch::Contains("\"beta_source\": \"certificate (beta_r, rigorous)\"") &&
                          Catch::Contains("\"radius_holds\": true") && Catch::Contains("\"bound_holds\": true"));
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
