#include <gradflow/core/text.hpp>

#include <cstdio>

namespace gradflow {

std::string full_precision(double x) { return format_number("%.17g", x); }

std::string format_number(const char* fmt, double x) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, fmt, x);
  return buffer;
}

}  // namespace gradflow
