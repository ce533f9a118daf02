// Known next-token logits after "Once upon a time" (ids [1, 403, 407, 261, 378]) for stories260K,
// from ../shared/data/README.md: llama.cpp on the gguf-py-written files in its most exact
// configuration (flash attention off, F32 K/V cache). Keyed by a substring of the file name.
export const GGUFKIT_LOGITS_REF = {
  "stories260K-f32": { tol: 1e-3, logits: { 432: 17.7994, 383: 14.2813, 322: 9.7097, 353: 9.5873, 323: 9.1342 } },
  "stories260K-f16": { tol: 1e-3, logits: { 432: 17.7985, 383: 14.2840, 322: 9.7099, 353: 9.5899, 323: 9.1285 } },
  "stories260K-q8_0": { tol: 1e-3, logits: { 432: 17.8285, 383: 14.2506, 322: 9.7027, 353: 9.5474, 323: 8.8947 } },
  "stories260K-q4_0": { tol: 1e-3, logits: { 432: 16.9449, 383: 14.8203, 322: 9.1428, 353: 10.2325, 323: 9.4888 } },
};
