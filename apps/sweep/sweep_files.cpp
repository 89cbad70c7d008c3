#include <gradflow/apps/sweep/sweep_files.hpp>

#include <gradflow/apps/support/output_file.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/flow/row_fields.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <sstream>

namespace gradflow {
namespace {

double parse_number(const std::string& text) {
  if (text.empty()) return std::numeric_limits<double>::quiet_NaN();
  return std::stod(text);
}

std::vector<std::string> split(const std::string& line) {
  auto fields = split_csv_line(line);
  return fields ? std::move(*fields) : std::vector<std::string>{};
}

}  // namespace

std::string curve_file_name(const RunSpec& run) {
  char name[64];
  std::snprintf(name, sizeof name, "curves/%016llx.csv", static_cast<unsigned long long>(fnv1a(run.key())));
  return name;
}

std::vector<CurvePoint> read_curve(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_curve(text);
}

std::vector<CurvePoint> parse_curve(const std::string& text) {
  std::vector<CurvePoint> points;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // the header: the columns by name (flow/row_fields.hpp)
  std::vector<const RowField*> columns;
  for (const std::string& name : split(line)) columns.push_back(find_row_field(name));
  while (std::getline(in, line)) {
    const auto f = split(line);
    if (f.size() != columns.size()) continue;
    try {
      CurvePoint point;
      for (std::size_t i = 0; i < f.size(); ++i)
        if (columns[i] != nullptr) columns[i]->set(point, parse_number(f[i]));
      points.push_back(point);
    } catch (const std::exception&) {
    }
  }
  return points;
}

std::vector<RunRecord> read_runs_in(const OutputFolder& folder, const std::string& name) {
  std::vector<RunRecord> records;
  const std::optional<std::string> content = folder.read(name);
  if (!content) return records;
  const auto header_end = content->find('\n');
  if (header_end == std::string::npos) return records;
  const RunsCsvReader reader(content->substr(0, header_end));
  std::size_t start = header_end + 1;
  while (start < content->size()) {
    const auto end = content->find('\n', start);
    if (end == std::string::npos) break;  // a torn last line: not a finished run
    if (auto record = reader.parse(content->substr(start, end - start))) records.push_back(std::move(*record));
    start = end + 1;
  }
  return records;
}

int repair_runs_file(const OutputFolder& folder, const std::string& name,
                     const std::function<void(const std::string&)>& warn) {
  const std::optional<std::string> content = folder.read(name);
  if (!content || content->empty()) return 0;
  const std::string path = folder.path_of(name);
  constexpr int kNamed = 5;  // lines named one by one; the rest are counted
  int dropped = 0;
  const auto tell = [&](const std::string& what) {
    if (warn && dropped < kNamed) warn(what);
    ++dropped;
  };
  const auto header_end = content->find('\n');
  std::string kept;
  if (header_end == std::string::npos) {
    tell(path + " line 1 (its header) is cut short (no line break at its end): dropped with the file's " +
         std::to_string(content->size()) + " bytes; the file starts again, every run in it is done again");
    kept = runs_csv_header() + "\n";
  } else {
    const std::string header = content->substr(0, header_end);
    const RunsCsvReader reader(header);
    if (!reader.usable()) {
      tell(path +
           " line 1 (its header) names no key column: the file starts again under a new header, every run "
           "in it is done again: " +
           quote_text(header));
      kept = runs_csv_header() + "\n";
    } else {
      kept = header + "\n";
      std::size_t start = header_end + 1;
      long number = 2;
      for (; start < content->size(); ++number) {
        const auto end = content->find('\n', start);
        const std::string line = content->substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (end == std::string::npos) {
          tell(path + " line " + std::to_string(number) +
               " is cut short (no line break at its end: a write cut short): dropped, its run is done again: " +
               quote_text(line));
          break;
        }
        if (reader.parse(line)) {
          kept += line + "\n";
        } else {
          tell(path + " line " + std::to_string(number) +
               " does not parse as a run: dropped, its run (if any) is done again: " + quote_text(line));
        }
        start = end + 1;
      }
    }
  }
  if (dropped == 0) return 0;
  if (warn && dropped > kNamed) warn(path + ": " + std::to_string(dropped - kNamed) + " more lines dropped");
  write_file_atomically(folder.option(), folder, name, [&](std::ostream& out) { out << kept; });
  return dropped;
}

namespace {

// Writes all of text at the end of the file fd (opened O_APPEND); on a failure, cuts the file back to
// where it was (a partial line is never left for the next line to continue) and throws IoError naming
// path and the cause.
void append_whole(int fd, const std::string& text, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw IoError("cannot append to " + path + ": " + std::strerror(errno));
  const off_t before = st.st_size;
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;
      const bool taken_back = ::ftruncate(fd, before) == 0;
      throw IoError("cannot append to " + path + ": " + std::strerror(error) +
                    (taken_back ? " (the partial line was taken back; the next sweep does its run again)"
                                : " (the file may end with a partial line; the next sweep drops it)"));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 && errno != EINVAL) throw IoError("cannot append to " + path + ": " + std::strerror(errno));
}

// The last byte of the file fd is a line break, or the file is empty.
bool ends_whole(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size == 0) return true;
  char last = 0;
  return ::pread(fd, &last, 1, st.st_size - 1) == 1 && last == '\n';
}

}  // namespace

