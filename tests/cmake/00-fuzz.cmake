# Fuzz targets. Sorted first among tests/cmake/*.cmake so every area can call gk_fuzz_target.
#
# gk_fuzz_target(NAME SRC [LIBS...]): SRC defines LLVMFuzzerTestOneInput and exercises one parser.
#  - Always: an executable replay_NAME (SRC + fuzz/fuzz_replay.c, linked with gk_format and LIBS)
#    and a ctest NAME_replay that feeds it every file of tests/fuzz/corpus/<NAME without
#    "fuzz_">/ (commit small seeds and every input the fuzzer found there). The executable's
#    name does not start with fuzz_, so .ci/test's fuzz_* loop runs only libFuzzer binaries.
#  - With GK_FUZZ=ON and clang: the libFuzzer binary NAME, built with
#    -fsanitize=fuzzer,address,undefined over SRC and the format library's sources (so the parser
#    itself is instrumented). Run it as `./NAME -max_total_time=60 <corpus dir>`.
set(GK_FUZZ_DIR "${CMAKE_CURRENT_LIST_DIR}/../fuzz")
if(GK_FUZZ AND NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(WARNING "GK_FUZZ=ON needs clang (libFuzzer); only the replay tests are built")
endif()

function(gk_fuzz_target name src)
  string(REGEX REPLACE "^fuzz_" "" short "${name}")
  set(corpus "${GK_FUZZ_DIR}/corpus/${short}")
  add_executable(replay_${name} ${src} "${GK_FUZZ_DIR}/fuzz_replay.c")
  target_include_directories(replay_${name} PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
  target_link_libraries(replay_${name} PRIVATE gk_format ${ARGN})
  add_test(NAME ${name}_replay COMMAND replay_${name} "${corpus}")
  set_tests_properties(${name}_replay PROPERTIES ENVIRONMENT "${GK_TEST_ENV}")
  if(GK_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
    get_target_property(fmt_srcs gk_format_obj SOURCES)
    add_executable(${name} ${src} ${fmt_srcs})
    target_include_directories(${name} PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}" "${CMAKE_SOURCE_DIR}/format")
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -g)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name} PRIVATE PkgConfig::XXHASH PkgConfig::ZSTD PkgConfig::ARCHIVE
      PkgConfig::JANSSON PkgConfig::CRYPTO Threads::Threads m ${ARGN})
  endif()
endfunction()
