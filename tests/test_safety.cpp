// Hostile input and file safety, one guarantee per section (docs/explanation/safety.md):
// 1. no user string reaches a shell; 2. an output never destroys anything; 3. a sweep's results are
// never silently wrong or lost (lists mean what they say, inputs checked first, the manifest, the
// lock, RFC 4180 fields, the sorted rewrite from disk); 4. sizes are checked before allocation;
// 5. no crash whatever the thread count; 7. input parsing says what it read.
#include "test_support.hpp"

#include <gradflow/apps/config_file.hpp>
#include <gradflow/apps/csv.hpp>
#include <gradflow/apps/list_option.hpp>
#include <gradflow/apps/support/folder_lock.hpp>
#include <gradflow/apps/support/memory_limit.hpp>
#include <gradflow/apps/support/output_file.hpp>
#include <gradflow/apps/support/spawn.hpp>
#include <gradflow/apps/sweep/sweep_file.hpp>
#include <gradflow/apps/sweep/sweep_files.hpp>
#include <gradflow/apps/sweep/sweep_manifest.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/core/thread_pool.hpp>
#include <gradflow/experiments/sweep_runner.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using gradflow::test::ProgramRun;
using gradflow::test::read_text;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;  // AddressSanitizer reserves terabytes of address space: no RLIMIT_AS tests
#else
constexpr bool kSanitized = false;
#endif

fs::path sandbox(const std::string& name) {
  const fs::path dir = fs::path(GRADFLOW_TESTS_BINARY_DIR) / "safety_sandbox" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const fs::path& path, const std::string& content) { std::ofstream(path, std::ios::binary) << content; }

ProgramRun cli(const fs::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), GRADFLOW_CLI);
  return gradflow::test::run_capture(args, dir.string(), dir.parent_path());
}

long count_lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// A small, fast sweep file.
std::string sweep_file(const fs::path& out, const std::string& extra = "") {
  return "inits = [\"positive\", \"xavier_normal\"]\nwidths = [4]\nseeds = 2\nmethods = [\"armijo\"]\n"
         "datasets = [\"synthetic:3x6\"]\neps = 1e-2\nmax-steps = 200\nout = \"" +
         out.string() + "\"\n" + extra;
}

// The source text without comments and string or character literals, so that a call can be found.
std::string code_only(const std::string& text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 2, "//") == 0) {
      i = text.find('\n', i);
      if (i == std::string::npos) break;
    } else if (text.compare(i, 2, "/*") == 0) {
      const auto end = text.find("*/", i + 2);
      i = end == std::string::npos ? text.size() : end + 2;
    } else if (text.compare(i, 2, "R\"") == 0) {
      const auto open = text.find('(', i);
      const std::string close = ")" + text.substr(i + 2, open - i - 2) + "\"";
      const auto end = text.find(close, open);
      i = end == std::string::npos ? text.size() : end + close.size();
      out += "\"\"";
    } else if (text[i] == '"' || text[i] == '\'') {
      const char quote = text[i++];
      while (i < text.size() && text[i] != quote) i += text[i] == '\\' ? 2 : 1;
      ++i;
      out += "\"\"";
    } else {
      out += text[i++];
    }
  }
  return out;
}

// Calls of system() or popen() (std:: or not, ::system, popen2...), not filesystem( or a member .system(.
bool calls_a_shell(const std::string& source) {
  static const std::regex call(R"((^|[^A-Za-z0-9_.>])(system|popen|popen2)\s*\()");
  return std::regex_search(code_only(source), call);
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// 1. No user string reaches a shell.

TEST_CASE("No source file of the tree, tests included, calls system() or popen()", "[safety]") {
  // The check itself finds what it must and ignores comments, strings and other names.
  CHECK(calls_a_shell("int main() { return std::system(cmd); }"));
  CHECK(calls_a_shell("FILE* f = popen(cmd, \"r\");"));
  CHECK(calls_a_shell("x = ::system (cmd);"));
  CHECK_FALSE(calls_a_shell("// std::system(cmd) is not used\nnamespace fs = std::filesystem;"));
  CHECK_FALSE(calls_a_shell("const char* s = \"system(\"; fs::path p = std::filesystem::path(x);"));
  CHECK_FALSE(calls_a_shell("run_program({\"gnuplot\"}); my.system(1);"));
  std::vector<std::string> offenders;
  long files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(GRADFLOW_SOURCE_DIR)) {
    const fs::path relative = fs::relative(entry.path(), GRADFLOW_SOURCE_DIR);
    const std::string top = relative.begin()->string();
    if (top == "build" || top.rfind("build-", 0) == 0 || top == ".git") continue;
    const std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || !(ext == ".cpp" || ext == ".hpp" || ext == ".h" || ext == ".inc" || ext == ".cc"))
      continue;
    ++files;
    if (calls_a_shell(read_text(entry.path()))) offenders.push_back(relative.string());
  }
  INFO("files that call system() or popen(): " << Catch::Detail::stringify(offenders));
  CHECK(files > 50);
  CHECK(offenders.empty());
}

TEST_CASE("run_program passes shell metacharacters as plain argument text and runs nothing else", "[safety]") {
  const fs::path dir = sandbox("spawn");
  const std::string hostile = "x'; touch PWNED1; echo '$(touch PWNED2)`touch PWNED3` | > PWNED4 \n&& true";
  const ProgramRun r = gradflow::test::run_capture({"printf", "%s", hostile}, dir.string(), dir);
  CHECK(r.exit_code == 0);
  CHECK(r.out == hostile);
  for (const char* name : {"PWNED1", "PWNED2", "PWNED3", "PWNED4"}) CHECK_FALSE(fs::exists(dir / name));
  // A program that does not exist is reported, not run by a shell.
  const gradflow::SpawnResult missing = gradflow::run_program({"no-such-program-gradflow"});
  CHECK_FALSE(missing.succeeded());
  CHECK_FALSE(missing.error.empty());
  CHECK(gradflow::find_program("sh").has_value());
  CHECK_FALSE(gradflow::find_program("no-such-program-gradflow").has_value());
}

TEST_CASE(
    "A sweep into a folder whose name holds quotes, a semicolon, $( ), backticks, spaces and a newline draws "
    "its plots and runs nothing else",
    "[safety][sweep]") {
  if (!gradflow::find_program("gnuplot")) {
    WARN("gnuplot is not installed: the plots of the hostile folder are not tested");
    return;
  }
  const fs::path dir = sandbox("shell_folder");
  const std::string name = "x'; touch PWNED; echo '$(touch PWNED2) `touch PWNED3` a\nb \"c\" \\ d";
  write(dir / "sweep.toml", sweep_file("unused"));
  const ProgramRun r = cli(dir, {"sweep", "--config", "sweep.toml", "--out", name, "--quiet"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  for (const char* plot : {"loss", "pl_ratio", "distance", "steps_vs_width"}) {
    INFO(plot);
    CHECK(read_text(dir / name / "plots" / (std::string(plot) + ".png")).substr(0, 4) == "\x89PNG");
    CHECK(read_text(dir / name / "plots" / (std::string(plot) + ".svg")).find("</svg>") != std::string::npos);
  }
  // Nothing but the sweep's own folder and the config file appeared.
  CHECK(names_in(dir) == std::vector<std::string>{"sweep.toml", name});
  for (const char* pwned : {"PWNED", "PWNED2", "PWNED3"}) {
    CHECK_FALSE(fs::exists(dir / pwned));
    CHECK_FALSE(fs::exists(dir / name / "plots" / pwned));
  }
}

// ---------------------------------------------------------------------------------------------------
// 2. An output never destroys anything.

TEST_CASE("An output equal to an input, by any spelling or link, is refused before anything runs", "[safety]") {
  const fs::path dir = sandbox("output_is_input");
  write(dir / "d.csv", "x,y\n1,2\n3,5\n");
  write(dir / "run.toml", "problem = \"least-squares\"\n");
  write(dir / "theta.csv", "0.5\n");
  fs::create_directory(dir / "sub");
  fs::create_symlink("d.csv", dir / "link.csv");
  fs::create_hard_link(dir / "d.csv", dir / "hard.csv");
  const std::string data = read_text(dir / "d.csv");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"--out", "d.csv"}, "--out d.csv: is the input --data d.csv"},
      {{"--out", "./d.csv"}, "is the input --data d.csv"},
      {{"--out", "sub/../d.csv"}, "is the input --data d.csv"},
      {{"--out", dir.string() + "/d.csv"}, "is the input --data d.csv"},
      {{"--out", "link.csv"}, "is the input --data d.csv"},
      {{"--out", "hard.csv"}, "is the input --data d.csv"},
      {{"--json", "run.toml"}, "--json run.toml: is the input --config run.toml"},
      {{"--theta-out", "theta.csv"}, "--theta-out theta.csv: is the input --theta0 theta.csv"},
      {{"--out", "o.csv", "--json", "o.csv"}, "--json o.csv: is also the output of --out o.csv"},
      {{"--out", "o.csv", "--theta-out", "./sub/../o.csv"}, "is also the output of --out o.csv"},
      {{"--out", "-", "--json", "-"}, "standard output is already the output of --out"},
  };
  for (const auto& [outputs, expected] : cases) {
    std::vector<std::string> args{"flow",  "--config", "run.toml",  "--data",
                                  "d.csv", "--theta0", "theta.csv", "--quiet"};
    args.insert(args.end(), outputs.begin(), outputs.end());
    const ProgramRun r = cli(dir, args);
    INFO(Catch::Detail::stringify(outputs) << " -> " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains(expected));
    CHECK(read_text(dir / "d.csv") == data);
    CHECK(read_text(dir / "run.toml") == "problem = \"least-squares\"\n");
    CHECK(read_text(dir / "theta.csv") == "0.5\n");
    CHECK_FALSE(fs::exists(dir / "o.csv"));
  }
  // The other commands check the same way.
  write(dir / "c.toml", "problem = \"karimi\"\n");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"descend", "--config", "c.toml", "--out", "c.toml"},
        std::vector<std::string>{"certify", "--config", "c.toml", "--json", "c.toml"},
        std::vector<std::string>{"probability", "--problem", "mlp", "--data", "d.csv", "--out", "d.csv"},
        std::vector<std::string>{"probability", "--problem", "mlp", "--synthetic", "3,6", "--out", "p", "--json",
                                 "p"}}) {
    const ProgramRun r = cli(dir, args);
    INFO(Catch::Detail::stringify(args) << " -> " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
  }
  CHECK(read_text(dir / "c.toml") == "problem = \"karimi\"\n");
  CHECK(read_text(dir / "d.csv") == data);
}

