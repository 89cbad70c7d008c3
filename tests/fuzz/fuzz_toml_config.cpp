// Fuzz target: the TOML reader of --config files (apps/config_file.hpp), then applying the entries to
// the options of `gradflow flow` as a config file does. Bad input must be an InputError with a
// one-line message; anything else (a crash, another exception, a hang) is a bug.
#include <gradflow/apps/config_file.hpp>
#include <gradflow/apps/flow_command.hpp>
#include <gradflow/core/input_error.hpp>

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto entries = gradflow::cli::parse_config(text, "--config", "run.toml");
    for (const auto& entry : entries) {
      if (entry.line < 1 || entry.key.empty()) std::abort();
      if (!entry.is_array && entry.values.size() != 1) std::abort();
    }
    CLI::App app("fuzz");
    gradflow::cli::FlowCommand flow;
    gradflow::cli::add_flow_command(app, flow);
    gradflow::cli::apply_config(*flow.command, entries, "--config", "run.toml");
  } catch (const gradflow::InputError& e) {
    if (std::string_view(e.what()).find('\n') != std::string_view::npos) std::abort();
  }
  return 0;
}
