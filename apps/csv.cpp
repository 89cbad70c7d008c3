#include <gradflow/apps/csv.hpp>

#include <gradflow/apps/support/memory_limit.hpp>
#include <gradflow/apps/support/output_file.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/text.hpp>

#include <sys/stat.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <optional>

namespace gradflow {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

enum class FieldKind { number, out_of_range, not_a_number };

struct Field {
  FieldKind kind = FieldKind::not_a_number;
  double value = 0.0;
};

// Classifies a whole field: a finite or infinite number, a number out of the range of a double, or
// not a number at all.
Field classify(std::string_view field) {
  Field f;
  if (!field.empty() && field.front() == '+') field.remove_prefix(1);
  if (field.empty()) return f;
  const auto* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), end, f.value);
  if (ptr != end) return f;
  if (ec == std::errc::result_out_of_range) {
    f.kind = FieldKind::out_of_range;
  } else if (ec == std::errc()) {
    f.kind = FieldKind::number;
  }
  return f;
}

// Calls visit(field) for each comma-separated field of the line, trimmed.
template <class Visit>
void for_each_field(std::string_view line, Visit visit) {
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    visit(trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
}

}  // namespace

CsvTable parse_csv(std::string_view content, const std::string& path, const std::string& option, bool allow_header) {
  if (content.substr(0, 3) == "\xEF\xBB\xBF") content.remove_prefix(3);  // a UTF-8 byte-order mark
  CsvTable table;
  std::vector<double> values;  // row by row
  std::size_t columns = 0;
  std::size_t rows = 0;
  long line_number = 0;
  std::size_t start = 0;
  while (start < content.size()) {
    std::size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    const std::string_view line = content.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (trim(line).empty()) continue;
    const bool first_row = rows == 0 && table.header.empty();
    if (first_row && allow_header) {
      bool any_text = false;
      for_each_field(line,
                     [&](std::string_view field) { any_text |= classify(field).kind == FieldKind::not_a_number; });
      if (any_text) {
        for_each_field(line, [&](std::string_view field) { table.header.emplace_back(field); });
        columns = table.header.size();
        continue;
      }
    }
    std::size_t column = 0;
    for_each_field(line, [&](std::string_view field) {
      ++column;
      const std::string where = "line " + std::to_string(line_number) + ", column " + std::to_string(column);
      const Field f = classify(field);
      if (f.kind == FieldKind::not_a_number) {
        throw InputError(option, path,
                         where + ": '" + quote_text(field) + "' is not a number" +
                             (first_row && !allow_header ? " (this file takes no header row)" : ""));
      }
      if (f.kind == FieldKind::out_of_range) {
        throw InputError(option, path, where + ": " + quote_text(field) + " is out of the range of a double");
      }
      if (!std::isfinite(f.value))
        throw InputError(option, path, where + ": value " + quote_text(field) + " is not finite");
      values.push_back(f.value);
    });
    if (columns == 0) columns = column;
    if (column != columns) {
      throw InputError(option, path,
                       "line " + std::to_string(line_number) + " has " + std::to_string(column) + " values, expected " +
                           std::to_string(columns) + (rows == 0 ? " (as the header has)" : "") + " (ragged rows)");
    }
    ++rows;
  }
  if (rows == 0) {
    throw InputError(
        option, path,
        table.header.empty() ? "the file holds no numeric rows" : "the file holds a header but no numeric rows");
  }
  table.values.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(columns));
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < columns; ++j)
      table.values(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = values[i * columns + j];
  return table;
}

CsvTable read_csv(const std::string& path, const std::string& option, bool allow_header) {
  check_input_file(option, path);  // a regular file: a device or a fifo is never read
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw InputError(option, path, "cannot open the file for reading: no such file");
  {
    // The text, the values (at most one per two bytes) and the matrix.
    SizeEstimate estimate;
    estimate.add({static_cast<long long>(st.st_size), 9});
    check_memory(estimate, option, path,
                 "reading this " + format_bytes(static_cast<std::uint64_t>(st.st_size)) + " file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(option, path, "cannot open the file for reading");
  // The file may grow while it is read: it is read up to the same limit.
  const std::uint64_t cap = memory_limit().bytes / 9;
  std::string content;
  char buffer[1 << 16];
  while (in) {
    in.read(buffer, sizeof buffer);
    content.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (content.size() > cap) {
      SizeEstimate estimate;
      estimate.add({static_cast<long long>(content.size()), 9});
      check_memory(estimate, option, path, "reading this file (at least " + format_bytes(content.size()) + ")");
    }
  }
  if (in.bad()) throw InputError(option, path, "read error");
  return parse_csv(content, path, option, allow_header);
}

Vector parse_vector_csv(std::string_view content, const std::string& path, const std::string& option) {
  const CsvTable table = parse_csv(content, path, option, /*allow_header=*/false);
  if (table.values.cols() != 1) {
    throw InputError(option, path,
                     "expected one value per line, found " + std::to_string(table.values.cols()) + " values per line");
  }
  return table.values.col(0);
}

Vector read_vector_csv(const std::string& path, const std::string& option) {
  const CsvTable table = read_csv(path, option, /*allow_header=*/false);
  if (table.values.cols() != 1) {
    throw InputError(option, path,
                     "expected one value per line, found " + std::to_string(table.values.cols()) + " values per line");
  }
  return table.values.col(0);
}

}  // namespace gradflow