TEST_CASE("An output that exists and is not a regular file, or an empty path, is refused", "[safety]") {
  const fs::path dir = sandbox("non_regular");
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0644) == 0);
  fs::create_directory(dir / "folder");
  for (const auto& [args, expected] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--out", "fifo"}, "--out fifo: exists and is a fifo"},
           {{"--json", "folder"}, "--json folder: exists and is a directory"},
           {{"--out", ""}, "--out: an empty path"},
           {{"--theta-out", ""}, "--theta-out: an empty path"},
           {{"--out", "no/such/folder/o.csv"}, "does not exist"}}) {
    std::vector<std::string> argv{"flow", "--dim", "3", "--quiet"};
    argv.insert(argv.end(), args.begin(), args.end());
    const ProgramRun r = cli(dir, argv);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(expected));
  }
  struct stat st {};
  REQUIRE(::stat((dir / "fifo").c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  CHECK(fs::is_directory(dir / "folder"));
  // A config file's empty value is refused the same way.
  write(dir / "empty.toml", "out = \"\"\n");
  const ProgramRun r = cli(dir, {"flow", "--config", "empty.toml", "--quiet"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--out: an empty path"));
}

TEST_CASE("An output naming a device node is refused and the device is left as it was", "[safety]") {
  if (::geteuid() != 0) {
    WARN("not root: mknod needs root, so the device-node output is not tested");
    return;
  }
  const fs::path dir = sandbox("device");
  // A character device with the numbers of /dev/null.
  REQUIRE(::mknod((dir / "dev").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
  for (const char* option : {"--out", "--json", "--theta-out"}) {
    const ProgramRun r = cli(dir, {"flow", "--dim", "3", "--quiet", option, "dev"});
    INFO(option << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(std::string(option) + " dev: exists and is a character device"));
  }
  write(dir / "sweep.toml", sweep_file(dir / "dev"));
  const ProgramRun r = cli(dir, {"sweep", "--config", "sweep.toml", "--quiet"});
  CHECK(r.exit_code == 2);
  struct stat st {};
  REQUIRE(::stat((dir / "dev").c_str(), &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  CHECK(st.st_rdev == makedev(1, 3));
}

TEST_CASE("Any file name the file system accepts works, the temporary has a short name, and '-' is standard output",
          "[safety]") {
  const fs::path dir = sandbox("long_name");
  const std::string name = std::string(250, 'n') + ".csv";  // 254 bytes
  ProgramRun r = cli(dir, {"flow", "--dim", "3", "--t-end", "1", "--quiet", "--out", name});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(read_text(dir / name), Catch::StartsWith("t,loss,"));
  CHECK(names_in(dir) == std::vector<std::string>{name});
  r = cli(dir, {"flow", "--dim", "3", "--t-end", "1", "--quiet", "--json", "-"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("{") && Catch::Contains("\"status\": \"reached_end_time\""));
  CHECK(names_in(dir) == std::vector<std::string>{name});
}

TEST_CASE("A file being written leaves nothing behind when it is not committed or a signal ends the process",
          "[safety]") {
  const fs::path dir = sandbox("temporaries");
  const int live = gradflow::live_temporary_count();
  {
    gradflow::AtomicFile file("--out", (dir / "a.csv").string());
    file.stream() << "partial";
    CHECK(fs::path(file.temporary_path()).filename().string().rfind(".gradflow.", 0) == 0);
    CHECK(fs::exists(file.temporary_path()));
    CHECK(gradflow::live_temporary_count() == live + 1);
  }  // no commit: an exception path
  CHECK(names_in(dir).empty());
  CHECK(gradflow::live_temporary_count() == live);
  gradflow::write_file_atomically("--out", (dir / "b.csv").string(), [](std::ostream& out) { out << "whole\n"; });
  CHECK(read_text(dir / "b.csv") == "whole\n");
  CHECK_THROWS_AS(gradflow::write_file_atomically("--out", (dir / "c.csv").string(),
                                                  [](std::ostream&) { throw std::runtime_error("midway"); }),
                  std::runtime_error);
  CHECK(names_in(dir) == std::vector<std::string>{"b.csv"});
  // SIGINT and SIGTERM in the middle of a write: the handler removes the temporary, then the signal
  // ends the process as it would have.
  for (const int signal_number : {SIGINT, SIGTERM, SIGQUIT}) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // The test framework's own handlers are not the command line's: the default, then ours.
      ::signal(SIGINT, SIG_DFL);
      ::signal(SIGTERM, SIG_DFL);
      ::signal(SIGQUIT, SIG_DFL);
      const rlimit no_core{0, 0};  // SIGQUIT dumps core by default
      ::setrlimit(RLIMIT_CORE, &no_core);
      gradflow::install_temporary_cleanup();
      gradflow::AtomicFile file("--out", (dir / "killed.csv").string());
      file.stream() << "half a file" << std::flush;
      ::raise(signal_number);
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == signal_number);
    CHECK(names_in(dir) == std::vector<std::string>{"b.csv"});
  }
}

TEST_CASE("An output that is a symbolic link is refused, and the link and its target are left as they were",
          "[safety]") {
  const fs::path dir = sandbox("output_link");
  write(dir / "target.txt", "keep\n");
  fs::create_symlink("target.txt", dir / "link.json");
  fs::create_symlink("/proc/self/fd/1", dir / "fd1.json");  // standard output by a link: only "-" means it
  fs::create_symlink("nowhere.csv", dir / "dangling.csv");
  for (const std::string link : {"link.json", "fd1.json", "dangling.csv"}) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"flow", "--dim", "3", "--quiet", "--json", link},
          std::vector<std::string>{"flow", "--dim", "3", "--quiet", "--out", link},
          std::vector<std::string>{"flow", "--dim", "3", "--quiet", "--theta-out", link},
          std::vector<std::string>{"flow", "--dim", "3", "--quiet", "--states-out", link},
          std::vector<std::string>{"descend", "--dim", "3", "--quiet", "--out", link},
          std::vector<std::string>{"certify", "--dim", "3", "--json", link}}) {
      const ProgramRun r = cli(dir, args);
      INFO(Catch::Detail::stringify(args) << " -> " << r.err);
      CHECK(r.exit_code == 2);
      CHECK(count_lines(r.err) == 1);
      CHECK_THAT(r.err, Catch::Contains(args[args.size() - 2] + " " + link + ": is a symbolic link"));
      CHECK(r.out.empty());
    }
    CHECK(fs::is_symlink(dir / link));
  }
  CHECK(read_text(dir / "target.txt") == "keep\n");
  CHECK_FALSE(fs::exists(dir / "nowhere.csv"));
  // A link made while the file was being written is not replaced either: commit() checks again.
  gradflow::AtomicFile file("--out", (dir / "late.csv").string());
  file.stream() << "data\n";
  fs::create_symlink("target.txt", dir / "late.csv");
  CHECK_THROWS_WITH(file.commit(), Catch::Contains("--out") && Catch::Contains("is a symbolic link now: not replaced"));
  CHECK(fs::is_symlink(dir / "late.csv"));
  CHECK(read_text(dir / "target.txt") == "keep\n");
  CHECK(names_in(dir) == std::vector<std::string>{"dangling.csv", "fd1.json", "late.csv", "link.json", "target.txt"});
  fs::remove_all(dir);  // dangling links would trouble the tree walk of the no-shell test
}

TEST_CASE("An output file name longer than the file system allows is refused before anything runs", "[safety]") {
  const fs::path dir = sandbox("name_too_long");
  const std::string name = std::string(252, 'n') + ".csv";  // 256 bytes: NAME_MAX is 255
  ProgramRun r = cli(dir, {"flow", "--dim", "3", "--quiet", "--out", name});
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains("--out") && Catch::Contains("the file name has 256 bytes, more than the 255"));
  r = cli(dir, {"descend", "--dim", "3", "--quiet", "--json", name});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--json") && Catch::Contains("the file name has 256 bytes"));
  // A whole path past PATH_MAX (each component short).
  std::string deep;
  while (deep.size() < 4200) deep += "./";
  deep += "o.csv";
  r = cli(dir, {"flow", "--dim", "3", "--quiet", "--out", deep});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("the path has " + std::to_string(deep.size()) + " bytes"));
  CHECK(names_in(dir).empty());
}

