#include <gradflow/apps/support/output_file.hpp>

#include <gradflow/core/input_error.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdint>
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
// never moves and calls unlinkat (async-signal-safe). A slot names an entry by a folder descriptor
// (AT_FDCWD for a path) and a name, a file or a folder.
//
// States: free; filling (taken, its entry not yet made: the handler skips it); live (the handler removes
// it); busy (a thread is creating, renaming or removing the entry with the cleanup signals blocked: the
// handler waits for it to become live or free). A thread about to create an entry marks its slot busy
// first and then checks `dying`, which the handler sets before it looks at the slots: either the handler
// sees the slot busy and waits, or the thread sees `dying` and creates nothing. So no signal the process
// handles leaves an entry behind, whatever the other threads are doing.
namespace {

constexpr int kSlots = 512;
constexpr std::size_t kSlotPath = 4096;
enum : int { kFree = 0, kFilling = 1, kLive = 2, kBusy = 3 };

struct Slot {
  std::atomic<int> state{kFree};
  std::atomic<int> dirfd{AT_FDCWD};
  std::atomic<bool> folder{false};
  char path[kSlotPath];
};

Slot g_slots[kSlots];
std::atomic<int> g_dying{0};
std::once_flag g_handlers_installed;

constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};

void pause_briefly() {
  timespec pause{0, 200000};  // 0.2 ms
  ::nanosleep(&pause, nullptr);
}

extern "C" void remove_temporaries_and_die(int signal_number) {
  g_dying.store(1);
  long waits = 10000;  // at most 2 s for the threads in the middle of creating, renaming or removing one
  for (const bool folders : {false, true}) {  // the files first, then the (then empty) folders
    for (Slot& slot : g_slots) {
      int state = slot.state.load();
      while (state == kBusy && waits > 0) {
        pause_briefly();
        --waits;
        state = slot.state.load();
      }
      if (state == kLive && slot.folder.load() == folders)
        ::unlinkat(slot.dirfd.load(), slot.path, folders ? AT_REMOVEDIR : 0);
    }
  }
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  ::sigaction(signal_number, &action, nullptr);
  ::raise(signal_number);
}

