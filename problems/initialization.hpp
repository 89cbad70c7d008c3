/// @file
/// Initializations of the network's parameters, named like torch.nn.init, and the positive
/// initialization of the theory (docs/theory.md §5.2):
///
///   positive         W_1 = 0; hidden W_l (l >= 2) iid uniform in [a, b] / fan_in, 0 < a < b;
///                    output weights s v with v iid uniform in [a, b] / fan_in (so v > 0)
///   xavier_uniform   U(-c, c), c = sqrt(6 / (fan_in + fan_out))      (variance 2 / (fan_in + fan_out))
///   xavier_normal    N(0, 2 / (fan_in + fan_out))
///   kaiming_uniform  U(-c, c), c = sqrt(6 / fan_in)                   (variance 2 / fan_in; torch's
///                    default gain for a = 0)
///   kaiming_normal   N(0, 2 / fan_in)
///   lecun_normal     N(0, 1 / fan_in)
///   orthogonal       the Q factor of a Gaussian matrix (rows or columns orthonormal), gain 1
///   zeros            all zero
///
/// Every scheme multiplies the output layer by s (--output-scale) and sets biases to 0. Draws are
/// seeded per layer (derive_seed(seed, layer)) with gradflow's own distributions, so the same seed
/// gives the same bits on every run, thread count and machine.
#pragma once

#include <gradflow/problems/mlp.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

/// How the network's weights are drawn (see the file comment for the distributions).
enum class InitScheme {
  positive,         ///< the theory's: W_1 = 0, the other layers uniform in [a, b] / fan_in
  xavier_uniform,   ///< U(-c, c), c = sqrt(6 / (fan_in + fan_out))
  xavier_normal,    ///< N(0, 2 / (fan_in + fan_out))
  kaiming_uniform,  ///< U(-c, c), c = sqrt(6 / fan_in)
  kaiming_normal,   ///< N(0, 2 / fan_in)
  lecun_normal,     ///< N(0, 1 / fan_in)
  orthogonal,       ///< the Q factor of a Gaussian matrix, gain 1
  zeros             ///< all zero
};

/// The scheme's name on the command line, as the enumerator ("xavier_normal", ...).
std::string_view to_string(InitScheme scheme);
/// The scheme of that name (to_string()); empty for any other name.
std::optional<InitScheme> init_scheme_from_string(std::string_view name);
/// Every scheme's name, in the order of the enumeration.
const std::vector<std::string>& init_scheme_names();

/// The settings of initialize().
struct InitOptions {
  InitScheme scheme = InitScheme::xavier_normal;  ///< the distribution of the weights
  std::uint64_t seed = 0;                         ///< the seed of the draws (one stream per layer)
  double output_scale = 1.0;                      ///< s
  double positive_low = 0.5;                      ///< a (positive scheme), > 0
  double positive_high = 1.5;                     ///< b (positive scheme), > a
};

/// A parameter vector for architecture (its num_parameters() entries, in the layout of problems/mlp.hpp)
/// drawn as options say; throws std::invalid_argument for an invalid architecture, a positive scheme
/// without 0 < a < b, or a non-finite output scale.
Vector initialize(const MlpArchitecture& architecture, const InitOptions& options);

}  // namespace gradflow
