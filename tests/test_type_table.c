/* The format library's type-size table and the kernels' traits table agree, and the table
 * matches format-facts §2 in the facts a reader depends on. */
#include "testutil.h"

#include <string.h>

int main(void) {
    int live = 0;
    for (uint32_t id = 0; id < GK_TYPE_COUNT; id++) {
        const gk_type_info *t = gk_type_info_get(id);
        CHECK(t != NULL);
        if (!t) continue;
        CHECK(t->id == id);
        CHECK(t->name != NULL);
        const gk_kernel_row *k = gk_kernel_row_get(id);
        if (t->flags & GK_TF_REMOVED) {
            CHECK(t->blck_size == 0 && t->type_size == 0);
            CHECKF(k == NULL, "removed id %u has a kernel row", id);
            CHECK(!gk_type_is_valid(id));
            continue;
        }
        live++;
        CHECK(t->blck_size > 0 && t->type_size > 0);
        CHECKF(k != NULL, "type %s has no kernel row", t->name);
        if (k) {
            CHECK(k->type == id);
            CHECK(gk_type_is_valid(k->vec_dot_type));
        }
        CHECK(gk_type_from_name(t->name) == (int)id);
    }
    CHECK(live == 35);
    CHECK(gk_type_info_get(GK_TYPE_COUNT) == NULL);
    CHECK(gk_type_from_name("Q4_K") == GK_TYPE_Q4_K);
    CHECK(gk_type_from_name("q4_2") == -1);
    CHECK(gk_type_from_name("nope") == -1);
    int ok;
    CHECK(gk_type_nbytes(GK_TYPE_Q4_K, 512, &ok) == 288 && ok);
    gk_type_nbytes(GK_TYPE_Q4_K, 100, &ok);
    CHECK(!ok);
    gk_type_nbytes(GK_TYPE_F32, UINT64_MAX / 2, &ok);
    CHECK(!ok);
    CHECK(gk_type_bpw(GK_TYPE_Q6_K) == 6.5625);
    return gk_test_result("test_type_table");
}
