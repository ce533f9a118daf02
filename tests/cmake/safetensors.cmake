# safetensors reader and checkpoint sources (spec/safetensors.md).
gk_test(test_safetensors test_safetensors.c m)
gk_test(test_ckpt test_ckpt.c)
if(COMMAND gk_fuzz_target)
  gk_fuzz_target(fuzz_safetensors fuzz/fuzz_safetensors.c)
endif()
