// `ggufkit convert` against the real llama.cpp (node-llama-cpp 3.22.1, CPU):
//  - stories260K-hf-f32 -> f32 / f16 / q8_0, and stories260K-hf-bf16-sharded -> bf16, load and
//    give the next-token logits for "Once upon a time" ([1, 403, 407, 261, 378]) of
//    ../shared/data/README.md (f32 within 1e-3 of llama2.c; f16 / q8_0 within 1e-3 of llama.cpp
//    on gguf-py's files; bf16 within 0.05 of llama2.c);
//  - --split-max-tensors output loads as one model with the single file's logits;
//  - example checkpoints ggufkit generates for Llama, Mistral, Qwen2 and Qwen3 (HF layout)
//    convert to GGUF whose llama.cpp logits match an independent forward pass over the HF
//    checkpoint (f32 within 1e-3, q8_0 within 0.1);
//  - archive sources (.tar.zst, .zip) give the same bytes as the directory.
// Env: GGUFKIT_BIN, GGUFKIT_DATA; GGUFKIT_NPM_DIR or GGUFKIT_NPM_ENSURE (tests/npm/ensure.sh).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const bin = process.env.GGUFKIT_BIN;
const data = process.env.GGUFKIT_DATA;
const SKIP = 77;
const ci = process.env.CI === "true" || process.env.CI === "1";
function skip(why) {
  console.log(`${ci ? "FAIL" : "SKIP"}: ${why}`);
  process.exit(ci ? 1 : SKIP);
}
if (!bin || !fs.existsSync(bin)) skip("GGUFKIT_BIN not set");
if (!data || !fs.existsSync(path.join(data, "stories260K-hf-f32"))) skip(`shared data not found at ${data}`);
let npmDir = process.env.GGUFKIT_NPM_DIR;
if (!npmDir && process.env.GGUFKIT_NPM_ENSURE) {
  try {
    npmDir = execFileSync("bash", [process.env.GGUFKIT_NPM_ENSURE]).toString().trim().split("\n").pop();
  } catch (e) {
    skip(`npm clients unavailable: ${e.message}`);
  }
}
const entry = npmDir && path.join(npmDir, "node_modules", "node-llama-cpp", "dist", "index.js");
if (!entry || !fs.existsSync(entry)) skip("node-llama-cpp not installed");
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ggufkit-convert-"));
let failures = 0;
function fail(msg) {
  failures++;
  console.error(`FAIL: ${msg}`);
}
function gk(...args) {
  return execFileSync(bin, args, { stdio: ["ignore", "pipe", "pipe"] }).toString();
}

const ids = [1, 403, 407, 261, 378];
const llama2c = { 432: 17.7994, 383: 14.2813, 322: 9.7097, 353: 9.5873, 323: 9.1342 };
const cppF16 = { 432: 17.7985, 383: 14.2840, 322: 9.7099, 353: 9.5899, 323: 9.1285 };
const cppQ8 = { 432: 17.8285, 383: 14.2506, 322: 9.7027, 353: 9.5474, 323: 8.8947 };

