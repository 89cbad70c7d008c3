# Installs the build tree into a scratch prefix, then configures, builds and runs examples/ against it
# with find_package(gradflow): the way a client uses the library.
foreach(var BUILD_DIR EXAMPLE_DIR WORK_DIR GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_example.cmake: ${var} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
foreach(installed include/gradflow/gradflow.hpp include/gradflow/flow/simulate_flow.hpp bin/gradflow)
  if(NOT EXISTS "${prefix}/${installed}")
    message(FATAL_ERROR "not installed: ${installed}")
  endif()
endforeach()

# Package hygiene: no detail/ header is installed, and an installed header includes only gradflow's
# own installed headers, Eigen (find_dependency in the package config) and the standard library.
file(GLOB_RECURSE installed_headers "${prefix}/include/gradflow/*")
foreach(header ${installed_headers})
  if(header MATCHES "/detail/")
    message(FATAL_ERROR "a private header is installed: ${header}")
  endif()
  file(STRINGS "${header}" includes REGEX "^[ \t]*#[ \t]*include")
  foreach(line ${includes})
    if(NOT line MATCHES "#[ \t]*include[ \t]*<([^>]+)>")
      message(FATAL_ERROR "${header}: an include that is not <...>: ${line}")
    endif()
    set(target "${CMAKE_MATCH_1}")
    if(target MATCHES "^gradflow/")
      if(NOT EXISTS "${prefix}/include/${target}")
        message(FATAL_ERROR "${header} includes ${target}, which is not installed")
      endif()
    elseif(NOT target MATCHES "^Eigen/" AND NOT target MATCHES "^[a-z_]+$")
      message(FATAL_ERROR "${header} includes <${target}>: not findable through the package's find_dependency")
    endif()
  endforeach()
endforeach()

# The README's client (examples/readme_client.cpp) is at most 15 lines.
file(STRINGS "${EXAMPLE_DIR}/readme_client.cpp" client_lines)
list(LENGTH client_lines client_length)
if(client_length GREATER 15)
  message(FATAL_ERROR "examples/readme_client.cpp has ${client_length} lines; the README promises at most 15")
endif()

# The examples compile without a warning on GCC and, when it is installed, clang: the flags a careful
# client uses, with warnings as errors.
set(flags "${CXX_FLAGS} -Wall -Wextra -Werror -pedantic")
set(link_flags "")
if(SANITIZE)
  string(APPEND flags " -fsanitize=address,undefined")
  set(link_flags "-fsanitize=address,undefined")
endif()
execute_process(
  COMMAND "${CMAKE_COMMAND}" -S "${EXAMPLE_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
          "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}" "-DCMAKE_CXX_FLAGS=${flags}"
          "-DCMAKE_EXE_LINKER_FLAGS=${link_flags}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the example against the installed package failed:\n${out}\n${err}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${WORK_DIR}/build"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the example failed:\n${out}\n${err}")
endif()
# The same with clang (without the sanitizers: their runtime is GCC's here).
if(CLANGXX AND NOT SANITIZE)
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -S "${EXAMPLE_DIR}" -B "${WORK_DIR}/build-clang" -G "${GENERATOR}"
            "-DCMAKE_CXX_COMPILER=${CLANGXX}" "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
            "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror -pedantic"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configuring the examples with clang failed:\n${out}\n${err}")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" --build "${WORK_DIR}/build-clang"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "building the examples with clang -Werror failed:\n${out}\n${err}")
  endif()
else()
  message(STATUS "clang++ not found (or a sanitized build): the examples are built with GCC only")
endif()
foreach(example quadratic_flow readme_client custom_objective residual_certificate custom_step_rule)
  execute_process(COMMAND "${WORK_DIR}/build/${example}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "${example}:\n${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the example program ${example} failed (${rc}):\n${out}\n${err}")
  endif()
  if(example STREQUAL "readme_client")
    # The Powell task: a located stop at L = 1e-9 (SciPy's solve_ivp: t = 5844.78197), 49 states at the
    # chosen times plus t = 0 and the stop, and the run's counters.
    if(NOT out MATCHES "^event_stop: dopri5 on function, t = 5844\\.78" OR NOT out MATCHES "51 states" OR
       NOT out MATCHES "gradient evals")
      message(FATAL_ERROR "the README client did not do the Powell task:\n${out}")
    endif()
  endif()
endforeach()
