// Conversions between Python and the library, shared by the binding files: arrays (float64, converted
// once by numpy when they are not already C-contiguous float64), named values (core/named_value.hpp) as
// Python objects, rows through the row field table (flow/row_fields.hpp), names of enumerations, and
// the library's OptionError as a ValueError that names the Python keyword.
#pragma once

#include <gradflow/core/named_value.hpp>
#include <gradflow/core/objective.hpp>
#include <gradflow/core/option_error.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/flow/row_fields.hpp>
#include <gradflow/flow/trajectory.hpp>

#include <gradflow/core/size_estimate.hpp>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gradflow::python {

namespace py = pybind11;
using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

py::array_t<double> to_array(const ConstVectorView& v);
// A p x rows column-major matrix as a (rows, p) array: the same memory order.
py::array_t<double> states_array(const Matrix& states);
// A 1-D float64 C-contiguous array: the object itself when it is one, else numpy's conversion (once).
Array vector_array(const py::handle& object, const char* what);
Vector to_vector(const py::handle& object, const char* what);
// A view of the array's buffer, no copy; the array must outlive it.
Eigen::Map<const Vector> view_of(const Array& a);
// A 2-D array with at least one row and one column ("X: has no rows (the data set is empty)").
Matrix to_matrix(const py::handle& object, const char* what);

// An estimate of what a call would allocate against the process's memory limit (the command line's
// --max-memory default, 75% of physical memory), before anything is allocated: above it a ValueError
// "<name> = <value>: <what> needs about 7.3 TiB of memory (estimate), more than the limit of ...".
void check_memory_estimate(const SizeEstimate& estimate, const std::string& name, const std::string& value,
                           const std::string& what);

// A named value as Python: None for null, bool, int, float or str; a list of them as a dict.
py::object to_python(const Value& value);
py::dict to_dict(const NamedValues& values);

// One row as a dict of the columns of output (and of observe), and the rows as a dict of arrays.
py::dict row_dict(const Row& row, RowOutput output, const Observables& observe);
py::dict row_arrays(const std::vector<Row>& rows, RowOutput output, const Observables& observe);
// The values of one column along the rows.
py::array_t<double> column(const std::vector<Row>& rows, const RowField& field);

// A ValueError with the error's message, the field named by its Python keyword: names maps an options
// field to it ("stop.max_steps" -> "max_iters"); other fields lose their struct's prefix.
[[noreturn]] void raise_option_error(const OptionError& error, const std::map<std::string, std::string>& names = {});
void raise_if(const std::optional<OptionError>& error, const std::map<std::string, std::string>& names = {});

// The enumeration value named value, or a ValueError "field = 'value': must be one of ...".
template <class T, class FromString, class Names>
T parse_name(const std::string& field, const std::string& value, FromString from_string, const Names& names) {
  if (const auto parsed = from_string(value)) return *parsed;
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + std::string(n);
  // quote_text: a NUL, a control byte or bytes that are not UTF-8 (a name given as bytes) escaped, so
  // that the message neither stops at a NUL nor sends them to a terminal.
  throw py::value_error(field + " = '" + quote_text(value) + "': must be one of " + list);
}

}  // namespace gradflow::python
