# hash, validate, bundles (inspect/hash*.c, inspect/validate.c, inspect/bundle.c) and their CLI.
gk_test(test_hash test_hash.c)
gk_test(test_validate test_validate.c)
gk_test(test_bundle test_bundle.c)
gk_script_test(test_hash_cli bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/hash_cli.sh)
