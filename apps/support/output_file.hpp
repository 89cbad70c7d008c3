// Output files that never destroy anything, written whole or not at all; shared by every command and
// by the experiments, which write tables and curves.
//
// Before any work starts, check_paths() takes every input and every output a command was given:
// - an empty output path is refused;
// - an output that exists and is not a regular file (a device, a fifo, a socket, a directory) is
//   refused, except "-" (standard output) where the caller allows it;
// - an output that exists and is read-only (no write permission bit, or not writable by this user) is
//   refused: it is not replaced behind its owner's back;
// - every output must differ from every input and from every other output: by device and inode where
//   both files exist, by normalized path (symbolic links of the folders resolved) otherwise;
// - the output's folder must exist and be writable;
// - the output's file name must fit the folder's file system (pathconf _PC_NAME_MAX) and the whole
//   path PATH_MAX, so that a name refused at the end of a run is refused before it;
// - an output that is a symbolic link is refused (rename would replace the link, not write to its
//   target; "-" is the one way to name standard output), and commit() checks it again right before
//   the rename.
// Each failure is an InputError naming the option and the path (and the other option and path).
//
// A file is written to a temporary file ".gradflow.XXXXXX" created in the same folder (openat with
// O_CREAT | O_EXCL | O_NOFOLLOW relative to the folder's descriptor, so any name the file system accepts
// for the output works), which is renamed over the output (renameat) as the last step; it keeps the
// permissions of the file it replaces. The temporary is removed on every failure path: on an exception,
// and on SIGINT, SIGTERM, SIGHUP, SIGQUIT or SIGPIPE through a handler that removes every live temporary
// before the signal ends the process. A temporary is registered with that handler before it is created
// and stays registered until it is renamed or removed, and the handler waits for a thread that is
// creating, renaming or removing one: no signal the process handles leaves a temporary behind, however
// many threads write. A write error (a full disk, EFBIG past a file size limit when SIGXFSZ is ignored,
// as the command line does) is kept and reported by commit() with its cause.
//
// OutputFolder holds a folder open by its descriptor: a sweep's folder, whose files and sub-folders are
// all reached relative to it (openat, mkdirat, renameat, unlinkat), so that a symbolic link planted
// inside it is refused, never followed.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
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

// A folder held open by its descriptor. The folder itself is opened by its path as given (the caller's
// choice, links included); everything inside it is reached relative to the descriptor and never through
// a symbolic link: a sub-folder or file that is a link is refused with an IoError naming it ("is a
// symbolic link: refused, never followed"), whatever it points to.
class OutputFolder {
 public:
  enum class Kind { missing, file, folder, link, other };

  // Opens the folder path (create: made first, with its missing parents). Throws IoError naming option.
  OutputFolder(std::string option, std::string path, bool create = false);
  ~OutputFolder();
  OutputFolder(OutputFolder&& other) noexcept;
  OutputFolder& operator=(OutputFolder&& other) noexcept;
  OutputFolder(const OutputFolder&) = delete;
  OutputFolder& operator=(const OutputFolder&) = delete;

  // The sub-folder name (one component), made when missing and create; opened with O_NOFOLLOW |
  // O_DIRECTORY: a link or anything but a folder there is refused (IoError naming it).
  OutputFolder sub(const std::string& name, bool create = true) const;
  // What is at name, links not followed.
  Kind kind(const std::string& name) const;
  // The content of the regular file name, or nothing when there is none; a link, a fifo, a device or a
  // folder there is refused (IoError naming it), never opened through.
  std::optional<std::string> read(const std::string& name) const;
  // Removes name: a file or a link (the link itself, never its target); nothing when missing.
  void remove(const std::string& name) const;
  // Removes name and, when it is a folder, everything in it, following no link.
  void remove_tree(const std::string& name) const;
  // The names in the folder (without "." and "..").
  std::vector<std::string> names() const;

