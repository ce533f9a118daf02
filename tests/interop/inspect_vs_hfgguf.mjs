// For each GGUF given: `ggufkit inspect --json` must agree with @huggingface/gguf on every
// metadata key (type and value), tensor name, shape, type and offset, the data offset and the
// byte order. Usage: node inspect_vs_hfgguf.mjs GGUFKIT_BIN FILE...
import { execFileSync } from "node:child_process";
import path from "node:path";
import { importPkg } from "./npm.mjs";

const { gguf, GGMLQuantizationType } = await importPkg("@huggingface/gguf");
const [bin, ...files] = process.argv.slice(2);
const vtypeNames = ["u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"];
const hfHeaderKeys = new Set(["version", "tensor_count", "kv_count"]);

let failures = 0, checked = 0;
function fail(file, msg) {
  failures++;
  if (failures < 50) console.error(`${path.basename(file)}: ${msg}`);
}

// @huggingface/gguf decodes strings with TextDecoder, which drops a leading U+FEFF (BOM); the
// stored bytes (what ggufkit reports) keep it. Count those separately instead of as differences.
let bomQuirks = 0;
function sameScalar(type, ours, theirs) {
  if (type === "str" && typeof ours === "string" && ours.startsWith("\uFEFF") && ours.slice(1) === theirs) {
    bomQuirks++;
    return true;
  }
  if (typeof theirs === "bigint") return BigInt(ours) === theirs || Number(theirs) === ours;
  if (type === "f32") return Math.fround(Number(ours)) === theirs || (Number.isNaN(theirs) && ours === "nan");
  if (type === "f64") return Number(ours) === theirs;
  return ours === theirs;
}

for (const file of files) {
  const ours = JSON.parse(execFileSync(bin, ["inspect", "--json", file], { maxBuffer: 1 << 30 }).toString());
  const theirs = await gguf(path.resolve(file), { allowLocalFile: true, typedMetadata: true });
  const md = theirs.typedMetadata;
  if ((ours.byte_order === "little") !== theirs.littleEndian) fail(file, "byte order differs");
  if (ours.version !== Number(md.version.value)) fail(file, `version ${ours.version} vs ${md.version.value}`);
  if (BigInt(ours.data_offset) !== BigInt(theirs.tensorDataOffset))
    fail(file, `data offset ${ours.data_offset} vs ${theirs.tensorDataOffset}`);
  const theirKeys = Object.keys(md).filter((k) => !hfHeaderKeys.has(k));
  const ourKeys = Object.keys(ours.metadata);
  if (theirKeys.join("\n") !== ourKeys.join("\n")) fail(file, `metadata keys differ: ${ourKeys.length} vs ${theirKeys.length}`);
  for (const key of ourKeys) {
    const a = ours.metadata[key], b = md[key];
    checked++;
    if (!b) { fail(file, `key ${key} missing in @huggingface/gguf`); continue; }
    if (a.type !== vtypeNames[b.type]) { fail(file, `${key}: type ${a.type} vs ${vtypeNames[b.type]}`); continue; }
    if (a.type === "arr") {
      if (a.element_type !== vtypeNames[b.subType]) { fail(file, `${key}: element type ${a.element_type} vs ${vtypeNames[b.subType]}`); continue; }
      if (a.value.length !== b.value.length) { fail(file, `${key}: ${a.value.length} vs ${b.value.length} elements`); continue; }
      for (let i = 0; i < a.value.length; i++)
        if (!sameScalar(a.element_type, a.value[i], b.value[i])) { fail(file, `${key}[${i}]: ${a.value[i]} vs ${b.value[i]}`); break; }
    } else if (!sameScalar(a.type, a.value, b.value)) {
      fail(file, `${key}: ${a.value} vs ${b.value}`);
    }
  }
  if (ours.tensors.length !== theirs.tensorInfos.length) fail(file, `tensor count ${ours.tensors.length} vs ${theirs.tensorInfos.length}`);
  ours.tensors.forEach((t, i) => {
    const u = theirs.tensorInfos[i];
    checked++;
    if (!u) return;
    if (t.name !== u.name) fail(file, `tensor ${i}: name ${t.name} vs ${u.name}`);
    if (t.shape.join(",") !== u.shape.map(String).join(",")) fail(file, `${t.name}: shape ${t.shape} vs ${u.shape}`);
    const theirType = GGMLQuantizationType[u.dtype];
    if (t.type_id !== u.dtype || String(theirType).toLowerCase() !== t.type.toLowerCase())
      fail(file, `${t.name}: type ${t.type}(${t.type_id}) vs ${theirType}(${u.dtype})`);
    if (BigInt(t.offset) !== BigInt(u.offset)) fail(file, `${t.name}: offset ${t.offset} vs ${u.offset}`);
  });
  console.log(`${path.basename(file)}: ${ourKeys.length} keys, ${ours.tensors.length} tensors compared`);
}
console.log(`${checked} keys/tensors compared, ${failures} differences` +
  (bomQuirks ? ` (${bomQuirks} strings with a leading BOM that @huggingface/gguf drops)` : ""));
process.exit(failures ? 1 : 0);
