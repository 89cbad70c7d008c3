// Output files under signals, limits and planted links (docs/explanation/safety.md): a torn or malformed runs.csv
// row is dropped with a warning and its run done again, never glued to; a file size limit is a write
// error (exit 3, the cause named, no temporary left); a reader that closes the pipe ends the run quietly
// and leaves no temporary; SIGTERM leaves no temporary however many threads are writing; a symbolic link
// planted inside a sweep's folder (curves/, plots/, a file) is refused, never followed, and nothing is
// written to its target.
#include "test_support.hpp"

#include <gradflow/apps/support/output_file.hpp>
#include <gradflow/experiments/run_record.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using gradflow::test::ProgramRun;
using gradflow::test::read_text;

namespace {

fs::path sandbox(const std::string& name) {
  const fs::path dir = fs::path(GRADFLOW_TESTS_BINARY_DIR) / "files_signals_sandbox" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const fs::path& path, const std::string& content) { std::ofstream(path, std::ios::binary) << content; }

ProgramRun cli(const fs::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), GRADFLOW_CLI);
  return gradflow::test::run_capture(args, dir.string(), dir.parent_path());
}

// Every name under dir (recursively, links not followed), relative to dir.
std::vector<std::string> tree(const fs::path& dir) {
  std::vector<std::string> names;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it)
    names.push_back(fs::relative(it->path(), dir).string());
  std::sort(names.begin(), names.end());
  return names;
}

// The temporaries (".gradflow.XXXXXX", files or folders) anywhere under dir.
std::vector<std::string> temporaries(const fs::path& dir) {
  std::vector<std::string> found;
  for (const std::string& name : tree(dir))
    if (fs::path(name).filename().string().rfind(".gradflow.", 0) == 0) found.push_back(name);
  return found;
}

