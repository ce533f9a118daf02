// Tokenization parity: llama.cpp (node-llama-cpp) on the GGUFs ggufkit writes vs Hugging Face
// tokenizers (@anush008/tokenizers) on the source tokenizer.json, for the vocab test strings and
// our own; plus our own encoder (convert/tok_hf.c) vs HF, and the pre fingerprint vs HF's.
// Usage: node tokenizer_parity.mjs PATH/TO/test_tokenizer_prep
// Exit 0 pass, 1 fail, 77 skipped (clients unavailable outside CI).
import {execFileSync, spawnSync} from "node:child_process";
import {createHash} from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {createRequire} from "node:module";
import {pathToFileURL} from "node:url";

const inCI = process.env.CI === "true";
function skipOrFail(why) {
  console.log(`${inCI ? "FAIL" : "SKIP"}: ${why}`);
  process.exit(inCI ? 1 : 77);
}

const prep = process.argv[2];
if (!prep) { console.error("usage: tokenizer_parity.mjs TEST_TOKENIZER_PREP"); process.exit(2); }
const src = process.env.GGUFKIT_SRC || path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

let npmDir;
try {
  npmDir = execFileSync("bash", [path.join(src, "tests/npm/ensure.sh")], {encoding: "utf8", stdio: ["ignore", "pipe", "inherit"]}).trim().split("\n").pop();
} catch (e) {
  skipOrFail(`cannot install the real clients (tests/npm/ensure.sh): ${e.message}`);
}
const nm = path.join(npmDir, "node_modules");
let getLlama, Tokenizer;
try {
  ({getLlama} = await import(pathToFileURL(path.join(nm, "node-llama-cpp/dist/index.js")).href));
  ({Tokenizer} = createRequire(path.join(nm, "x.js"))("@anush008/tokenizers"));
} catch (e) {
  skipOrFail(`cannot load node-llama-cpp / @anush008/tokenizers from ${nm}: ${e.message}`);
}

const out = fs.mkdtempSync(path.join(os.tmpdir(), "gk-tokparity-"));
const r = spawnSync(prep, [out], {stdio: "inherit"});
if (r.status === 77) { console.log("SKIP: shared data absent"); process.exit(77); }
if (r.status !== 0) { console.log(`FAIL: ${prep} exited ${r.status}`); process.exit(1); }
const doc = JSON.parse(fs.readFileSync(path.join(out, "cases.json"), "utf8"));

const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const show = (s) => JSON.stringify(s.length > 60 ? s.slice(0, 60) + "…" : s);
let failures = 0;

