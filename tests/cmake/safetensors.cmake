# safetensors reader and checkpoint sources (spec/safetensors.md).
gk_test(test_safetensors test_safetensors.c m)
