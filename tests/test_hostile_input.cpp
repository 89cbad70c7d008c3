// Input that cannot be meant, refused before anything is written (docs/explanation/safety.md): a NUL inside a
// config string, numbers no run can use (--lr inf, an rtol below double precision), and messages that
// quote a file's bytes escape every control byte; a relative --plot folder gets its figures; an empty
// option value, an atol >= 1, a certificate at an infinite loss and an output scale <= 0 are refused; a
// thread ended by pthread_exit inside a pool's item unwinds on (no std::terminate).
#include <gradflow/apps/support/spawn.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/core/thread_pool.hpp>
#include <gradflow/flow/options.hpp>
#include <gradflow/problems/least_squares.hpp>
#include <gradflow/theory/certificate.hpp>
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using gradflow::test::ProgramRun;

namespace {

fs::path sandbox(const std::string& name) {
  const fs::path dir = fs::path(GRADFLOW_TESTS_BINARY_DIR) / "hostile_sandbox" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

ProgramRun cli(const fs::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), GRADFLOW_CLI);
  return gradflow::test::run_capture(args, dir.string(), dir.parent_path());
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

bool has_control_byte(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xA0) return true;  // C1
  }
  return false;
}

}  // namespace

TEST_CASE("A NUL inside a config string is refused naming the key, and no file is written", "[safety][cli]") {
  const fs::path dir = sandbox("nul_in_config");
  write(dir / "c.toml", "problem = \"quadratic\"\ndim = 3\nt-end = 1\nout = \"o\\u0000.csv\"\n");
  const ProgramRun r = cli(dir, {"flow", "--config", "c.toml"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("'out'") && Catch::Contains("NUL"));
  CHECK(names_in(dir) == std::vector<std::string>{"c.toml"});
  // The same in a sweep file: no folder appears.
  write(dir / "s.toml", "widths = [4]\nseeds = [0]\nout = \"r\\u0000x\"\n");
  const ProgramRun sweep = cli(dir, {"sweep", "--config", "s.toml", "--quiet"});
  CHECK(sweep.exit_code == 2);
  CHECK_THAT(sweep.err, Catch::Contains("'out'") && Catch::Contains("NUL"));
  CHECK(names_in(dir) == std::vector<std::string>{"c.toml", "s.toml"});
}

TEST_CASE("compare-inits --lr inf or 1e400 is refused before the folder is touched", "[safety][cli]") {
  const fs::path dir = sandbox("lr_inf");
  for (const char* lr : {"inf", "1e400", "nan", "-1"}) {
    INFO(lr);
    const ProgramRun r = cli(dir, {"compare-inits", "--widths", "4", "--seeds", "1", "--protocol", "armijo", "--lr", lr,
                                   "--out", "r", "--quiet"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--lr"));
    CHECK(names_in(dir).empty());
  }
}

TEST_CASE("An rtol below what double precision can meet is refused up front, naming the floor", "[safety][flow]") {
  gradflow::FlowOptions o;
  o.rtol = 1e-300;
  const auto error = o.validate();
  REQUIRE(error);
  CHECK(error->field == "rtol");
  CHECK_THAT(error->message(), Catch::Contains("2.22e-14"));
  o.rtol = 1e-13;  // above the floor: accepted
  CHECK_FALSE(o.validate());
  const fs::path dir = sandbox("rtol_floor");
  const ProgramRun r = cli(
      dir, {"flow", "--problem", "quadratic", "--dim", "20", "--rtol", "1e-300", "--atol", "1e-300", "--out", "o.csv"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--rtol") && Catch::Contains("1e-300"));
  CHECK(names_in(dir).empty());
}

TEST_CASE("The issue's stalled dopri5 run says where it left the flow, on the terminal and in the JSON",
          "[safety][flow]") {
  // dopri5 at rtol 1e-4 on the positive network stalls at max_steps near loss 4e-5 while the flow (cvode-bdf)
  // crosses the target 6.747e-6 at t = 0.00097 (issue 24, item 5).
  const fs::path dir = sandbox("flow_departure");
  const ProgramRun r = cli(dir, {"flow",
                                 "--problem",
                                 "mlp",
                                 "--synthetic",
                                 "16,32",
                                 "--seed",
                                 "0",
                                 "--widths",
                                 "16",
                                 "--init",
                                 "positive",
                                 "--init-seed",
                                 "10381510474007050190",
                                 "--output-scale",
                                 "1082.1657308578492",
                                 "--rtol",
                                 "1e-4",
                                 "--atol",
                                 "1e-6",
                                 "--t-end",
                                 "1e6",
                                 "--loss-tol",
                                 "6.747e-6",
                                 "--max-steps",
                                 "20000",
                                 "--json",
                                 "s.json"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("max_steps") && Catch::Contains("does not follow the gradient flow after t = "));
  const double from = gradflow::test::number_after(r.err, "does not follow the gradient flow after t = ");
  CHECK(from < 0.00097);
  CHECK_THAT(gradflow::test::read_text(dir / "s.json"),
             Catch::Contains("\"flow_departure\": \"the run does not follow the gradient flow after t = "));
  // cvode-bdf on the same start reaches the target, on the flow.
  const ProgramRun bdf = cli(dir, {"flow",
                                   "--problem",
                                   "mlp",
                                   "--synthetic",
                                   "16,32",
                                   "--seed",
                                   "0",
                                   "--widths",
                                   "16",
                                   "--init",
                                   "positive",
                                   "--init-seed",
                                   "10381510474007050190",
                                   "--output-scale",
                                   "1082.1657308578492",
                                   "--rtol",
                                   "1e-4",
                                   "--atol",
                                   "1e-6",
                                   "--t-end",
                                   "1e6",
                                   "--loss-tol",
                                   "6.747e-6",
                                   "--solver",
                                   "cvode-bdf"});
  CHECK(bdf.exit_code == 0);
  CHECK_THAT(bdf.out, !Catch::Contains("does not follow"));
}

TEST_CASE("An error quoting a binary CSV escapes every control byte (C0, DEL, C1)", "[safety][cli]") {
  const fs::path dir = sandbox("binary_csv");
  std::string bytes =
      "x,y\n1,2\n\x7f\x01\x1b[31m,\xc2\x9b"
      "2J";
  bytes.push_back('\0');
  bytes += " 9\n";
  write(dir / "d.csv", bytes);
  const ProgramRun r = cli(dir, {"flow", "--problem", "least-squares", "--data", "d.csv", "--out", "o.csv"});
  CHECK(r.exit_code == 2);
  INFO(gradflow::quote_text(r.err, 400));
  CHECK_FALSE(r.err.empty());
  CHECK_FALSE(has_control_byte(r.err));
  CHECK(r.err.back() == '\n');
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  // terminal_text keeps backslashes and printable text, and is idempotent.
  const std::string message = "path C:\\dir \x1b[2J \xc2\x9b ok \xff";
  const std::string once = gradflow::terminal_text(message);
  CHECK(once == "path C:\\dir \\x1b[2J \\u009b ok \\xff");
  CHECK(gradflow::terminal_text(once) == once);
}

TEST_CASE("descend --against-flow --plot with a relative folder writes the figures there", "[cli]") {
  if (!gradflow::find_program("gnuplot")) {
    WARN("gnuplot is not installed: --plot is not tested");
    return;
  }
  const fs::path dir = sandbox("relative_plot");
  fs::create_directories(dir / "p");  // --plot writes into an existing folder
  const ProgramRun r = cli(dir, {"descend", "--problem", "quadratic", "--dim", "5", "--against-flow", "--plot", "p",
                                 "--out", "o.csv", "--quiet"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  for (const char* name : {"against_flow.png", "against_flow.svg", "against_flow.dat", "against_flow.gp"})
    CHECK(fs::is_regular_file(dir / "p" / name));
  CHECK(gradflow::test::read_text(dir / "p" / "against_flow.png").substr(0, 4) == "\x89PNG");
  CHECK_FALSE(fs::exists(dir / "p" / "p"));
  CHECK_FALSE(fs::exists(dir / "p" / "against_flow.log"));
}

TEST_CASE("A config key given twice in its two spellings (max-steps, max_steps) is refused naming both lines",
          "[safety][cli]") {
  const fs::path dir = sandbox("two_spellings");
  write(dir / "c.toml", "problem = \"quadratic\"\nmax-steps = 10\nmax_steps = 20\n");
  const ProgramRun r = cli(dir, {"flow", "--config", "c.toml"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("line 3") && Catch::Contains("given twice (also line 2)"));
  CHECK(names_in(dir) == std::vector<std::string>{"c.toml"});
}

TEST_CASE("README's rerun from the folder's own manifest works and leaves the manifest as it was", "[safety][sweep]") {
  // `gradflow sweep --config results/sweep/sweep.toml` (docs/reference/sweep.md, "The manifest and the lock").
  const fs::path dir = sandbox("rerun_from_manifest");
  write(dir / "k.toml",
        "inits = [\"positive\", \"xavier_normal\"]\nwidths = [4]\nseeds = 2\nmethods = [\"armijo\"]\n"
        "datasets = [\"synthetic:3x6\"]\neps = 1e-2\nmax-steps = 200\nout = \"results/sweep\"\n");
  ProgramRun r = cli(dir, {"sweep", "--config", "k.toml", "--quiet", "--no-plots"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const fs::path manifest = dir / "results" / "sweep" / "sweep.toml";
  const std::string before = gradflow::test::read_text(manifest);
  const std::string runs_before = gradflow::test::read_text(dir / "results" / "sweep" / "runs.csv");
  REQUIRE_FALSE(before.empty());
  r = cli(dir, {"sweep", "--config", "results/sweep/sweep.toml", "--no-plots"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("4 already done, 0 to run"));
  CHECK(gradflow::test::read_text(manifest) == before);
  CHECK(gradflow::test::read_text(dir / "results" / "sweep" / "runs.csv") == runs_before);
  // An option beside it that would change the manifest is refused naming --config; the file is untouched.
  r = cli(dir, {"sweep", "--config", "results/sweep/sweep.toml", "--observe", "ntk", "--no-plots"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--config") && Catch::Contains("own manifest"));
  CHECK(gradflow::test::read_text(manifest) == before);
}

TEST_CASE("An option written --name= with an empty value or an empty argument as an option's value is refused",
          "[safety][cli]") {
  const fs::path dir = sandbox("empty_values");
  // --name= took the next argument as its value: `--out= --quiet` wrote a file named --quiet.
  for (const auto& [args, expected] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"flow", "--dim", "3", "--t-end", "0.5", "--out=", "--quiet"}, "--out: an empty path"},
           {{"flow", "--dim", "3", "--t-end", "0.5", "--json=", "--out", "o.csv", "--quiet"}, "--json: an empty path"},
           {{"flow", "--dim", "3", "--t-end", "0.5", "--theta-out=", "--quiet"}, "--theta-out: an empty path"},
           {{"flow", "--dim=", "4", "--t-end", "0.5", "--quiet"}, "--dim: an empty value"},
           {{"descend", "--dim", "3", "--max-iters", "5", "--out=", "--quiet"}, "--out: an empty path"},
           {{"sweep", "--no-plots", "--out=", "--quiet"}, "--out: an empty path"},
           // An empty argument was read as 0 by a number option.
           {{"flow", "--quiet", "--save-every", "", "--t-end", "0.5", "--dim", "3"}, "--save-every: an empty value"},
           {{"flow", "--quiet", "--loss-tol", "", "--t-end", "0.5", "--dim", "3"}, "--loss-tol: an empty value"},
           {{"flow", "--quiet", "--grad-tol", "", "--t-end", "0.5", "--dim", "3"}, "--grad-tol: an empty value"},
           {{"flow", "--quiet", "--max-wall-seconds", "", "--t-end", "0.5", "--dim", "3"},
            "--max-wall-seconds: an empty value"},
           {{"descend", "--dim", "3", "--quiet", "--loss-tol", "", "--max-iters", "5"}, "--loss-tol: an empty value"},
           {{"flow", "--dim", "3", "--quiet", "--out", ""}, "--out: an empty path"},
           {{"certify", "--dim", "3", "--quiet", "--radius", ""}, "--radius: an empty value"}}) {
    INFO(Catch::Detail::stringify(args));
    const ProgramRun r = cli(dir, args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(expected));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(names_in(dir).empty());
  }
  // A value after the '=' is still the option's, whatever it starts with; after "--" nothing is looked at.
  const ProgramRun dashed = cli(dir, {"flow", "--dim", "3", "--t-end", "0.5", "--quiet", "--out=-x.csv"});
  CHECK(dashed.exit_code == 0);
  CHECK(names_in(dir) == std::vector<std::string>{"-x.csv"});
}

TEST_CASE("An atol of 1 or more (error control vacuous) is refused naming the bound", "[safety][flow]") {
  gradflow::FlowOptions o;
  o.atol = 1e300;
  auto error = o.validate();
  REQUIRE(error);
  CHECK(error->field == "atol");
  CHECK_THAT(error->message(), Catch::Contains("must be < 1"));
  o.atol = 1.0;
  CHECK(o.validate());
  o.atol = 0.5;
  CHECK_FALSE(o.validate());
  o.atol = 0.0;  // the old refusal keeps its words
  error = o.validate();
  REQUIRE(error);
  CHECK_THAT(error->message(), Catch::Contains("must be a finite number > 0"));
  const fs::path dir = sandbox("atol_vacuous");
  const ProgramRun r =
      cli(dir, {"flow", "--dim", "3", "--quiet", "--t-end", "10", "--atol", "1e300", "--json", "j.json"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--atol") && Catch::Contains("must be < 1"));
  CHECK(names_in(dir).empty());
}

TEST_CASE("A certificate does not apply where L(theta0) or ||r0|| or sigma0 or ||J0|| is not finite",
          "[safety][theory]") {
  const gradflow::LeastSquares f(gradflow::Matrix::Identity(2, 2), gradflow::Vector::Ones(2));
  const gradflow::Certificate at_huge = gradflow::certify(f, gradflow::Vector::Constant(2, 1e300));
  CHECK_FALSE(at_huge.applies);
  CHECK_FALSE(at_huge.holds);
  CHECK_FALSE(at_huge.descent_holds);
  CHECK_THAT(at_huge.why_not, Catch::Contains("L(theta0) = inf") && Catch::Contains("not finite"));
  CHECK_THAT(at_huge.verdict(), Catch::StartsWith("the theory does not apply"));
  CHECK(gradflow::certify(f, gradflow::Vector::Zero(2)).holds);  // a finite theta0 as before
  // The algebra on its own: each input named when it is not finite.
  for (const auto& [field, name] :
       std::vector<std::pair<int, std::string>>{{0, "L(theta0)"}, {1, "||r0||"}, {2, "sigma0"}, {3, "||J0||"}}) {
    gradflow::CertificateInputs in;
    in.loss0 = 0.5;
    in.residual_norm = 1.0;
    in.sigma0 = 2.0;
    in.jacobian_norm = 3.0;
    in.lipschitz.at = [](double) { return 0.0; };
    double* value[] = {&in.loss0, &in.residual_norm, &in.sigma0, &in.jacobian_norm};
    *value[field] = field == 2 ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
    const gradflow::Certificate c = gradflow::certify(in);
    INFO(name << ": " << c.why_not);
    CHECK_FALSE(c.applies);
    CHECK_FALSE(c.holds);
    CHECK_THAT(c.why_not, Catch::StartsWith(name + " = "));
  }
  // The command line names --theta0 (certify, flow --certify), never an internal "radius = inf".
  const fs::path dir = sandbox("certificate_inf");
  write(dir / "D2.csv", "x1,x2,y\n1,0,1\n0,1,1\n");
  write(dir / "b2.csv", "1e300\n1e300\n");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"certify", "--problem", "least-squares", "--data", "D2.csv", "--theta0", "b2.csv",
                                 "--json", "j.json", "--quiet"},
        std::vector<std::string>{"flow", "--problem", "least-squares", "--data", "D2.csv", "--theta0", "b2.csv",
                                 "--certify", "--quiet"},
        std::vector<std::string>{"descend", "--problem", "least-squares", "--data", "D2.csv", "--theta0", "b2.csv",
                                 "--certify", "--quiet"}}) {
    INFO(Catch::Detail::stringify(args));
    const ProgramRun r = cli(dir, args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--theta0 b2.csv") && Catch::Contains("not finite"));
    CHECK_THAT(r.err, !Catch::Contains("radius"));
    CHECK(names_in(dir) == std::vector<std::string>{"D2.csv", "b2.csv"});
  }
}

TEST_CASE("The output scale must be a finite number > 0 for every command that builds a network", "[safety][cli]") {
  const fs::path dir = sandbox("output_scale");
  const std::vector<std::string> network{"--problem", "mlp", "--synthetic", "3,5", "--widths", "2", "--quiet"};
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"flow", "--t-end", "0.5"}, std::vector<std::string>{"descend", "--max-iters", "5"},
        std::vector<std::string>{"certify"},
        std::vector<std::string>{"probability", "--draws", "3", "--threads", "1", "--steps", "5"}}) {
    for (const std::string scale : {"0", "-1", "-0", "nan", "inf"}) {
      std::vector<std::string> args = command;
      args.insert(args.end(), network.begin(), network.end());
      args.push_back("--output-scale=" + scale);
      INFO(Catch::Detail::stringify(args));
      const ProgramRun r = cli(dir, args);
      INFO(r.err);
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.err, Catch::Contains("--output-scale " + scale) && Catch::Contains("must be a finite number > 0"));
      CHECK(names_in(dir).empty());
    }
  }
  std::vector<std::string> fine{"flow", "--t-end", "0.5", "--output-scale", "0.5"};
  fine.insert(fine.end(), network.begin(), network.end());
  CHECK(cli(dir, fine).exit_code == 0);
}

TEST_CASE("A thread ended inside a pool's item (pthread_exit) unwinds on without std::terminate and the job closes",
          "[safety][thread]") {
  // Forced unwinding (abi::__forced_unwind) must pass every catch (...): the Python module's threads are
  // ended this way when the interpreter exits. Whichever thread runs item 3 (the caller or a worker)
  // ends; the other finishes the job or is told.
  gradflow::ThreadPool pool;
  std::atomic<long> done{0};
  std::atomic<bool> told{false};
  std::thread caller([&] {
    try {
      pool.run(2, 64, [&](long i) {
        if (i == 3) ::pthread_exit(nullptr);
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        done.fetch_add(1);
      });
    } catch (const std::runtime_error& e) {
      told = std::string(e.what()).find("pthread_exit") != std::string::npos;
    }
  });
  caller.join();
  CHECK(done.load() < 64);
  // The pool still runs jobs, every item once.
  std::vector<int> hits(32, 0);
  pool.run(2, 32, [&](long i) { ++hits[static_cast<std::size_t>(i)]; });
  CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
  INFO("the caller was told when a worker ended: " << told.load());
}

TEST_CASE("An integer option past its type's range, negative for a count, or with a leading zero is refused",
          "[safety][cli]") {
  // CLI11 reads integers with strtoll/strtoull: 2^63 was clamped to 2^63 - 1 and run, 010 read as 8.
  const fs::path dir = sandbox("integer_range");
  struct Case {
    std::vector<std::string> args;
    std::string named;
    std::string why;
  };
  const std::vector<Case> cases{
      {{"flow", "--dim", "3", "--max-steps", "9223372036854775808"}, "--max-steps", "at most 9223372036854775807"},
      {{"flow", "--dim", "3", "--max-steps=99999999999999999999"}, "--max-steps", "at most 9223372036854775807"},
      {{"flow", "--dim", "3", "--save-every-steps", "9223372036854775808"}, "--save-every-steps", "out of range"},
      {{"descend", "--dim", "3", "--max-iters", "9223372036854775808"}, "--max-iters", "out of range"},
      {{"probability", "--steps", "9223372036854775808"}, "--steps", "out of range"},
      {{"flow", "--dim", "3", "--max-steps", "010"}, "--max-steps", "leading zero"},
      {{"flow", "--dim", "3", "--seed", "18446744073709551616"}, "--seed", "at most 18446744073709551615"},
  };
  for (const Case& c : cases) {
    const ProgramRun r = cli(dir, c.args);
    INFO(c.args[0] << " " << c.named << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(c.named) && Catch::Contains(c.why));
    CHECK(names_in(dir).empty());
  }
  // The largest values are still taken: 2^63 - 1 steps (the run ends at t_end long before) and seed 2^64 - 1.
  ProgramRun r = cli(dir, {"flow", "--dim", "3", "--quiet", "--max-steps", "9223372036854775807"});
  CHECK(r.exit_code == 0);
  r = cli(dir, {"flow", "--dim", "3", "--quiet", "--seed", "18446744073709551615"});
  CHECK(r.exit_code == 0);
  // And in a config file, naming the line and the option.
  write(dir / "c.toml", "max-steps = 9223372036854775808\n");
  r = cli(dir, {"flow", "--config", "c.toml", "--dim", "3"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("line 1") && Catch::Contains("max-steps") && Catch::Contains("out of range"));
}

TEST_CASE("A config file's flag takes true or false, not a number or nan", "[safety][cli]") {
  const fs::path dir = sandbox("config_flag_words");
  for (const std::string value : {"1", "-1", "0", "nan", "2"}) {
    write(dir / "c.toml", "quiet = " + value + "\n");
    const ProgramRun r = cli(dir, {"flow", "--config", "c.toml", "--dim", "3"});
    INFO(value << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("'quiet' takes true or false, not " + value));
    CHECK(r.out.empty());
  }
  write(dir / "c.toml", "quiet = true\n");
  const ProgramRun r = cli(dir, {"flow", "--config", "c.toml", "--dim", "3"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
}

TEST_CASE(
    "compare-inits without positive or with positive alone says why there is no verdict, and a huge synthetic "
    "set names --synthetic",
    "[safety][cli]") {
  const fs::path dir = sandbox("compare_inits_schemes");
  const std::vector<std::pair<std::string, std::string>> cases{
      {"xavier_normal,kaiming_normal", "none (positive is not among the schemes"},
      {"positive", "none (positive is the only scheme"}};
  for (const auto& [inits, why] : cases) {
    const ProgramRun r = cli(dir, {"compare-inits", "--synthetic", "3x5", "--widths", "2", "--seeds", "1", "--no-plots",
                                   "--inits", inits, "--out", "ci"});
    INFO(inits << ": " << r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("verdict synthetic:3x5, width 2: " + why));
    fs::remove_all(dir / "ci");
  }
  const ProgramRun r = cli(dir, {"compare-inits", "--synthetic", "99999999x99999999", "--widths", "2", "--seeds", "1",
                                 "--no-plots", "--quiet", "--out", "ci"});
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err,
             Catch::StartsWith("gradflow compare-inits: error: --synthetic 99999999x99999999: a synthetic data set"));
  CHECK(names_in(dir).empty());
}

TEST_CASE("A seed with a leading zero is refused on the command line and in a config file, naming it",
          "[safety][cli]") {
  // CLI11 read --seed 010 as octal 8 (the same bits as --seed 8), silently.
  const fs::path dir = sandbox("seed_octal");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"flow", "--dim", "5", "--t-end", "1", "--seed", "010", "--out", "o.csv"},
        std::vector<std::string>{"flow", "--problem", "mlp", "--synthetic", "4,8", "--widths", "4", "--t-end", "1",
                                 "--init-seed", "010", "--out", "o.csv"}}) {
    const ProgramRun r = cli(dir, args);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("'010'") && Catch::Contains("leading zero") && Catch::Contains("seed"));
  }
  write(dir / "c.toml", "dim = 5\nt-end = 1\nseed = 010\nout = \"o.csv\"\n");
  const ProgramRun config = cli(dir, {"flow", "--config", "c.toml"});
  CHECK(config.exit_code == 2);
  CHECK_THAT(config.err, Catch::Contains("line 3") && Catch::Contains("key 'seed'") && Catch::Contains("'010'"));
  CHECK(names_in(dir) == std::vector<std::string>{"c.toml"});
  CHECK(cli(dir, {"flow", "--dim", "5", "--t-end", "1", "--seed", "0", "--quiet"}).exit_code == 0);
}

TEST_CASE("An unknown command, an observable listed twice and an empty array item are each named", "[safety][cli]") {
  const fs::path dir = sandbox("named_refusals");
  const ProgramRun unknown = cli(dir, {"nosuchcmd", "--dim", "5"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("'nosuchcmd' is not a command") && Catch::Contains("compare-inits"));
  const ProgramRun twice = cli(dir, {"flow", "--dim", "3", "--t-end", "1", "--observe", "sharpness,sharpness"});
  CHECK(twice.exit_code == 2);
  CHECK_THAT(twice.err, Catch::Contains("--observe") && Catch::Contains("'sharpness' is listed twice"));
  write(dir / "s.toml",
        "inits = [\"positive\", \"xavier_normal\"]\nwidths = [4, , 8]\nseeds = 2\ndatasets = [\"synthetic:4x8\"]\n"
        "max-steps = 200\nout = \"o\"\n");
  const ProgramRun empty = cli(dir, {"sweep", "--config", "s.toml", "--quiet", "--no-plots"});
  CHECK(empty.exit_code == 2);
  CHECK_THAT(empty.err, Catch::Contains("line 2") && Catch::Contains("key 'widths'") && Catch::Contains("empty item"));
  write(dir / "s.toml",
        "inits = [\"positive\", \"xavier_normal\"]\nwidths = [4]\nseeds = 2\ndatasets = [\"synthetic:4x8\"]\n"
        "max-steps = 200\nobserve = [\"ntk\", \"ntk\"]\nout = \"o\"\n");
  const ProgramRun observe = cli(dir, {"sweep", "--config", "s.toml", "--quiet", "--no-plots"});
  CHECK(observe.exit_code == 2);
  CHECK_THAT(observe.err, Catch::Contains("key 'observe'") && Catch::Contains("'ntk' is listed twice"));
  CHECK_FALSE(fs::exists(dir / "o"));
}

TEST_CASE("A link planted at a curve file of a sweep folder is refused before anything runs", "[safety][sweep]") {
  const fs::path dir = sandbox("curve_link");
  write(dir / "s.toml",
        "inits = [\"positive\", \"xavier_normal\"]\nwidths = [4]\nseeds = 2\ndatasets = [\"synthetic:4x8\"]\n"
        "max-steps = 200\nout = \"o\"\n");
  REQUIRE(cli(dir, {"sweep", "--config", "s.toml", "--quiet", "--no-plots", "--threads", "1"}).exit_code == 0);
  std::vector<fs::path> curves;
  for (const auto& entry : fs::directory_iterator(dir / "o" / "curves")) curves.push_back(entry.path());
  REQUIRE_FALSE(curves.empty());
  std::sort(curves.begin(), curves.end());
  write(dir / "victim", "V");
  fs::remove(curves.front());
  fs::create_symlink(fs::path("..") / ".." / "victim", curves.front());
  // runs.csv cut to its header: every run would run again and write its curve.
  const std::string runs = gradflow::test::read_text(dir / "o" / "runs.csv");
  write(dir / "o" / "runs.csv", runs.substr(0, runs.find('\n') + 1));
  const ProgramRun r = cli(dir, {"sweep", "--config", "s.toml", "--quiet", "--no-plots", "--threads", "1"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err,
             Catch::Contains("curves/" + curves.front().filename().string()) && Catch::Contains("symbolic link"));
  CHECK(gradflow::test::read_text(dir / "victim") == "V");
  CHECK(gradflow::test::read_text(dir / "o" / "runs.csv") == runs.substr(0, runs.find('\n') + 1));  // nothing ran
}
