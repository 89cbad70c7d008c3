#include "convert.hpp"

#include <gradflow/apps/support/memory_limit.hpp>

#include <algorithm>
#include <variant>

namespace gradflow::python {

py::array_t<double> to_array(const ConstVectorView& v) {
  py::array_t<double> out(v.size());
  std::copy(v.data(), v.data() + v.size(), out.mutable_data());
  return out;
}

py::array_t<double> states_array(const Matrix& states) {
  py::array_t<double> out({states.cols(), states.rows()});
  std::copy(states.data(), states.data() + states.size(), out.mutable_data());
  return out;
}

namespace {

// numpy casts complex to float64 by dropping the imaginary part (with only a ComplexWarning): a
// complex input is refused unless every imaginary part is zero (then it is its real part).
void refuse_imaginary_parts(const py::handle& object, const char* what) {
  py::array a;
  if (py::isinstance<py::array>(object)) {
    a = py::reinterpret_borrow<py::array>(object);
  } else {
    if (PyFloat_Check(object.ptr()) || PyLong_Check(object.ptr())) return;
    a = py::array::ensure(object);  // a list of complex numbers: a complex array (inferred dtype)
    if (!a) {
      PyErr_Clear();
      return;  // not convertible: the conversion below says so
    }
  }
  if (a.dtype().kind() != 'c') return;
  const py::object numpy = py::module_::import("numpy");
  if (!numpy.attr("any")(numpy.attr("imag")(a)).cast<bool>()) return;
  throw py::value_error(std::string(what) + ": has an entry with a non-zero imaginary part (complex " +
                        "numbers are not accepted; pass the real part, e.g. np.real(x))");
}

}  // namespace

Array vector_array(const py::handle& object, const char* what) {
  refuse_imaginary_parts(object, what);
  Array a = Array::ensure(object);
  if (!a) throw py::value_error(std::string(what) + ": not convertible to an array of float64");
  if (a.ndim() != 1) {
    throw py::value_error(std::string(what) + ": must be a 1-D array, got " + std::to_string(a.ndim()) + " dimensions");
  }
  return a;
}

Vector to_vector(const py::handle& object, const char* what) {
  const Array a = vector_array(object, what);
  return Eigen::Map<const Vector>(a.data(), a.shape(0));
}

Eigen::Map<const Vector> view_of(const Array& a) { return Eigen::Map<const Vector>(a.data(), a.shape(0)); }

Matrix to_matrix(const py::handle& object, const char* what) {
  refuse_imaginary_parts(object, what);
  const Array a = Array::ensure(object);
  if (!a) throw py::value_error(std::string(what) + ": not convertible to an array of float64");
  if (a.ndim() != 2) {
    throw py::value_error(std::string(what) + ": must be a 2-D array, got " + std::to_string(a.ndim()) + " dimensions");
  }
  if (a.shape(0) < 1) throw py::value_error(std::string(what) + ": has no rows (the data set is empty)");
  if (a.shape(1) < 1) throw py::value_error(std::string(what) + ": has no columns (each row needs at least one entry)");
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  return Eigen::Map<const RowMajor>(a.data(), a.shape(0), a.shape(1));
}

void check_memory_estimate(const SizeEstimate& estimate, const std::string& name, const std::string& value,
                           const std::string& what) {
  const MemoryLimit limit = memory_limit();
  if (!estimate.overflowed() && estimate.bytes() <= limit.bytes) return;
  const std::string needs = estimate.overflowed()
                                ? " needs more than 16 EiB of memory (the sizes overflow 64 bits)"
                                : " needs about " + format_bytes(estimate.bytes()) + " of memory (estimate)";
  throw py::value_error(name + " = " + value + ": " + what + needs + ", more than the limit of " +
                        format_bytes(limit.bytes) + " (" + limit.source + "); reduce " + name);
}

py::object to_python(const Value& value) {
  return std::visit(
      [](const auto& x) -> py::object {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return py::none();
        } else {
          return py::cast(x);
        }
      },
      value);
}

py::dict to_dict(const NamedValues& values) {
  py::dict d;
  for (const NamedValue& v : values) d[py::str(v.name)] = to_python(v.value);
  return d;
}

py::dict row_dict(const Row& row, RowOutput output, const Observables& observe) {
  py::dict d;
  for (const RowField* field : row_columns(output, observe)) {
    const double value = field->get(row);
    if (field->integer) {
      d[py::str(std::string(field->name))] = static_cast<long>(value);
    } else {
      d[py::str(std::string(field->name))] = value;
    }
  }
  return d;
}

py::array_t<double> column(const std::vector<Row>& rows, const RowField& field) {
  py::array_t<double> out(static_cast<py::ssize_t>(rows.size()));
  double* data = out.mutable_data();
  for (std::size_t i = 0; i < rows.size(); ++i) data[i] = field.get(rows[i]);
  return out;
}

py::dict row_arrays(const std::vector<Row>& rows, RowOutput output, const Observables& observe) {
  py::dict d;
  for (const RowField* field : row_columns(output, observe))
    d[py::str(std::string(field->name))] = column(rows, *field);
  return d;
}

void raise_option_error(const OptionError& error, const std::map<std::string, std::string>& names) {
  OptionError named = error;
  if (const auto found = names.find(error.field); found != names.end()) {
    named.field = found->second;
  } else if (error.field.rfind("events[", 0) != 0) {
    named.field = error.field.substr(error.field.rfind('.') + 1);
  }
  throw py::value_error(named.message());
}

void raise_if(const std::optional<OptionError>& error, const std::map<std::string, std::string>& names) {
  if (error) raise_option_error(*error, names);
}

}  // namespace gradflow::python
