/* Split sets (format-facts §6, T11): a model written in 3 parts with split.* keys opens as one
 * model from any part; missing or inconsistent parts are GK_E_SPLIT naming the part. */
#include "test_gguf_util.h"

#include <unistd.h>

enum { NTEN = 7, NPART = 3 };

static float data[NTEN][16];

/* Writes part k of the set: part 0 has the model KVs then the split keys; the others only the
 * split keys. Tensors are distributed 3/3/1. */
static gk_status write_part(const char *prefix, uint32_t k, uint32_t count, int32_t total,
                            int bad_no, const char *dup_name, uint32_t no_type) {
    char path[4200];
    gk_split_path(path, sizeof path, prefix, k, count);
    gk_kv kv[8];
    int n = 0;
    if (k == 0) {
        kv[n++] = (gk_kv){.key = {"general.architecture", 20}, .val = {.type = GK_V_STR, .str = {"llama", 5}}};
        kv[n++] = (gk_kv){.key = {"general.name", 12}, .val = {.type = GK_V_STR, .str = {"split test", 10}}};
    }
    gk_value v = {.type = no_type};
    if (no_type == GK_V_U16) v.v.u16 = (uint16_t)(k + (uint32_t)bad_no);
    else v.v.u32 = k;
    kv[n++] = (gk_kv){.key = {"split.no", 8}, .val = v};
    v = (gk_value){.type = GK_V_U16};
    v.v.u16 = (uint16_t)count;
    kv[n++] = (gk_kv){.key = {"split.count", 11}, .val = v};
    v = (gk_value){.type = GK_V_I32};
    v.v.i32 = total;
    kv[n++] = (gk_kv){.key = {"split.tensors.count", 19}, .val = v};
    gk_tensor t[3];
    char names[3][32];
    int nt = 0;
    for (int i = 0; i < NTEN; i++) {
        if ((uint32_t)(i / 3) != k) continue;
        memset(&t[nt], 0, sizeof t[nt]);
        snprintf(names[nt], sizeof names[nt], "blk.%d.w", i);
        const char *nm = (dup_name && nt == 0) ? dup_name : names[nt];
        t[nt].name = (gk_str){nm, strlen(nm)};
        t[nt].n_dims = 1;
        t[nt].ne[0] = 16; t[nt].ne[1] = t[nt].ne[2] = t[nt].ne[3] = 1;
        t[nt].type = GK_TYPE_F32;
        nt++;
    }
    gk_writer *w = NULL;
    gk_err e;
    gk_status st = gk_writer_open(path, NULL, &w, &e);
    if (!st) st = gk_writer_begin(w, kv, (uint64_t)n, t, (uint64_t)nt, &e);
    for (int i = 0; i < NTEN && !st; i++)
        if ((uint32_t)(i / 3) == k) st = gk_writer_write(w, data[i], sizeof data[i], &e);
    if (!st) st = gk_writer_finish(w, &e);
    if (st) fprintf(stderr, "write_part: %s\n", e.msg);
    gk_writer_free(w);
    return st;
}

static void write_set(const char *prefix) {
    for (uint32_t k = 0; k < NPART; k++) CHECK(write_part(prefix, k, NPART, NTEN, 0, NULL, GK_V_U16) == GK_OK);
}

static gk_status open_part(const char *prefix, uint32_t k, gk_err *e, gk_model **m) {
    char path[4200];
    gk_split_path(path, sizeof path, prefix, k, NPART);
    *m = NULL;
    gk_status st = gk_model_open(path, 0, m, e);
    if (st) printf("  %s\n", e->msg);
    return st;
}

