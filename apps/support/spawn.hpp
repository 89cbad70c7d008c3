// Starting another program without a shell: posix_spawnp with an argument vector, so that no user
// string (a path, a file name) is ever parsed by /bin/sh. Used by the sweeps' plots (gnuplot) and by
// the tests. Nothing in gradflow calls system() or popen() (a test greps the tree for them).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gradflow {

// The program starts with SIGPIPE and SIGXFSZ at their defaults, whatever the caller does with them (the
// command line ignores SIGXFSZ), as a program started from a shell would.
struct SpawnOptions {
  std::string working_directory;  // empty: the caller's
  std::string stdin_file;         // empty: /dev/null
  std::string stdout_file;        // empty: /dev/null; truncated and written
  std::string stderr_file;        // empty: /dev/null
  bool inherit_stdout = false;    // the caller's standard output instead of stdout_file
  bool inherit_stderr = false;    // the caller's standard error instead of stderr_file
  // Descriptors the caller opened (without following links) instead of the names above, when >= 0:
  // the working directory as an open folder, and the files for standard input and error.
  int working_directory_fd = -1;
  int stdin_fd = -1;
  int stderr_fd = -1;
};

struct SpawnResult {
  bool started = false;  // false: the program could not be started (error says why)
  int exit_code = -1;    // the program's exit status, or -1 when it was killed by a signal
  int signal = 0;        // the signal that ended it, 0 when it exited
  std::string error;     // why it could not be started
  bool succeeded() const { return started && exit_code == 0; }
};

// Runs argv[0] (looked up in PATH when it has no '/') with the arguments argv[1..] and waits for it.
SpawnResult run_program(const std::vector<std::string>& argv, const SpawnOptions& options = {});

// The full path of a program in PATH (as posix_spawnp would find it), or nothing.
std::optional<std::string> find_program(const std::string& name);

}  // namespace gradflow
