/* Hashing: T2 known values over the T1 file (format-facts §10), manifests (ours and
 * llama-gguf-hash's) round trip and check, mismatch / missing / extra / order findings, tricky
 * tensor names, chunk-size independence, the streaming hasher, split sets as one model. */
#include "test_hash_util.h"

#include <unistd.h>
#include <xxhash.h>

static const char *dir;

static void hex_is(const gk_digest *d, gk_halgo a, const char *want, const char *what) {
    char hex[2 * GK_HASH_MAX + 1];
    gk_digest_hex(d, a, hex);
    CHECKF(!strcmp(hex, want), "%s %s: got %s want %s", what, gk_halgo_name(a), hex, want);
}

static gk_check check_text(const char *text, const char *for_file, const gk_hash_result *r) {
    gk_manifest m;
    gk_check c;
    memset(&c, 0, sizeof c);
    gk_err e = {0};
    gk_status st = gk_manifest_parse(text, strlen(text), for_file, &m, &e);
    CHECKF(st == GK_OK, "parse: %s", e.msg);
    if (st) return c;
    st = gk_check_compare(&m, r, &c, &e);
    CHECKF(st == GK_OK, "compare: %s", e.msg);
    gk_manifest_free(&m);
    return c;
}

static const unsigned ALL = (1u << GK_H_XXH3_128) | (1u << GK_H_XXH64) | (1u << GK_H_SHA1) |
                            (1u << GK_H_SHA256);

