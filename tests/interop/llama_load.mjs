// llama.cpp (node-llama-cpp) must load every file given; files with tensors are also evaluated on
// "Once upon a time" (ids [1, 403, 407, 261, 378]) when they are the stories260K model, and their
// next-token logits compared with the llama2.c values (../shared/data/README.md) within TOL.
// Usage: node llama_load.mjs FILE...   (env: LOGIT_TOL, default 1e-3; files named *-f32* only)
import path from "node:path";
import { importPkg } from "./npm.mjs";
import { GGUFKIT_LOGITS_REF } from "./known_logits.mjs";

const { getLlama, LlamaLogLevel } = await importPkg("node-llama-cpp");
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
let failures = 0;
for (const file of process.argv.slice(2)) {
  const name = path.basename(file);
  const vocabOnly = /vocab/.test(name);
  let model;
  try {
    model = await llama.loadModel({ modelPath: path.resolve(file), vocabOnly });
  } catch (e) {
    console.error(`${name}: llama.cpp refused it: ${e.message}`);
    failures++;
    continue;
  }
  let note = vocabOnly ? "vocab only" : "loaded";
  const ref = GGUFKIT_LOGITS_REF[Object.keys(GGUFKIT_LOGITS_REF).find((k) => name.includes(k))];
  if (!vocabOnly && ref) {
    const ctx = await model.createContext({ contextSize: 64, threads: 1, flashAttention: false,
      experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" });
    const seq = ctx.getSequence();
    const ids = [1, 403, 407, 261, 378];
    const res = await seq.controlledEvaluate(ids.map((t, i) => i === ids.length - 1 ? [t, { generateNext: { logits: true } }] : t));
    const logits = res[ids.length - 1].next.logits;
    let worst = 0;
    for (const [id, want] of Object.entries(ref.logits)) worst = Math.max(worst, Math.abs(logits.get(Number(id)) - want));
    note = `logits max |diff| ${worst.toExponential(2)} (tol ${ref.tol})`;
    if (!(worst <= ref.tol)) { failures++; note += " FAIL"; }
    await ctx.dispose();
  }
  console.log(`${name}: ${note}`);
  await model.dispose();
}
process.exit(failures ? 1 : 0);
