# GGUF container tests (format/gguf_*.c, format/model.c, format/value.c).
gk_test(test_gguf_t1 test_gguf_t1.c)
gk_test(test_gguf_roundtrip test_gguf_roundtrip.c Threads::Threads PkgConfig::XXHASH)
gk_test(test_gguf_data test_gguf_data.c)
gk_test(test_gguf_split test_gguf_split.c)
gk_test(test_gguf_sweep test_gguf_sweep.c)
target_include_directories(test_gguf_sweep PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