static void test_t2(void) {
    uint8_t *b = NULL;
    size_t n = t1_build(&(t1opt){0}, &b);
    const char *p = hu_path(dir, "tiny.gguf");
    CHECK(n == 256 && gk_test_write_file(p, b, n) == 0);
    free(b);
    gk_hash_opts o = {ALL, ALL, 1u << GK_H_SHA256, 0, 0};
    gk_hash_result r;
    gk_err e = {0};
    gk_status st = gk_hash_model(p, &o, &r, &e);
    CHECKF(st == GK_OK, "%s", e.msg);
    if (st) return;
    CHECK(r.n_tensors == 2 && !strcmp(r.tensors[0].name, "t") && !strcmp(r.tensors[1].name, "h"));
    hex_is(&r.tensors[0].d[GK_H_XXH64], GK_H_XXH64, "a627e270d7209670", "t");
    hex_is(&r.tensors[1].d[GK_H_XXH64], GK_H_XXH64, "e77ae713404bacec", "h");
    hex_is(&r.model[GK_H_XXH64], GK_H_XXH64, "f0b27a248e4c9a24", "model");
    hex_is(&r.tensors[0].d[GK_H_SHA256], GK_H_SHA256,
           "0571cfe42be5c7b95de9afc7c7ba1286fb7a2ef10a9035f8d6b87d21a3bc8387", "t");
    hex_is(&r.tensors[1].d[GK_H_SHA256], GK_H_SHA256,
           "a1c7ce56fa343577ce57bc7c7788748ef640ec15a87c1786b507a8f1b608085c", "h");
    hex_is(&r.model[GK_H_SHA256], GK_H_SHA256,
           "d83b93c1ce66d75463266847b120806b181baf83230f94e4515e736f61ad401d", "model");
    hex_is(&r.tensors[0].d[GK_H_SHA1], GK_H_SHA1, "a00dc06e2530ee9f9d0babf934c6ce4e590b5a0c", "t");
    hex_is(&r.model[GK_H_SHA1], GK_H_SHA1, "938d35d1e657c120366e80bc2d85e5a4b829aa52", "model");
    hex_is(&r.parts[0].d[GK_H_SHA256], GK_H_SHA256,
           "ac1d7889bae6607a59b59156fa9baabfa1dd689f936333f420517571edb34c2a", "file");
    /* XXH3-128 of the exact bytes, independently */
    XXH128_canonical_t c;
    float tv[8];
    for (int i = 0; i < 8; i++) tv[i] = (float)i;
    XXH128_canonicalFromHash(&c, XXH3_128bits(tv, 32));
    CHECK(!memcmp(c.digest, r.tensors[0].d[GK_H_XXH3_128].b, 16));
    /* the XXH3-128 model hash, independently: XXH3-128 over the tensors' canonical XXH3-128
     * digests in info order (a hash list), not over their concatenated bytes */
    {
        t1_src s;
        t1_source(&s);
        XXH128_canonical_t ct, ch, cm, cc;
        XXH128_canonicalFromHash(&ct, XXH3_128bits(s.data_t, sizeof s.data_t));
        XXH128_canonicalFromHash(&ch, XXH3_128bits(s.data_h, sizeof s.data_h));
        CHECK(!memcmp(ch.digest, r.tensors[1].d[GK_H_XXH3_128].b, 16));
        uint8_t list[32], cat[38];
        memcpy(list, ct.digest, 16);
        memcpy(list + 16, ch.digest, 16);
        XXH128_canonicalFromHash(&cm, XXH3_128bits(list, sizeof list));
        CHECK(!memcmp(cm.digest, r.model[GK_H_XXH3_128].b, 16));
        memcpy(cat, s.data_t, 32);
        memcpy(cat + 32, s.data_h, 6);
        XXH128_canonicalFromHash(&cc, XXH3_128bits(cat, sizeof cat));
        CHECK(memcmp(cc.digest, r.model[GK_H_XXH3_128].b, 16) != 0);
        gk_digest d;
        gk_hash_list_xxh3(r.tensors, r.n_tensors, &d);
        CHECK(!memcmp(d.b, cm.digest, 16));
    }

    /* llama-gguf-hash output (any path prefix), xxh64 / sha256 / sha1 and a uuid line */
    gk_check k = check_text("xxh64     a627e270d7209670  some/dir/tiny.gguf:t\n"
                            "sha256    0571cfe42be5c7b95de9afc7c7ba1286fb7a2ef10a9035f8d6b87d21a3bc8387  some/dir/tiny.gguf:t\n"
                            "xxh64     e77ae713404bacec  some/dir/tiny.gguf:h\n"
                            "xxh64     f0b27a248e4c9a24  some/dir/tiny.gguf\n"
                            "sha1      938d35d1e657c120366e80bc2d85e5a4b829aa52  some/dir/tiny.gguf\n"
                            "uuid      cdbe724b-475d-5b55-84a5-25ada1c221e2  some/dir/tiny.gguf\n",
                            "renamed.gguf", &r);
    CHECKF(k.n == 0 && k.n_checked == 5, "llama manifest: %zu findings, %llu checked", k.n,
           (unsigned long long)k.n_checked);
    gk_check_free(&k);
    /* --no-layer style: only the model line */
    k = check_text("xxh64     f0b27a248e4c9a24  tiny.gguf\n", NULL, &r);
    CHECK(k.n == 0 && k.n_checked == 1);
    gk_check_free(&k);
    /* a wrong tensor line names the tensor; missing and extra tensors */
    k = check_text("xxh64     a627e270d7209671  tiny.gguf:t\n"
                   "xxh64     e77ae713404bacec  tiny.gguf:zz\n"
                   "xxh64     f0b27a248e4c9a24  tiny.gguf\n", NULL, &r);
    int mis = 0, missing = 0, extra = 0;
    for (size_t i = 0; i < k.n; i++) {
        if (k.f[i].kind == GK_CK_MISMATCH && k.f[i].name && !strcmp(k.f[i].name, "t")) mis++;
        if (k.f[i].kind == GK_CK_MISSING && !strcmp(k.f[i].name, "zz")) missing++;
        if (k.f[i].kind == GK_CK_EXTRA && !strcmp(k.f[i].name, "h")) extra++;
    }
    CHECKF(mis == 1 && missing == 1 && extra == 1 && k.n == 3, "findings %zu", k.n);
    gk_check_free(&k);
    /* a llama manifest for two files: the one named like ours is chosen */
    k = check_text("xxh64     0000000000000000  a.gguf:t\n"
                   "xxh64     0000000000000000  a.gguf\n"
                   "xxh64     a627e270d7209670  x/tiny.gguf:t\n"
                   "xxh64     e77ae713404bacec  x/tiny.gguf:h\n"
                   "xxh64     f0b27a248e4c9a24  x/tiny.gguf\n", "tiny.gguf", &r);
    CHECK(k.n == 0 && k.n_checked == 3);
    gk_check_free(&k);
    /* ours: write, parse back, zero findings */
    char *text = NULL;
    size_t tl = 0;
    FILE *f = open_memstream(&text, &tl);
    CHECK(gk_manifest_write(f, &r, &e) == GK_OK);
    fclose(f);
    CHECK(!strncmp(text, GK_MANIFEST_HEADER "\n", strlen(GK_MANIFEST_HEADER) + 1));
    CHECK(strstr(text, "\nxxh3-128  ") && strstr(text, "  @model\n") &&
          strstr(text, "sha256    ac1d7889bae6607a59b59156fa9baabfa1dd689f936333f420517571edb34c2a  @file tiny.gguf\n"));
    k = check_text(text, "tiny.gguf", &r);
    CHECKF(k.n == 0 && k.n_checked == 4 * 2 + 4 + 1, "own manifest: %zu findings, %llu checked",
           k.n, (unsigned long long)k.n_checked);
    gk_check_free(&k);
    /* a version-1 manifest: its xxh3-128 model line (over the concatenated bytes) is reported,
     * not checked, nor computed; everything else is checked */
    {
        CHECK(!strncmp(text, "# ggufkit-manifest 2\n", 21));
        char *v1 = strdup(text);
        v1[19] = '1';
        char *ml = strstr(v1, "xxh3-128  ");
        while (ml && strncmp(ml + 10 + 32, "  @model", 8)) ml = strstr(ml + 1, "xxh3-128  ");
        CHECK(ml != NULL);
        if (ml) memset(ml + 10, '0', 32); /* whatever version 1 wrote there */
        k = check_text(v1, "tiny.gguf", &r);
        CHECKF(k.n == 0 && k.n_v1_model == 1 && k.n_checked == 4 * 2 + 3 + 1,
               "v1 manifest: %zu findings, %u skipped, %llu checked", k.n, k.n_v1_model,
               (unsigned long long)k.n_checked);
        gk_check_free(&k);
        gk_manifest m1;
        CHECK(gk_manifest_parse(v1, strlen(v1), NULL, &m1, &e) == GK_OK && m1.version == 1);
        gk_hash_opts o1;
        memset(&o1, 0, sizeof o1);
        gk_check_opts(&m1, &o1);
        CHECK(o1.tensor_algos == ALL && o1.model_algos == (ALL & ~(1u << GK_H_XXH3_128)));
        gk_manifest_free(&m1);
        /* a tensor mismatch in a version-1 manifest is still found */
        char *t0 = strstr(v1, "\nxxh3-128  ");
        CHECK(t0 != NULL);
        if (t0) t0[11] = t0[11] == 'a' ? 'b' : 'a';
        k = check_text(v1, "tiny.gguf", &r);
        CHECK(k.n == 1 && k.f[0].scope == GK_MS_TENSOR && k.f[0].kind == GK_CK_MISMATCH);
        gk_check_free(&k);
        free(v1);
        /* a later version is refused */
        gk_manifest m3;
        const char *v3 = "# ggufkit-manifest 3\nxxh3-128  00000000000000000000000000000000  t\n";
        CHECK(gk_manifest_parse(v3, strlen(v3), NULL, &m3, &e) != GK_OK && strstr(e.msg, "version 3"));
    }
    free(text);
    /* malformed manifests are refused with the line number */
    gk_manifest m;
    CHECK(gk_manifest_parse(GK_MANIFEST_HEADER "\nxxh3-128  12  t\n", 30, NULL, &m, &e) != GK_OK &&
          strstr(e.msg, "line 2"));
    CHECK(gk_manifest_parse("hello\n", 6, NULL, &m, &e) != GK_OK);
    gk_hash_result_free(&r);
}

