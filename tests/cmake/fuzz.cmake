# The GGUF fuzz target (gk_fuzz_target is defined in 00-fuzz.cmake).
gk_fuzz_target(fuzz_gguf fuzz/fuzz_gguf.c)
