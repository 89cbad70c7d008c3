// Fuzz target: the sweep file (apps/sweep/sweep_file.hpp) into a SweepSpec, its validation, and the
// manifest (apps/sweep/sweep_manifest.hpp), which must read back as the same sweep. Bad input must be
// an InputError with a one-line message; anything else is a bug.
#include <gradflow/apps/support/memory_limit.hpp>
#include <gradflow/apps/sweep/sweep_file.hpp>
#include <gradflow/apps/sweep/sweep_manifest.hpp>
#include <gradflow/apps/sweep/sweep_memory.hpp>
#include <gradflow/core/input_error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A small limit, so that a large seed count is refused rather than allocated.
  gradflow::set_memory_limit({std::uint64_t{64} << 20, "the fuzz target's 64 MiB"});
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    gradflow::SweepSpec spec = gradflow::cli::parse_sweep_text(text, "sweep.toml");
    // File data sets are not read here: give each an empty stand-in so that validation goes on.
    for (const auto& dataset : spec.datasets) {
      if (dataset.kind == gradflow::DatasetSpec::Kind::file) spec.file_data[dataset.name()] = gradflow::NetworkData{};
    }
    if (const auto error = spec.validate()) throw gradflow::cli::sweep_error(*error, "--config sweep.toml");
    gradflow::check_sweep_memory(spec, 1, "--threads");
    const std::string manifest = gradflow::manifest_text(spec);
    gradflow::SweepSpec again = gradflow::cli::parse_sweep_text(manifest, "manifest");
    again.file_data = spec.file_data;
    if (gradflow::manifest_text(again) != manifest) std::abort();
    if (gradflow::manifest_difference(manifest, spec)) std::abort();
    if (gradflow::enumerate_runs(spec).empty()) std::abort();
  } catch (const gradflow::InputError& e) {
    if (std::string_view(e.what()).find('\n') != std::string_view::npos) std::abort();
  }
  return 0;
}