/* Names that need escaping, and a tensor literally named "model" / "@model". */
static void test_names(void) {
    static const char *names[] = {"@model", "model", "a b ", "back\\slash", "tab\there", " lead"};
    enum { N = 6 };
    gk_tensor ts[N];
    uint8_t data[N][32];
    const uint8_t *dp[N];
    memset(ts, 0, sizeof ts);
    for (int i = 0; i < N; i++) {
        ts[i].name = (gk_str){names[i], strlen(names[i])};
        ts[i].n_dims = 1;
        ts[i].ne[0] = 8; ts[i].ne[1] = ts[i].ne[2] = ts[i].ne[3] = 1;
        ts[i].type = GK_TYPE_F32;
        for (int j = 0; j < 32; j++) data[i][j] = (uint8_t)(i * 7 + j);
        dp[i] = data[i];
    }
    gk_kv kv = {.key = {"general.architecture", 20}, .val = {.type = GK_V_STR, .str = {"test", 4}}};
    gk_err e = {0};
    const char *p = hu_path(dir, "names.gguf");
    CHECKF(hu_write(p, &kv, 1, ts, N, dp, &e) == GK_OK, "%s", e.msg);
    gk_hash_opts o = {1u << GK_H_XXH3_128, 1u << GK_H_XXH3_128, 0, 0, 0};
    gk_hash_result r;
    if (gk_hash_model(p, &o, &r, &e) != GK_OK) { CHECKF(0, "%s", e.msg); return; }
    char *text = NULL;
    size_t tl = 0;
    FILE *f = open_memstream(&text, &tl);
    gk_manifest_write(f, &r, &e);
    fclose(f);
    CHECK(strstr(text, "  \\@model\n") && strstr(text, "  model\n") && strstr(text, "  a b\\x20\n") &&
          strstr(text, "  back\\\\slash\n") && strstr(text, "  tab\\there\n") && strstr(text, "  \\x20lead\n"));
    gk_check k = check_text(text, NULL, &r);
    CHECKF(k.n == 0 && k.n_checked == N + 1, "escaped names: %zu findings", k.n);
    gk_check_free(&k);
    free(text);
    gk_hash_result_free(&r);
}

