# Configures tests/subproject (a client that add_subdirectory's gradflow, without a build type or a C++
# standard of its own) and checks that gradflow added only its library: no tests, benchmarks, command
# line or Python module; no build type forced on the parent; no interpreter cached. Then compiles the
# client's source alone (-fsyntax-only through the build's own flags would need the whole library
# built: the compile commands say which flags it gets, and C++20 must be among them).
cmake_policy(SET CMP0057 NEW)
foreach(var SOURCE_DIR WORK_DIR GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_subproject.cmake: ${var} is not set")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}/tests/subproject" -B "${WORK_DIR}" -G "${GENERATOR}"
          "-DGRADFLOW_SOURCE_DIR=${SOURCE_DIR}" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring a project that add_subdirectory's gradflow failed:\n${out}\n${err}")
endif()
file(READ "${WORK_DIR}/gradflow_targets.txt" targets)
foreach(target ${targets})
  if(NOT target MATCHES "^gradflow(_kernels_x86_64_v3)?$")
    message(FATAL_ERROR "gradflow added the target ${target} to a project that uses it as a subdirectory "
                        "(only the library is expected: ${targets})")
  endif()
endforeach()
if(NOT "gradflow" IN_LIST targets)
  message(FATAL_ERROR "the library target is missing: ${targets}")
endif()
file(STRINGS "${WORK_DIR}/CMakeCache.txt" build_type REGEX "^CMAKE_BUILD_TYPE:")
if(build_type MATCHES "Release")
  message(FATAL_ERROR "gradflow forced the parent's build type: ${build_type}")
endif()
file(STRINGS "${WORK_DIR}/CMakeCache.txt" python REGEX "^Python3_EXECUTABLE:")
if(python)
  message(FATAL_ERROR "gradflow cached an interpreter in the parent: ${python}")
endif()
foreach(dir tests bench python)
  if(EXISTS "${WORK_DIR}/gradflow/${dir}")
    message(FATAL_ERROR "gradflow configured its ${dir}/ in a parent project")
  endif()
endforeach()
file(READ "${WORK_DIR}/compile_commands.json" commands)
string(REGEX MATCH "\"command\": \"[^\"]*client\\.cpp\"" client_command "${commands}")
if(NOT client_command MATCHES "-std=(c|gnu)\\+\\+20")
  message(FATAL_ERROR "the client does not get C++20 from the gradflow target: ${client_command}")
endif()
message(STATUS "a subproject gets only ${targets}, and C++20 for its client")
