// Input that cannot be meant, refused before anything is written (README "Safety"): a NUL inside a
// config string, numbers no run can use (--lr inf, an rtol below double precision), and messages that
// quote a file's bytes escape every control byte; a relative --plot folder gets its figures.
#include <gradflow/apps/support/spawn.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/flow/options.hpp>
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
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
  // `gradflow sweep --config results/sweep/sweep.toml` (README, "The manifest and the lock").
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
