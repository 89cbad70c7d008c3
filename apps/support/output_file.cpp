#include <gradflow/apps/support/output_file.hpp>

#include <gradflow/core/input_error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <ostream>
#include <streambuf>
#include <system_error>

namespace gradflow {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------------
// The temporaries a signal handler removes. Fixed slots, so that the handler only reads memory that
// never moves and calls unlink (async-signal-safe). state: 0 free, 1 being filled, 2 live.
namespace {

constexpr int kSlots = 512;
constexpr std::size_t kSlotPath = 4096;

struct Slot {
  std::atomic<int> state{0};
  char path[kSlotPath];
};

Slot g_slots[kSlots];
std::once_flag g_handlers_installed;

extern "C" void remove_temporaries_and_die(int signal_number) {
  for (Slot& slot : g_slots) {
    if (slot.state.load() == 2) ::unlink(slot.path);
  }
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  ::sigaction(signal_number, &action, nullptr);
  ::raise(signal_number);
}

void install_handlers() {
  for (const int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
    struct sigaction previous {};
    if (::sigaction(signal_number, nullptr, &previous) != 0) continue;
    // A signal the parent ignores (nohup, a background job) stays ignored; one with a handler of
    // someone else's (an MPI launcher's) is left to it.
    if (previous.sa_handler != SIG_DFL || (previous.sa_flags & SA_SIGINFO)) continue;  // ours is not SIG_DFL either
    struct sigaction action {};
    action.sa_handler = remove_temporaries_and_die;
    sigemptyset(&action.sa_mask);
    ::sigaction(signal_number, &action, nullptr);
  }
}

int register_temporary(const std::string& path) {
  std::call_once(g_handlers_installed, install_handlers);
  if (path.size() >= kSlotPath) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (g_slots[i].state.compare_exchange_strong(expected, 1)) {
      std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
      g_slots[i].state.store(2);
      return i;
    }
  }
  return -1;  // every slot in use: the file is still removed on every other failure path
}

void unregister_temporary(int slot) {
  if (slot >= 0) g_slots[slot].state.store(0);
}

// The process's umask, read without changing it (umask() would race with other threads).
mode_t process_umask() {
  static const mode_t mask = [] {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("Umask:", 0) == 0) return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8));
    }
    return static_cast<mode_t>(022);
  }();
  return mask;
}

// A stream buffer over a file descriptor that records the first write error.
class FdBuffer : public std::streambuf {
 public:
  explicit FdBuffer(int fd) : fd_(fd), buffer_(1 << 16) { setp(buffer_.data(), buffer_.data() + buffer_.size()); }
  bool failed() const { return failed_; }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    const char* p = pbase();
    std::size_t left = static_cast<std::size_t>(pptr() - pbase());
    while (left > 0 && !failed_) {
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        failed_ = true;
        error_ = errno;
        break;
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return !failed_;
  }

  int fd_;
  std::vector<char> buffer_;
  bool failed_ = false;
  int error_ = 0;
};

struct Identity {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  std::string normalized;
};

Identity identify(const std::string& path) {
  Identity id;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    id.exists = true;
    id.device = st.st_dev;
    id.inode = st.st_ino;
  }
  id.normalized = normalized_path(path);
  return id;
}

bool same_identity(const Identity& a, const Identity& b) {
  if (a.exists && b.exists) return a.device == b.device && a.inode == b.inode;
  return a.normalized == b.normalized;
}

std::string describe_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a fifo";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// The folder an output goes to ("." for a bare file name).
std::string folder_of(const std::string& path) {
  const fs::path p(path);
  return p.has_parent_path() ? p.parent_path().string() : std::string(".");
}