async function logitsOf(file, tokens) {
  const model = await llama.loadModel({ modelPath: file });
  try {
    const ctx = await model.createContext({ contextSize: 64, threads: 1, flashAttention: false,
      experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" });
    const seq = ctx.getSequence();
    const res = await seq.controlledEvaluate(tokens.map((t, i) =>
      i === tokens.length - 1 ? [t, { generateNext: { logits: true } }] : t));
    const m = res[tokens.length - 1].next.logits;   // Map: token id -> logit
    const out = new Float32Array(m.size);
    for (const [id, v] of m) if (id < out.length) out[id] = v; else out[0] = NaN;
    await ctx.dispose();
    return out;
  } finally {
    await model.dispose();
  }
}

async function checkStories(label, args, ref, tol) {
  const out = path.join(tmp, `${label}.gguf`);
  try {
    gk("convert", ...args, "-o", out);
  } catch (e) {
    return fail(`${label}: convert failed: ${e.stderr}`);
  }
  let logits;
  try {
    logits = await logitsOf(out, ids);
  } catch (e) {
    return fail(`${label}: llama.cpp refused it: ${e.message}`);
  }
  let worst = 0;
  for (const [id, want] of Object.entries(ref)) worst = Math.max(worst, Math.abs(logits[Number(id)] - want));
  const ok = worst <= tol;
  console.log(`${label}: logit[432] ${logits[432].toFixed(4)}, max |diff| ${worst.toExponential(2)} (tol ${tol})${ok ? "" : " FAIL"}`);
  if (!ok) failures++;
  return logits;
}

const f32dir = path.join(data, "stories260K-hf-f32");
const bf16dir = path.join(data, "stories260K-hf-bf16-sharded");
const f32 = await checkStories("stories-f32", [f32dir, "--type", "f32"], llama2c, 1e-3);
await checkStories("stories-f16", [f32dir], cppF16, 1e-3);
await checkStories("stories-q8_0", [f32dir, "--type", "q8_0"], cppQ8, 1e-3);
await checkStories("stories-bf16-sharded", [bf16dir], llama2c, 0.05);
await checkStories("stories-bf16-sharded-f32", [bf16dir, "--type", "f32"], llama2c, 0.05);

// split output: one model over 5 files, the same logits as the single file
{
  const out = path.join(tmp, "split.gguf");
  gk("convert", f32dir, "--type", "f32", "--split-max-tensors", "10", "-o", out);
  const first = path.join(tmp, "split-00001-of-00005.gguf");
  try {
    const l = await logitsOf(first, ids);
    let worst = 0;
    for (let i = 0; i < l.length; i++) worst = Math.max(worst, Math.abs(l[i] - f32[i]));
    console.log(`split (5 files): max |diff| vs single file ${worst.toExponential(2)}`);
    if (!(worst <= 1e-6)) fail("split logits differ from the single file");
  } catch (e) {
    fail(`split: llama.cpp refused it: ${e.message}`);
  }
}

// --split-max-size: files of at most 300 kB of tensor data, loaded as one model
{
  const out = path.join(tmp, "bysize.gguf");
  gk("convert", f32dir, "--type", "f32", "--split-max-size", "300K", "-o", out);
  const parts = fs.readdirSync(tmp).filter((f) => /^bysize-\d{5}-of-\d{5}\.gguf$/.test(f)).sort();
  try {
    const l = await logitsOf(path.join(tmp, parts[0]), ids);
    let worst = 0;
    for (let i = 0; i < l.length; i++) worst = Math.max(worst, Math.abs(l[i] - f32[i]));
    console.log(`split by size (${parts.length} files): max |diff| vs single file ${worst.toExponential(2)}`);
    if (parts.length < 3 || !(worst <= 1e-6)) fail("split by size: wrong file count or logits");
  } catch (e) {
    fail(`split by size: llama.cpp refused it: ${e.message}`);
  }
}

// An independent forward pass over the HF checkpoint itself (F32 safetensors, transformers'
// semantics: rotate-half rotary on the HF Q/K layout, GQA, Qwen3's per-head q/k norms, biases,
// SwiGLU), so a converted model must give the same logits in llama.cpp whatever the
// architecture does to rotary and tensor names.
function readSafetensors(file) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const hdr = JSON.parse(buf.subarray(8, 8 + n).toString("utf8"));
  const t = {};
  for (const [name, v] of Object.entries(hdr)) {
    if (name === "__metadata__") continue;
    if (v.dtype !== "F32") throw new Error(`${name}: ${v.dtype}`);
    const b = buf.subarray(8 + n + v.data_offsets[0], 8 + n + v.data_offsets[1]);
    const a = new Float32Array(b.length / 4);
    for (let i = 0; i < a.length; i++) a[i] = b.readFloatLE(4 * i);
    t[name] = { shape: v.shape, data: a };
  }
  return t;
}
function refForward(dir, ids) {
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
  const W = readSafetensors(path.join(dir, "model.safetensors"));
  const H = cfg.hidden_size, nh = cfg.num_attention_heads, nkv = cfg.num_key_value_heads;
  const hd = cfg.head_dim ?? H / nh, eps = cfg.rms_norm_eps, theta = cfg.rope_theta ?? 10000;
  const qwen3 = cfg.architectures[0] === "Qwen3ForCausalLM";
  const w = (n) => W[n]?.data;
  const rms = (x, g, off = 0, len = x.length) => {
    let ss = 0;
    for (let i = 0; i < len; i++) ss += x[off + i] * x[off + i];
    const r = 1 / Math.sqrt(ss / len + eps);
    for (let i = 0; i < len; i++) x[off + i] = x[off + i] * r * g[i];
  };
  const mv = (M, rows, cols, x, b) => {
    const y = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = b ? b[r] : 0;
      for (let c = 0; c < cols; c++) s += M[r * cols + c] * x[c];
      y[r] = s;
    }
    return y;
  };
  const rope = (v, heads, pos) => {
    const half = hd / 2;
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < half; i++) {
        const f = pos * Math.pow(theta, (-2 * i) / hd), c = Math.cos(f), s = Math.sin(f);
        const a = v[h * hd + i], b = v[h * hd + i + half];
        v[h * hd + i] = a * c - b * s;
        v[h * hd + i + half] = b * c + a * s;
      }
  };
  const T = ids.length, emb = w("model.embed_tokens.weight");
  let xs = ids.map((id) => Float64Array.from(emb.subarray(id * H, (id + 1) * H)));
  for (let L = 0; L < cfg.num_hidden_layers; L++) {
    const p = `model.layers.${L}.`;
    const K = [], V = [], out = [];
    for (let t = 0; t < T; t++) {
      const h = Float64Array.from(xs[t]);
      rms(h, w(p + "input_layernorm.weight"));
      const q = mv(w(p + "self_attn.q_proj.weight"), nh * hd, H, h, w(p + "self_attn.q_proj.bias"));
      const k = mv(w(p + "self_attn.k_proj.weight"), nkv * hd, H, h, w(p + "self_attn.k_proj.bias"));
      const v = mv(w(p + "self_attn.v_proj.weight"), nkv * hd, H, h, w(p + "self_attn.v_proj.bias"));
      if (qwen3) {
        for (let i = 0; i < nh; i++) rms(q, w(p + "self_attn.q_norm.weight"), i * hd, hd);
        for (let i = 0; i < nkv; i++) rms(k, w(p + "self_attn.k_norm.weight"), i * hd, hd);
      }
      rope(q, nh, t);
      rope(k, nkv, t);
      K.push(k);
      V.push(v);
      const att = new Float64Array(nh * hd);
      for (let i = 0; i < nh; i++) {
        const g = Math.floor(i / (nh / nkv));
        const sc = [];
        for (let u = 0; u <= t; u++) {
          let s = 0;
          for (let d = 0; d < hd; d++) s += q[i * hd + d] * K[u][g * hd + d];
          sc.push(s / Math.sqrt(hd));
        }
        const m = Math.max(...sc);
        const e = sc.map((s) => Math.exp(s - m)), z = e.reduce((a, b) => a + b, 0);
        for (let u = 0; u <= t; u++)
          for (let d = 0; d < hd; d++) att[i * hd + d] += (e[u] / z) * V[u][g * hd + d];
      }
      out.push(mv(w(p + "self_attn.o_proj.weight"), H, nh * hd, att, w(p + "self_attn.o_proj.bias")));
    }
    xs = xs.map((x, t) => {
      const y = x.map((v, i) => v + out[t][i]);
      const h = Float64Array.from(y);
      rms(h, w(p + "post_attention_layernorm.weight"));
      const F = cfg.intermediate_size;
      const g = mv(w(p + "mlp.gate_proj.weight"), F, H, h), u = mv(w(p + "mlp.up_proj.weight"), F, H, h);
      const a = g.map((v, i) => (v / (1 + Math.exp(-v))) * u[i]);
      const d = mv(w(p + "mlp.down_proj.weight"), H, F, a);
      return y.map((v, i) => v + d[i]);
    });
  }
  const x = xs[T - 1];
  rms(x, w("model.norm.weight"));
  const head = w("lm_head.weight") ?? emb;
  return mv(head, head.length / H, H, x);
}

