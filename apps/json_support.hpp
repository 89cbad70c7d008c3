// JSON helpers shared by the commands' summaries.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>

namespace gradflow::cli {

// The value, or null when there is none.
template <class T>
nlohmann::json optional_json(const std::optional<T>& x) {
  return x ? nlohmann::json(*x) : nlohmann::json(nullptr);
}

}  // namespace gradflow::cli