for (const c of doc.cases) {
  const model = await llama.loadModel({modelPath: c.gguf, vocabOnly: true});
  if (c.out) {
    // no HF tokenizer for a SentencePiece model: compare with llama.cpp's own expected ids
    const inp = fs.readFileSync(c.inp, "utf8").split("\n__ggml_vocab_test__\n");
    const outs = fs.readFileSync(c.out, "utf8").split("\n");
    let ok = 0;
    const bad = [];
    const n = outs.length - (outs[outs.length - 1] === "" ? 1 : 0);
    for (let i = 0; i < n; i++) {
      const want = outs[i].trim() === "" ? [] : outs[i].trim().split(/\s+/).map(Number);
      const got = Array.from(model.tokenize(inp[i], false));
      if (same(got, want)) ok++;
      else bad.push(`  llama.cpp ${show(inp[i])}: got [${got.slice(0, 20)}] want [${want.slice(0, 20)}]`);
    }
    console.log(`${c.name}: llama.cpp ids == ${path.basename(c.out)} on ${ok}/${n} strings`);
    for (const b of bad.slice(0, 10)) console.log(b);
    if (ok !== n || n < 40) failures++;
    if (!c.tokenizer) {
      await model.dispose();
      continue;
    }
  }
  const hf = Tokenizer.fromFile(c.tokenizer);
  let okLlama = 0, okOurs = 0, okVocab = 0;
  const bad = [];
  for (let i = 0; i < doc.strings.length; i++) {
    const s = doc.strings[i];
    const want = (await hf.encode(s, null, {addSpecialTokens: true})).getIds();
    let got = Array.from(model.tokenize(s, true));
    if (c.add_bos) got = [model.tokens.bos, ...got];
    if (c.hf_only) okLlama++;
    else if (same(got, want)) { okLlama++; if (i < doc.n_vocab_strings) okVocab++; }
    else bad.push(`  llama.cpp ${show(s)}: got [${got.slice(0, 20)}] want [${want.slice(0, 20)}]`);
    if (c.ours) {
      if (same(c.ours[i], want)) okOurs++;
      else bad.push(`  ours ${show(s)}: got [${c.ours[i].slice(0, 20)}] want [${want.slice(0, 20)}]`);
    }
  }
  const n = doc.strings.length;
  let line = c.hf_only ? `${c.name} (HF only)` :
    `${c.name} (pre ${c.pre}): llama.cpp == HF on ${okLlama}/${n} strings (${okVocab}/${doc.n_vocab_strings} vocab test strings)`;
  if (c.ours) line += `; our encoder == HF on ${okOurs}/${n}`;
  if (c.expect_mismatch) {
    // a control case: it must NOT match everywhere
    line += okLlama < n ? " — differs as expected (control)" : " — control unexpectedly matches";
    if (okLlama === n) failures++;
    console.log(line);
    await model.dispose();
    continue;
  }
  if (okLlama !== n || (c.ours && okOurs !== n)) failures++;
  if (c.ours_chktxt) {
    const ids = (await hf.encode(doc.chktxt, null, {addSpecialTokens: true})).getIds();
    const hash = createHash("sha256").update(`[${ids.join(", ")}]`).digest("hex");
    const oursHash = createHash("sha256").update(`[${c.ours_chktxt.join(", ")}]`).digest("hex");
    line += `; check-text fingerprint HF ${hash.slice(0, 12)}… ours ${oursHash.slice(0, 12)}…`;
    if (hash !== oursHash) { failures++; bad.push("  check-text ids differ from HF"); }
    if (c.pre_hash && c.pre_hash !== hash) { failures++; bad.push(`  pre_hash ${c.pre_hash} != HF ${hash}`); }
  }
  console.log(line);
  for (const b of bad.slice(0, 10)) console.log(b);
  await model.dispose();
}
// The generated Unicode table (convert/unicode_table.c) against the JS engine's own Unicode
// data: major category and White_Space for every code point. Code points the engine gives a
// category where our table has none (other/unassigned) are counted apart: additions of a newer
// Unicode version than the table's.
{
  const cls = new Uint8Array(0x110000);
  for (const [lo, hi, c] of doc.unicode) cls.fill(c, lo, hi + 1);
  const cats = [[1, /\p{L}/u], [2, /\p{M}/u], [3, /\p{N}/u], [4, /\p{P}/u], [5, /\p{S}/u], [6, /\p{Z}/u]];
  const ws = /\p{White_Space}/u;
  let bad = 0, newer = 0;
  const examples = [];
  for (let cp = 0; cp < 0x110000; cp++) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const ch = String.fromCodePoint(cp);
    let js = 0;
    for (const [v, re] of cats) if (re.test(ch)) { js = v; break; }
    const jsws = ws.test(ch) ? 8 : 0;
    const ours = (cls[cp] & 7) === 7 ? 0 : cls[cp] & 7, oursws = cls[cp] & 8; // 7: other (Cc) with White_Space
    if (js === ours && jsws === oursws) continue;
    if (ours === 0 && js !== 0 && jsws === oursws) { newer++; continue; } // unassigned in our version
    bad++;
    if (examples.length < 5) examples.push(`U+${cp.toString(16).toUpperCase()} ours ${cls[cp]} js ${js | jsws}`);
  }
  console.log(`Unicode table (${doc.unicode_version}) vs ${process.versions.icu ? "ICU " + process.versions.icu + ", Unicode " + process.versions.unicode : "JS"}: ` +
              `${bad} code points differ` + (newer ? `, ${newer} assigned only in the engine's newer Unicode` : "") + (examples.length ? ": " + examples.join("; ") : ""));
  if (bad) failures++;
}
fs.rmSync(out, {recursive: true, force: true});
console.log(failures ? `FAIL: ${failures} case(s) differ` : "PASS");
process.exit(failures ? 1 : 0);
