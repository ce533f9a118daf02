# Type table and kernel table agree.
gk_test(test_type_table test_type_table.c)
