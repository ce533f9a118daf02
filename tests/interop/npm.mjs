// Loads the pinned real clients from the cache directory that tests/npm/ensure.sh installs into
// (GGUFKIT_NPM_DIR). ESM ignores NODE_PATH, so packages are imported by absolute file URL.
import { pathToFileURL } from "node:url";
import path from "node:path";
import fs from "node:fs";

export const npmDir = process.env.GGUFKIT_NPM_DIR;
if (!npmDir) throw new Error("GGUFKIT_NPM_DIR is not set (run tests/npm/ensure.sh)");

const entries = {
  "@huggingface/gguf": "dist/index.mjs",
  "node-llama-cpp": "dist/index.js",
  "@anush008/tokenizers": "index.js",
};

export async function importPkg(name) {
  const rel = entries[name];
  if (!rel) throw new Error(`unknown package ${name}`);
  const file = path.join(npmDir, "node_modules", name, rel);
  if (!fs.existsSync(file)) throw new Error(`${name} is not installed in ${npmDir}`);
  return import(pathToFileURL(file).href);
}
