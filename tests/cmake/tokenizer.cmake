# Tokenizer metadata (convert/tokenizer.c): unit tests, and tokenization parity with the real
# clients (llama.cpp via node-llama-cpp, HF tokenizers via @anush008/tokenizers).
gk_test(test_tokenizer test_tokenizer.c)
# The parity test's preparation step (writes GGUFs, tokenizer.json files and our encoder's ids
# into a directory), run by tests/interop/tokenizer_parity.mjs; alone (no argument) it is a C test
# of its own checks (GPT-2 fingerprint, tokenizer.model round trip).
gk_test(test_tokenizer_prep test_tokenizer_prep.c)
find_program(GK_NODE node)
if(GK_NODE)
  gk_test_exe(GK_TOKENIZER_PREP test_tokenizer_prep)
  gk_script_test(tokenizer_parity ${GK_NODE} ${CMAKE_SOURCE_DIR}/tests/interop/tokenizer_parity.mjs
    ${GK_TOKENIZER_PREP})
else()
  gk_script_test(tokenizer_parity sh -c "echo 'node not found'; [ \"$CI\" = true ] && exit 1 || exit 77")
endif()
