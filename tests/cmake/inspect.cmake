# ggufkit inspect: interop with @huggingface/gguf and llama.cpp; CLI behaviour.
add_executable(interop_rewrite interop_rewrite.c)
target_link_libraries(interop_rewrite PRIVATE gk_format)
gk_script_test(interop_inspect bash ${CMAKE_CURRENT_SOURCE_DIR}/interop/run_inspect_interop.sh
  $<TARGET_FILE:interop_rewrite>)
set_tests_properties(interop_inspect PROPERTIES TIMEOUT 600)
gk_test(test_inspect test_inspect.c)
