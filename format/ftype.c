/* llama.cpp's file types (llama_ftype, the value of general.file_type; format-facts §5.1):
 * number, CLI name, default tensor type. Removed numbers are absent. */
#include "ggufkit.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const gk_ftype_info ftypes[] = {
    {0, "F32", GK_TYPE_F32},         {1, "F16", GK_TYPE_F16},
    {2, "Q4_0", GK_TYPE_Q4_0},       {3, "Q4_1", GK_TYPE_Q4_1},
    {7, "Q8_0", GK_TYPE_Q8_0},       {8, "Q5_0", GK_TYPE_Q5_0},
    {9, "Q5_1", GK_TYPE_Q5_1},       {10, "Q2_K", GK_TYPE_Q2_K},
    {11, "Q3_K_S", GK_TYPE_Q3_K},    {12, "Q3_K_M", GK_TYPE_Q3_K},
    {13, "Q3_K_L", GK_TYPE_Q3_K},    {14, "Q4_K_S", GK_TYPE_Q4_K},
    {15, "Q4_K_M", GK_TYPE_Q4_K},    {16, "Q5_K_S", GK_TYPE_Q5_K},
    {17, "Q5_K_M", GK_TYPE_Q5_K},    {18, "Q6_K", GK_TYPE_Q6_K},
    {19, "IQ2_XXS", GK_TYPE_IQ2_XXS}, {20, "IQ2_XS", GK_TYPE_IQ2_XS},
    {21, "Q2_K_S", GK_TYPE_Q2_K},    {22, "IQ3_XS", GK_TYPE_IQ3_S},
    {23, "IQ3_XXS", GK_TYPE_IQ3_XXS}, {24, "IQ1_S", GK_TYPE_IQ1_S},
    {25, "IQ4_NL", GK_TYPE_IQ4_NL},  {26, "IQ3_S", GK_TYPE_IQ3_S},
    {27, "IQ3_M", GK_TYPE_IQ3_S},    {28, "IQ2_S", GK_TYPE_IQ2_XS},
    {29, "IQ2_M", GK_TYPE_IQ2_S},    {30, "IQ4_XS", GK_TYPE_IQ4_XS},
    {31, "IQ1_M", GK_TYPE_IQ1_M},    {32, "BF16", GK_TYPE_BF16},
    {36, "TQ1_0", GK_TYPE_TQ1_0},    {37, "TQ2_0", GK_TYPE_TQ2_0},
    {38, "MXFP4_MOE", GK_TYPE_MXFP4}, {39, "NVFP4", GK_TYPE_NVFP4},
    {40, "Q1_0", GK_TYPE_Q1_0},      {41, "Q2_0", GK_TYPE_Q2_0},
};

const gk_ftype_info *gk_ftype_get(uint32_t ftype) {
    for (size_t i = 0; i < sizeof ftypes / sizeof ftypes[0]; i++)
        if (ftypes[i].ftype == ftype) return &ftypes[i];
    return NULL;
}

const gk_ftype_info *gk_ftype_from_name(const char *name) {
    if (!name || !*name) return NULL;
    static const struct { const char *alias, *name; } aliases[] = {
        {"Q3_K", "Q3_K_M"}, {"Q4_K", "Q4_K_M"}, {"Q5_K", "Q5_K_M"}};
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(name, aliases[i].alias) == 0) name = aliases[i].name;
    for (size_t i = 0; i < sizeof ftypes / sizeof ftypes[0]; i++)
        if (strcasecmp(ftypes[i].name, name) == 0) return &ftypes[i];
    char *end;
    unsigned long v = strtoul(name, &end, 10);
    if (*end == '\0' && isdigit((unsigned char)name[0]) && v <= UINT32_MAX)
        return gk_ftype_get((uint32_t)v);
    return NULL;
}