void install_handlers() {
  for (const int signal_number : kCleanupSignals) {
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

// The cleanup signals blocked in this thread while it exists: a thread never runs the handler while one
// of its slots is busy (the handler would wait for itself).
class BlockCleanupSignals {
 public:
  BlockCleanupSignals() {
    sigset_t set;
    sigemptyset(&set);
    for (const int signal_number : kCleanupSignals) sigaddset(&set, signal_number);
    ::pthread_sigmask(SIG_BLOCK, &set, &previous_);
  }
  ~BlockCleanupSignals() { ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  BlockCleanupSignals(const BlockCleanupSignals&) = delete;
  BlockCleanupSignals& operator=(const BlockCleanupSignals&) = delete;

 private:
  sigset_t previous_{};
};

// The process is being ended by a handled signal: create nothing more, wait for the end.
void wait_for_the_end() {
  for (int i = 0; i < 25000 && g_dying.load(); ++i) pause_briefly();
}

// A free slot taken (filling) and set to name the entry, or -1 when every slot is in use (the entry is
// then still removed on every other failure path) or the name does not fit.
int take_slot(int dirfd, const std::string& name, bool folder) {
  std::call_once(g_handlers_installed, install_handlers);
  if (name.size() >= kSlotPath) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (g_slots[i].state.compare_exchange_strong(expected, kFilling)) {
      std::memcpy(g_slots[i].path, name.c_str(), name.size() + 1);
      g_slots[i].dirfd.store(dirfd);
      g_slots[i].folder.store(folder);
      return i;
    }
  }
  return -1;
}

void set_state(int slot, int state) {
  if (slot >= 0) g_slots[slot].state.store(state);
}

// Marks the slot busy (the handler waits for it) before its entry is created, renamed or removed. When
// a handled signal is already ending the process, the slot goes back to `was` (the handler then removes
// a live entry itself, and never waits for this thread) and the thread waits for the end.
void enter_busy(int slot, int was) {
  set_state(slot, kBusy);
  if (g_dying.load()) {
    set_state(slot, was);
    wait_for_the_end();
    set_state(slot, kBusy);
  }
}

// An entry another program creates (or that may not exist yet): live from now on.
int register_entry(int dirfd, const std::string& name, bool folder) {
  const int slot = take_slot(dirfd, name, folder);
  set_state(slot, kLive);
  return slot;
}

std::string random_name() {
  static constexpr char kLetters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  static std::atomic<std::uint64_t> counter{0};
  unsigned char bytes[6];
  if (::getrandom(bytes, sizeof bytes, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof bytes)) {
    std::uint64_t x = (static_cast<std::uint64_t>(::getpid()) << 32) ^ counter.fetch_add(1) ^
                      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    for (unsigned char& b : bytes) {  // splitmix64
      x += 0x9e3779b97f4a7c15ULL;
      std::uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      b = static_cast<unsigned char>(z ^ (z >> 31));
    }
  }
  std::string name = ".gradflow.";
  for (const unsigned char b : bytes) name += kLetters[b % (sizeof kLetters - 1)];
  return name;
}

struct NewTemporary {
  int fd = -1;  // open for writing (a file) or reading (a folder); -1 on failure
  int slot = -1;
  std::string name;
  int error = 0;
};

// A new ".gradflow.XXXXXX" inside dirfd, never through a link (O_EXCL | O_NOFOLLOW, or mkdirat), registered
// with the handler before it exists.
NewTemporary create_temporary(int dirfd, bool folder, mode_t mode) {
  NewTemporary made;
  const BlockCleanupSignals blocked;
  for (int attempt = 0; attempt < 100; ++attempt) {
    made.name = random_name();
    made.slot = take_slot(dirfd, made.name, folder);
    enter_busy(made.slot, kFilling);
    made.error = 0;
    if (folder) {
      if (::mkdirat(dirfd, made.name.c_str(), mode) == 0) {
        made.fd = ::openat(dirfd, made.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (made.fd < 0) {
          made.error = errno;
          ::unlinkat(dirfd, made.name.c_str(), AT_REMOVEDIR);
        }
      } else {
        made.error = errno;
      }
    } else {
      made.fd = ::openat(dirfd, made.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
      if (made.fd < 0) made.error = errno;
    }
    if (made.fd >= 0) {
      set_state(made.slot, kLive);
      return made;
    }
    set_state(made.slot, kFree);
    made.slot = -1;
    if (made.error != EEXIST) break;
  }
  return made;
}

// Removes a registered entry now and frees its slot; the handler never sees it half gone.
void remove_temporary(int slot, int dirfd, const std::string& name, bool folder) {
  const BlockCleanupSignals blocked;
  enter_busy(slot, kLive);
  ::unlinkat(dirfd, name.c_str(), folder ? AT_REMOVEDIR : 0);
  set_state(slot, kFree);
}

// Renames a registered file to_dirfd/target; its slot is freed when the rename is done (the name is
// gone), kept live otherwise. Returns 0 or the error. Once a handled signal is ending the process, no
// temporary is put in place (its handler may have removed it already): the thread waits for the end
// rather than report an error that is not one.
int rename_temporary(int slot, int dirfd, const std::string& name, int to_dirfd, const std::string& target) {
  const BlockCleanupSignals blocked;
  enter_busy(slot, kLive);
  const int error = ::renameat(dirfd, name.c_str(), to_dirfd, target.c_str()) == 0 ? 0 : errno;
  set_state(slot, error == 0 ? kFree : kLive);
  return error;
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
// comparisons with the inputs, which name the more useful reason when the link points to one); so is an
// existing file that its permissions protect from writing, which a shell's redirection would not
// replace either.
void check_not_a_link(const NamedPath& output) {
  struct stat st {};
  if (::lstat(output.path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    throw InputError(output.option, output.path,
                     "is a symbolic link: an output is never written through a link (give the path of its target)");
  }
  if (::lstat(output.path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
      ((st.st_mode & 0222) == 0 || ::access(output.path.c_str(), W_OK) != 0)) {
    throw InputError(output.option, output.path,
                     "exists and is read-only: an output never replaces a file its permissions protect (make it "
                     "writable or remove it)");
  }
}

// A folder's descriptor for the *at calls: readable when it can be, else O_PATH (enough for openat,
// mkdirat, renameat and unlinkat in a folder that may be written but not listed).
int open_folder_descriptor(int dirfd, const char* name, bool follow) {
  const int nofollow = follow ? 0 : O_NOFOLLOW;
  int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | nofollow);
  if (fd < 0 && errno == EACCES) fd = ::openat(dirfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC | nofollow);
  return fd;
}

OutputFolder::Kind kind_at(int dirfd, const std::string& name) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT || errno == ENOTDIR ? OutputFolder::Kind::missing : OutputFolder::Kind::other;
  }
  if (S_ISLNK(st.st_mode)) return OutputFolder::Kind::link;
  if (S_ISDIR(st.st_mode)) return OutputFolder::Kind::folder;
  if (S_ISREG(st.st_mode)) return OutputFolder::Kind::file;
  return OutputFolder::Kind::other;
}

// Whether a figure's last bytes (tail) close it, by the kind its name says.
bool figure_tail_is_whole(const std::string& name, std::string tail) {
  const auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
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
  return !tail.empty();
}

// The last (up to) 256 bytes of the regular file open as fd, or nothing.
std::optional<std::string> file_tail(int fd) {
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  const off_t size = st.st_size;
  const off_t tail_size = std::min<off_t>(size, 256);
  std::string tail(static_cast<std::size_t>(tail_size), '\0');
  off_t done = 0;
  while (done < tail_size) {
    const ssize_t n =
        ::pread(fd, tail.data() + done, static_cast<std::size_t>(tail_size - done), size - tail_size + done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    done += n;
  }
  return tail;
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

std::string planted_link_message(const std::string& folder, const std::string& name) {
  return quote_text(name) + " in the folder " + quote_text(folder) +
         " is a symbolic link: refused, never followed (remove it)";
}

// ---------------------------------------------------------------------------------------------------

OutputFolder::OutputFolder(std::string option, std::string path, int fd)
    : option_(std::move(option)), path_(std::move(path)), fd_(fd) {}

OutputFolder::OutputFolder(std::string option, std::string path, bool create)
    : option_(std::move(option)), path_(std::move(path)) {
  if (create) {
    std::error_code ec;
    fs::create_directories(path_, ec);
    if (ec) throw IoError(option_ + " " + quote_text(path_) + ": cannot create the folder: " + ec.message());
  }
  fd_ = open_folder_descriptor(AT_FDCWD, path_.c_str(), /*follow=*/true);
  if (fd_ < 0) throw IoError(option_ + " " + quote_text(path_) + ": cannot open the folder: " + std::strerror(errno));
}

OutputFolder::~OutputFolder() {
  if (fd_ >= 0) ::close(fd_);
}

OutputFolder::OutputFolder(OutputFolder&& other) noexcept
    : option_(std::move(other.option_)), path_(std::move(other.path_)), fd_(other.fd_) {
  other.fd_ = -1;
}

OutputFolder& OutputFolder::operator=(OutputFolder&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    option_ = std::move(other.option_);
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

std::string OutputFolder::path_of(const std::string& name) const { return (fs::path(path_) / name).string(); }

OutputFolder OutputFolder::sub(const std::string& name, bool create) const {
  if (create && ::mkdirat(fd_, name.c_str(), 0777) != 0 && errno != EEXIST) {
    throw IoError(option_ + " " + quote_text(path_of(name)) + ": cannot create the folder: " + std::strerror(errno));
  }
  const int fd = open_folder_descriptor(fd_, name.c_str(), /*follow=*/false);
  if (fd < 0) {
    const int error = errno;
    switch (kind(name)) {
      case Kind::link:
        throw IoError(option_ + ": " + planted_link_message(path_, name));
      case Kind::file:
      case Kind::other:
        throw IoError(option_ + " " + quote_text(path_of(name)) + ": exists and is not a folder: refused");
      default:
        throw IoError(option_ + " " + quote_text(path_of(name)) + ": cannot open the folder: " + std::strerror(error));
    }
  }
  return OutputFolder(option_, path_of(name), fd);
}

OutputFolder::Kind OutputFolder::kind(const std::string& name) const { return kind_at(fd_, name); }

std::optional<std::string> OutputFolder::read(const std::string& name) const {
  // O_NONBLOCK: a fifo planted here does not block the open; it is refused below.
  const int fd = ::openat(fd_, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) return std::nullopt;
    if (error == ELOOP || kind(name) == Kind::link) throw IoError(option_ + ": " + planted_link_message(path_, name));
    throw IoError(option_ + " " + quote_text(path_of(name)) + ": cannot read the file: " + std::strerror(error));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    throw IoError(option_ + " " + quote_text(path_of(name)) + ": " +
                  (::fstat(fd, &st) == 0 ? "is " + describe_kind(st.st_mode) : std::string("cannot be read")) +
                  ", not a regular file: refused");
  }
  std::string content;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw IoError(option_ + " " + quote_text(path_of(name)) + ": cannot read the file: " + std::strerror(errno));
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
  }
  return content;
}

void OutputFolder::remove(const std::string& name) const {
  if (::unlinkat(fd_, name.c_str(), 0) != 0 && errno != ENOENT) {
    throw IoError(option_ + " " + quote_text(path_of(name)) + ": cannot remove: " + std::strerror(errno));
  }
}

void OutputFolder::remove_tree(const std::string& name) const {
  const Kind what = kind(name);
  if (what == Kind::missing) return;
  if (what != Kind::folder) {
    remove(name);
    return;
  }
  {
    const OutputFolder inside = sub(name, false);
    for (const std::string& entry : inside.names()) inside.remove_tree(entry);
  }
  if (::unlinkat(fd_, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    throw IoError(option_ + " " + quote_text(path_of(name)) + ": cannot remove the folder: " + std::strerror(errno));
  }
}

std::vector<std::string> OutputFolder::names() const {
  std::vector<std::string> names;
  const int fd = ::openat(fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw IoError(option_ + " " + quote_text(path_) + ": cannot list the folder: " + std::strerror(errno));
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    throw IoError(option_ + " " + quote_text(path_) + ": cannot list the folder: " + std::strerror(errno));
  }
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

// ---------------------------------------------------------------------------------------------------

struct AtomicFile::Impl {
  int dirfd = -1;    // the target's folder (owned)
  std::string name;  // the target's name in it
  std::string temp;  // the temporary's name in it
  int fd = -1;       // the temporary, open for writing
  int slot = -1;     // its slot in the handler's registry
  std::unique_ptr<FdBuffer> buffer;
  std::unique_ptr<std::ostream> stream;
  bool finished = false;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (fd >= 0) ::close(fd);
    if (!finished && !temp.empty()) remove_temporary(slot, dirfd, temp, false);
    if (dirfd >= 0) ::close(dirfd);
  }

  // Creates the temporary in dirfd for the target name; display_folder names the folder in errors.
  void start(const std::string& option, const std::string& path, const std::string& display_folder) {
    if (name.empty() || name == "." || name == "..")
      throw IoError(option + " " + quote_text(path) + ": not a file name");
    // The new file keeps the permissions of the one it replaces (a private file stays private); a new
    // one gets 0666 less the umask.
    struct stat st {};
    const bool replaces = ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
    const NewTemporary made = create_temporary(dirfd, false, 0666);
    if (made.fd < 0) {
      throw IoError(option + " " + quote_text(path) + ": cannot create a temporary file in " +
                    quote_text(display_folder) + ": " + std::strerror(made.error));
    }
    fd = made.fd;
    slot = made.slot;
    temp = made.name;
    if (replaces) ::fchmod(fd, st.st_mode & 0777);
    buffer = std::make_unique<FdBuffer>(fd);
    stream = std::make_unique<std::ostream>(buffer.get());
  }
};

AtomicFile::AtomicFile(std::string option, std::string path)
    : option_(std::move(option)), path_(std::move(path)), impl_(std::make_unique<Impl>()) {
  const std::string folder = folder_of(path_);
  impl_->name = fs::path(path_).filename().string();
  impl_->dirfd = open_folder_descriptor(AT_FDCWD, folder.c_str(), /*follow=*/true);
  if (impl_->dirfd < 0) {
    throw IoError(option_ + " " + quote_text(path_) + ": cannot create a temporary file in " + quote_text(folder) +
                  ": " + std::strerror(errno));
  }
  impl_->start(option_, path_, folder);
  temporary_ = (fs::path(folder) / impl_->temp).string();
}

AtomicFile::AtomicFile(std::string option, const OutputFolder& folder, std::string name)
    : option_(std::move(option)), path_(folder.path_of(name)), impl_(std::make_unique<Impl>()) {
  impl_->name = std::move(name);
  impl_->dirfd = ::fcntl(folder.fd(), F_DUPFD_CLOEXEC, 0);
  if (impl_->dirfd < 0) {
    throw IoError(option_ + " " + quote_text(path_) + ": cannot create a temporary file in " +
                  quote_text(folder.path()) + ": " + std::strerror(errno));
  }
  impl_->start(option_, path_, folder.path());
  temporary_ = folder.path_of(impl_->temp);
}

AtomicFile::~AtomicFile() = default;

std::ostream& AtomicFile::stream() { return *impl_->stream; }

namespace {

[[noreturn]] void fail_atomic_file(int& fd, int& slot, int dirfd, const std::string& temp, bool& finished,
                                   const std::string& where, const std::string& what, int error) {
  if (fd >= 0) ::close(fd);
  fd = -1;
  remove_temporary(slot, dirfd, temp, false);
  finished = true;
  slot = -1;
  throw IoError(where + ": " + what + (error ? std::string(": ") + std::strerror(error) : ""));
}

}  // namespace

void AtomicFile::finish() {
  Impl& f = *impl_;
  if (f.finished) throw IoError(option_ + " " + quote_text(path_) + ": the file was already given up");
  if (f.fd < 0) return;  // finished already, waiting for commit()
  const auto fail = [&](const std::string& what, int error) {
    fail_atomic_file(f.fd, f.slot, f.dirfd, f.temp, f.finished, option_ + " " + quote_text(path_), what, error);
  };
  f.stream->flush();
  if (f.buffer->failed() || !*f.stream) fail("cannot write the file", f.buffer->error());
  if (::fsync(f.fd) != 0 && errno != EINVAL) fail("cannot write the file", errno);
  const int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0) fail("cannot write the file", errno);
}

void AtomicFile::commit() {
  finish();
  Impl& f = *impl_;
  const auto fail = [&](const std::string& what, int error) {
    fail_atomic_file(f.fd, f.slot, f.dirfd, f.temp, f.finished, option_ + " " + quote_text(path_), what, error);
  };
  // The target may have changed since the checks: never replace anything but a regular file (a
  // symbolic link included: rename would replace the link, not write to its target).
  struct stat st {};
  if (::fstatat(f.dirfd, f.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
    fail(std::string("exists and is ") + (S_ISLNK(st.st_mode) ? "a symbolic link" : describe_kind(st.st_mode)) +
             " now: not replaced",
         0);
  }
  const int error = rename_temporary(f.slot, f.dirfd, f.temp, f.dirfd, f.name);
  if (error != 0) fail("cannot move the finished file into place", error);
  f.finished = true;
  f.slot = -1;
}

void write_file_atomically(const std::string& option, const std::string& path,
                           const std::function<void(std::ostream&)>& write) {
  AtomicFile file(option, path);
  write(file.stream());
  file.commit();
}

void write_file_atomically(const std::string& option, const OutputFolder& folder, const std::string& name,
                           const std::function<void(std::ostream&)>& write) {
  AtomicFile file(option, folder, name);
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

TemporaryPathGuard::TemporaryPathGuard(std::string path)
    : path_(std::move(path)), slot_(register_entry(AT_FDCWD, path_, false)) {}

TemporaryPathGuard::~TemporaryPathGuard() {
  if (path_.empty()) return;
  remove_temporary(slot_, AT_FDCWD, path_, false);
}

void TemporaryPathGuard::release() {
  set_state(slot_, kFree);
  slot_ = -1;
  path_.clear();
}

// ---------------------------------------------------------------------------------------------------

TemporaryFolder::TemporaryFolder(const OutputFolder& parent) : parent_path_(parent.path()), option_(parent.option()) {
  parent_fd_ = ::fcntl(parent.fd(), F_DUPFD_CLOEXEC, 0);
  const NewTemporary made =
      parent_fd_ >= 0 ? create_temporary(parent_fd_, true, 0700) : NewTemporary{-1, -1, "", errno};
  if (made.fd < 0) {
    if (parent_fd_ >= 0) ::close(parent_fd_);
    throw IoError(option_ + " " + quote_text(parent_path_) +
                  ": cannot create a temporary folder: " + std::strerror(made.error));
  }
  fd_ = made.fd;
  slot_ = made.slot;
  name_ = made.name;
}

TemporaryFolder::~TemporaryFolder() {
  for (const Entry& entry : entries_) remove_temporary(entry.slot, fd_, entry.name, false);
  remove_temporary(slot_, parent_fd_, name_, true);
  ::close(fd_);
  ::close(parent_fd_);
}

void TemporaryFolder::expect(const std::string& name) {
  for (const Entry& entry : entries_)
    if (entry.name == name) return;
  entries_.push_back({name, register_entry(fd_, name, false)});
}

int TemporaryFolder::create(const std::string& name) {
  expect(name);
  const int fd = ::openat(fd_, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw IoError(option_ + " " + quote_text(parent_path_) +
                  ": cannot create a file in a temporary folder: " + std::strerror(errno));
  }
  return fd;
}

bool TemporaryFolder::holds(const std::string& name) const { return kind_at(fd_, name) == OutputFolder::Kind::file; }

void TemporaryFolder::move_out(const std::string& name, const std::string& target) {
  const std::string target_path = (fs::path(parent_path_) / target).string();
  switch (kind_at(parent_fd_, target)) {
    case OutputFolder::Kind::link:
      throw IoError(option_ + ": " + planted_link_message(parent_path_, target));
    case OutputFolder::Kind::folder:
    case OutputFolder::Kind::other:
      throw IoError(option_ + " " + quote_text(target_path) + ": exists and is not a regular file: not replaced");
    default:
      break;
  }
  const auto entry = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == name; });
  const int slot = entry == entries_.end() ? -1 : entry->slot;
  const int error = rename_temporary(slot, fd_, name, parent_fd_, target);
  if (error != 0) {
    throw IoError(option_ + " " + quote_text(target_path) +
                  ": cannot move the finished file into place: " + std::strerror(error));
  }
  if (entry != entries_.end()) entries_.erase(entry);  // its slot is free again
}

void TemporaryFolder::remove(const std::string& name) {
  const auto entry = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == name; });
  remove_temporary(entry == entries_.end() ? -1 : entry->slot, fd_, name, false);
  if (entry != entries_.end()) entries_.erase(entry);
}

int live_temporary_count() {
  int count = 0;
  for (const Slot& slot : g_slots) count += slot.state.load() == kLive ? 1 : 0;
  return count;
}

bool figure_is_whole(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  const std::optional<std::string> tail = file_tail(fd);
  if (fd >= 0) ::close(fd);
  return tail && figure_tail_is_whole(path, *tail);
}

bool figure_is_whole(int dirfd, const std::string& name) {
  const int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  const std::optional<std::string> tail = file_tail(fd);
  if (fd >= 0) ::close(fd);
  return tail && figure_tail_is_whole(name, *tail);
}

}  // namespace gradflow
