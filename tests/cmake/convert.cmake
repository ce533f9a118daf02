# The converter (convert/, cli/cmd_convert.c, cli/cmd_example.c): unit and known-answer tests,
# and interop with the real llama.cpp (node-llama-cpp) on converted checkpoints.
gk_test(test_convert test_convert.c)

find_program(GK_NODE node)
if(GK_NODE)
  # tests/npm/ensure.sh installs the pinned npm clients (cached) and prints their directory.
  gk_script_test(convert_interop_llama
    ${CMAKE_COMMAND} -E env "GGUFKIT_NPM_ENSURE=${CMAKE_SOURCE_DIR}/tests/npm/ensure.sh"
    ${GK_NODE} ${CMAKE_SOURCE_DIR}/tests/interop/convert_llama.mjs)
  set_tests_properties(convert_interop_llama PROPERTIES TIMEOUT 300)
endif()
if(GK_NODE)
  gk_script_test(convert_cli ${GK_NODE} ${CMAKE_SOURCE_DIR}/tests/interop/convert_cli.mjs)
endif()
