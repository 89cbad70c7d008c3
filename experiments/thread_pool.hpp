/// @file
/// Kept for clients that include it: the one thread pool of the process is core/thread_pool.hpp.
#pragma once

#include <gradflow/core/thread_pool.hpp>
