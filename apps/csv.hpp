// Reading numeric CSV files: the matrix, data, minimizer and initial-point files of the command line.
//
// Values are separated by commas (spaces around them are ignored), blank lines are skipped, and an
// optional first row of column names is allowed where the caller says so. Every problem (missing file,
// ragged row, non-numeric, NaN or Inf value, empty file) is an InputError naming the option, the
// file and the row and column.
#pragma once

#include <gradflow/core/objective.hpp>

#include <string>
#include <vector>

namespace gradflow {

struct CsvTable {
  Matrix values;                    // rows x columns
  std::vector<std::string> header;  // empty unless the file had a header row
};

// option: the name used in error messages (e.g. "--data"). allow_header: the first row may hold
// column names (it is taken as a header when any of its fields is not a number).
CsvTable read_csv(const std::string& path, const std::string& option, bool allow_header = false);

// A vector stored one value per line (as --theta0 and --theta-out use).
Vector read_vector_csv(const std::string& path, const std::string& option);

}  // namespace gradflow