/* Same tensors, other order: every tensor matches by name, the model hash reports the order. */
static void test_order(void) {
    t1_src s;
    t1_source(&s);
    gk_tensor ts[2] = {s.t[1], s.t[0]};
    const uint8_t *dp[2] = {s.data_h, s.data_t};
    gk_err e = {0};
    const char *p = hu_path(dir, "swapped.gguf");
    CHECKF(hu_write(p, s.kv, 2, ts, 2, dp, &e) == GK_OK, "%s", e.msg);
    gk_hash_opts o = {1u << GK_H_XXH64, 1u << GK_H_XXH64, 0, 0, 0};
    gk_hash_result r;
    if (gk_hash_model(p, &o, &r, &e) != GK_OK) { CHECKF(0, "%s", e.msg); return; }
    gk_check k = check_text("xxh64     a627e270d7209670  tiny.gguf:t\n"
                            "xxh64     e77ae713404bacec  tiny.gguf:h\n"
                            "xxh64     f0b27a248e4c9a24  tiny.gguf\n", NULL, &r);
    CHECK(k.n == 1 && k.f[0].kind == GK_CK_ORDER && k.f[0].scope == GK_MS_MODEL);
    gk_check_free(&k);
    /* the XXH3-128 model hash (a list of the tensor hashes) changes when two tensors swap
     * places; our own manifest of the original reports the order */
    {
        gk_hash_opts o3 = {1u << GK_H_XXH3_128, 1u << GK_H_XXH3_128, 0, 0, 0};
        gk_hash_result a, b;
        CHECKF(gk_hash_model(hu_path(dir, "tiny.gguf"), &o3, &a, &e) == GK_OK, "%s", e.msg);
        CHECKF(gk_hash_model(p, &o3, &b, &e) == GK_OK, "%s", e.msg);
        CHECK(a.n_tensors == 2 && b.n_tensors == 2 &&
              !memcmp(a.tensors[0].d[0].b, b.tensors[1].d[0].b, 16) &&
              !memcmp(a.tensors[1].d[0].b, b.tensors[0].d[0].b, 16) &&
              memcmp(a.model[0].b, b.model[0].b, 16) != 0);
        char *text = NULL;
        size_t tl = 0;
        FILE *f = open_memstream(&text, &tl);
        CHECK(gk_manifest_write(f, &a, &e) == GK_OK);
        fclose(f);
        k = check_text(text, NULL, &b);
        CHECK(k.n == 1 && k.f[0].kind == GK_CK_ORDER && k.f[0].algo == GK_H_XXH3_128);
        gk_check_free(&k);
        free(text);
        gk_hash_result_free(&a);
        gk_hash_result_free(&b);
    }
    gk_hash_result_free(&r);
}