// generated checkpoints of every architecture in the table
for (const [arch, extra] of [["LlamaForCausalLM", []], ["LlamaForCausalLM", ["--tied", "--bias"]],
  ["MistralForCausalLM", []], ["Qwen2ForCausalLM", []], ["Qwen3ForCausalLM", []],
  ["Qwen3ForCausalLM", ["--tied"]]]) {
  const label = `${arch}${extra.join("")}`;
  const dir = path.join(tmp, label);
  for (const type of ["f32", "q8_0"]) {
    const out = path.join(tmp, `${label}-${type}.gguf`);
    try {
      gk("example-checkpoint", dir, "--arch", arch, ...extra);
      gk("convert", dir, "--type", type, "-o", out);
      const toks = [1, 300, 301, 302, 303, 304];
      const l = await logitsOf(out, toks);
      const finite = l.every(Number.isFinite);
      const ref = refForward(dir, toks);
      let worst = 0, spread = 0;
      for (let i = 0; i < ref.length; i++) {
        worst = Math.max(worst, Math.abs(l[i] - ref[i]));
        spread = Math.max(spread, Math.abs(ref[i]));
      }
      const tol = type === "f32" ? 1e-3 : 0.1;  // q8_0: weights and activations quantized
      console.log(`${label} ${type}: finite ${finite}, max |logit| ${spread.toFixed(3)}, ` +
        `max |diff| vs the HF-layout reference ${worst.toExponential(2)} (tol ${tol})`);
      if (!finite || !(worst <= tol)) fail(`${label} ${type}: logits differ from the reference forward pass`);
    } catch (e) {
      fail(`${label} ${type}: ${e.stderr || e.message}`);
    }
  }
}

