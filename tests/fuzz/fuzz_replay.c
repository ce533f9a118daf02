/* Replays a fuzz target's corpus under ctest: every regular file of each directory given on the
 * command line (in name order) goes through LLVMFuzzerTestOneInput. A crash or trap fails the
 * test; an empty or missing corpus fails it too. Arguments starting with '-' are ignored.
 * Shared by every gk_fuzz_target. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return -1;
    /* an exact-size copy, so reads past the end are caught by ASan */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) { free(buf); return -1; }
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

int main(int argc, char **argv) {
    long files = 0;
    for (int a = 1; a < argc; a++) {
        struct stat sb;
        if (argv[a][0] == '-') continue; /* libFuzzer-style flags are ignored */
        if (stat(argv[a], &sb) != 0) { fprintf(stderr, "%s: missing\n", argv[a]); return 1; }
        if (!S_ISDIR(sb.st_mode)) {
            if (run_file(argv[a]) != 0) { fprintf(stderr, "%s: unreadable\n", argv[a]); return 1; }
            files++;
            continue;
        }
        struct dirent **list = NULL;
        int n = scandir(argv[a], &list, NULL, alphasort);
        if (n < 0) { fprintf(stderr, "%s: cannot list\n", argv[a]); return 1; }
        for (int i = 0; i < n; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[a], list[i]->d_name);
            if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
                if (run_file(path) != 0) { fprintf(stderr, "%s: unreadable\n", path); return 1; }
                files++;
            }
            free(list[i]);
        }
        free(list);
    }
    printf("replayed %ld input(s)\n", files);
    if (!files) { fprintf(stderr, "no corpus inputs found\n"); return 1; }
    return 0;
}