typedef struct memsrc {
    const uint8_t *p;
    size_t n, pos, step;
} memsrc;
static int64_t mem_read(void *c, void *buf, size_t n) {
    memsrc *m = c;
    if (n > m->step) n = m->step; /* odd read sizes */
    if (n > m->n - m->pos) n = m->n - m->pos;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    return (int64_t)n;
}

static int same_result(const gk_hash_result *a, const gk_hash_result *b, unsigned algos) {
    if (a->n_tensors != b->n_tensors) return 0;
    for (uint64_t i = 0; i < a->n_tensors; i++)
        for (int x = 0; x < GK_H_COUNT; x++)
            if ((algos & (1u << x)) && memcmp(a->tensors[i].d[x].b, b->tensors[i].d[x].b, GK_HASH_MAX))
                return 0;
    for (int x = 0; x < GK_H_COUNT; x++)
        if ((algos & (1u << x)) && memcmp(a->model[x].b, b->model[x].b, GK_HASH_MAX)) return 0;
    return 1;
}

/* Chunk size and ring size do not change any hash; the streaming hasher agrees; a split set
 * hashes like the single file it came from. */
static void test_real(void) {
    const char *src = gk_test_data("gguf-py-written/stories260K-q8_0.gguf");
    unsigned al = (1u << GK_H_XXH3_128) | (1u << GK_H_SHA256);
    gk_hash_opts big = {al, al, 1u << GK_H_SHA256, 0, 0}, small = {al, al, 1u << GK_H_SHA256, 4096 + 17, 2};
    gk_hash_result a, b, c;
    gk_err e = {0};
    if (gk_hash_model(src, &big, &a, &e) != GK_OK) { CHECKF(0, "%s", e.msg); return; }
    CHECKF(gk_hash_model(src, &small, &b, &e) == GK_OK, "%s", e.msg);
    CHECK(same_result(&a, &b, al));
    CHECK(!memcmp(a.parts[0].d[GK_H_SHA256].b, b.parts[0].d[GK_H_SHA256].b, 32));
    static const char *const modes[2] = {"indep", "map"}; /* the other reading modes agree */
    for (int mi = 0; mi < 2; mi++) {
        gk_hash_result d;
        setenv("GGUFKIT_HASH_MODE", modes[mi], 1);
        CHECKF(gk_hash_model(src, mi ? &big : &small, &d, &e) == GK_OK, "%s", e.msg);
        unsetenv("GGUFKIT_HASH_MODE");
        CHECKF(same_result(&a, &d, al) && !memcmp(a.parts[0].d[GK_H_SHA256].b, d.parts[0].d[GK_H_SHA256].b, 32),
               "mode %s", modes[mi]);
        gk_hash_result_free(&d);
    }
    /* tensor lanes only (no file lane, no model lane over the bytes): the tensors are hashed
     * in parallel groups (run_split); same digests, whatever the chunk size */
    {
        const unsigned x3 = 1u << GK_H_XXH3_128;
        gk_hash_opts sp1 = {al, x3, 0, 0, 0}, sp2 = {al, x3, 0, 4096 + 17, 2};
        gk_hash_result d1, d2;
        CHECKF(gk_hash_model(src, &sp1, &d1, &e) == GK_OK, "%s", e.msg);
        CHECKF(gk_hash_model(src, &sp2, &d2, &e) == GK_OK, "%s", e.msg);
        CHECK(same_result(&a, &d1, al & ~(1u << GK_H_SHA256)) && same_result(&a, &d2, x3));
        for (uint64_t i = 0; i < a.n_tensors; i++)
            CHECK(!memcmp(a.tensors[i].d[GK_H_SHA256].b, d1.tensors[i].d[GK_H_SHA256].b, 32) &&
                  !memcmp(a.tensors[i].d[GK_H_SHA256].b, d2.tensors[i].d[GK_H_SHA256].b, 32));
        CHECK(d1.bytes_read > 0 && d1.bytes_read <= a.bytes_read);
        gk_hash_result_free(&d1);
        gk_hash_result_free(&d2);
    }
    hex_is(&a.parts[0].d[GK_H_SHA256], GK_H_SHA256,
           "6b352babf61ddaa8a40464824f8bd478d4a3eb4537df31da637ca9fac3d4f91b", "q8_0 file");
    /* each tensor against a direct hash of the mapped bytes */
    gk_gguf *g = NULL;
    CHECK(gk_gguf_open(src, 0, &g, &e) == GK_OK);
    for (uint64_t i = 0; g && i < g->n_tensors; i++) {
        XXH128_canonical_t cn;
        XXH128_canonicalFromHash(&cn, XXH3_128bits(g->tensors[i].data, (size_t)g->tensors[i].nbytes));
        CHECK(!memcmp(cn.digest, a.tensors[i].d[GK_H_XXH3_128].b, 16));
    }
    /* the XXH3-128 model hash from the mapped bytes, independently: a list of the tensors'
     * canonical digests in info order */
    if (g) {
        uint8_t *list = malloc((size_t)g->n_tensors * 16 + 1);
        for (uint64_t i = 0; i < g->n_tensors; i++) {
            XXH128_canonical_t cn;
            XXH128_canonicalFromHash(&cn, XXH3_128bits(g->tensors[i].data, (size_t)g->tensors[i].nbytes));
            memcpy(list + 16 * i, cn.digest, 16);
        }
        XXH128_canonical_t cm;
        XXH128_canonicalFromHash(&cm, XXH3_128bits(list, (size_t)g->n_tensors * 16));
        CHECK(!memcmp(cm.digest, a.model[GK_H_XXH3_128].b, 16));
        free(list);
    }
    /* any changed byte changes the model hash (and exactly one tensor's) */
    if (g) {
        const gk_tensor *t0 = &g->tensors[0], *tl = &g->tensors[g->n_tensors - 1];
        uint64_t at[3] = {g->data_start + t0->offset, g->data_start + tl->offset + tl->nbytes - 1,
                          g->data_start + g->tensors[g->n_tensors / 2].offset +
                              g->tensors[g->n_tensors / 2].nbytes / 2};
        gk_hash_opts o3 = {1u << GK_H_XXH3_128, 1u << GK_H_XXH3_128, 0, 0, 0};
        for (int k = 0; k < 3; k++) {
            const uint8_t *src_b = (const uint8_t *)g->tensors[0].data - (g->data_start + t0->offset);
            uint8_t nb = (uint8_t)(src_b[at[k]] ^ 0x01);
            const char *fl = hu_path(dir, "flip.gguf");
            CHECK(hu_copy_edit(src, fl, (size_t)at[k], &nb, 1, (size_t)-1) == 0);
            gk_hash_result f;
            if (gk_hash_model(fl, &o3, &f, &e) != GK_OK) { CHECKF(0, "%s", e.msg); continue; }
            int diff = 0;
            for (uint64_t i = 0; i < f.n_tensors; i++)
                diff += memcmp(f.tensors[i].d[0].b, a.tensors[i].d[0].b, 16) != 0;
            CHECKF(diff == 1 && memcmp(f.model[0].b, a.model[0].b, 16) != 0, "flip at %llu",
                   (unsigned long long)at[k]);
            gk_hash_result_free(&f);
        }
    }
    /* streaming with odd read sizes */
    size_t n = 0;
    unsigned char *bytes = gk_test_read_file(src, &n);
    memsrc ms = {bytes, n, 0, 1000 + 3};
    CHECK(gk_hash_stream_begin(&big, &c, &e) == GK_OK);
    CHECKF(gk_hash_stream_part(&c, "x.gguf", mem_read, &ms, &e) == GK_OK, "%s", e.msg);
    CHECK(gk_hash_stream_end(&c, &e) == GK_OK);
    CHECK(same_result(&a, &c, al));
    CHECK(!memcmp(a.parts[0].d[GK_H_SHA256].b, c.parts[0].d[GK_H_SHA256].b, 32) && c.parts[0].size == n);
    gk_hash_result_free(&c);
    free(bytes);
    /* split set: same tensor and model hashes as the single file */
    CHECKF(hu_write_split(src, dir, "st", 3, &e) == GK_OK, "%s", e.msg);
    gk_hash_result sp;
    CHECKF(gk_hash_model(hu_path(dir, "st-00002-of-00003.gguf"), &big, &sp, &e) == GK_OK, "%s", e.msg);
    CHECK(sp.n_parts == 3 && same_result(&a, &sp, al));
    gk_hash_result_free(&sp);
    /* a swapped tensor: the data of two same-size tensors exchanged; both are named */
    {
        uint64_t n0 = 0, n1 = 0;
        int64_t o0 = hu_tensor_off(src, "blk.0.attn_q.weight", &n0, NULL);
        int64_t o1 = hu_tensor_off(src, "blk.1.attn_q.weight", &n1, NULL);
        CHECK(o0 > 0 && o1 > 0 && n0 == n1);
        size_t fsz = 0;
        unsigned char *fb = gk_test_read_file(src, &fsz);
        unsigned char *tmp = malloc((size_t)n0);
        memcpy(tmp, fb + o0, (size_t)n0);
        memmove(fb + o0, fb + o1, (size_t)n0);
        memcpy(fb + o1, tmp, (size_t)n0);
        const char *sw = hu_path(dir, "swap.gguf");
        gk_test_write_file(sw, fb, fsz);
        free(tmp);
        free(fb);
        gk_hash_result s;
        CHECK(gk_hash_model(sw, &big, &s, &e) == GK_OK);
        char *text = NULL;
        size_t tl = 0;
        FILE *f = open_memstream(&text, &tl);
        gk_manifest_write(f, &a, &e);
        fclose(f);
        gk_check k = check_text(text, "swap.gguf", &s);
        int named = 0;
        for (size_t i = 0; i < k.n; i++)
            if (k.f[i].kind == GK_CK_MISMATCH && k.f[i].scope == GK_MS_TENSOR &&
                (!strcmp(k.f[i].name, "blk.0.attn_q.weight") || !strcmp(k.f[i].name, "blk.1.attn_q.weight")))
                named++;
        /* 2 tensors x 2 algorithms, the model x 2, the file sha256 */
        CHECKF(named == 4 && k.n == 4 + 2 + 1, "swapped: %zu findings, %d named", k.n, named);
        gk_check_free(&k);
        free(text);
        gk_hash_result_free(&s);
    }
    /* tensor data not in info order (two same-size tensors' offsets exchanged): the XXH3-128
     * model hash needs no second pass and streams too; it is the list in info order */
    {
        const char *n0 = "blk.0.attn_q.weight", *n1 = "blk.1.attn_q.weight";
        gk_gguf *h = NULL;
        CHECK(gk_gguf_open(src, 0, &h, &e) == GK_OK);
        int64_t i0 = h ? gk_gguf_find_tensor(h, n0) : -1, i1 = h ? gk_gguf_find_tensor(h, n1) : -1;
        CHECK(i0 >= 0 && i1 >= 0);
        if (i0 >= 0 && i1 >= 0) {
            const gk_tensor *x = &h->tensors[i0], *y = &h->tensors[i1];
            uint64_t fx = x->info_offset + 8 + x->name.len + 4 + 8 * (uint64_t)x->n_dims + 4;
            uint64_t fy = y->info_offset + 8 + y->name.len + 4 + 8 * (uint64_t)y->n_dims + 4;
            size_t fsz = 0;
            unsigned char *fb = gk_test_read_file(src, &fsz);
            uint64_t ox, oy;
            memcpy(&ox, fb + fx, 8);
            memcpy(&oy, fb + fy, 8);
            CHECK(ox == x->offset && oy == y->offset);
            memcpy(fb + fx, &oy, 8);
            memcpy(fb + fy, &ox, 8);
            const char *oo = hu_path(dir, "outoforder.gguf");
            gk_test_write_file(oo, fb, fsz);
            gk_hash_opts o3 = {1u << GK_H_XXH3_128, 1u << GK_H_XXH3_128, 0, 0, 0};
            gk_hash_result f, sm;
            CHECKF(gk_hash_model(oo, &o3, &f, &e) == GK_OK, "%s", e.msg);
            CHECK(!memcmp(f.tensors[i0].d[0].b, a.tensors[i1].d[0].b, 16) &&
                  !memcmp(f.tensors[i1].d[0].b, a.tensors[i0].d[0].b, 16) &&
                  memcmp(f.model[0].b, a.model[0].b, 16) != 0);
            gk_digest d;
            gk_hash_list_xxh3(f.tensors, f.n_tensors, &d);
            CHECK(!memcmp(d.b, f.model[0].b, 16));
            memsrc m2 = {fb, fsz, 0, 4096 + 5};
            CHECK(gk_hash_stream_begin(&o3, &sm, &e) == GK_OK);
            CHECKF(gk_hash_stream_part(&sm, "oo.gguf", mem_read, &m2, &e) == GK_OK, "%s", e.msg);
            CHECK(gk_hash_stream_end(&sm, &e) == GK_OK);
            CHECK(same_result(&f, &sm, 1u << GK_H_XXH3_128));
            gk_hash_result_free(&sm);
            /* the byte-concatenation algorithms still need the second pass: same as in order */
            gk_hash_opts o6 = {1u << GK_H_SHA256, 1u << GK_H_SHA256, 0, 0, 0};
            gk_hash_result q;
            CHECKF(gk_hash_model(oo, &o6, &q, &e) == GK_OK, "%s", e.msg);
            CHECK(memcmp(q.model[GK_H_SHA256].b, a.model[GK_H_SHA256].b, 32) != 0);
            gk_hash_result_free(&q);
            gk_hash_result_free(&f);
            free(fb);
        }
        gk_gguf_close(h);
    }
    /* a bit flip in the header: the reader's rejection, no hashes */
    {
        const uint8_t flip = 0x7f;
        hu_copy_edit(src, hu_path(dir, "hdr.gguf"), 17, &flip, 1, (size_t)-1);
        gk_hash_result s;
        CHECK(gk_hash_model(hu_path(dir, "hdr.gguf"), &big, &s, &e) != GK_OK && e.msg[0]);
    }
    /* a shortened split set cannot be hashed as a model */
    {
        unlink(hu_path(dir, "st-00003-of-00003.gguf"));
        gk_hash_result s;
        CHECK(gk_hash_model(hu_path(dir, "st-00001-of-00003.gguf"), &big, &s, &e) != GK_OK);
    }
    gk_gguf_close(g);
    gk_hash_result_free(&a);
    gk_hash_result_free(&b);
}

int main(void) {
    dir = gk_test_tmpdir();
    test_t2();
    test_names();
    test_order();
    if (gk_test_failures) return gk_test_result("test_hash");
    gk_test_data_dir(); /* the rest needs ../shared/data: skip (77) when absent, fail in CI */
    test_real();
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (!gk_test_failures && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return gk_test_result("test_hash");
}