int main(void) {
    char buf[64];
    CHECK(gk_split_path(buf, sizeof buf, "out", 1, 3) == 23 && strcmp(buf, "out-00002-of-00003.gguf") == 0);
    CHECK(gk_split_path(NULL, 0, "model", 0, 1) == 25);
    CHECK(gk_split_path(buf, 8, "out", 1, 3) == 23 && strcmp(buf, "out-000") == 0);

    for (int i = 0; i < NTEN; i++)
        for (int j = 0; j < 16; j++) data[i][j] = (float)(i * 100 + j);
    const char *dir = gk_test_tmpdir();
    CHECK(dir != NULL);
    if (!dir) return 1;
    char prefix[4200], path[4300];
    snprintf(prefix, sizeof prefix, "%s/model", dir);
    write_set(prefix);
    gk_err e;
    for (uint32_t k = 0; k < NPART; k++) {
        gk_model *m = NULL;
        CHECKF(open_part(prefix, k, &e, &m) == GK_OK, "open from part %u", k);
        if (!m) continue;
        CHECK(m->n_parts == NPART && m->n_tensors == NTEN);
        CHECK(gk_gguf_get(m->parts[0], "general.name", GK_V_STR) != NULL);
        for (uint64_t i = 0; i < m->n_tensors; i++) {
            char nm[32];
            snprintf(nm, sizeof nm, "blk.%llu.w", (unsigned long long)i);
            CHECK(strcmp(m->tensors[i].t->name.ptr, nm) == 0);
            CHECK(m->tensors[i].file == i / 3);
            CHECK(memcmp(m->tensors[i].t->data, data[i], sizeof data[i]) == 0);
        }
        gk_split_path(path, sizeof path, prefix, m->tensors[0].file, NPART);
        CHECK(strcmp(m->paths[0], path) == 0);
        gk_model_close(m);
    }
    gk_model *m = NULL;
    /* missing last part */
    gk_split_path(path, sizeof path, prefix, 2, NPART);
    unlink(path);
    CHECK(open_part(prefix, 0, &e, &m) == GK_E_SPLIT && strstr(e.msg, "00003-of-00003") && m == NULL);
    /* inconsistent split.no */
    CHECK(write_part(prefix, 2, NPART, NTEN, 1, NULL, GK_V_U16) == GK_OK);
    CHECK(open_part(prefix, 0, &e, &m) == GK_E_SPLIT && strstr(e.msg, "00003-of-00003"));
    /* split.no of the wrong type */
    CHECK(write_part(prefix, 2, NPART, NTEN, 0, NULL, GK_V_U32) == GK_OK);
    CHECK(open_part(prefix, 0, &e, &m) == GK_E_SPLIT);
    /* tensor name repeated across parts */
    CHECK(write_part(prefix, 2, NPART, NTEN, 0, "blk.0.w", GK_V_U16) == GK_OK);
    CHECK(open_part(prefix, 0, &e, &m) == GK_E_SPLIT && strstr(e.msg, "blk.0.w"));
    /* wrong split.tensors.count */
    CHECK(write_part(prefix, 2, NPART, NTEN, 0, NULL, GK_V_U16) == GK_OK);
    CHECK(write_part(prefix, 0, NPART, NTEN + 1, 0, NULL, GK_V_U16) == GK_OK);
    CHECK(open_part(prefix, 1, &e, &m) == GK_E_SPLIT && strstr(e.msg, "tensors.count"));
    /* a part renamed so its name no longer matches its split.no */
    CHECK(write_part(prefix, 0, NPART, NTEN, 0, NULL, GK_V_U16) == GK_OK);
    char renamed[4300];
    snprintf(renamed, sizeof renamed, "%s/other.gguf", dir);
    gk_split_path(path, sizeof path, prefix, 0, NPART);
    CHECK(rename(path, renamed) == 0);
    CHECK(gk_model_open(renamed, 0, &m, &e) == GK_E_SPLIT);
    printf("  %s\n", e.msg);
    CHECK(open_part(prefix, 1, &e, &m) == GK_E_SPLIT && strstr(e.msg, "00001-of-00003"));
    unlink(renamed);
    for (uint32_t k = 0; k < NPART; k++) {
        gk_split_path(path, sizeof path, prefix, k, NPART);
        unlink(path);
    }
    rmdir(dir);
    return gk_test_result("test_gguf_split");
}
