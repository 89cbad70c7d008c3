// Fuzz target: the numeric CSV reader (apps/csv.hpp) as the matrix, vector and data files use it. The
// first byte picks the reader: 0 a --matrix file (then the symmetric positive semidefinite check of
// the quadratic), 1 a one-value-per-line vector (--theta0, --minimizer), 2 a --data file with an
// optional header. Bad input must be an InputError with a one-line message; anything else is a bug.
#include <gradflow/apps/csv.hpp>
#include <gradflow/apps/support/memory_limit.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/problems/quadratic.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check_message(const gradflow::InputError& e) {
  // One line whatever the input held.
  if (std::string_view(e.what()).find('\n') != std::string_view::npos) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    if (mode == 0) {
      const gradflow::CsvTable table = gradflow::parse_csv(text, "m.csv", "--matrix");
      if (table.values.rows() == table.values.cols() && table.values.rows() <= 64) {
        (void)gradflow::Quadratic::check_matrix(table.values);
      }
    } else if (mode == 1) {
      const gradflow::Vector v = gradflow::parse_vector_csv(text, "v.csv", "--theta0");
      if (v.size() < 1 || !v.allFinite()) std::abort();
    } else {
      const gradflow::CsvTable table = gradflow::parse_csv(text, "d.csv", "--data", /*allow_header=*/true);
      if (table.values.rows() < 1 || !table.values.allFinite()) std::abort();
      if (!table.header.empty() && static_cast<long>(table.header.size()) != table.values.cols()) std::abort();
    }
  } catch (const gradflow::InputError& e) {
    check_message(e);
  }
  return 0;
}