// gradflow args run in dir with RLIMIT_FSIZE = file_limit bytes (as `ulimit -f` does), standard output
// and error captured.
ProgramRun run_with_file_limit(const fs::path& dir, const std::vector<std::string>& args, rlim_t file_limit) {
  const fs::path out = dir.parent_path() / (".limited.out." + std::to_string(::getpid()));
  const fs::path err = dir.parent_path() / (".limited.err." + std::to_string(::getpid()));
  std::vector<std::string> argv{GRADFLOW_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> c_argv;
  for (std::string& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, 1);
    ::dup2(e, 2);
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    ::signal(SIGXFSZ, SIG_DFL);  // as a shell leaves it: the default kills the process
    const rlimit limit{file_limit, file_limit};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    ::execv(c_argv[0], c_argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ProgramRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  run.out = read_text(out);
  run.err = read_text(err);
  fs::remove(out);
  fs::remove(err);
  return run;
}

// A small, fast sweep: 2 inits x `seeds` seeds, one width and method.
std::string sweep_file(int seeds) {
  return "inits = [\"positive\", \"xavier_normal\"]\nwidths = [4]\nseeds = " + std::to_string(seeds) +
         "\nmethods = [\"armijo\"]\ndatasets = [\"synthetic:3x6\"]\neps = 1e-2\nmax-steps = 200\nout = \"r\"\n";
}

long count_lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

}  // namespace

// ---------------------------------------------------------------------------------------------------
// runs.csv: torn and malformed rows.

TEST_CASE("A resumed sweep drops a torn or malformed runs.csv row with a warning naming it and runs it again",
          "[safety][sweep]") {
  const fs::path dir = sandbox("torn_runs");
  write(dir / "k.toml", sweep_file(3));
  ProgramRun r = cli(dir, {"sweep", "--config", "k.toml", "--quiet", "--no-plots"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const fs::path runs = dir / "r" / "runs.csv";
  REQUIRE(gradflow::read_runs(runs.string()).size() == 6);
  // The last row cut short by 40 bytes (a write cut short, then the process killed).
  fs::resize_file(runs, fs::file_size(runs) - 40);
  r = cli(dir, {"sweep", "--config", "k.toml", "--no-plots"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("runs.csv") && Catch::Contains("line 7") && Catch::Contains("cut short") &&
                        Catch::Contains("dropped"));
  CHECK_THAT(r.out, Catch::Contains("6 runs in the grid, 5 already done, 1 to run"));
  std::string content = read_text(runs);
  CHECK(content.back() == '\n');
  CHECK(count_lines(content) == 7);
  CHECK(gradflow::read_runs(runs.string()).size() == 6);
  r = cli(dir, {"sweep", "--config", "k.toml", "--no-plots"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("6 already done, 0 to run"));
  CHECK(r.err.empty());
  // A malformed row in the middle (a changed field: its key no longer matches) and a torn one at the end.
  content = read_text(runs);
  const std::size_t third = content.find('\n', content.find('\n', content.find('\n') + 1) + 1) + 1;
  content.replace(third, 4, "XXXX");
  write(runs, content.substr(0, content.size() - 10));
  r = cli(dir, {"sweep", "--config", "k.toml", "--no-plots"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("line 4") && Catch::Contains("does not parse") && Catch::Contains("line 7"));
  CHECK_THAT(r.out, Catch::Contains("6 runs in the grid, 4 already done, 2 to run"));
  CHECK(gradflow::read_runs(runs.string()).size() == 6);
  CHECK(count_lines(read_text(runs)) == 7);
  // A header cut short: the whole file is torn; every run is done again under a new header.
  write(runs, read_text(runs).substr(0, 20));
  r = cli(dir, {"sweep", "--config", "k.toml", "--no-plots"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("line 1") && Catch::Contains("cut short"));
  CHECK(gradflow::read_runs(runs.string()).size() == 6);
  CHECK(temporaries(dir).empty());
}

TEST_CASE("A sweep under a file size limit exits 3 naming the cause, leaves whole lines, and a rerun finishes",
          "[safety][sweep]") {
  const fs::path dir = sandbox("sweep_file_limit");
  write(dir / "k.toml", sweep_file(10));
  // runs.csv's header is about 400 bytes and a row about 430: the ninth or so row crosses 4096 bytes.
  ProgramRun r = run_with_file_limit(dir, {"sweep", "--config", "k.toml", "--no-plots", "--threads", "1"}, 4096);
  INFO(r.err);
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains("runs.csv") && Catch::Contains("File too large"));
  CHECK_THAT(r.err, !Catch::Contains("No such file"));
  const std::string content = read_text(dir / "r" / "runs.csv");
  REQUIRE(!content.empty());
  CHECK(content.back() == '\n');
  const long kept = count_lines(content) - 1;
  CHECK(kept > 0);
  CHECK(kept < 20);
  CHECK(static_cast<long>(gradflow::read_runs((dir / "r" / "runs.csv").string()).size()) == kept);
  CHECK(temporaries(dir).empty());
  r = cli(dir, {"sweep", "--config", "k.toml", "--no-plots"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(std::to_string(kept) + " already done, " + std::to_string(20 - kept) + " to run"));
  CHECK(gradflow::read_runs((dir / "r" / "runs.csv").string()).size() == 20);
  CHECK(temporaries(dir).empty());
}

// ---------------------------------------------------------------------------------------------------
// Signals and limits on flow's outputs.

TEST_CASE("A file size limit on flow is exit 3 naming the cause, with no output replaced and no temporary left",
          "[safety]") {
  const fs::path dir = sandbox("flow_file_limit");
  write(dir / "o.csv", "an earlier run's rows\n");
  const ProgramRun r = run_with_file_limit(
      dir, {"flow", "--dim", "50", "--t-end", "100", "--quiet", "--out", "o.csv", "--states-out", "s.csv"}, 16384);
  INFO(r.err);
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains("s.csv: cannot write the file: File too large"));
  CHECK(count_lines(r.err) == 1);
  // The states file (50 numbers a row) is the one past the limit: it is not written, and the rows file,
  // whole under the limit, does not replace the earlier one either (a run leaves all its outputs or none).
  // No temporary anywhere.
  CHECK_FALSE(fs::exists(dir / "s.csv"));
  CHECK(read_text(dir / "o.csv") == "an earlier run's rows\n");
  CHECK(temporaries(dir).empty());
}

TEST_CASE("A reader that closes the pipe ends flow quietly, and no temporary is left", "[safety]") {
  const fs::path dir = sandbox("closed_pipe");
  const fs::path err = dir.parent_path() / ".closed_pipe.err";
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    ::dup2(pipe_fds[1], 1);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(e, 2);
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    ::signal(SIGPIPE, SIG_DFL);
    // About 400 kB of rows: far more than a pipe holds, so the run is still writing when the reader goes.
    ::execl(GRADFLOW_CLI, GRADFLOW_CLI, "flow", "--dim", "50", "--t-end", "10000", "--quiet", "--out", "-",
            "--states-out", "s.csv", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  // `| head -1`: one line, then the reader goes away.
  std::string line;
  char c = 0;
  while (::read(pipe_fds[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK_THAT(line, Catch::StartsWith("t,loss,"));
  // Ended as any filter whose reader went away: by SIGPIPE (a shell shows status 141), without a word.
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGPIPE);
  CHECK(read_text(err).empty());
  CHECK(tree(dir).empty());
  fs::remove(err);
}

TEST_CASE("Temporaries created and removed by many threads at once are all gone when SIGTERM ends the process",
          "[safety]") {
  const fs::path dir = sandbox("threads_sigterm");
  for (int round = 0; round < 12; ++round) {
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(ready[0]);
      ::signal(SIGTERM, SIG_DFL);
      gradflow::install_temporary_cleanup();
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&dir, t] {
          for (long i = 0;; ++i) {
            gradflow::AtomicFile file("--out", (dir / ("f" + std::to_string(t) + ".csv")).string());
            file.stream() << "line " << i << "\n";
            if (i % 2 == 0) file.commit();
          }
        });
      }
      [[maybe_unused]] const ssize_t n = ::write(ready[1], "x", 1);
      for (std::thread& thread : threads) thread.join();
      ::_exit(0);
    }
    ::close(ready[1]);
    char c = 0;
    REQUIRE(::read(ready[0], &c, 1) == 1);
    ::close(ready[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + 3 * round));
    ::kill(child, SIGTERM);
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGTERM);
    INFO("round " << round);
    REQUIRE(temporaries(dir) == std::vector<std::string>{});
  }
}

TEST_CASE("SIGTERM in the middle of a sweep leaves no temporary in its folder, and a rerun finishes it",
          "[safety][sweep]") {
  const fs::path dir = sandbox("sweep_sigterm");
  // 20 runs of 10000 fixed steps each (about 0.07 s a run): killed after the third is recorded.
  write(dir / "k.toml",
        "inits = [\"positive\", \"xavier_normal\"]\nwidths = [32]\nseeds = 10\nmethods = [\"fixed\"]\nlr = 0.01\n"
        "datasets = [\"synthetic:8x16\"]\nloss-tol = 1e-300\nmax-steps = 10000\ncurve-points = 500\nout = \"r\"\n");
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    ::signal(SIGTERM, SIG_DFL);
    ::execl(GRADFLOW_CLI, GRADFLOW_CLI, "sweep", "--config", "k.toml", "--no-plots", "--threads", "4",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const fs::path runs = dir / "r" / "runs.csv";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline && !(fs::exists(runs) && count_lines(read_text(runs)) >= 4))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ::kill(child, SIGTERM);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(WIFSIGNALED(status));  // ended by the signal, in the middle of the runs
  CHECK(WTERMSIG(status) == SIGTERM);
  CHECK(temporaries(dir).empty());
  const std::string content = read_text(runs);
  REQUIRE(!content.empty());
  CHECK(content.back() == '\n');
  const ProgramRun r = cli(dir, {"sweep", "--config", "k.toml", "--no-plots", "--quiet"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(gradflow::read_runs(runs.string()).size() == 20);
  CHECK(temporaries(dir).empty());
}

// ---------------------------------------------------------------------------------------------------
// Links planted inside a sweep's folder.

TEST_CASE("A symbolic link planted as curves/ or plots/ of a sweep is refused naming it, and its target is untouched",
          "[safety][sweep]") {
  const fs::path dir = sandbox("planted_folders");
  write(dir / "k.toml", sweep_file(2));
  ProgramRun r = cli(dir, {"sweep", "--config", "k.toml", "--quiet", "--no-plots"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  fs::create_directories(dir / "elsewhere");
  // curves/ a link, one run to do again.
  fs::rename(dir / "r" / "curves", dir / "curves.saved");
  fs::create_directory_symlink("../elsewhere", dir / "r" / "curves");
  const std::string runs = read_text(dir / "r" / "runs.csv");
  write(dir / "r" / "runs.csv", runs.substr(0, runs.rfind('\n', runs.size() - 2) + 1));
  r = cli(dir, {"sweep", "--config", "k.toml", "--quiet"});
  INFO(r.err);
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.err, Catch::Contains("curves") && Catch::Contains("symbolic link"));
  CHECK(tree(dir / "elsewhere").empty());
  CHECK(fs::is_symlink(dir / "r" / "curves"));
  fs::remove(dir / "r" / "curves");
  fs::rename(dir / "curves.saved", dir / "r" / "curves");
  // plots/ a link: the figures would go where it points.
  fs::remove_all(dir / "r" / "plots");
  fs::create_directory_symlink("../elsewhere", dir / "r" / "plots");
  r = cli(dir, {"sweep", "--config", "k.toml", "--quiet"});
  INFO(r.err);
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.err, Catch::Contains("plots") && Catch::Contains("symbolic link"));
  CHECK(tree(dir / "elsewhere").empty());
  CHECK(temporaries(dir).empty());
}

TEST_CASE("Links planted as files of a sweep's folder are never written through", "[safety][sweep]") {
  const fs::path dir = sandbox("planted_files");
  write(dir / "k.toml", sweep_file(2));
  write(dir / "precious.txt", "precious\n");
  ProgramRun r = cli(dir, {"sweep", "--config", "k.toml", "--quiet"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const bool gnuplot = gradflow::find_program("gnuplot").has_value();
  // A figure, a figure's log, a script, a data file, the summary, the manifest: each a link in turn.
  for (const std::string name : {"plots/loss.png", "plots/loss.log", "plots/loss.gp", "plots/data/positive_loss.dat",
                                 "summary.csv", "sweep.toml", "plots/data"}) {
    const fs::path planted = dir / "r" / name;
    const fs::path saved = dir / "saved";
    fs::remove_all(saved);
    if (fs::exists(fs::symlink_status(planted))) fs::rename(planted, saved);
    fs::create_symlink(dir / "precious.txt", planted);
    r = cli(dir, {"sweep", "--config", "k.toml", "--quiet"});
    INFO(name << " -> " << r.exit_code << " " << r.err);
    CHECK(read_text(dir / "precious.txt") == "precious\n");
    // gnuplot's log is written where gradflow opens it, never through the link: nothing to refuse.
    if (name != "plots/loss.log") {
      CHECK(fs::is_symlink(planted));
      if (name.rfind("plots/loss.", 0) != 0 || gnuplot) {
        CHECK(r.exit_code != 0);
        CHECK_THAT(r.err, Catch::Contains(fs::path(name).filename().string()));
      }
    }
    CHECK(temporaries(dir).empty());
    fs::remove(planted);
    if (fs::exists(fs::symlink_status(saved))) fs::rename(saved, planted);
  }
}

// ---------------------------------------------------------------------------------------------------
// Every kind of output path.

TEST_CASE("Standard output that cannot be written (a full disk) is exit 3 with one line, not a silent success",
          "[safety]") {
  const fs::path dir = sandbox("full_stdout");
  const fs::path err = dir.parent_path() / ".full_stdout.err";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"flow", "--dim", "3", "--t-end", "1", "--quiet", "--out", "-"},
        std::vector<std::string>{"descend", "--dim", "3", "--max-iters", "5", "--quiet", "--out", "-"},
        std::vector<std::string>{"flow", "--dim", "3", "--t-end", "1"}}) {
    std::vector<std::string> argv{GRADFLOW_CLI};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> c_argv;
    for (std::string& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      const int full = ::open("/dev/full", O_WRONLY);
      const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(full, 1);
      ::dup2(e, 2);
      if (::chdir(dir.c_str()) != 0) ::_exit(126);
      ::execv(c_argv[0], c_argv.data());
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    const std::string text = read_text(err);
    INFO(Catch::Detail::stringify(args) << " -> " << text);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 3);
    CHECK_THAT(text, Catch::Contains("cannot write to standard output"));
    CHECK(count_lines(text) == 1);
  }
  fs::remove(err);
}

TEST_CASE("A read-only output is refused and left as it was, a rewritten output keeps its permissions", "[safety]") {
  const fs::path dir = sandbox("permissions");
  write(dir / "kept.csv", "kept\n");
  fs::permissions(dir / "kept.csv", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  for (const std::string option : {"--out", "--states-out", "--theta-out", "--json"}) {
    for (const std::string command : {"flow", "descend"}) {
      const ProgramRun r = cli(dir, {command, "--dim", "3", "--quiet", option, "kept.csv"});
      INFO(command << " " << option << " -> " << r.err);
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.err, Catch::Contains(option + " kept.csv: exists and is read-only"));
      CHECK(read_text(dir / "kept.csv") == "kept\n");
    }
  }
  // A private file stays private when it is written again.
  write(dir / "private.csv", "old\n");
  fs::permissions(dir / "private.csv", fs::perms::owner_read | fs::perms::owner_write);
  const ProgramRun r = cli(dir, {"flow", "--dim", "3", "--t-end", "1", "--quiet", "--out", "private.csv"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(read_text(dir / "private.csv"), Catch::StartsWith("t,loss,"));
  CHECK(fs::status(dir / "private.csv").permissions() == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(temporaries(dir).empty());
}

TEST_CASE("Every kind of output path of flow and descend is written or refused before the run, never followed",
          "[safety]") {
  const fs::path dir = sandbox("path_kinds");
  write(dir / "precious.txt", "precious\n");
  fs::create_symlink("nowhere.csv", dir / "dangling.csv");
  fs::create_symlink("precious.txt", dir / "link.csv");
  REQUIRE(::mkfifo((dir / "fifo.csv").c_str(), 0644) == 0);
  fs::create_directories(dir / "folder.csv");
  struct Case {
    std::string path;
    std::string expected;  // empty: written
  };
  const std::vector<Case> cases{
      {"dangling.csv", "is a symbolic link"},
      {"link.csv", "is a symbolic link"},
      {"fifo.csv", "exists and is a fifo"},
      {"folder.csv", "exists and is a directory"},
      {"/dev/null", "exists and is a character device"},
      {"missing/out.csv", "folder missing does not exist"},
      {"precious.txt/out.csv", "folder precious.txt does not exist"},
      {std::string(300, 'x') + ".csv", "the file name has 304 bytes"},
      {"odd name\twith\nbreaks -- and 'quotes'.csv", ""},
      {"-leading-dash.csv", ""},
      {"-", ""},
  };
  for (const std::string option : {"--out", "--states-out", "--theta-out", "--json"}) {
    for (const std::string command : {"flow", "descend"}) {
      for (const Case& c : cases) {
        const ProgramRun r = cli(dir, {command, "--dim", "3", command == "flow" ? "--t-end=1" : "--max-iters=5",
                                       "--quiet", option + "=" + c.path});
        INFO(command << " " << option << " " << c.path << " -> " << r.err);
        if (c.path == "-") {
          CHECK(r.exit_code == 0);
          CHECK(!r.out.empty());
        } else if (c.expected.empty()) {
          CHECK(r.exit_code == 0);
          CHECK(fs::is_regular_file(dir / c.path));
          fs::remove(dir / c.path);
        } else {
          CHECK(r.exit_code == 2);
          CHECK(count_lines(r.err) == 1);
          CHECK_THAT(r.err, Catch::Contains(option) && Catch::Contains(c.expected));
        }
        CHECK(read_text(dir / "precious.txt") == "precious\n");
        CHECK(fs::is_symlink(dir / "dangling.csv"));
        CHECK(temporaries(dir).empty());
      }
    }
  }
  // A sweep's folder: a file, a fifo or a device is refused before anything is made.
  write(dir / "k.toml", sweep_file(1));
  for (const std::string out : {"precious.txt", "fifo.csv", "/dev/null"}) {
    const ProgramRun r = cli(dir, {"sweep", "--config", "k.toml", "--quiet", "--no-plots", "--out", out});
    INFO(out << " -> " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("exists and is not a folder"));
  }
  CHECK(read_text(dir / "precious.txt") == "precious\n");
}
