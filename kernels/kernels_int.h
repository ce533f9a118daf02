/* Internal to kernels/: block layouts (format-facts §2, all fields little-endian, packed, no
 * alignment assumptions), scalar conversions, rounding primitives and ISA target attributes.
 * Every kernel file includes this; nothing outside kernels/ does. */
#ifndef GK_KERNELS_INT_H
#define GK_KERNELS_INT_H

#include "ggufkit.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---- block layouts ------------------------------------------------------------------------ */
#define QK4_0 32
#define QK8_0 32
#define QK_K 256
#define K_SCALE_SIZE 12

typedef struct { uint16_t d; uint8_t qs[16]; } gk_block_q4_0;
typedef struct { uint16_t d, m; uint8_t qs[16]; } gk_block_q4_1;
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } gk_block_q5_0;
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; } gk_block_q5_1;
typedef struct { uint16_t d; int8_t qs[32]; } gk_block_q8_0;
typedef struct { uint16_t d, s; int8_t qs[32]; } gk_block_q8_1;
typedef struct { uint8_t scales[16]; uint8_t qs[64]; uint16_t d, dmin; } gk_block_q2_K;
typedef struct { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; } gk_block_q3_K;
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; } gk_block_q4_K;
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } gk_block_q5_K;
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } gk_block_q6_K;
typedef struct { float d; int8_t qs[256]; int16_t bsums[16]; } gk_block_q8_K;
typedef struct { uint16_t d; uint16_t qs[32]; } gk_block_iq2_xxs;
typedef struct { uint16_t d; uint16_t qs[32]; uint8_t scales[8]; } gk_block_iq2_xs;
typedef struct { uint16_t d; uint8_t qs[96]; } gk_block_iq3_xxs;
typedef struct { uint16_t d; uint8_t qs[32]; uint16_t qh[8]; } gk_block_iq1_s;
typedef struct { uint16_t d; uint8_t qs[16]; } gk_block_iq4_nl;
typedef struct { uint16_t d; uint8_t qs[64]; uint8_t qh[8]; uint8_t signs[32]; uint8_t scales[4]; } gk_block_iq3_s;
typedef struct { uint16_t d; uint8_t qs[64]; uint8_t qh[8]; uint8_t scales[8]; } gk_block_iq2_s;
typedef struct { uint16_t d; uint16_t scales_h; uint8_t scales_l[4]; uint8_t qs[128]; } gk_block_iq4_xs;
typedef struct { uint8_t qs[32]; uint8_t qh[16]; uint8_t scales[8]; } gk_block_iq1_m;
typedef struct { uint8_t qs[48]; uint8_t qh[4]; uint16_t d; } gk_block_tq1_0;
typedef struct { uint8_t qs[64]; uint16_t d; } gk_block_tq2_0;
typedef struct { uint8_t e; uint8_t qs[16]; } gk_block_mxfp4;
typedef struct { uint8_t d[4]; uint8_t qs[32]; } gk_block_nvfp4;
typedef struct { uint16_t d; uint8_t qs[16]; } gk_block_q1_0;
typedef struct { uint16_t d; uint8_t qs[16]; } gk_block_q2_0;

/* sizes must equal the type table's bytes per block (a test also checks the table) */
_Static_assert(sizeof(gk_block_q4_0) == 18, "q4_0");
_Static_assert(sizeof(gk_block_q4_1) == 20, "q4_1");
_Static_assert(sizeof(gk_block_q5_0) == 22, "q5_0");
_Static_assert(sizeof(gk_block_q5_1) == 24, "q5_1");
_Static_assert(sizeof(gk_block_q8_0) == 34, "q8_0");
_Static_assert(sizeof(gk_block_q8_1) == 36, "q8_1");
_Static_assert(sizeof(gk_block_q2_K) == 84, "q2_K");
_Static_assert(sizeof(gk_block_q3_K) == 110, "q3_K");
_Static_assert(sizeof(gk_block_q4_K) == 144, "q4_K");
_Static_assert(sizeof(gk_block_q5_K) == 176, "q5_K");
_Static_assert(sizeof(gk_block_q6_K) == 210, "q6_K");
_Static_assert(sizeof(gk_block_q8_K) == 292, "q8_K");
_Static_assert(sizeof(gk_block_iq2_xxs) == 66, "iq2_xxs");
_Static_assert(sizeof(gk_block_iq2_xs) == 74, "iq2_xs");
_Static_assert(sizeof(gk_block_iq3_xxs) == 98, "iq3_xxs");
_Static_assert(sizeof(gk_block_iq1_s) == 50, "iq1_s");
_Static_assert(sizeof(gk_block_iq4_nl) == 18, "iq4_nl");
_Static_assert(sizeof(gk_block_iq3_s) == 110, "iq3_s");
_Static_assert(sizeof(gk_block_iq2_s) == 82, "iq2_s");
_Static_assert(sizeof(gk_block_iq4_xs) == 136, "iq4_xs");
_Static_assert(sizeof(gk_block_iq1_m) == 56, "iq1_m");
_Static_assert(sizeof(gk_block_tq1_0) == 54, "tq1_0");
_Static_assert(sizeof(gk_block_tq2_0) == 66, "tq2_0");
_Static_assert(sizeof(gk_block_mxfp4) == 17, "mxfp4");
_Static_assert(sizeof(gk_block_nvfp4) == 36, "nvfp4");
_Static_assert(sizeof(gk_block_q1_0) == 18, "q1_0");
_Static_assert(sizeof(gk_block_q2_0) == 18, "q2_0");