// llama3 rope scaling: a generated rope_freqs.weight that llama.cpp accepts; linear scaling KVs
for (const [kind, scaling] of [["llama3", { rope_type: "llama3", factor: 8.0, low_freq_factor: 1.0,
  high_freq_factor: 4.0, original_max_position_embeddings: 64 }], ["linear", { rope_type: "linear", factor: 2.0 }]]) {
  const dir = path.join(tmp, `rope-${kind}`);
  try {
    gk("example-checkpoint", dir);
    const cfgPath = path.join(dir, "config.json");
    const cfg = JSON.parse(fs.readFileSync(cfgPath, "utf8"));
    cfg.rope_scaling = scaling;
    fs.writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
    const plan = gk("convert", dir, "--dry-run");
    const want = kind === "llama3" ? /rope_freqs\.weight\s+gen\s+-> f32\s+8\s/ : /llama\.rope\.scaling\.type\s+str\s+"linear"/;
    if (!want.test(plan)) fail(`rope ${kind}: plan lacks ${want}`);
    const out = path.join(tmp, `rope-${kind}.gguf`);
    gk("convert", dir, "--type", "f32", "-o", out);
    const l = await logitsOf(out, [1, 300, 301, 302]);
    const finite = l.every(Number.isFinite);
    console.log(`rope ${kind}: loaded, finite ${finite}`);
    if (!finite) fail(`rope ${kind}: logits not finite`);
  } catch (e) {
    fail(`rope ${kind}: ${e.stderr || e.message}`);
  }
}

// other output types on a checkpoint wide enough for 256-element blocks
{
  const dir = path.join(tmp, "wide");
  gk("example-checkpoint", dir, "--hidden", "256", "--ff", "512", "--heads", "4", "--kv-heads", "2",
    "--head-dim", "64");
  for (const type of ["f16", "bf16", "q4_0", "q5_1", "q4_K", "q6_K", "iq4_nl", "tq2_0"]) {
    const out = path.join(tmp, `wide-${type}.gguf`);
    try {
      gk("convert", dir, "--type", type, "-o", out);
      const l = await logitsOf(out, [1, 300, 301, 302]);
      const finite = l.every(Number.isFinite);
      console.log(`wide ${type}: loaded, finite ${finite}`);
      if (!finite) fail(`wide ${type}: logits not finite`);
    } catch (e) {
      fail(`wide ${type}: ${e.stderr || e.message}`);
    }
  }
}

// archives: the same bytes as the directory
{
  const ref = path.join(tmp, "dir-q8.gguf");
  gk("convert", f32dir, "--type", "q8_0", "-o", ref);
  const want = fs.readFileSync(ref);
  const stage = path.join(tmp, "stage");
  fs.mkdirSync(stage);
  fs.cpSync(f32dir, path.join(stage, "stories260K-hf-f32"), { recursive: true });
  const archives = [];
  try {
    execFileSync("tar", ["--zstd", "-cf", path.join(tmp, "ck.tar.zst"), "-C", stage, "stories260K-hf-f32"]);
    archives.push("ck.tar.zst");
  } catch { console.log("note: tar --zstd unavailable"); }
  try {
    execFileSync("zip", ["-qr", path.join(tmp, "ck.zip"), "stories260K-hf-f32"], { cwd: stage });
    archives.push("ck.zip");
  } catch { console.log("note: zip unavailable"); }
  for (const a of archives) {
    const out = path.join(tmp, `${a}.gguf`);
    try {
      gk("convert", path.join(tmp, a), "--type", "q8_0", "-o", out);
      const same = Buffer.compare(fs.readFileSync(out), want) === 0;
      console.log(`${a}: ${same ? "same bytes as the directory" : "DIFFERENT bytes"}`);
      if (!same) failures++;
    } catch (e) {
      fail(`${a}: ${e.stderr || e.message}`);
    }
  }
}

fs.rmSync(tmp, { recursive: true, force: true });
console.log(failures ? `${failures} failure(s)` : "convert interop: all checks passed");
process.exit(failures ? 1 : 0);
