// Reading numeric CSV files: the matrix, data, minimizer and initial-point files of the command line.
//
// Values are separated by commas (spaces around them are ignored), blank lines are skipped, a UTF-8
// byte-order mark at the start is skipped, and an optional first row of column names is allowed where
// the caller says so: the first row is a header only when some field of it is not a number at all
// (a number out of the range of a double, such as 1e400, is an error, not a header). Every problem
// (missing file, ragged row, a field that is not a number, NaN, Inf or out of range, empty file) is an
// InputError naming the option, the file, and the line and column; the offending text is quoted at
// most 60 bytes long with control bytes escaped. The file's size is checked against the memory limit
// before it is read (apps/support/memory_limit.hpp).
#pragma once

#include <gradflow/core/objective.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

struct CsvTable {
  Matrix values;                    // rows x columns
  std::vector<std::string> header;  // empty unless the file had a header row
};

// option: the name used in error messages (e.g. "--data"). allow_header: the first row may hold
// column names.
CsvTable read_csv(const std::string& path, const std::string& option, bool allow_header = false);

// The same from the file's content (path is only named in messages).
CsvTable parse_csv(std::string_view content, const std::string& path, const std::string& option,
                   bool allow_header = false);

// A vector stored one value per line (as --theta0 and --theta-out use).
Vector read_vector_csv(const std::string& path, const std::string& option);
Vector parse_vector_csv(std::string_view content, const std::string& path, const std::string& option);

}  // namespace gradflow
