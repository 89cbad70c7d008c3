// Output files that never destroy anything, written whole or not at all; shared by every command and
// by the experiments, which write tables and curves.
//
// Before any work starts, check_paths() takes every input and every output a command was given:
// - an empty output path is refused;
// - an output that exists and is not a regular file (a device, a fifo, a socket, a directory) is
//   refused, except "-" (standard output) where the caller allows it;
// - every output must differ from every input and from every other output: by device and inode where
//   both files exist, by normalized path (symbolic links of the folders resolved) otherwise;
// - the output's folder must exist and be writable;
// - the output's file name must fit the folder's file system (pathconf _PC_NAME_MAX) and the whole
//   path PATH_MAX, so that a name refused at the end of a run is refused before it;
// - an output that is a symbolic link is refused (rename would replace the link, not write to its
//   target; "-" is the one way to name standard output), and commit() checks it again with lstat
//   right before the rename.
// Each failure is an InputError naming the option and the path (and the other option and path).
//
// A file is written to a temporary file created by mkstemp in the same folder (".gradflow.XXXXXX",
// so any name the file system accepts for the output works), which is renamed over the output as the
// last step. The temporary is removed on every failure path: on an exception, and on SIGINT, SIGTERM,
// SIGHUP or SIGQUIT through a handler that unlinks every live temporary before the signal ends the process.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace gradflow {

// An output could not be written (disk full, permissions changed, the folder vanished): exit 3.
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A path as given to an option ("--out", "results/a.csv").
struct NamedPath {
  std::string option;
  std::string path;
};

// The path that means standard output where a command documents it.
inline constexpr const char* kStandardOutput = "-";

// The checks above. dash_is_stdout: an output "-" is standard output (at most one output may be "-").
void check_paths(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs,
                 bool dash_is_stdout = false);

// An input file: a non-empty path naming an existing regular file (a device, a fifo, a socket or a
// folder is refused before it is opened, so nothing blocks or reads without end). Throws InputError
// naming the option: "an empty path", "no such file", "is not a regular file".
void check_input_file(const std::string& option, const std::string& path);

// The same checks for one output file and no inputs.
void check_output_path(const std::string& option, const std::string& path);

// Whether a and b name the same file: by device and inode when both exist, else by normalized path.
bool same_file(const std::string& a, const std::string& b);

// The absolute, normalized form of a path with the symbolic links of its existing part resolved.
std::string normalized_path(const std::string& path);

// A file being written: a temporary in the target's folder until commit() renames it into place. The
// destructor removes the temporary when commit() was not reached. Throws IoError naming the option.
class AtomicFile {
 public:
  AtomicFile(std::string option, std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream();
  // Flushes, syncs and renames the temporary over the target; throws IoError on any failure (and
  // removes the temporary).
  void commit();
  const std::string& temporary_path() const { return temporary_; }

 private:
  struct Impl;
  std::string option_;
  std::string path_;
  std::string temporary_;
  std::unique_ptr<Impl> impl_;
};

// Writes a file whole or not at all through an AtomicFile. Throws IoError naming the option on failure.
void write_file_atomically(const std::string& option, const std::string& path,
                           const std::function<void(std::ostream&)>& write);

// write_file_atomically, except that "-" writes to standard output: for the outputs whose command
// documents "-" (and checked with check_paths(..., dash_is_stdout = true)).
void write_output(const std::string& option, const std::string& path, const std::function<void(std::ostream&)>& write);

// A path removed when the guard is destroyed and when SIGINT, SIGTERM, SIGHUP or SIGQUIT ends the process,
// unless released first: for files another program writes (gnuplot's figures before their rename).
class TemporaryPathGuard {
 public:
  explicit TemporaryPathGuard(std::string path);
  ~TemporaryPathGuard();
  TemporaryPathGuard(const TemporaryPathGuard&) = delete;
  TemporaryPathGuard& operator=(const TemporaryPathGuard&) = delete;
  void release();  // keep the file

 private:
  std::string path_;
  int slot_ = -1;
};

// Whether a figure another program (gnuplot) wrote is whole: a PNG ends with its IEND chunk, an SVG
// with its closing </svg> tag (then white space). A full disk leaves such a file cut short while the
// program still exits 0; a figure that fails this is removed, never renamed into place.
bool figure_is_whole(const std::string& path);

// Installs the handler that removes the live temporaries on SIGINT, SIGTERM, SIGHUP and SIGQUIT, for each of
// them whose disposition is the default (one ignored, or handled by someone else, is left alone).
// Called by the first temporary; callable again (after a fork that reset the dispositions).
void install_temporary_cleanup();

// How many temporaries are registered for removal on a signal now (for the tests).
int live_temporary_count();

}  // namespace gradflow
