// `ggufkit convert` / `ggufkit example-checkpoint` as a user runs them: exit codes (0 done,
// 1 bad checkpoint, 2 usage, 3 I/O), --help, --dry-run (plan, fallbacks, KVs, no file written),
// --metadata, deterministic output (same bytes twice, any --threads), the README's main job
// (example-checkpoint -> convert q8_0 -> inspect). No npm packages needed.
// Env: GGUFKIT_BIN, GGUFKIT_DATA.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const bin = process.env.GGUFKIT_BIN;
const data = process.env.GGUFKIT_DATA;
const ci = process.env.CI === "true" || process.env.CI === "1";
if (!bin || !fs.existsSync(bin) || !data || !fs.existsSync(path.join(data, "stories260K-hf-f32"))) {
  console.log(`${ci ? "FAIL" : "SKIP"}: GGUFKIT_BIN or shared data missing`);
  process.exit(ci ? 1 : 77);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ggufkit-convert-cli-"));
const f32dir = path.join(data, "stories260K-hf-f32");
let failures = 0;
function run(args) {
  const r = spawnSync(bin, args, { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
function expect(label, r, code, re) {
  const ok = r.code === code && (!re || re.test(r.out + r.err));
  if (!ok) {
    failures++;
    console.error(`FAIL ${label}: exit ${r.code} (want ${code})\n${r.err}${r.out.slice(0, 400)}`);
  } else console.log(`ok ${label}`);
}

expect("help", run(["convert", "--help"]), 0, /Supported architectures: LlamaForCausalLM/);
expect("example help", run(["example-checkpoint", "--help"]), 0, /Qwen3ForCausalLM/);
expect("no source", run(["convert"]), 2);
expect("no output", run(["convert", f32dir]), 2, /-o OUT/);
expect("bad type", run(["convert", f32dir, "-o", path.join(tmp, "x.gguf"), "--type", "q9"]), 2);
expect("bad option", run(["convert", f32dir, "--frobnicate"]), 2);
expect("bad metadata", run(["convert", f32dir, "--dry-run", "--metadata", "a=blob:1"]), 2);
expect("both split modes", run(["convert", f32dir, "-o", "x.gguf", "--split-max-size", "1M", "--split-max-tensors", "3"]), 2);
expect("missing source", run(["convert", path.join(tmp, "nope"), "-o", path.join(tmp, "x.gguf")]), 3);
expect("imatrix type refused", run(["convert", f32dir, "--dry-run", "--type", "iq2_xxs"]), 1, /importance matrix/);

// an unsupported architecture: named, supported ones listed, exit 1
const bad = path.join(tmp, "gpt2");
fs.cpSync(f32dir, bad, { recursive: true });
const cfg = JSON.parse(fs.readFileSync(path.join(bad, "config.json"), "utf8"));
cfg.architectures = ["GPT2LMHeadModel"];
fs.writeFileSync(path.join(bad, "config.json"), JSON.stringify(cfg));
expect("unsupported arch", run(["convert", bad, "--dry-run"]), 1, /GPT2LMHeadModel.*LlamaForCausalLM.*Qwen2ForCausalLM/);
// hostile numbers in config.json
cfg.architectures = ["LlamaForCausalLM"];
cfg.num_key_value_heads = 3;
fs.writeFileSync(path.join(bad, "config.json"), JSON.stringify(cfg));
expect("kv heads not dividing heads", run(["convert", bad, "--dry-run"]), 1, /num_key_value_heads/);

// --dry-run: the plan, no file
const dry = run(["convert", f32dir, "--dry-run", "--type", "q8_0", "-o", path.join(tmp, "dry.gguf"),
  "--metadata", "general.author=str:ggufkit tests", "--name", "stories"]);
expect("dry-run", dry, 0, /FALLBACK q8_0 -> f16/);
if (!/fallbacks: 5/.test(dry.out) || !/general\.author\s+str\s+"ggufkit tests"/.test(dry.out) ||
    !/general\.name\s+str\s+"stories"/.test(dry.out) || fs.existsSync(path.join(tmp, "dry.gguf"))) {
  failures++;
  console.error("FAIL dry-run content");
}

// --dry-run --json: one JSON document
{
  const r = run(["convert", f32dir, "--dry-run", "--json", "--type", "q8_0"]);
  let j = null;
  try { j = JSON.parse(r.out); } catch (e) { /* reported below */ }
  const down = j && j.tensors.find((t) => t.name === "blk.0.ffn_down.weight");
  if (r.code !== 0 || !j || j.tensors.length !== 47 || j.fallbacks !== 5 || !down ||
      down.type !== "f16" || down.wanted !== "q8_0" || !/172/.test(down.fallback) ||
      j.metadata[0].key !== "general.architecture" || j.file_type !== 7) {
    failures++;
    console.error(`FAIL dry-run --json: ${r.err}${r.out.slice(0, 300)}`);
  } else console.log("ok dry-run --json");
  expect("--json without --dry-run", run(["convert", f32dir, "--json", "-o", path.join(tmp, "j.gguf")]), 2);
}

// deterministic: same bytes for 1 and 2 threads and twice in a row
const outs = [["--threads", "1"], ["--threads", "2"], []].map((t, i) => {
  const o = path.join(tmp, `d${i}.gguf`);
  expect(`convert ${t.join(" ") || "default threads"}`, run(["convert", f32dir, "--type", "q8_0", "-o", o, ...t]), 0);
  return fs.existsSync(o) ? fs.readFileSync(o) : Buffer.alloc(0);
});
if (!(outs[0].length > 0 && outs[0].equals(outs[1]) && outs[0].equals(outs[2]))) {
  failures++;
  console.error("FAIL: outputs differ across runs/threads");
} else console.log("ok deterministic across runs and thread counts");
if (outs[0].includes(Buffer.from(tmp)) || outs[0].includes(Buffer.from(data))) {
  failures++;
  console.error("FAIL: a path leaked into the file");
}

// a Hugging Face cache snapshot (files are symlinks into ../../blobs): general.name is the repo
// name, and the tensors are the directory's
{
  const repo = path.join(tmp, "hub", "models--someorg--stories260K");
  const snap = path.join(repo, "snapshots", "0123abcd");
  fs.mkdirSync(path.join(repo, "blobs"), { recursive: true });
  fs.mkdirSync(snap, { recursive: true });
  fs.mkdirSync(path.join(repo, "refs"));
  fs.writeFileSync(path.join(repo, "refs", "main"), "0123abcd");
  for (const f of fs.readdirSync(f32dir)) {
    const blob = path.join(repo, "blobs", `blob-${f}`);
    fs.copyFileSync(path.join(f32dir, f), blob);
    fs.symlinkSync(path.join("..", "..", "blobs", `blob-${f}`), path.join(snap, f));
  }
  const o = path.join(tmp, "hub.gguf");
  expect("HF cache snapshot", run(["convert", snap, "--type", "q8_0", "-o", o]), 0);
  const plan = run(["convert", snap, "--dry-run"]);
  if (!/general\.name\s+str\s+"stories260K"/.test(plan.out)) {
    failures++;
    console.error("FAIL: HF cache snapshot: general.name is not the repo name");
  }
  const named = path.join(tmp, "named.gguf");
  run(["convert", f32dir, "--type", "q8_0", "--name", "stories260K", "-o", named]);
  if (fs.existsSync(o) && !fs.readFileSync(o).equals(fs.readFileSync(named))) {
    failures++;
    console.error("FAIL: HF cache snapshot converts to different bytes than the directory");
  } else console.log("ok HF cache snapshot = directory");
}

// the README's main job
const ex = path.join(tmp, "example");
expect("example-checkpoint", run(["example-checkpoint", ex]), 0);
expect("convert example q8_0", run(["convert", ex, "--type", "q8_0", "-o", path.join(tmp, "ex.gguf")]), 0);
expect("inspect example", run(["inspect", path.join(tmp, "ex.gguf")]), 0, /q8_0/);
const ex2 = path.join(tmp, "example2");
run(["example-checkpoint", ex2]);
for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"])
  if (!fs.readFileSync(path.join(ex, f)).equals(fs.readFileSync(path.join(ex2, f)))) {
    failures++;
    console.error(`FAIL: example ${f} differs between runs`);
  }

fs.rmSync(tmp, { recursive: true, force: true });
console.log(failures ? `${failures} failure(s)` : "convert cli: all checks passed");
process.exit(failures ? 1 : 0);
