/* The ggml type-size table (format-facts §2): what a reader must know about each type id.
 * Removed ids keep their row (flags GK_TF_REMOVED, block size 0) so ids never move. */
#include "ggufkit.h"

#include <ctype.h>
#include <string.h>

#define ROW(id_, name_, blck_, size_, flags_) [id_] = {id_, name_, blck_, size_, flags_}
#define GONE(id_, name_) [id_] = {id_, name_, 0, 0, GK_TF_REMOVED}

static const gk_type_info type_table[GK_TYPE_COUNT] = {
    ROW(0, "f32", 1, 4, GK_TF_FLOAT),
    ROW(1, "f16", 1, 2, GK_TF_FLOAT),
    ROW(2, "q4_0", 32, 18, GK_TF_QUANTIZED),
    ROW(3, "q4_1", 32, 20, GK_TF_QUANTIZED),
    GONE(4, "q4_2"),
    GONE(5, "q4_3"),
    ROW(6, "q5_0", 32, 22, GK_TF_QUANTIZED),
    ROW(7, "q5_1", 32, 24, GK_TF_QUANTIZED),
    ROW(8, "q8_0", 32, 34, GK_TF_QUANTIZED),
    ROW(9, "q8_1", 32, 36, GK_TF_QUANTIZED | GK_TF_ACT_ONLY),
    ROW(10, "q2_K", 256, 84, GK_TF_QUANTIZED),
    ROW(11, "q3_K", 256, 110, GK_TF_QUANTIZED),
    ROW(12, "q4_K", 256, 144, GK_TF_QUANTIZED),
    ROW(13, "q5_K", 256, 176, GK_TF_QUANTIZED),
    ROW(14, "q6_K", 256, 210, GK_TF_QUANTIZED),
    ROW(15, "q8_K", 256, 292, GK_TF_QUANTIZED | GK_TF_ACT_ONLY),
    ROW(16, "iq2_xxs", 256, 66, GK_TF_QUANTIZED | GK_TF_GRID),
    ROW(17, "iq2_xs", 256, 74, GK_TF_QUANTIZED | GK_TF_GRID),
    ROW(18, "iq3_xxs", 256, 98, GK_TF_QUANTIZED | GK_TF_GRID),
    ROW(19, "iq1_s", 256, 50, GK_TF_QUANTIZED | GK_TF_GRID),
    ROW(20, "iq4_nl", 32, 18, GK_TF_QUANTIZED),
    ROW(21, "iq3_s", 256, 110, GK_TF_QUANTIZED | GK_TF_GRID),
    ROW(22, "iq2_s", 256, 82, GK_TF_QUANTIZED | GK_TF_GRID),
    ROW(23, "iq4_xs", 256, 136, GK_TF_QUANTIZED),
    ROW(24, "i8", 1, 1, GK_TF_INT),
    ROW(25, "i16", 1, 2, GK_TF_INT),
    ROW(26, "i32", 1, 4, GK_TF_INT),
    ROW(27, "i64", 1, 8, GK_TF_INT),
    ROW(28, "f64", 1, 8, GK_TF_FLOAT),
    ROW(29, "iq1_m", 256, 56, GK_TF_QUANTIZED | GK_TF_GRID),
    ROW(30, "bf16", 1, 2, GK_TF_FLOAT),
    GONE(31, "q4_0_4_4"),
    GONE(32, "q4_0_4_8"),
    GONE(33, "q4_0_8_8"),
    ROW(34, "tq1_0", 256, 54, GK_TF_QUANTIZED),
    ROW(35, "tq2_0", 256, 66, GK_TF_QUANTIZED),
    GONE(36, "iq4_nl_4_4"),
    GONE(37, "iq4_nl_4_8"),
    GONE(38, "iq4_nl_8_8"),
    ROW(39, "mxfp4", 32, 17, GK_TF_QUANTIZED),
    ROW(40, "nvfp4", 64, 36, GK_TF_QUANTIZED),
    ROW(41, "q1_0", 128, 18, GK_TF_QUANTIZED),
    ROW(42, "q2_0", 64, 18, GK_TF_QUANTIZED),
};

const gk_type_info *gk_type_info_get(uint32_t id) {
    return id < GK_TYPE_COUNT ? &type_table[id] : NULL;
}

int gk_type_is_valid(uint32_t id) {
    return id < GK_TYPE_COUNT && !(type_table[id].flags & GK_TF_REMOVED);
}

int gk_type_from_name(const char *name) {
    if (!name) return -1;
    for (uint32_t i = 0; i < GK_TYPE_COUNT; i++) {
        const gk_type_info *t = &type_table[i];
        if (t->flags & GK_TF_REMOVED) continue;
        size_t n = strlen(t->name);
        if (strlen(name) != n) continue;
        size_t j = 0;
        while (j < n && tolower((unsigned char)name[j]) == tolower((unsigned char)t->name[j])) j++;
        if (j == n) return (int)i;
    }
    return -1;
}

uint64_t gk_type_nbytes(uint32_t id, uint64_t n, int *ok) {
    if (ok) *ok = 0;
    if (!gk_type_is_valid(id)) return 0;
    const gk_type_info *t = &type_table[id];
    if (n % t->blck_size) return 0;
    uint64_t blocks = n / t->blck_size;
    if (blocks > UINT64_MAX / t->type_size) return 0;
    if (ok) *ok = 1;
    return blocks * t->type_size;
}

double gk_type_bpw(uint32_t id) {
    if (!gk_type_is_valid(id)) return 0.0;
    return 8.0 * type_table[id].type_size / type_table[id].blck_size;
}
