# Kernel parity and per-ISA runs.
#  - test_ggml_parity: our kernels against llama.cpp's own ggml (dlopen of the node-llama-cpp
#    libraries; bench/ggml_dl.c is the one loader, shared with ggufkit-bench). Registered once
#    per ISA path (GGUFKIT_ISA=scalar|avx2|avx512); an ISA the CPU lacks exits 77 (skipped).
#  - test_kernels_grid: validate/byteswap of the grid types, also once per ISA.
#  - every other target named test_kernels_* (other areas' kernel tests) gets the same per-ISA
#    registrations, as <name>_<isa>; such a test must exit 77 when gk_kctx_init(ctx, -1, ...)
#    answers GK_E_UNSUPPORTED for the forced ISA.
set(GK_ISAS scalar avx2 avx512)

add_executable(test_ggml_parity ggml_parity.c ${CMAKE_SOURCE_DIR}/bench/ggml_dl.c)
target_include_directories(test_ggml_parity PRIVATE ${CMAKE_SOURCE_DIR}/bench)
target_link_libraries(test_ggml_parity PRIVATE gk_testutil gk_kernels gk_format ${CMAKE_DL_LIBS} m)

gk_test(test_kernels_grid test_kernels_grid.c)

function(gk_register_per_isa target)
  foreach(isa IN LISTS GK_ISAS)
    add_test(NAME ${target}_${isa} COMMAND ${target})
    set_tests_properties(${target}_${isa} PROPERTIES SKIP_RETURN_CODE 77
      ENVIRONMENT "${GK_TEST_ENV};GGUFKIT_ISA=${isa}" LABELS "kernels;isa_${isa}")
  endforeach()
endfunction()

if(CMAKE_CROSSCOMPILING AND NOT CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  # Cross build (.ci/cross-aarch64): npm ships ggml for x86-64 only; reported skipped, not passed.
  foreach(isa IN LISTS GK_ISAS)
    add_test(NAME test_ggml_parity_${isa} COMMAND sh -c
      "echo 'SKIP: no ggml from npm for ${CMAKE_SYSTEM_PROCESSOR} (cross build)'; exit 77")
    set_tests_properties(test_ggml_parity_${isa} PROPERTIES SKIP_RETURN_CODE 77
      LABELS "kernels;isa_${isa}")
  endforeach()
else()
  gk_register_per_isa(test_ggml_parity)
endif()
set_tests_properties(test_ggml_parity_scalar test_ggml_parity_avx2 test_ggml_parity_avx512
  PROPERTIES TIMEOUT 600)

get_property(_gk_targets DIRECTORY PROPERTY BUILDSYSTEM_TARGETS)
foreach(t IN LISTS _gk_targets)
  if(t MATCHES "^test_kernels_")
    gk_register_per_isa(${t})
  endif()
endforeach()
