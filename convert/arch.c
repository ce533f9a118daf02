/* The architecture table: one entry per HF class (spec/convert.md). Facts from llama.cpp's
 * converter and its llama-arch tables (format-facts §9): GGUF arch names, tensor names, which
 * checkpoints store Q/K in HF's rotate-half layout (llama family) and which use NeoX rotary in
 * llama.cpp (qwen2/qwen3: no permutation). Adding an architecture is one entry in `arches`. */
#include "gk_convert.h"
#include "gk_tokenizer.h"

#include <stdio.h>
#include <string.h>

#define L "model.layers.%d."
#define B "blk.%d."

/* ---- tensor maps ------------------------------------------------------------------------- */

static const gk_cv_tmap embed_pre[] = {
    {"model.embed_tokens.weight", "token_embd.weight", 0},
    {NULL, NULL, 0},
};
static const gk_cv_tmap norm_output_post[] = {
    {"model.norm.weight", "output_norm.weight", 0},
    {"lm_head.weight", "output.weight", GK_CV_OPTIONAL},
    {NULL, NULL, 0},
};

/* Llama / Mistral: Q and K rows are permuted back to llama.cpp's interleaved rotary layout;
 * biases exist only with attention_bias (and are permuted like their weights). */
static const gk_cv_tmap llama_block[] = {
    {L "input_layernorm.weight", B "attn_norm.weight", 0},
    {L "self_attn.q_proj.weight", B "attn_q.weight", GK_CV_PERMUTE_Q},
    {L "self_attn.q_proj.bias", B "attn_q.bias", GK_CV_PERMUTE_Q | GK_CV_IF_BIAS},
    {L "self_attn.k_proj.weight", B "attn_k.weight", GK_CV_PERMUTE_K},
    {L "self_attn.k_proj.bias", B "attn_k.bias", GK_CV_PERMUTE_K | GK_CV_IF_BIAS},
    {L "self_attn.v_proj.weight", B "attn_v.weight", 0},
    {L "self_attn.v_proj.bias", B "attn_v.bias", GK_CV_IF_BIAS},
    {L "self_attn.o_proj.weight", B "attn_output.weight", 0},
    {L "self_attn.o_proj.bias", B "attn_output.bias", GK_CV_IF_BIAS},
    {L "post_attention_layernorm.weight", B "ffn_norm.weight", 0},
    {L "mlp.gate_proj.weight", B "ffn_gate.weight", 0},
    {L "mlp.down_proj.weight", B "ffn_down.weight", 0},
    {L "mlp.up_proj.weight", B "ffn_up.weight", 0},
    {NULL, NULL, 0},
};

/* Qwen2: q/k/v always carry biases; NeoX rotary in llama.cpp, so no permutation. */
static const gk_cv_tmap qwen2_block[] = {
    {L "input_layernorm.weight", B "attn_norm.weight", 0},
    {L "self_attn.q_proj.weight", B "attn_q.weight", 0},
    {L "self_attn.q_proj.bias", B "attn_q.bias", 0},
    {L "self_attn.k_proj.weight", B "attn_k.weight", 0},
    {L "self_attn.k_proj.bias", B "attn_k.bias", 0},
    {L "self_attn.v_proj.weight", B "attn_v.weight", 0},
    {L "self_attn.v_proj.bias", B "attn_v.bias", 0},
    {L "self_attn.o_proj.weight", B "attn_output.weight", 0},
    {L "post_attention_layernorm.weight", B "ffn_norm.weight", 0},
    {L "mlp.gate_proj.weight", B "ffn_gate.weight", 0},
    {L "mlp.down_proj.weight", B "ffn_down.weight", 0},
    {L "mlp.up_proj.weight", B "ffn_up.weight", 0},
    {NULL, NULL, 0},
};

/* Qwen3: per-head RMS norms on Q and K (q_norm/k_norm -> attn_q_norm/attn_k_norm), biases only
 * with attention_bias, NeoX rotary. */
