#include <gradflow/core/named_value.hpp>

#include <gradflow/core/text.hpp>

namespace gradflow {

std::string csv_text(const Value& value) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return "";
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "1" : "0";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return csv_field(x);
        } else if constexpr (std::is_same_v<T, double>) {
          return full_precision(x);
        } else {
          return std::to_string(x);
        }
      },
      value);
}

}  // namespace gradflow