std::vector<RunRecord> execute_pending(const std::vector<RunSpec>& runs, const SweepSpec& spec, int threads,
                                       const OutputFolder& out, const std::string& append_name, SweepProgress* progress,
                                       const std::function<void(const std::string&)>& warn) {
  const OutputFolder curves = out.sub("curves", /*create=*/true);
  const std::string append_path = out.path_of(append_name);
  // O_NOFOLLOW: a symbolic link planted in the folder is refused, never followed to a file elsewhere.
  const auto open_append = [&] {
    const int fd =
        ::openat(out.fd(), append_name.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0 && errno == ELOOP)
      throw InputError(out.option(), out.path(), planted_link_message(out.path(), append_name));
    if (fd < 0) throw IoError("cannot open " + append_path + " for appending: " + std::strerror(errno));
    return fd;
  };
  int fd = open_append();
  if (!ends_whole(fd)) {
    // Never continue a fragment: the torn line is dropped (and its run done again by the next sweep).
    ::close(fd);
    repair_runs_file(out, append_name, warn);
    fd = open_append();
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size == 0) append_whole(fd, runs_csv_header() + "\n", append_path);
  const std::vector<const RowField*> columns = row_columns(kCurveRows, spec.observe);
  const auto finished = [&](const RunRecord& record, const std::vector<CurvePoint>& curve) {
    // The curve's temporary is made in curves/ (reached without following a link) and registered for
    // removal before its first byte.
    const std::string curve_name = std::filesystem::path(curve_file_name(record.run)).filename().string();
    write_file_atomically("curve", curves, curve_name, [&](std::ostream& stream) {
      stream << row_csv_header(columns) << "\n";
      for (const CurvePoint& p : curve) stream << row_csv_line(p, columns, "") << "\n";
    });
    // One write of the whole line: a kill cannot leave half of it behind.
    append_whole(fd, to_csv_line(record) + "\n", append_path);
  };
  return run_grid(runs, spec, threads, finished, progress ? &progress->done : nullptr, warn);
}

void write_runs_sorted(const OutputFolder& folder, const std::string& name, std::vector<RunRecord> records) {
  sort_by_key(records);
  write_file_atomically("runs", folder, name, [&](std::ostream& out) {
    out << runs_csv_header() << "\n";
    for (const RunRecord& r : records) out << to_csv_line(r) << "\n";
  });
}

void write_summary(const OutputFolder& folder, const std::string& name, const std::vector<SummaryRow>& rows,
                   const std::string& tolerance) {
  write_file_atomically("summary", folder, name, [&](std::ostream& out) {
    out << summary_csv_header() << "\n";
    for (const SummaryRow& r : rows) {
      std::string line;
      for (const NamedValue& value : summary_values(r, tolerance)) {
        line += ',';
        line += csv_text(value.value);
      }
      out << line.substr(1) << "\n";
    }
  });
}

}  // namespace gradflow