static const gk_cv_tmap qwen3_block[] = {
    {L "input_layernorm.weight", B "attn_norm.weight", 0},
    {L "self_attn.q_proj.weight", B "attn_q.weight", 0},
    {L "self_attn.q_proj.bias", B "attn_q.bias", GK_CV_IF_BIAS},
    {L "self_attn.q_norm.weight", B "attn_q_norm.weight", 0},
    {L "self_attn.k_proj.weight", B "attn_k.weight", 0},
    {L "self_attn.k_proj.bias", B "attn_k.bias", GK_CV_IF_BIAS},
    {L "self_attn.k_norm.weight", B "attn_k_norm.weight", 0},
    {L "self_attn.v_proj.weight", B "attn_v.weight", 0},
    {L "self_attn.v_proj.bias", B "attn_v.bias", GK_CV_IF_BIAS},
    {L "self_attn.o_proj.weight", B "attn_output.weight", 0},
    {L "self_attn.o_proj.bias", B "attn_output.bias", GK_CV_IF_BIAS},
    {L "post_attention_layernorm.weight", B "ffn_norm.weight", 0},
    {L "mlp.gate_proj.weight", B "ffn_gate.weight", 0},
    {L "mlp.down_proj.weight", B "ffn_down.weight", 0},
    {L "mlp.up_proj.weight", B "ffn_up.weight", 0},
    {NULL, NULL, 0},
};

/* Buffers the converter drops (llama.cpp's converter skips them too). */
static const char *const rotary_ignore[] = {
    ".rotary_emb.inv_freq", ".attention.masked_bias", ".attention.bias", NULL,
};

#undef L
#undef B

/* ---- the table --------------------------------------------------------------------------- */

static const gk_cv_arch arches[] = {
    {
        .hf_class = "LlamaForCausalLM", .gguf_arch = "llama",
        /* transformers LlamaConfig */
        .def = {32000, 4096, 11008, 32, 32, 0, 0, 2048, 1e-6, 10000.0},
        .global_pre = embed_pre, .block = llama_block, .global_post = norm_output_post,
        .permute_qk = 1, .write_vocab_and_rope_dim = 1, .allow_llama3_rope = 1,
        .always_head_dim = 1, .ignore = rotary_ignore, .tok_flags = GK_TOK_LLAMA_SPACE_PREFIX,
    },
    {
        /* llama.cpp's converter registers MistralForCausalLM with its llama model class:
         * GGUF arch "llama", same tensors and permutation. */
        .hf_class = "MistralForCausalLM", .gguf_arch = "llama",
        /* transformers MistralConfig */
        .def = {32000, 4096, 14336, 32, 32, 8, 0, 4096 * 32, 1e-6, 10000.0},
        .global_pre = embed_pre, .block = llama_block, .global_post = norm_output_post,
        .permute_qk = 1, .write_vocab_and_rope_dim = 1, .allow_llama3_rope = 1,
        .always_head_dim = 1, .ignore = rotary_ignore, .tok_flags = GK_TOK_LLAMA_SPACE_PREFIX,
    },
    {
        .hf_class = "Qwen2ForCausalLM", .gguf_arch = "qwen2",
        /* transformers Qwen2Config (no head_dim attribute) */
        .def = {151936, 4096, 22016, 32, 32, 32, 0, 32768, 1e-6, 10000.0},
        .global_pre = embed_pre, .block = qwen2_block, .global_post = norm_output_post,
        .permute_qk = 0, .write_vocab_and_rope_dim = 0, .allow_llama3_rope = 0,
        .always_head_dim = 0, .ignore = rotary_ignore,
    },
    {
        .hf_class = "Qwen3ForCausalLM", .gguf_arch = "qwen3",
        /* transformers Qwen3Config: head_dim 128 independent of hidden/heads */
        .def = {151936, 4096, 22016, 32, 32, 32, 128, 32768, 1e-6, 10000.0},
        .global_pre = embed_pre, .block = qwen3_block, .global_post = norm_output_post,
        .permute_qk = 0, .write_vocab_and_rope_dim = 0, .allow_llama3_rope = 0,
        .always_head_dim = 1, .ignore = rotary_ignore,
    },
};

size_t gk_cv_arch_count(void) { return sizeof arches / sizeof arches[0]; }

const gk_cv_arch *gk_cv_arch_at(size_t i) {
    return i < gk_cv_arch_count() ? &arches[i] : NULL;
}

const gk_cv_arch *gk_cv_arch_find(const char *hf_class) {
    if (!hf_class) return NULL;
    for (size_t i = 0; i < gk_cv_arch_count(); i++)
        if (strcmp(arches[i].hf_class, hf_class) == 0) return &arches[i];
    return NULL;
}

void gk_cv_arch_list(char *buf, size_t cap) {
    if (!buf || !cap) return;
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < gk_cv_arch_count(); i++) {
        int n = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", arches[i].hf_class);
        if (n < 0 || (size_t)n >= cap - used) break;
        used += (size_t)n;
    }
}