/* Kernels take unaligned pointers: load/store whole blocks with memcpy, or use these. */
static inline uint16_t gk_ld16(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t gk_ld32(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline void gk_st16(void *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void gk_st32(void *p, uint32_t v) { memcpy(p, &v, 4); }
static inline float gk_ldf(const void *p) { float v; memcpy(&v, p, 4); return v; }

static inline uint32_t gk_f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float gk_u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* ---- fp16 / bf16 (format-facts §3.0) -------------------------------------------------------- */
/* fp32 -> fp16, round to nearest even, subnormals exact, overflow to inf, NaN -> sign|0x7E00. */
static inline uint16_t gk_f32_to_f16(float f) {
    uint32_t x = gk_f2u(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);        /* >= 65520: inf */
    if (ax >= 0x38800000u) {                                         /* normal half */
        uint32_t r = ax - 0x38000000u;
        r += 0x0fffu + ((r >> 13) & 1u);
        return (uint16_t)(sign | (r >> 13));
    }
    if (ax <= 0x33000000u) return (uint16_t)sign;                    /* <= 2^-25: zero */
    uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126u - e;                                       /* 14..24 */
    uint32_t q = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return (uint16_t)(sign | q);
}

/* fp16 -> fp32, exact. */
static inline float gk_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1f) return gk_u2f(sign | 0x7f800000u | (m << 13));
    if (e != 0) return gk_u2f(sign | ((e + 112u) << 23) | (m << 13));
    if (m == 0) return gk_u2f(sign);
    float v = (float)m * 0x1p-24f;                                   /* subnormal: exact */
    return sign ? -v : v;
}

static inline uint16_t gk_f32_to_bf16(float f) {
    uint32_t u = gk_f2u(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static inline float gk_bf16_to_f32(uint16_t h) { return gk_u2f((uint32_t)h << 16); }

/* ---- rounding primitives (format-facts §3.0) ------------------------------------------------ */
/* Round half to even via the 1.5*2^23 trick; valid for |f| <= 4194303. */
static inline int gk_nearest_int(float f) {
    float v = f + 12582912.0f;
    int32_t i;
    memcpy(&i, &v, 4);
    return (i & 0x007fffff) - 0x00400000;
}

/* ---- ISA target attributes ------------------------------------------------------------------ */
#if defined(__x86_64__) || defined(__i386__)
#define GK_X86 1
#define GK_TARGET_AVX2 __attribute__((target("avx2,fma,f16c,bmi2,popcnt")))
#define GK_TARGET_AVX512 \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2,popcnt")))
#else
#define GK_X86 0
#endif

/* ---- the rows, one per kernel file ---------------------------------------------------------- */
#define GK_DECLARE_ROW(name) extern const gk_kernel_row gk_krow_##name
GK_DECLARE_ROW(f32); GK_DECLARE_ROW(f16); GK_DECLARE_ROW(bf16); GK_DECLARE_ROW(f64);
GK_DECLARE_ROW(i8); GK_DECLARE_ROW(i16); GK_DECLARE_ROW(i32); GK_DECLARE_ROW(i64);
GK_DECLARE_ROW(q4_0); GK_DECLARE_ROW(q4_1); GK_DECLARE_ROW(q5_0); GK_DECLARE_ROW(q5_1);
GK_DECLARE_ROW(q8_0); GK_DECLARE_ROW(q8_1);
GK_DECLARE_ROW(q2_K); GK_DECLARE_ROW(q3_K); GK_DECLARE_ROW(q4_K); GK_DECLARE_ROW(q5_K);
GK_DECLARE_ROW(q6_K); GK_DECLARE_ROW(q8_K);
GK_DECLARE_ROW(iq4_nl); GK_DECLARE_ROW(iq4_xs);
GK_DECLARE_ROW(tq1_0); GK_DECLARE_ROW(tq2_0);
GK_DECLARE_ROW(mxfp4); GK_DECLARE_ROW(nvfp4);
GK_DECLARE_ROW(q1_0); GK_DECLARE_ROW(q2_0);
GK_DECLARE_ROW(iq2_xxs); GK_DECLARE_ROW(iq2_xs); GK_DECLARE_ROW(iq2_s);
GK_DECLARE_ROW(iq3_xxs); GK_DECLARE_ROW(iq3_s); GK_DECLARE_ROW(iq1_s); GK_DECLARE_ROW(iq1_m);

#endif
