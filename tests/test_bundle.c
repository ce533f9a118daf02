/* Bundles: pack is deterministic, pack -> unpack gives identical files, validate and hash read a
 * bundle directly; hostile bundles (absolute paths, "..", links, devices, directories, a tampered
 * tensor, a missing manifest, a truncated archive) are refused and leave no file behind. */
#include "test_hash_util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *dir;

static int n_entries(const char *d) {
    DIR *x = opendir(d);
    if (!x) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(x)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(x);
    return n;
}

static int same_file(const char *a, const char *b) {
    size_t na = 0, nb = 0;
    unsigned char *x = gk_test_read_file(a, &na), *y = gk_test_read_file(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

/* A hostile bundle: members given as (name, type, content); type 'f' file, 'l' symlink,
 * 'h' hardlink, 'c' char device, 'd' directory. */
typedef struct hm {
    const char *name;
    char type;
    const char *src;     /* file whose bytes to store (NULL: text) */
    const char *text;
} hm;

static void write_bundle(const char *out, const hm *ms, int n) {
    struct archive *a = archive_write_new();
    archive_write_add_filter_zstd(a);
    archive_write_set_format_pax_restricted(a);
    CHECK(archive_write_open_filename(a, out) == ARCHIVE_OK);
    for (int i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, ms[i].name);
        archive_entry_set_perm(e, 0644);
        size_t sz = 0;
        unsigned char *data = NULL;
        if (ms[i].type == 'f') {
            if (ms[i].src) data = gk_test_read_file(ms[i].src, &sz);
            else { sz = strlen(ms[i].text); data = (unsigned char *)strdup(ms[i].text); }
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, (la_int64_t)sz);
        } else if (ms[i].type == 'l') {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, "/etc/passwd");
        } else if (ms[i].type == 'h') {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_hardlink(e, "model.gguf");
        } else if (ms[i].type == 'c') {
            archive_entry_set_filetype(e, AE_IFCHR);
            archive_entry_set_rdev(e, 0x0103);
        } else {
            archive_entry_set_filetype(e, AE_IFDIR);
        }
        archive_write_header(a, e);
        if (data) archive_write_data(a, data, sz);
        free(data);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

static void expect_refused(const char *bundle, gk_status want, const char *what) {
    char out[1024];
    snprintf(out, sizeof out, "%s.out", bundle);
    mkdir(out, 0755);
    gk_err e = {0};
    gk_status st = gk_bundle_unpack(bundle, out, &e);
    CHECKF(st == want, "%s: unpack gave %s (%s), want %s", what, gk_status_name(st), e.msg,
           gk_status_name(want));
    CHECKF(n_entries(out) == 0, "%s: unpack left %d files behind", what, n_entries(out));
}

int main(void) {
    dir = gk_test_tmpdir();
    gk_test_data_dir();
    char q4[2048];
    snprintf(q4, sizeof q4, "%s", gk_test_data("gguf-py-written/stories260K-q4_0.gguf"));
    gk_err e = {0};
    char model[1024], readme[1024], b1[1024], b2[1024], out[1024], man[1024];
    snprintf(model, sizeof model, "%s", hu_path(dir, "model.gguf"));
    snprintf(readme, sizeof readme, "%s", hu_path(dir, "README.md"));
    CHECK(hu_copy_edit(q4, model, 0, NULL, 0, (size_t)-1) == 0);
    CHECK(gk_test_write_file(readme, "# stories260K\n", 14) == 0);
    const char *extra[1] = {readme};
    gk_pack_opts po = {extra, 1};
    snprintf(b1, sizeof b1, "%s", hu_path(dir, "b1.tar.zst"));
    snprintf(b2, sizeof b2, "%s", hu_path(dir, "b2.tar.zst"));
    CHECKF(gk_bundle_pack(model, &po, b1, &e) == GK_OK, "%s", e.msg);
    CHECKF(gk_bundle_pack(model, &po, b2, &e) == GK_OK, "%s", e.msg);
    CHECK(same_file(b1, b2)); /* deterministic */
    CHECK(gk_bundle_sniff(b1) == 1 && gk_bundle_sniff(model) == 0);
    /* sorted names, mtime 0, uid/gid 0 */
    {
        struct archive *a = archive_read_new();
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        CHECK(archive_read_open_filename(a, b1, 65536) == ARCHIVE_OK);
        struct archive_entry *en;
        const char *want[3] = {"README.md", GK_MANIFEST_NAME, "model.gguf"};
        int k = 0;
        while (archive_read_next_header(a, &en) == ARCHIVE_OK) {
            CHECK(k < 3 && !strcmp(archive_entry_pathname(en), want[k]));
            CHECK(archive_entry_mtime(en) == 0 && archive_entry_uid(en) == 0 && archive_entry_gid(en) == 0);
            k++;
        }
        CHECK(k == 3);
        archive_read_free(a);
    }
    /* round trip */
    snprintf(out, sizeof out, "%s", hu_path(dir, "out"));
    mkdir(out, 0755);
    CHECKF(gk_bundle_unpack(b1, out, &e) == GK_OK, "%s", e.msg);
    CHECK(same_file(hu_path(out, "model.gguf"), model) && same_file(hu_path(out, "README.md"), readme));
    CHECK(n_entries(out) == 3);
    /* validate and hash read the bundle directly */
    {
        gk_vreport *r = NULL;
        size_t n = 0;
        gk_validate_opts vo = {0};
        CHECK(gk_validate_path(b1, &vo, &r, &n, &e) == GK_OK);
        uint64_t errs = 0;
        for (size_t i = 0; i < n; i++) { errs += r[i].n_errors; if (r[i].n_errors) hu_dump(&r[i]); gk_vreport_free(&r[i]); }
        free(r);
        CHECK(n == 2 && errs == 0);
        gk_hash_opts ho = {1u << GK_H_XXH3_128, 1u << GK_H_XXH3_128, 1u << GK_H_SHA256, 0, 0};
        gk_hash_result a, b;
        char *mt = NULL;
        size_t ml = 0;
        CHECKF(gk_bundle_hash(b1, &ho, &a, &mt, &ml, &e) == GK_OK, "%s", e.msg);
        CHECK(gk_hash_model(model, &ho, &b, &e) == GK_OK);
        CHECK(a.n_tensors == b.n_tensors && !memcmp(a.model[0].b, b.model[0].b, 16) &&
              !memcmp(a.parts[0].d[GK_H_SHA256].b, b.parts[0].d[GK_H_SHA256].b, 32));
        CHECK(mt && strstr(mt, "@file model.gguf"));
        free(mt);
        gk_hash_result_free(&a);
        gk_hash_result_free(&b);
    }
    /* split set in a bundle: packed as its parts, unpacked identical */
    CHECKF(hu_write_split(q4, dir, "sp", 2, &e) == GK_OK, "%s", e.msg);
    {
        const char *bs = hu_path(dir, "split.tar.zst");
        CHECKF(gk_bundle_pack(hu_path(dir, "sp-00001-of-00002.gguf"), NULL, bs, &e) == GK_OK, "%s", e.msg);
        const char *o2 = hu_path(dir, "out2");
        mkdir(o2, 0755);
        CHECKF(gk_bundle_unpack(bs, o2, &e) == GK_OK, "%s", e.msg);
        CHECK(n_entries(o2) == 3 &&
              same_file(hu_path(o2, "sp-00002-of-00002.gguf"), hu_path(dir, "sp-00002-of-00002.gguf")));
    }
    /* hostile bundles */
    snprintf(man, sizeof man, "%s", hu_path(out, GK_MANIFEST_NAME));
    hm abs_m[] = {{"/tmp/evil.gguf", 'f', model, NULL}};
    write_bundle(hu_path(dir, "abs.tar.zst"), abs_m, 1);
    expect_refused(hu_path(dir, "abs.tar.zst"), GK_E_UNSAFE_PATH, "absolute path");
    hm dd_m[] = {{"../evil.txt", 'f', NULL, "x"}};
    write_bundle(hu_path(dir, "dotdot.tar.zst"), dd_m, 1);
    expect_refused(hu_path(dir, "dotdot.tar.zst"), GK_E_UNSAFE_PATH, "..");
    hm ln_m[] = {{GK_MANIFEST_NAME, 'f', man, NULL}, {"link", 'l', NULL, NULL}, {"model.gguf", 'f', model, NULL}};
    write_bundle(hu_path(dir, "link.tar.zst"), ln_m, 3);
    expect_refused(hu_path(dir, "link.tar.zst"), GK_E_UNSAFE_PATH, "symlink");
    hm hl_m[] = {{GK_MANIFEST_NAME, 'f', man, NULL}, {"model.gguf", 'f', model, NULL}, {"other.gguf", 'h', NULL, NULL}};
    write_bundle(hu_path(dir, "hard.tar.zst"), hl_m, 3);
    expect_refused(hu_path(dir, "hard.tar.zst"), GK_E_UNSAFE_PATH, "hardlink");
    hm dev_m[] = {{"tty", 'c', NULL, NULL}};
    write_bundle(hu_path(dir, "dev.tar.zst"), dev_m, 1);
    expect_refused(hu_path(dir, "dev.tar.zst"), GK_E_UNSAFE_PATH, "device");
    hm dir_m[] = {{"sub/", 'd', NULL, NULL}};
    write_bundle(hu_path(dir, "dir.tar.zst"), dir_m, 1);
    expect_refused(hu_path(dir, "dir.tar.zst"), GK_E_UNSAFE_PATH, "directory");
    hm noman_m[] = {{"model.gguf", 'f', model, NULL}};
    write_bundle(hu_path(dir, "noman.tar.zst"), noman_m, 1);
    expect_refused(hu_path(dir, "noman.tar.zst"), GK_E_NOT_FOUND, "no manifest");
    /* a tampered tensor: one data byte changed, original manifest */
    {
        int64_t off = hu_tensor_off(model, "blk.2.ffn_gate.weight", NULL, NULL);
        const char *bad = hu_path(dir, "tampered.gguf");
        hu_copy_edit(model, bad, (size_t)off + 100, "\x55", 1, (size_t)-1);
        hm t_m[] = {{GK_MANIFEST_NAME, 'f', man, NULL}, {"model.gguf", 'f', bad, NULL}};
        write_bundle(hu_path(dir, "tampered.tar.zst"), t_m, 2);
        expect_refused(hu_path(dir, "tampered.tar.zst"), GK_E_MISMATCH, "tampered tensor");
        gk_vreport *r = NULL;
        size_t n = 0;
        gk_validate_opts vo = {0};
        CHECK(gk_validate_path(hu_path(dir, "tampered.tar.zst"), &vo, &r, &n, &e) == GK_OK);
        int found = 0;
        for (size_t i = 0; i < n; i++) { found |= hu_has(&r[i], "hash_mismatch", "blk.2.ffn_gate.weight"); gk_vreport_free(&r[i]); }
        free(r);
        CHECK(found);
    }
    /* a truncated bundle */
    {
        size_t n = 0;
        unsigned char *b = gk_test_read_file(b1, &n);
        free(b);
        hu_copy_edit(b1, hu_path(dir, "cut.tar.zst"), 0, NULL, 0, n / 2);
        char o3[1024];
        snprintf(o3, sizeof o3, "%s.out", hu_path(dir, "cut.tar.zst"));
        mkdir(o3, 0755);
        CHECK(gk_bundle_unpack(hu_path(dir, "cut.tar.zst"), o3, &e) != GK_OK);
        CHECK(n_entries(o3) == 0);
    }
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (!gk_test_failures && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return gk_test_result("test_bundle");
}