void check_one_output(const NamedPath& output) {
  if (output.path.empty()) throw InputError(output.option, "", "an empty path (give a file name)");
  if (output.path.size() >= std::size_t{PATH_MAX}) {
    throw InputError(output.option, output.path,
                     "the path has " + std::to_string(output.path.size()) + " bytes, the system allows fewer than " +
                         std::to_string(PATH_MAX));
  }
  struct stat st {};
  if (::stat(output.path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    throw InputError(output.option, output.path,
                     "exists and is " + describe_kind(st.st_mode) + ": an output must be a regular file or a new one");
  }
  const std::string folder = folder_of(output.path);
  struct stat dir {};
  if (::stat(folder.c_str(), &dir) != 0 || !S_ISDIR(dir.st_mode)) {
    throw InputError(output.option, output.path, "folder " + quote_text(folder) + " does not exist");
  }
  if (::access(folder.c_str(), W_OK) != 0) {
    throw InputError(output.option, output.path, "folder " + quote_text(folder) + " is not writable");
  }
  // A name the file system would refuse only at the end of the run is refused now.
  const std::string name = fs::path(output.path).filename().string();
  const long name_max = ::pathconf(folder.c_str(), _PC_NAME_MAX);
  if (name_max > 0 && name.size() > static_cast<std::size_t>(name_max)) {
    throw InputError(output.option, output.path,
                     "the file name has " + std::to_string(name.size()) + " bytes, more than the " +
                         std::to_string(name_max) + " the file system of folder " + quote_text(folder) + " allows");
  }
}

// rename() replaces a symbolic link itself, so an output that is a link is refused (checked after the
// comparisons with the inputs, which name the more useful reason when the link points to one).
void check_not_a_link(const NamedPath& output) {
  struct stat st {};
  if (::lstat(output.path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    throw InputError(output.option, output.path,
                     "is a symbolic link: an output is never written through a link (give the path of its target)");
  }
}

}  // namespace

void check_input_file(const std::string& option, const std::string& path) {
  if (path.empty()) throw InputError(option, "", "an empty path (give a file name)");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int error = errno;
    throw InputError(
        option, path,
        "cannot open the file for reading: " + std::string(error == ENOENT ? "no such file" : std::strerror(error)));
  }
  if (!S_ISREG(st.st_mode)) {
    throw InputError(option, path, "is not a regular file (it is " + describe_kind(st.st_mode) + ")");
  }
}

void install_temporary_cleanup() { install_handlers(); }

std::string normalized_path(const std::string& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  if (ec) return fs::path(path).lexically_normal().string();
  fs::path resolved = fs::weakly_canonical(absolute, ec);
  if (ec) resolved = absolute;
  return resolved.lexically_normal().string();
}

bool same_file(const std::string& a, const std::string& b) { return same_identity(identify(a), identify(b)); }

void check_paths(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs, bool dash_is_stdout) {
  std::vector<Identity> output_ids;
  const NamedPath* dash = nullptr;
  for (const NamedPath& output : outputs) {
    if (dash_is_stdout && output.path == kStandardOutput) {
      if (dash) {
        throw InputError(output.option, output.path,
                         "standard output is already the output of " + dash->option + " (give a file name)");
      }
      dash = &output;
      output_ids.emplace_back();
      continue;
    }
    check_one_output(output);
    output_ids.push_back(identify(output.path));
  }
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (dash_is_stdout && outputs[i].path == kStandardOutput) continue;
    for (const NamedPath& input : inputs) {
      if (input.path.empty() || (dash_is_stdout && input.path == kStandardOutput)) continue;
      if (same_identity(output_ids[i], identify(input.path))) {
        throw InputError(
            outputs[i].option, outputs[i].path,
            "is the input " + input.option + " " + quote_text(input.path) + ": an output never overwrites an input");
      }
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (dash_is_stdout && outputs[j].path == kStandardOutput) continue;
      if (same_identity(output_ids[i], output_ids[j])) {
        throw InputError(outputs[i].option, outputs[i].path,
                         "is also the output of " + outputs[j].option + " " + quote_text(outputs[j].path) +
                             ": give each output its own file");
      }
    }
  }
  for (const NamedPath& output : outputs) {
    if (!(dash_is_stdout && output.path == kStandardOutput)) check_not_a_link(output);
  }
}

void check_output_path(const std::string& option, const std::string& path) { check_paths({}, {{option, path}}); }

// ---------------------------------------------------------------------------------------------------

struct AtomicFile::Impl {
  int fd = -1;
  int slot = -1;
  std::unique_ptr<FdBuffer> buffer;
  std::unique_ptr<std::ostream> stream;
  bool finished = false;
};

AtomicFile::AtomicFile(std::string option, std::string path)
    : option_(std::move(option)), path_(std::move(path)), impl_(std::make_unique<Impl>()) {
  std::string pattern = folder_of(path_) + "/.gradflow.XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  impl_->fd = ::mkstemp(name.data());
  if (impl_->fd < 0) {
    throw IoError(option_ + " " + quote_text(path_) + ": cannot create a temporary file in " +
                  quote_text(folder_of(path_)) + ": " + std::strerror(errno));
  }
  temporary_ = name.data();
  impl_->slot = register_temporary(temporary_);
  ::fchmod(impl_->fd, 0666 & ~process_umask());
  impl_->buffer = std::make_unique<FdBuffer>(impl_->fd);
  impl_->stream = std::make_unique<std::ostream>(impl_->buffer.get());
}

