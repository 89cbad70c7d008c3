/// @file
/// Kept for clients that include it: the rows, callbacks and events of a run are in flow/trajectory.hpp
/// (DescentRow is Row there).
#pragma once

#include <gradflow/flow/trajectory.hpp>
