/* The ggufkit command table: each subcommand is one function in cli/cmd_<name>.c.
 * Exit codes (design.md): 0 success/clean, 1 the file is bad or differs, 2 usage, 3 I/O/system. */
#ifndef GK_CLI_H
#define GK_CLI_H

#include "ggufkit.h"

#include <stdio.h>

#define GK_EXIT_OK 0
#define GK_EXIT_FINDING 1
#define GK_EXIT_USAGE 2
#define GK_EXIT_IO 3

typedef struct gk_command {
    const char *name;
    int (*run)(int argc, char **argv);   /* argv[0] is the subcommand name */
    const char *summary;
} gk_command;

int gk_cmd_inspect(int argc, char **argv);
int gk_cmd_convert(int argc, char **argv);
int gk_cmd_example_checkpoint(int argc, char **argv);
int gk_cmd_hash(int argc, char **argv);
int gk_cmd_validate(int argc, char **argv);
int gk_cmd_pack(int argc, char **argv);
int gk_cmd_unpack(int argc, char **argv);

/* Prints "ggufkit: <msg>" for an error and returns its exit code. */
int gk_cli_fail(const gk_err *e);

#endif
