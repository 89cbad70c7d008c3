#include <gradflow/apps/csv.hpp>

#include <gradflow/core/input_error.hpp>

#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

namespace gradflow {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fields;
}

// Parses a whole field as a double; nullopt when it is not a number.
std::optional<double> parse_number(std::string_view field) {
  if (!field.empty() && field.front() == '+') field.remove_prefix(1);
  double value = 0.0;
  const auto* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), end, value);
  if (field.empty() || ptr != end) return std::nullopt;
  if (ec == std::errc::result_out_of_range) return std::nullopt;
  if (ec != std::errc()) return std::nullopt;
  return value;
}

}  // namespace

CsvTable read_csv(const std::string& path, const std::string& option, bool allow_header) {
  std::ifstream in(path);
  if (!in) {
    throw InputError(option, path, "cannot open the file for reading");
  }
  CsvTable table;
  std::vector<std::vector<double>> rows;
  std::string line;
  long line_number = 0;
  std::size_t columns = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (trim(line).empty()) continue;
    const auto fields = split_fields(line);
    const bool first_row = rows.empty() && table.header.empty();
    std::vector<double> row;
    row.reserve(fields.size());
    bool numeric = true;
    for (const auto field : fields) {
      const auto value = parse_number(field);
      if (!value) {
        numeric = false;
        break;
      }
      row.push_back(*value);
    }
    if (!numeric && first_row && allow_header) {
      for (const auto field : fields) table.header.emplace_back(field);
      columns = fields.size();
      continue;
    }
    for (std::size_t j = 0; j < fields.size(); ++j) {
      const auto value = parse_number(fields[j]);
      const std::string where = "line " + std::to_string(line_number) + ", column " + std::to_string(j + 1);
      if (!value) {
        throw InputError(option, path, where + ": '" + std::string(fields[j]) + "' is not a number");
      }
      if (!std::isfinite(*value)) {
        throw InputError(option, path, where + ": value " + std::string(fields[j]) + " is not finite");
      }
    }
    if (columns == 0) columns = row.size();
    if (row.size() != columns) {
      throw InputError(option, path,
                       "line " + std::to_string(line_number) + " has " + std::to_string(row.size()) +
                           " values, expected " + std::to_string(columns) + " (ragged rows)");
    }
    rows.push_back(std::move(row));
  }
  if (in.bad()) {
    throw InputError(option, path, "read error");
  }
  if (rows.empty()) {
    throw InputError(option, path, "the file holds no numeric rows");
  }
  table.values.resize(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(columns));
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < columns; ++j)
      table.values(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rows[i][j];
  return table;
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
