#include <gradflow/apps/sweep/sweep_files.hpp>

#include <gradflow/apps/support/output_file.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/flow/row_fields.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

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
  std::vector<CurvePoint> points;
  std::ifstream in(path);
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

std::vector<RunRecord> execute_pending(const std::vector<RunSpec>& runs, const SweepSpec& spec, int threads,
                                       const std::string& append_path, SweepProgress* progress,
                                       const std::function<void(const std::string&)>& warn) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(spec.out) / "curves", ec);
  if (ec) throw IoError("cannot create " + (std::filesystem::path(spec.out) / "curves").string() + ": " + ec.message());
  // O_NOFOLLOW: a symbolic link planted in the folder is refused, never followed to a file elsewhere.
  const int fd = ::open(append_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 && errno == ELOOP) {
    throw InputError("--out", spec.out, quote_text(append_path) + " is a symbolic link: refused (remove it)");
  }
  if (fd < 0) throw IoError("cannot open " + append_path + " for appending: " + std::strerror(errno));
  if (::lseek(fd, 0, SEEK_END) == 0) {
    const std::string header = runs_csv_header() + "\n";
    if (::write(fd, header.data(), header.size()) != static_cast<ssize_t>(header.size())) {
      ::close(fd);
      throw IoError("cannot write " + append_path + ": " + std::strerror(errno));
    }
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  const std::vector<const RowField*> columns = row_columns(kCurveRows, spec.observe);
  const auto finished = [&](const RunRecord& record, const std::vector<CurvePoint>& curve) {
    const std::string curve_path = (std::filesystem::path(spec.out) / curve_file_name(record.run)).string();
    write_file_atomically("curve", curve_path, [&](std::ostream& out) {
      out << row_csv_header(columns) << "\n";
      for (const CurvePoint& p : curve) out << row_csv_line(p, columns, "") << "\n";
    });
    const std::string line = to_csv_line(record) + "\n";
    // One write of the whole line: a kill cannot leave half of it behind.
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      throw IoError("cannot append to " + append_path + ": " + std::strerror(errno));
    }
    ::fsync(fd);
  };
  return run_grid(runs, spec, threads, finished, progress ? &progress->done : nullptr, warn);
}

void write_runs_sorted(const std::string& path, std::vector<RunRecord> records) {
  std::sort(records.begin(), records.end(),
            [](const RunRecord& a, const RunRecord& b) { return a.run.key() < b.run.key(); });
  records.erase(std::unique(records.begin(), records.end(),
                            [](const RunRecord& a, const RunRecord& b) { return a.run.key() == b.run.key(); }),
                records.end());
  write_file_atomically("runs", path, [&](std::ostream& out) {
    out << runs_csv_header() << "\n";
    for (const RunRecord& r : records) out << to_csv_line(r) << "\n";
  });
}

void write_summary(const std::string& path, const std::vector<SummaryRow>& rows, const std::string& tolerance) {
  write_file_atomically("summary", path, [&](std::ostream& out) {
    out << summary_csv_header() << "\n";
    for (const SummaryRow& r : rows) {
      std::string line;
      for (const NamedValue& value : summary_values(r, tolerance)) line += "," + csv_text(value.value);
      out << line.substr(1) << "\n";
    }
  });
}

}  // namespace gradflow
