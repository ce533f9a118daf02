/* ggufkit: git-style subcommands over libggufkit. */
#include "cli.h"

#include <string.h>

static const gk_command commands[] = {
    {"inspect", gk_cmd_inspect, "summarise a GGUF file: types, precision layout, metadata, tensors"},
    {"convert", gk_cmd_convert, "Hugging Face checkpoint (dir or archive) -> GGUF, any output type"},
    {"example-checkpoint", gk_cmd_example_checkpoint, "write a small deterministic llama checkpoint in HF layout"},
    {"hash", gk_cmd_hash, "per-tensor and model hashes, manifests, --check (also llama-gguf-hash's)"},
    {"validate", gk_cmd_validate, "everything a publisher should know: errors, warnings, llama.cpp compatibility"},
    {"pack", gk_cmd_pack, "bundle a model, its manifest and extra files into a deterministic .tar.zst"},
    {"unpack", gk_cmd_unpack, "extract a bundle, verifying every tensor hash"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
    fprintf(f, "usage: ggufkit <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-19s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'ggufkit <command> --help' for a command's options.\n");
}

int gk_cli_fail(const gk_err *e) {
    fprintf(stderr, "ggufkit: %s\n", e->msg[0] ? e->msg : gk_status_name(e->status));
    return gk_status_exit_code(e->status);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return GK_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return GK_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("ggufkit 0.1.0\n");
        return GK_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "ggufkit: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return GK_EXIT_USAGE;
}
