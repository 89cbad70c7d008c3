# cmake --install into a scratch prefix, then import gradflow from the installed package (not the build
# tree) with the module's interpreter and run a flow: what a user gets after `cmake --install`.
foreach(var BUILD_DIR WORK_DIR PYTHON INSTALL_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_check.cmake: ${var} is not set")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
if(IS_ABSOLUTE "${INSTALL_DIR}")
  message(STATUS "GRADFLOW_PYTHON_INSTALL_DIR is absolute (${INSTALL_DIR}): not under the prefix, not checked")
  return()
endif()
set(site "${prefix}/${INSTALL_DIR}")
foreach(installed gradflow/__init__.py gradflow/__init__.pyi gradflow/py.typed)
  if(NOT EXISTS "${site}/${installed}")
    message(FATAL_ERROR "not installed: ${site}/${installed}")
  endif()
endforeach()
set(script "import gradflow, numpy as np, os; \
assert os.path.realpath(gradflow.__file__).startswith(os.path.realpath('${site}')), gradflow.__file__; \
r = gradflow.flow(lambda th: (0.5 * th @ th, th.copy()), np.ones(2), t_end=1.0, rtol=1e-10); \
assert r.success and abs(r.theta[0] - np.exp(-1.0)) < 1e-8, r; print('imported', gradflow.__file__)")
execute_process(COMMAND "${CMAKE_COMMAND}" -E env "PYTHONPATH=${site}" "${PYTHON}" -c "${script}"
                WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the installed package does not work: ${err}")
endif()
message(STATUS "${out}")
