# The converter (convert/, cli/cmd_convert.c, cli/cmd_example.c): unit and known-answer tests,
# and interop with the real llama.cpp (node-llama-cpp) on converted checkpoints.
gk_test(test_convert test_convert.c)
