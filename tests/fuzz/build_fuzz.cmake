# Builds the libFuzzer targets with clang in BUILD_DIR (the fuzz preset's settings), for the sanitize
# suite's 20-second fuzz runs. -DSOURCE_DIR, -DBUILD_DIR, -DCLANGXX.
execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BUILD_DIR} -DCMAKE_CXX_COMPILER=${CLANGXX} -DCMAKE_BUILD_TYPE=RelWithDebInfo
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" -DGRADFLOW_FUZZ=ON -DGRADFLOW_BUILD_BENCH=OFF -DGRADFLOW_WITH_MPI=OFF
  RESULT_VARIABLE configured)
if(NOT configured EQUAL 0)
  message(FATAL_ERROR "configuring the fuzz build failed")
endif()
execute_process(
  COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} -j2 --target fuzz_csv fuzz_toml_config fuzz_sweep_grid fuzz_list_options
  RESULT_VARIABLE built)
if(NOT built EQUAL 0)
  message(FATAL_ERROR "building the fuzz targets failed")
endif()