  int fd() const { return fd_; }
  const std::string& option() const { return option_; }
  const std::string& path() const { return path_; }
  std::string path_of(const std::string& name) const;  // path()/name, for messages

 private:
  OutputFolder(std::string option, std::string path, int fd);
  std::string option_;
  std::string path_;
  int fd_ = -1;
};

// "<name> in the folder <folder> is a symbolic link: refused, never followed (remove it)": the words
// every refusal of a link planted in an output folder uses.
std::string planted_link_message(const std::string& folder, const std::string& name);

// A file being written: a temporary in the target's folder until commit() renames it into place. The
// destructor removes the temporary when commit() was not reached. Throws IoError naming the option.
class AtomicFile {
 public:
  AtomicFile(std::string option, std::string path);
  // The file name inside folder, reached without following a link (commit() refuses to replace a link
  // or anything but a regular file there).
  AtomicFile(std::string option, const OutputFolder& folder, std::string name);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream();
  // Flushes, syncs and closes the temporary, leaving the target as it was; throws IoError on any
  // failure (a full disk, a size limit) and removes the temporary. Lets several outputs be written
  // whole before any replaces its target: finish() them all, then commit() them all.
  void finish();
  // finish() when not done yet, then renames the temporary over the target; throws IoError on any
  // failure (and removes the temporary).
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

// Writes a file whole or not at all inside folder (AtomicFile's folder form).
void write_file_atomically(const std::string& option, const OutputFolder& folder, const std::string& name,
                           const std::function<void(std::ostream&)>& write);

// A path removed when the guard is destroyed and when SIGINT, SIGTERM, SIGHUP, SIGQUIT or SIGPIPE ends the
// process, unless released first: for files another program writes (gnuplot's figures before their rename).
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

// A private temporary folder ".gradflow.XXXXXX" (mode 0700) made inside a folder, for the files another
// program writes (gnuplot's figures): nobody can plant a link in it, and it is removed with the files
// expected in it when it is destroyed and when a handled signal ends the process (above). A finished file
// is moved out with move_out().
class TemporaryFolder {
 public:
  explicit TemporaryFolder(const OutputFolder& parent);
  ~TemporaryFolder();
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;

  const std::string& name() const { return name_; }  // inside the parent
  int fd() const { return fd_; }
  // Registers name inside for removal, before another program creates it.
  void expect(const std::string& name);
  // Creates name inside (registered), open for writing; the descriptor is the caller's to close.
  int create(const std::string& name);
  // Whether the regular file name exists inside.
  bool holds(const std::string& name) const;
  // Moves name into the parent folder as target (renameat), refusing to replace a symbolic link or
  // anything but a regular file there (IoError naming it; the file stays inside and goes with the folder).
  void move_out(const std::string& name, const std::string& target);
  // Removes name inside now.
  void remove(const std::string& name);

 private:
  struct Entry {
    std::string name;
    int slot = -1;
  };
  int parent_fd_ = -1;
  std::string parent_path_;
  std::string option_;
  std::string name_;
  int fd_ = -1;
  int slot_ = -1;
  std::vector<Entry> entries_;
};

// Whether a figure another program (gnuplot) wrote is whole: a PNG ends with its IEND chunk, an SVG
// with its closing </svg> tag (then white space). A full disk leaves such a file cut short while the
// program still exits 0; a figure that fails this is removed, never renamed into place.
bool figure_is_whole(const std::string& path);
// The same for the file name inside the folder descriptor dirfd, opened without following a link.
bool figure_is_whole(int dirfd, const std::string& name);

// Installs the handler that removes the live temporaries on SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGPIPE, for
// each of them whose disposition is the default (one ignored, or handled by someone else, is left alone),
// then lets the signal end the process as it would have. Called by the first temporary and by the command
// line at its start; callable again (after a fork that reset the dispositions).
void install_temporary_cleanup();

// How many temporaries are registered for removal on a signal now (for the tests).
int live_temporary_count();

}  // namespace gradflow
