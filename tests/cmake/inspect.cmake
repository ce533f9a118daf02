# ggufkit inspect: interop with @huggingface/gguf and llama.cpp; CLI behaviour.
add_executable(interop_rewrite interop_rewrite.c)
target_link_libraries(interop_rewrite PRIVATE gk_format)
gk_test_exe(GK_INTEROP_REWRITE interop_rewrite)
gk_script_test(interop_inspect bash ${CMAKE_CURRENT_SOURCE_DIR}/interop/run_inspect_interop.sh
  ${GK_INTEROP_REWRITE})
set_tests_properties(interop_inspect PROPERTIES TIMEOUT 600)
gk_test(test_inspect test_inspect.c)
