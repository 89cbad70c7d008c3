/// @file
/// The way for an objective or a callback to end a run: throw CallbackError. simulate_flow (every back
/// end) and descend catch it, stop, and return Status::callback_error with its what() as the message and
/// the last accepted state, as for any other failure. Any other exception from an objective or a callback
/// propagates out of the run (odeint back ends, descent) or becomes backend_error (CVODE). The Python
/// module uses it to end a run whose Python loss raised, and re-raises the Python exception afterwards.
#pragma once

#include <stdexcept>

namespace gradflow {

/// Thrown by an objective or a callback to end a run with Status::callback_error; what() becomes the
/// run's message.
class CallbackError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace gradflow