TEST_CASE("The output checks compare files by device and inode, and paths when the file is new", "[safety]") {
  const fs::path dir = sandbox("same_file");
  write(dir / "a", "1\n");
  fs::create_symlink(dir / "a", dir / "s");
  CHECK(gradflow::same_file((dir / "a").string(), (dir / "s").string()));
  CHECK(gradflow::same_file((dir / "new").string(), (dir / "." / "new").string()));
  CHECK_FALSE(gradflow::same_file((dir / "a").string(), (dir / "new").string()));
  CHECK_NOTHROW(gradflow::check_paths({{"--data", (dir / "a").string()}}, {{"--out", (dir / "b").string()}}));
  CHECK_THROWS_AS(gradflow::check_paths({{"--data", (dir / "a").string()}}, {{"--out", (dir / "s").string()}}),
                  gradflow::InputError);
  CHECK_NOTHROW(gradflow::check_paths({}, {{"--out", "-"}}));  // where "-" is not documented, it is a file name
}

// ---------------------------------------------------------------------------------------------------
// 3. A sweep's results are never silently wrong or lost.

TEST_CASE("A sweep's lists mean what they say: seeds = [7] is the seed 7, seeds = 3 the seeds 0 to 2",
          "[safety][sweep]") {
  const auto seeds = [](const std::string& text) { return gradflow::cli::parse_sweep_text(text, "s.toml").seeds; };
  CHECK(seeds("seeds = [7]\n") == std::vector<long>{7});
  CHECK(seeds("seeds = [3, 9]\n") == std::vector<long>{3, 9});
  CHECK(seeds("seeds = 3\n") == std::vector<long>{0, 1, 2});
  CHECK(gradflow::cli::parse_sweep_text("widths = 32\n", "s.toml").widths == std::vector<long>{32});
  const fs::path dir = sandbox("seed_list");
  write(dir / "sweep.toml",
        "inits = [\"xavier_normal\"]\nwidths = [4]\nseeds = [7]\nmethods = [\"armijo\"]\n"
        "datasets = [\"synthetic:3x6\"]\nmax-steps = 50\nout = \"r\"\n");
  const ProgramRun r = cli(dir, {"sweep", "--config", "sweep.toml", "--quiet", "--no-plots"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto records = gradflow::read_runs((dir / "r" / "runs.csv").string());
  REQUIRE(records.size() == 1);
  CHECK(records[0].run.seed == 7);
}

TEST_CASE(
    "A malformed sweep item or data set is exit 2 naming the key, the item and what it must be, and no folder "
    "is made",
    "[safety][sweep]") {
  const fs::path dir = sandbox("sweep_items");
  write(dir / "nan.csv", "x,y\n1,nan\n");
  write(dir / "one_column.csv", "x\n1\n2\n");
  write(dir / "header_only.csv", "x,y\n");
  write(dir / "a,b.csv", "1,2\n3,4\n");
  const std::string base = "inits = [\"xavier_normal\"]\nmethods = [\"armijo\"]\nmax-steps = 50\n";
  for (const auto& [content, expected] : std::vector<std::pair<std::string, std::string>>{
           {"widths = [4, x]\n", "key 'widths': the item 'x' must be an integer in [1, 100000]"},
           {"widths = [4, , 8]\n", "an empty item in the array"},
           {"widths = [0]\n", "the item '0' must be an integer in [1, 100000]"},
           {"depths = [1.5]\n", "key 'depths': the item '1.5' must be an integer"},
           {"seeds = [1, 1]\n", "key 'seeds' = 1: is listed twice"},
           {"widths = [4, 4]\n", "key 'widths' = 4: is listed twice"},
           {"lr-grid = [\"1\"]\n", "key 'lr-grid' takes numbers, not the string"},
           {"scale-margin = \"1.5\"\n", "key 'scale-margin' takes a number, not the string"},
           {"loss-tol = \"0.001\"\n", "key 'loss-tol' takes a number, not the string"},
           {"output-scale = \"1.5\"\n", "key 'output-scale' takes a number or \"auto\""},
           {"output-scale = 0\n", "key 'output-scale' = 0: must be a finite number > 0"},
           {"t-end = inf\n", "key 't-end'"},
           {"seeds = -3\n", "must be an integer in [1,"},
           {"seeds = 1e12\n", "needs about"},
           {"datasets = [\"synthetic:8x16abc\"]\n", "'synthetic:8x16abc' is neither synthetic:NxD"},
           {"datasets = [\"synthetic:8x16x3\"]\n", "'synthetic:8x16x3' is neither"},
           {"datasets = [\"file:missing.csv\"]\n", "missing.csv: cannot open the file for reading: no such file"},
           {"datasets = [\"file:nan.csv\"]\n", "nan.csv: line 2, column 2: value nan is not finite"},
           {"datasets = [\"file:one_column.csv\"]\n", "needs at least two columns"},
           {"datasets = [\"file:header_only.csv\"]\n", "a header but no numeric rows"},
           {"eps = big\n", "key 'eps': the item 'big' must be a finite number"},
           {"teacher = 1\n", "key 'teacher': the item '1' must be true or false"},
           {"out = \"\"\n", "key 'out': an empty path"},
           {"widths\n", "line 4: expected '=' after the key 'widths'"},
           {"eps = 1\neps = 2\n", "the key 'eps' is given twice"},
       }) {
    write(dir / "bad.toml", base + content + (content.rfind("out", 0) == 0 ? "" : "out = \"r\"\n"));
    const ProgramRun r = cli(dir, {"sweep", "--config", "bad.toml", "--quiet"});
    INFO(content << " -> " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains(expected));
    CHECK_FALSE(fs::exists(dir / "r"));
  }
  for (const auto& [args, expected] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--synthetic", "8x16x3"}, "'synthetic:8x16x3' is neither"},
           {{"--widths", "4,,8"}, "--widths 4,,8: an empty item"},
           {{"--inits", "positive,,orthogonal"}, "an empty item"},
           {{"--seeds", "0"}, "--seeds 0: must be in [1, 1e7]"},
           {{"--depth", "0"}, "--depth 0: must be in [1, 64]"},
           {{"--out", ""}, "an empty path"}}) {
    std::vector<std::string> argv{"compare-inits", "--quiet"};
    argv.insert(argv.end(), args.begin(), args.end());
    if (args.front() != "--out") argv.insert(argv.end(), {"--out", "r"});
    const ProgramRun r = cli(dir, argv);
    INFO(Catch::Detail::stringify(args) << " -> " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(expected));
    CHECK_FALSE(fs::exists(dir / "r"));
  }
  // A file name with a comma: quoted in runs.csv (RFC 4180), so a rerun finds every run done.
  write(dir / "comma.toml",
        base + "widths = [4]\nseeds = 2\ndatasets = [\"file:a,b.csv\", \"synthetic:3x6\"]\nout = \"c\"\n");
  ProgramRun r = cli(dir, {"sweep", "--config", "comma.toml", "--no-plots"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto records = gradflow::read_runs((dir / "c" / "runs.csv").string());
  CHECK(records.size() == 4);
  CHECK_THAT(read_text(dir / "c" / "runs.csv"), Catch::Contains(",\"file:a,b.csv\","));
  CHECK_THAT(read_text(dir / "c" / "summary.csv"), Catch::Contains("\"file:a,b.csv\","));
  r = cli(dir, {"sweep", "--config", "comma.toml", "--no-plots"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("4 already done, 0 to run"));
}

TEST_CASE("A rerun with other settings into the same folder is refused with the first difference unless --overwrite",
          "[safety][sweep]") {
  const fs::path dir = sandbox("manifest");
  write(dir / "a.toml", sweep_file("r"));
  ProgramRun r = cli(dir, {"sweep", "--config", "a.toml", "--quiet", "--no-plots"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string manifest = read_text(dir / "r" / "sweep.toml");
  CHECK_THAT(manifest, Catch::Contains("# settings-hash = ") && Catch::Contains("# setting eps = 0.01"));
  const std::string runs = read_text(dir / "r" / "runs.csv");
  // The manifest is a sweep file: it reads back as the same sweep.
  CHECK(gradflow::manifest_text(gradflow::cli::parse_sweep_text(manifest, "m")) == manifest);
  for (const auto& [change, expected] :
       std::vector<std::pair<std::string, std::string>>{{"eps = 1e-3\n", "eps was 0.01, now 0.001"},
                                                        {"max-steps = 300\n", "max-steps was 200, now 300"},
                                                        {"lr = 0.5\n", "lr was 1, now 0.5"},
                                                        {"teacher = true\n", "teacher was false, now true"}}) {
    std::string text = sweep_file("r");
    if (change.rfind("eps", 0) == 0) text = std::regex_replace(text, std::regex("eps = 1e-2\n"), "");
    if (change.rfind("max-steps", 0) == 0) text = std::regex_replace(text, std::regex("max-steps = 200\n"), "");
    write(dir / "b.toml", text + change);
    r = cli(dir, {"sweep", "--config", "b.toml", "--quiet", "--no-plots"});
    INFO(change << " -> " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains(expected) && Catch::Contains("--overwrite"));
    CHECK(read_text(dir / "r" / "runs.csv") == runs);
    CHECK(read_text(dir / "r" / "sweep.toml") == manifest);
  }
  // The same settings with a larger grid reuse the runs already done.
  write(dir / "c.toml", std::regex_replace(sweep_file("r"), std::regex("seeds = 2"), "seeds = 3"));
  r = cli(dir, {"sweep", "--config", "c.toml", "--no-plots"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("6 runs in the grid, 4 already done, 2 to run"));
  // --overwrite discards the old results and runs everything with the new settings.
  write(dir / "d.toml", sweep_file("r") + "lr = 0.5\n");
  r = cli(dir, {"sweep", "--config", "d.toml", "--no-plots", "--overwrite"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("4 runs in the grid, 0 already done, 4 to run"));
  CHECK_THAT(read_text(dir / "r" / "sweep.toml"), Catch::Contains("# setting lr = 0.5"));
  // A data file whose content changed is a changed setting too.
  write(dir / "data.csv", "1,2,3\n4,5,7\n");
  write(dir / "e.toml",
        "datasets = [\"file:data.csv\"]\ninits = [\"xavier_normal\"]\nwidths = [4]\nseeds = 1\n"
        "max-steps = 50\nout = \"f\"\n");
  REQUIRE(cli(dir, {"sweep", "--config", "e.toml", "--quiet", "--no-plots"}).exit_code == 0);
  write(dir / "data.csv", "1,2,3\n4,5,8\n");
  r = cli(dir, {"sweep", "--config", "e.toml", "--quiet", "--no-plots"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("file:data.csv: the file's content changed"));
  // A folder with results but no manifest is not taken over either.
  fs::create_directories(dir / "g");
  write(dir / "g" / "runs.csv", "someone else's table\n");
  write(dir / "h.toml", sweep_file("g"));
  r = cli(dir, {"sweep", "--config", "h.toml", "--quiet", "--no-plots"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("holds runs.csv but no sweep.toml"));
  CHECK(read_text(dir / "g" / "runs.csv") == "someone else's table\n");
}

TEST_CASE("Symbolic links planted in a sweep's folder are refused, never followed to a file elsewhere",
          "[safety][sweep]") {
  const fs::path dir = sandbox("planted_links");
  write(dir / "precious.txt", "precious data\n");
  write(dir / "a.toml", sweep_file("r"));
  // The lock file as a link: refused before anything runs; the target is not truncated.
  fs::create_directories(dir / "r");
  fs::create_symlink(dir / "precious.txt", dir / "r" / "gradflow.lock");
  ProgramRun r = cli(dir, {"sweep", "--config", "a.toml", "--quiet", "--no-plots"});
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("symbolic link"));
  CHECK(read_text(dir / "precious.txt") == "precious data\n");
  // runs.csv replaced by a link after a finished sweep: the rerun refuses it; the target is unchanged.
  fs::remove(dir / "r" / "gradflow.lock");
  r = cli(dir, {"sweep", "--config", "a.toml", "--quiet", "--no-plots"});
  REQUIRE(r.exit_code == 0);
  fs::remove(dir / "r" / "runs.csv");
  fs::create_symlink(dir / "precious.txt", dir / "r" / "runs.csv");
  r = cli(dir, {"sweep", "--config", "a.toml", "--quiet", "--no-plots"});
  INFO(r.err);
  CHECK(r.exit_code != 0);
  CHECK(read_text(dir / "precious.txt") == "precious data\n");
  CHECK(fs::is_symlink(dir / "r" / "runs.csv"));
}

TEST_CASE("A figure cut short (a full disk under gnuplot) is told from a whole one", "[safety]") {
  const fs::path dir = sandbox("figures");
  const std::string png_head("\x89PNG\r\n\x1a\n", 8);
  const std::string iend("\x00\x00\x00\x00IEND\xae\x42\x60\x82", 12);
  write(dir / "whole.png.part", png_head + std::string(100, 'x') + iend);
  write(dir / "cut.png.part", png_head + std::string(100, 'x') + iend.substr(0, 7));
  write(dir / "empty.png", "");
  write(dir / "whole.svg", "<svg xmlns='http://www.w3.org/2000/svg'>\n<path d='M0 0'/>\n</svg>\n\n");
  write(dir / "cut.svg.part", "<svg xmlns='http://www.w3.org/2000/svg'>\n<path d='M0 0 L1");
  CHECK(gradflow::figure_is_whole((dir / "whole.png.part").string()));
  CHECK_FALSE(gradflow::figure_is_whole((dir / "cut.png.part").string()));
  CHECK_FALSE(gradflow::figure_is_whole((dir / "empty.png").string()));
  CHECK(gradflow::figure_is_whole((dir / "whole.svg").string()));
  CHECK_FALSE(gradflow::figure_is_whole((dir / "cut.svg.part").string()));
  CHECK_FALSE(gradflow::figure_is_whole((dir / "missing.svg").string()));
}

TEST_CASE("A second sweep into a folder in use exits 2 at once saying so", "[safety][sweep]") {
  const fs::path dir = sandbox("lock");
  write(dir / "a.toml", sweep_file("r"));
  {
    // Held by this process: the sweep must not wait for it.
    fs::create_directories(dir / "r");
    const gradflow::FolderLock lock((dir / "r").string(), "--out");
    const auto started = std::chrono::steady_clock::now();
    const ProgramRun r = cli(dir, {"sweep", "--config", "a.toml", "--quiet", "--no-plots"});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("the folder is in use by another gradflow run (process " +
                                      std::to_string(::getpid()) + ")"));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(60));
    CHECK_FALSE(fs::exists(dir / "r" / "runs.csv"));
  }
  // Two real sweeps started together: one does the runs, the other exits 2; the results are whole.
  write(dir / "slow.toml",
        "inits = [\"positive\", \"xavier_normal\"]\nwidths = [8]\nseeds = 6\nmethods = [\"armijo\"]\n"
        "datasets = [\"synthetic:6x12\"]\neps = 1e-6\nmax-steps = 3000\nout = \"two\"\n");
  const auto start = [&]() {
    const pid_t child = ::fork();
    if (child == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::chdir(dir.c_str());
      ::execl(GRADFLOW_CLI, GRADFLOW_CLI, "sweep", "--config", "slow.toml", "--no-plots", "--threads", "1",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return child;
  };
  const pid_t first = start();
  const pid_t second = start();
  int status_first = 0, status_second = 0;
  ::waitpid(first, &status_first, 0);
  ::waitpid(second, &status_second, 0);
  REQUIRE(WIFEXITED(status_first));
  REQUIRE(WIFEXITED(status_second));
  const std::multiset<int> codes{WEXITSTATUS(status_first), WEXITSTATUS(status_second)};
  // Either one was refused while the other ran, or (on a slow start) the second found the runs done.
  CHECK((codes == std::multiset<int>{0, 2} || codes == std::multiset<int>{0, 0}));
  CHECK(gradflow::read_runs((dir / "two" / "runs.csv").string()).size() == 12);
}

TEST_CASE("The sorted runs.csv is rebuilt from what is on disk, rank files left by a killed run included",
          "[safety][sweep]") {
  const fs::path dir = sandbox("from_disk");
  write(dir / "a.toml", sweep_file("r"));
  REQUIRE(cli(dir, {"sweep", "--config", "a.toml", "--quiet", "--no-plots"}).exit_code == 0);
  auto records = gradflow::read_runs((dir / "r" / "runs.csv").string());
  REQUIRE(records.size() == 4);
  // A run of a seed outside this grid, left in a rank file by an earlier (killed) MPI run with the same
  // settings: it was on disk, so it stays in the rewritten table.
  gradflow::RunRecord extra = records[0];
  extra.run.seed = 9;
  write(dir / "r" / "runs.rank1.csv", gradflow::runs_csv_header() + "\n" + gradflow::to_csv_line(extra) + "\n");
  const ProgramRun r = cli(dir, {"sweep", "--config", "a.toml", "--quiet", "--no-plots"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  records = gradflow::read_runs((dir / "r" / "runs.csv").string());
  CHECK(records.size() == 5);
  CHECK(std::any_of(records.begin(), records.end(), [](const auto& x) { return x.run.seed == 9; }));
  CHECK_FALSE(fs::exists(dir / "r" / "runs.rank1.csv"));
}

TEST_CASE("CSV fields with commas, quotes and line breaks round-trip through RFC 4180 quoting", "[safety]") {
  for (const std::string& text : {std::string("plain"), std::string("a,b"), std::string("say \"hi\""), std::string(""),
                                  std::string("x\ny"), std::string(",\"\",")}) {
    const std::string line = gradflow::csv_field(text) + ",2," + gradflow::csv_field(text);
    if (text.find('\n') != std::string::npos) continue;  // a line break cannot be in one line
    const auto fields = gradflow::split_csv_line(line);
    REQUIRE(fields);
    CHECK(*fields == std::vector<std::string>{text, "2", text});
  }
  CHECK(gradflow::csv_field("a,b") == "\"a,b\"");
  CHECK_FALSE(gradflow::split_csv_line("\"open,2"));
  CHECK_FALSE(gradflow::split_csv_line("\"a\"b,2"));
  CHECK(gradflow::split_csv_line("a,") == std::vector<std::string>{"a", ""});
}

// ---------------------------------------------------------------------------------------------------
// 4. Sizes are checked before they are allocated.

TEST_CASE("Sizes past the memory limit are exit 2 with the estimate, the limit and the option that reduces them",
          "[safety]") {
  const fs::path dir = sandbox("memory");
  const std::string layers = [] {
    std::string w = "4";
    for (int i = 1; i < 20000; ++i) w += ",4";
    return w;
  }();
  for (const auto& [args, option] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"flow", "--dim", "60000"}, "--dim 60000"},
           {{"flow", "--problem", "mlp", "--synthetic", "4294967296,4294967296"}, "--synthetic 4294967296,4294967296"},
           {{"flow", "--problem", "mlp", "--synthetic", "4,8", "--widths", "100000,100000"}, "--widths 100000,100000"},
           {{"flow", "--problem", "mlp", "--synthetic", "4,8", "--widths", layers, "--max-memory", "1G"}, "--widths"},
           {{"flow", "--dim", "2000", "--max-memory", "16M"}, "--dim 2000"},
           {{"flow", "--problem", "karimi", "--dim", "100000", "--solver", "cvode-bdf"}, "--solver cvode-bdf"},
           {{"compare-inits", "--seeds", "10000000", "--out", "r", "--max-memory", "64M"}, "the grid"},
           {{"probability", "--problem", "mlp", "--synthetic", "4,8", "--draws", "1000", "--max-memory", "64K"},
            "--widths"}}) {
    std::vector<std::string> argv = args;
    argv.push_back("--quiet");
    const ProgramRun r = cli(dir, argv);
    INFO(Catch::Detail::stringify(args).substr(0, 200) << " -> " << r.err.substr(0, 400));
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains(option) && Catch::Contains("of memory") && Catch::Contains("the limit of") &&
                          Catch::Contains("--max-memory"));
  }
  CHECK(names_in(dir).empty());
  // The certificate's bound of a deep network is refused past 64 hidden layers (it could take hours).
  const std::string deep = [] {
    std::string w = "2";
    for (int i = 1; i < 150; ++i) w += ",2";
    return w;
  }();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"certify", "--problem", "mlp", "--synthetic", "3,6", "--widths", deep},
        std::vector<std::string>{"flow", "--problem", "mlp", "--synthetic", "3,6", "--certify", "--widths", deep},
        std::vector<std::string>{"probability", "--problem", "mlp", "--synthetic", "3,6", "--widths", deep}}) {
    const ProgramRun r = cli(dir, args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("150 hidden layers") && Catch::Contains("at most 64 hidden layers"));
  }
  const ProgramRun r = cli(dir, {"flow", "--dim", "5", "--max-memory", "lots"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--max-memory lots: must be a size"));
  // The same run passes under a limit that holds it.
  CHECK(cli(dir, {"flow", "--dim", "50", "--t-end", "0.1", "--max-memory", "256M", "--quiet"}).exit_code == 0);
}

TEST_CASE("Size arithmetic detects overflow and sizes parse with their units", "[safety]") {
  CHECK(gradflow::checked_mul(4294967296ULL, 4294967296ULL) == std::nullopt);
  CHECK(gradflow::checked_mul(4294967296ULL, 4294967295ULL) == 18446744069414584320ULL);
  gradflow::SizeEstimate e;
  e.add({4294967296LL, 4294967296LL, 8});
  CHECK(e.overflowed());
  CHECK(e.bytes() == UINT64_MAX);
  gradflow::SizeEstimate f;
  f.add({1000, 1000, 8}).add({-5, 3});
  CHECK(f.bytes() == 8000000);
  CHECK(gradflow::parse_memory_size("8G") == 8ULL << 30);
  CHECK(gradflow::parse_memory_size("512m") == 512ULL << 20);
  CHECK(gradflow::parse_memory_size("1.5GiB") == 3ULL << 29);
  CHECK(gradflow::parse_memory_size("4096") == 4096ULL);
  for (const char* bad : {"", "0", "-1G", "8X", "G", "1e3", "99999999999T", "nan"})
    CHECK_FALSE(gradflow::parse_memory_size(bad));
  CHECK(gradflow::format_bytes(3ULL << 30) == "3.00 GiB");
  CHECK(gradflow::default_memory_limit().bytes <= gradflow::physical_memory_bytes());
}

TEST_CASE("Running out of memory below the estimate's limit is exit 3 with one line, never a crash", "[safety]") {
  if (kSanitized) {
    WARN("AddressSanitizer needs unlimited address space: the RLIMIT_AS run is not tested in this build");
    return;
  }
  const fs::path dir = sandbox("out_of_memory");
  // 600 MB of address space, a 4000 x 4000 quadratic (the estimate is 1 GB, under --max-memory 100G).
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const rlimit limit{600UL << 20, 600UL << 20};
    ::setrlimit(RLIMIT_AS, &limit);
    const int err = ::open((dir / "err.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(err, 2);
    ::execl(GRADFLOW_CLI, GRADFLOW_CLI, "flow", "--dim", "4000", "--max-memory", "100G", "--quiet", "--out",
            (dir / "o.csv").c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  const std::string err = read_text(dir / "err.txt");
  INFO(err);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 3);
  CHECK(count_lines(err) == 1);
  CHECK_THAT(err, Catch::Contains("out of memory while loading the problem"));
  CHECK_FALSE(fs::exists(dir / "o.csv"));
}

namespace {
// The peak resident memory of a running process (VmHWM of /proc/PID/status), in kB; -1 when unknown.
long peak_resident_kb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}
}  // namespace

TEST_CASE("A 1e9-step Euler run and a 1e12-iteration descent keep bounded memory under a 1 GB address-space limit",
          "[safety]") {
  if (kSanitized) {
    WARN("AddressSanitizer needs unlimited address space: the RLIMIT_AS run is not tested in this build");
    return;
  }
  const fs::path dir = sandbox("bounded_rows");
  // Every step is a row the run goes through (rows every --save-every reach --out). Kept in memory, the rows of a few
  // seconds (millions of steps) would take hundreds of MB and soon pass the 1 GB limit (exit 3); streamed, the memory
  // stays what it was after the first second. The runs would take minutes to finish: each is watched
  // for 4 seconds, then ended by SIGTERM, which must leave no temporary file behind.
  const std::vector<std::vector<std::string>> runs = {
      {"flow",
       "--problem",
       "quadratic",
       "--dim",
       "2",
       "--solver",
       "euler",
       "--dt",
       "1e-6",
       "--t-end",
       "1000",
       "--max-steps",
       "1000000000",
       "--quiet",
       "--json",
       (dir / "flow.json").string(),
       "--out",
       (dir / "rows.csv").string(),
       "--save-every",
       "0.5"},
      {"descend", "--problem", "quadratic", "--dim", "2", "--max-iters", "1000000000000", "--lr", "1e-9", "--quiet",
       "--json", (dir / "descend.json").string(), "--out", (dir / "rows.csv").string(), "--save-every", "1000000"}};
  for (const auto& args : runs) {
    INFO(args[0]);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      const rlimit limit{1UL << 30, 1UL << 30};
      ::setrlimit(RLIMIT_AS, &limit);
      const int err = ::open((dir / "err.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(err, 2);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(GRADFLOW_CLI));
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(GRADFLOW_CLI, argv.data());
      ::_exit(127);
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const long after_one = peak_resident_kb(child);
    std::this_thread::sleep_for(std::chrono::seconds(3));
    const long after_four = peak_resident_kb(child);
    int status = 0;
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    INFO("stderr: " << read_text(dir / "err.txt"));
    CHECK(done == 0);  // still running: neither refused up front nor out of memory
    if (done == 0) {
      ::kill(child, SIGTERM);
      ::waitpid(child, &status, 0);
      CHECK(WIFSIGNALED(status));
    }
    INFO("peak resident memory after 1 s: " << after_one << " kB, after 4 s: " << after_four << " kB");
    REQUIRE(after_one > 0);
    CHECK(after_four - after_one < 8 * 1024);
  }
  for (const auto& entry : fs::directory_iterator(dir))
    CHECK(entry.path().filename() == "err.txt");  // no summary, no temporary: the runs were ended
}

// ---------------------------------------------------------------------------------------------------
// 5. No crash, whatever the thread count.

TEST_CASE("Thread counts above 4x the cores are capped with a warning", "[safety]") {
  const gradflow::ThreadPlan capped = gradflow::plan_threads(1000, 100000, 1, 2);
  CHECK(capped.threads == 8);
  CHECK_THAT(capped.warning, Catch::Contains("--threads 1000") && Catch::Contains("using 8"));
  CHECK(gradflow::plan_threads(0, 100, 1, 6).threads == 6);
  CHECK(gradflow::plan_threads(0, 100, 4, 6).threads == 1);
  CHECK(gradflow::plan_threads(5, 3, 1, 8).threads == 3);
  CHECK(gradflow::plan_threads(3, 100, 1, 8).warning.empty());
}

TEST_CASE(
    "A pool whose threads cannot all be created goes on with the ones it has, and an item's exception reaches the "
    "caller",
    "[safety]") {
  std::atomic<int> created{0};
  const gradflow::ThreadStarter failing_after_two = [&](std::function<void()> body) {
    if (created.fetch_add(1) >= 2)
      throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
    return std::thread(std::move(body));
  };
  std::atomic<long> done{0};
  const auto item = [&](long) { ++done; };
  std::string warned;
  {
    gradflow::ThreadPool pool(failing_after_two);
    const gradflow::PoolOutcome outcome = pool.run(16, 1000, item, [&](const std::string& w) { warned = w; });
    CHECK(outcome.threads == 3);
    CHECK(done.load() == 1000);
    CHECK_THAT(warned, Catch::Contains("could create only 3 of 16 threads") && Catch::Contains("going on with 3"));
    // The refusal is remembered: a later job goes on with the same threads, without trying again.
    CHECK(pool.prepare(8) == 3);
  }
  // No thread at all: the calling thread does the work.
  {
    created = 100;
    done = 0;
    gradflow::ThreadPool pool(failing_after_two);
    CHECK(pool.run(4, 1000, item).threads == 1);
    CHECK(done.load() == 1000);
  }
  // An exception (bad_alloc included) in an item is rethrown here; the items not yet started are skipped.
  gradflow::ThreadPool pool;
  CHECK_THROWS_AS(pool.run(4, 100, [](long) { throw std::bad_alloc(); }), std::bad_alloc);
  std::atomic<int> started{0};
  CHECK_THROWS_WITH(pool.run(4, 1000000,
                             [&](long i) {
                               ++started;
                               if (i == 0) throw std::runtime_error("one item");
                             }),
                    "one item");
  CHECK(started.load() < 1000000);
  // The pool is usable again after a failed job, with the same results.
  done = 0;
  CHECK(pool.run(4, 1000, item).threads == 4);
  CHECK(done.load() == 1000);
}

TEST_CASE("A pool's first job, and every later one, runs on several threads at once", "[safety]") {
  // Each item waits until another item has started (up to 10 s): a pool that ran its items one after the
  // other, on the calling thread alone, would wait out every item and see one thread.
  for (int job = 0; job < 3; ++job) {
    gradflow::ThreadPool pool;
    for (int again = 0; again < 2; ++again) {
      std::atomic<int> started{0};
      std::mutex mutex;
      std::set<std::thread::id> threads;
      pool.run(2, 4, [&](long) {
        ++started;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (started.load() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
        const std::lock_guard<std::mutex> lock(mutex);
        threads.insert(std::this_thread::get_id());
      });
      CHECK(threads.size() == 2);
    }
  }
}

TEST_CASE("A thread count of 1000 on flow, descend, probability, sweep and compare-inits is capped and the runs finish",
          "[safety]") {
  const fs::path dir = sandbox("threads");
  ProgramRun r = cli(dir, {"probability", "--problem", "mlp", "--synthetic", "3,6", "--widths", "4", "--draws", "20",
                           "--steps", "20", "--threads", "1000"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("--threads 1000 is more than 4 x the"));
  write(dir / "s.toml", sweep_file("r"));
  r = cli(dir, {"sweep", "--config", "s.toml", "--threads", "1000", "--no-plots"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("--threads 1000 is more than 4 x the"));
  for (const char* command : {"flow", "descend"}) {
    r = cli(dir,
            {command, "--problem", "mlp", "--synthetic", "3,6", "--widths", "4", "--threads", "1000", "--json", "-"});
    INFO(command << ": " << r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.err,
               Catch::Contains("gradflow " + std::string(command) + ": warning: --threads 1000 is more than 4 x"));
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    CHECK_THAT(r.out, Catch::Contains("\"threads\": " + std::to_string(4 * cores)));
  }
  r = cli(dir, {"compare-inits", "--widths", "4", "--seeds", "2", "--synthetic", "3x6", "--max-steps", "100", "--eps",
                "1e-2", "--threads", "1000", "--out", "c", "--no-plots"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("--threads 1000"));
}

TEST_CASE("Under a limit on processes the commands go on with the threads they get", "[safety]") {
  // RLIMIT_NPROC counts the threads of the user; root is exempt, so the child runs as nobody (65534).
  const fs::path dir = sandbox("nproc");
  const auto run_limited = [&](std::vector<std::string> args) {
    const pid_t child = ::fork();
    if (child == 0) {
      const int err = ::open((dir / "err.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(err, 2);
      if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(126);
      const rlimit limit{3, 3};
      ::setrlimit(RLIMIT_NPROC, &limit);
      args.insert(args.begin(), GRADFLOW_CLI);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(GRADFLOW_CLI, argv.data());
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return status;
  };
  const int status = run_limited({"probability", "--problem", "mlp", "--synthetic", "3,6", "--widths", "4", "--draws",
                                  "40", "--steps", "20", "--threads", "8"});
  const std::string err = read_text(dir / "err.txt");
  INFO(err);
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127) {
    WARN("could not start the command as another user: the thread limit is not tested");
    return;
  }
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(err, Catch::Contains("could create only"));
  CHECK(err.find("terminate") == std::string::npos);
  // The network's own threads (flow and descend --threads) go on the same way.
  for (const char* command : {"flow", "descend"}) {
    const int code =
        run_limited({command, "--problem", "mlp", "--synthetic", "3,6", "--widths", "4", "--threads", "8"});
    const std::string text = read_text(dir / "err.txt");
    INFO(command << ": " << text);
    REQUIRE(WIFEXITED(code));
    CHECK(WEXITSTATUS(code) == 0);
    CHECK_THAT(text, Catch::Contains("gradflow " + std::string(command) + ": warning: could create only"));
    CHECK(text.find("Resource temporarily unavailable") == std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------------------
// 7. Input parsing says what it read.

TEST_CASE("CSV files: a byte-order mark is skipped, a header is text, an out-of-range number is an error", "[safety]") {
  const auto parse = [](const std::string& text, bool header) {
    return gradflow::parse_csv(text, "f.csv", "--data", header);
  };
  const gradflow::CsvTable plain = parse("1,2\n3,4\n", true);
  const gradflow::CsvTable bom = parse(
      "\xEF\xBB\xBF"
      "1,2\n3,4\n",
      true);
  CHECK(bom.values.rows() == 2);
  CHECK(bom.values == plain.values);
  CHECK(bom.header.empty());
  const gradflow::CsvTable named = parse("\xEF\xBB\xBFx,y\n3,4\n", true);
  CHECK(named.header == std::vector<std::string>{"x", "y"});
  CHECK(parse("x,1\n3,4\n", true).values.rows() == 1);  // one field is text: a header
  CHECK_THROWS_WITH(parse("1e400,1,3\n1,2,3\n", true),
                    Catch::Contains("--data f.csv: line 1, column 1: 1e400 is out of the range of a double"));
  CHECK_THROWS_WITH(parse("1,2\n3,-1e999\n", false), Catch::Contains("line 2, column 2"));
  CHECK_THROWS_WITH(parse("1,2\nx,y\n", true), Catch::Contains("line 2, column 1: 'x' is not a number"));
  CHECK_THROWS_WITH(parse("x,y\n", true), Catch::Contains("a header but no numeric rows"));
  CHECK_THROWS_WITH(parse("x,y,z\n1,2\n", true), Catch::Contains("line 2 has 2 values, expected 3"));
  const fs::path dir = sandbox("csv");
  write(dir / "d.csv", "1e400,1,3\n1,2,3\n4,5,6\n");
  const ProgramRun r = cli(dir, {"flow", "--problem", "least-squares", "--data", "d.csv", "--quiet"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--data d.csv: line 1, column 1: 1e400 is out of the range of a double"));
}

TEST_CASE("Seeds outside [0, 2^64 - 1] and empty list items are refused, not clamped or dropped", "[safety]") {
  const fs::path dir = sandbox("seeds_lists");
  for (const auto& [args, expected] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"flow", "--seed", "-1"}, "--seed: '-1': a seed must be an integer in [0, 18446744073709551615]"},
           {{"flow", "--seed", "18446744073709551616"}, "a seed must be at most 18446744073709551615"},
           {{"flow", "--seed", "1.5"}, "'1.5'"},
           {{"flow", "--seed", "0x10"}, "'0x10'"},
           {{"flow", "--problem", "mlp", "--synthetic", "3,6", "--init-seed", "-5"}, "--init-seed: '-5'"},
           {{"flow", "--times", "1,,2"}, "--times 1,,2: an empty item in the list"},
           {{"flow", "--times", "1,2,"}, "--times 1,2,: an empty item"},
           {{"flow", "--problem", "mlp", "--synthetic", "3,6", "--widths", "1,,2"}, "--widths 1,,2: an empty item"},
           {{"flow", "--problem", "mlp", "--synthetic", "3,6", "--widths", ",4"}, "--widths ,4: an empty item"},
           {{"flow", "--problem", "mlp", "--synthetic", "3,6,"}, "--synthetic 3,6,: an empty item"},
           {{"flow", "--problem", "mlp", "--synthetic", "8,16abc"},
            "--synthetic 8,16abc: the item '16abc': a size is not an integer"},
           {{"flow", "--problem", "mlp", "--synthetic", "8,16,3"}, "expected n,d (two sizes)"}}) {
    std::vector<std::string> argv = args;
    argv.push_back("--quiet");
    const ProgramRun r = cli(dir, argv);
    INFO(Catch::Detail::stringify(args) << " -> " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains(expected));
  }
  // The largest seed is a seed; a config file's seed is checked the same way.
  CHECK(cli(dir, {"flow", "--dim", "3", "--t-end", "0.1", "--seed", "18446744073709551615", "--quiet"}).exit_code == 0);
  write(dir / "c.toml", "seed = -1\n");
  const ProgramRun r = cli(dir, {"flow", "--config", "c.toml", "--quiet"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--config c.toml: line 1: key 'seed'"));
}

TEST_CASE("Error messages quote at most 60 bytes of the offending text with control bytes and bad UTF-8 escaped",
          "[safety]") {
  CHECK(gradflow::quote_text("plain") == "plain");
  CHECK(gradflow::quote_text(std::string("a\0b\x01\n", 5)) == "a\\x00b\\x01\\n");
  CHECK(gradflow::quote_text("caf\xC3\xA9") == "caf\xC3\xA9");       // valid UTF-8 stays
  CHECK(gradflow::quote_text("bad\xC3(") == "bad\\xc3(");            // a broken sequence is escaped
  CHECK(gradflow::quote_text("\xED\xA0\x80") == "\\xed\\xa0\\x80");  // a surrogate is not a character
  const std::string big(2 << 20, 'z');
  const std::string quoted = gradflow::quote_text(big);
  CHECK(quoted.size() < 100);
  CHECK_THAT(quoted, Catch::Contains("[...2097152 bytes...]"));
  // Through the command line: a 2 MB field and a field with control bytes give one short line.
  const fs::path dir = sandbox("messages");
  write(dir / "big.csv", "1,2\n" + std::string(2 << 20, '7') + "x,1\n");
  write(dir / "ctl.csv", "1,2\n3,a\x01\x1b[31mred\n");
  ProgramRun r = cli(dir, {"flow", "--problem", "least-squares", "--data", "big.csv", "--quiet"});
  CHECK(r.exit_code == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.size() < 400);
  r = cli(dir, {"flow", "--problem", "least-squares", "--data", "ctl.csv", "--quiet"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("'a\\x01\\x1b[31mred' is not a number"));
  r = cli(dir, {"flow", "--problem", std::string("x\n\x1b[2Jy"), "--quiet"});
  CHECK(r.exit_code == 2);
  CHECK(count_lines(r.err) == 1);
}

TEST_CASE("Config files: what is not the TOML subset is an error naming the line, and long arrays parse whole",
          "[safety]") {
  const auto parse = [](const std::string& text) { return gradflow::cli::parse_config(text, "--config", "c.toml"); };
  const auto entries = parse(
      "# comment\n[flow]\ntimes = [\n 1, # one\n 2,\n]\nout = \"a \\\"q\\\" \\u00e9\"\n"
      "lit = 'x\\y'\n");
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].section == "flow");
  CHECK(entries[0].values == std::vector<std::string>{"1", "2"});
  CHECK(entries[0].is_array);
  CHECK(entries[1].values == std::vector<std::string>{"a \"q\" \xC3\xA9"});
  CHECK(entries[2].values == std::vector<std::string>{"x\\y"});
  CHECK(parse("\xEF\xBB\xBF"
              "a = 1\n")
            .size() == 1);
  for (const auto& [text, expected] : std::vector<std::pair<std::string, std::string>>{
           {"a\n", "line 1: expected '=' after the key 'a'"},
           {"a = [1, [2]]\n", "line 1: nested arrays are not supported"},
           {"a = {b = 1}\n", "inline tables"},
           {"a = 1\na = 2\n", "line 2: the key 'a' is given twice"},
           {"a = \"open\n", "a string without its closing quote"},
           {"a = [1,\n2\n", "line 1: the array opened here has no closing ']'"},
           {"a = 1 2\n", "unexpected text '2' after the value"},
           {"a = \"\x01\"\n", "a control byte in a string"},
           {"a = \"\\q\"\n", "an unknown escape"},
           {"[[t]]\n", "arrays of tables"},
           {"a = \"\"\"x\"\"\"\n", "multi-line strings"}}) {
    INFO(text);
    CHECK_THROWS_WITH(parse(text), Catch::StartsWith("--config c.toml: line ") && Catch::Contains(expected));
  }
  // A million-item array parses whole (the reader is linear: docs/explanation/safety.md).
  std::string big = "times = [";
  for (int i = 0; i < 1000000; ++i) big += std::to_string(i % 97) + ", ";
  big += "]\n";
  const auto one = parse(big);
  REQUIRE(one.size() == 1);
  CHECK(one[0].values.size() == 1000000);
  CHECK(one[0].values.back() == std::to_string(999999 % 97));
}

TEST_CASE("An input option given an empty value is refused naming the option, on the command line or in a config",
          "[safety]") {
  const fs::path dir = sandbox("empty_inputs");
  for (const char* option : {"--matrix", "--minimizer", "--theta0", "--config", "--data"}) {
    for (const char* command : {"flow", "descend", "certify"}) {
      const ProgramRun r = cli(dir, {command, "--quiet", option, ""});
      INFO(command << " " << option << " -> " << r.err);
      CHECK(r.exit_code == 2);
      CHECK(count_lines(r.err) == 1);
      CHECK_THAT(r.err, Catch::Contains(std::string(option) + ": an empty path"));
    }
  }
  ProgramRun r = cli(dir, {"flow", "--dim", "3", "--quiet", "--max-memory", ""});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--max-memory: an empty size"));
  r = cli(dir, {"probability", "--problem", "mlp", "--data", ""});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--data: an empty path"));
  r = cli(dir, {"sweep", "--config", ""});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--config: an empty path"));
  r = cli(dir, {"sweep", "--config", "s.toml", "--max-memory", ""});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--max-memory: an empty size"));
  for (const char* key : {"data", "theta0", "matrix"}) {
    write(dir / "c.toml", std::string(key) + " = \"\"\n");
    r = cli(dir, {"flow", "--config", "c.toml", "--quiet"});
    INFO(key << " -> " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--" + std::string(key) + ": an empty path"));
  }
  CHECK(names_in(dir) == std::vector<std::string>{"c.toml"});
}

TEST_CASE("An input that is not a regular file (a device, a fifo, a folder) is refused before it is opened",
          "[safety]") {
  const fs::path dir = sandbox("input_kinds");
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0644) == 0);  // no writer: opening it would block for ever
  fs::create_symlink("/dev/zero", dir / "zero");         // endless: reading it would fill memory
  fs::create_directory(dir / "folder");
  for (const char* input : {"fifo", "zero", "folder"}) {
    for (const char* option : {"--matrix", "--minimizer", "--theta0", "--config", "--data"}) {
      const ProgramRun r = cli(dir, {"flow", "--quiet", option, input});
      INFO(option << " " << input << " -> " << r.err);
      CHECK(r.exit_code == 2);
      CHECK(count_lines(r.err) == 1);
      CHECK_THAT(r.err, Catch::Contains(std::string(option) + " " + input + ": is not a regular file"));
    }
    ProgramRun r = cli(dir, {"probability", "--problem", "mlp", "--data", input});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("is not a regular file"));
    r = cli(dir, {"sweep", "--config", input});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--config " + std::string(input) + ": is not a regular file"));
    write(dir / "s.toml",
          "inits = [\"positive\"]\nwidths = [4]\nseeds = 1\nmethods = [\"armijo\"]\n"
          "datasets = [\"file:" +
              std::string(input) + "\"]\nout = \"out\"\n");
    r = cli(dir, {"sweep", "--config", "s.toml", "--quiet"});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("is not a regular file"));
    write(dir / "c.toml", "data = \"" + std::string(input) + "\"\n");
    r = cli(dir, {"flow", "--config", "c.toml", "--quiet"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--data " + std::string(input) + ": is not a regular file"));
  }
  CHECK_FALSE(fs::exists(dir / "out"));
  CHECK_THROWS_WITH(gradflow::check_input_file("--data", (dir / "fifo").string()),
                    Catch::Contains("is not a regular file (it is a fifo)"));
}

TEST_CASE("A key given twice in a config or sweep file, in any spelling or section, is refused with both lines",
          "[safety]") {
  const fs::path dir = sandbox("repeated_keys");
  for (const auto& [text, expected] : std::vector<std::pair<std::string, std::string>>{
           {"t-end = 5\nt_end = 6\n", "line 2: the key 't_end' is given twice (also line 1)"},
           {"dim = 5\n[flow]\ndim = 6\n", "line 3: the key 'dim' is given twice (also line 1)"},
           {"[flow]\ndim = 5\n[flow]\nquiet = true\n", "line 3: the section [flow] is given twice (also line 1)"},
           {"dim = 5\ndim = 5\n", "line 2: the key 'dim' is given twice (also line 1)"}}) {
    write(dir / "c.toml", text);
    const ProgramRun r = cli(dir, {"flow", "--config", "c.toml", "--quiet"});
    INFO(text << " -> " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains("--config c.toml: " + expected));
  }
  const std::string base = sweep_file(dir / "out");
  CHECK_THROWS_WITH(gradflow::cli::parse_sweep_text(base + "max_steps = 100\n", "s.toml"),
                    Catch::Contains("the key 'max_steps' is given twice (also line 7)"));
  CHECK_THROWS_WITH(gradflow::cli::parse_sweep_text(base + "[sweep]\neps = 1e-3\n", "s.toml"),
                    Catch::Contains("the key 'eps' is given twice (also line 6)"));
}

TEST_CASE("A config or sweep value of the wrong TOML type is refused naming the key and the type", "[safety]") {
  const fs::path dir = sandbox("toml_types");
  for (const auto& [text, expected] : std::vector<std::pair<std::string, std::string>>{
           {"dim = \"5\"\n", "line 1: key 'dim' takes an integer, not the string \"5\""},
           {"quiet = \"yes\"\n", "key 'quiet' takes true or false, not the string \"yes\""},
           {"t-end = '2'\n", "key 't-end' takes a number, not the string \"2\""}}) {
    write(dir / "c.toml", text);
    const ProgramRun r = cli(dir, {"flow", "--config", "c.toml", "--quiet"});
    INFO(text << " -> " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains(expected));
  }
  write(dir / "c.toml", "dim = 5\nquiet = true\nt-end = 2\n");  // the same values, unquoted, are fine
  CHECK(cli(dir, {"flow", "--config", "c.toml"}).exit_code == 0);
  const std::string base =
      "inits = [\"positive\"]\ndepths = [1]\nmethods = [\"armijo\"]\ndatasets = [\"synthetic:3x6\"]\n";
  for (const auto& [text, expected] : std::vector<std::pair<std::string, std::string>>{
           {"widths = [\"8\"]\n", "key 'widths' takes integers, not the string \"8\""},
           {"max-steps = \"100\"\n", "key 'max-steps' takes an integer, not the string \"100\""},
           {"seeds = [\"1\"]\n", "key 'seeds' takes integers, not the string \"1\""},
           {"eps = \"1e-3\"\n", "key 'eps' takes a number"},
           {"teacher = \"true\"\n", "key 'teacher' takes true or false"}}) {
    INFO(text);
    CHECK_THROWS_WITH(gradflow::cli::parse_sweep_text(base + text, "s.toml"), Catch::Contains("line 5: " + expected));
  }
  CHECK_NOTHROW(gradflow::cli::parse_sweep_text(base + "widths = [8]\nmax-steps = 100\nseeds = [1]\n", "s.toml"));
}