AtomicFile::~AtomicFile() {
  if (!impl_) return;
  if (impl_->fd >= 0) ::close(impl_->fd);
  if (!impl_->finished && !temporary_.empty()) ::unlink(temporary_.c_str());
  unregister_temporary(impl_->slot);
}

std::ostream& AtomicFile::stream() { return *impl_->stream; }

void AtomicFile::commit() {
  const auto fail = [&](const std::string& what, int error) {
    ::unlink(temporary_.c_str());
    impl_->finished = true;
    unregister_temporary(impl_->slot);
    impl_->slot = -1;
    throw IoError(option_ + " " + quote_text(path_) + ": " + what +
                  (error ? std::string(": ") + std::strerror(error) : ""));
  };
  impl_->stream->flush();
  if (impl_->buffer->failed() || !*impl_->stream) fail("cannot write the file", impl_->buffer->error());
  if (::fsync(impl_->fd) != 0 && errno != EINVAL) fail("cannot write the file", errno);
  const int fd = impl_->fd;
  impl_->fd = -1;
  if (::close(fd) != 0) fail("cannot write the file", errno);
  // The target may have changed since the checks: never replace anything but a regular file (a
  // symbolic link included: rename would replace the link, not write to its target).
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    fail(std::string("exists and is ") + (S_ISLNK(st.st_mode) ? "a symbolic link" : describe_kind(st.st_mode)) +
             " now: not replaced",
         0);
  }
  if (::rename(temporary_.c_str(), path_.c_str()) != 0) fail("cannot move the finished file into place", errno);
  impl_->finished = true;
  unregister_temporary(impl_->slot);
  impl_->slot = -1;
}

void write_file_atomically(const std::string& option, const std::string& path,
                           const std::function<void(std::ostream&)>& write) {
  AtomicFile file(option, path);
  write(file.stream());
  file.commit();
}

void write_output(const std::string& option, const std::string& path, const std::function<void(std::ostream&)>& write) {
  if (path == kStandardOutput) {
    write(std::cout);
    std::cout.flush();
    if (!std::cout) throw IoError(option + " -: cannot write to standard output");
    return;
  }
  write_file_atomically(option, path, write);
}

TemporaryPathGuard::TemporaryPathGuard(std::string path) : path_(std::move(path)), slot_(register_temporary(path_)) {}

TemporaryPathGuard::~TemporaryPathGuard() {
  if (path_.empty()) return;
  ::unlink(path_.c_str());
  unregister_temporary(slot_);
}

void TemporaryPathGuard::release() {
  unregister_temporary(slot_);
  slot_ = -1;
  path_.clear();
}

int live_temporary_count() {
  int count = 0;
  for (const Slot& slot : g_slots) count += slot.state.load() == 2 ? 1 : 0;
  return count;
}

bool figure_is_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return false;
  const std::streamoff size = in.tellg();
  const std::streamoff tail_size = std::min<std::streamoff>(size, 256);
  if (tail_size <= 0) return false;
  std::string tail(static_cast<std::size_t>(tail_size), '\0');
  in.seekg(size - tail_size);
  if (!in.read(tail.data(), tail_size)) return false;
  const auto ends_with = [&](const std::string& path_suffix) {
    return path.size() >= path_suffix.size() &&
           path.compare(path.size() - path_suffix.size(), path_suffix.size(), path_suffix) == 0;
  };
  if (ends_with(".png") || ends_with(".png.part")) {
    // The IEND chunk: length 0, type "IEND", its CRC.
    static const std::string iend("\x00\x00\x00\x00IEND\xae\x42\x60\x82", 12);
    return tail.size() >= iend.size() && tail.compare(tail.size() - iend.size(), iend.size(), iend) == 0;
  }
  if (ends_with(".svg") || ends_with(".svg.part")) {
    while (!tail.empty() && std::isspace(static_cast<unsigned char>(tail.back()))) tail.pop_back();
    return tail.size() >= 6 && tail.compare(tail.size() - 6, 6, "</svg>") == 0;
  }
  return size > 0;
}

}  // namespace gradflow
