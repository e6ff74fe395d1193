// Removes from the embed package the classes that are not its API.
//
// Leptos depends on server_fn, which depends on wasm-streams on every
// target; wasm-streams declares `IntoUnderlyingSource`, `IntoUnderlyingSink`
// and `IntoUnderlyingByteSource` with #[wasm_bindgen], so wasm-bindgen
// exports them from every Leptos build (no feature turns them off). Nothing
// in the package creates them, so their JS classes, finalizers and types
// are cut here, before minification. Every cut must match exactly once: a
// wasm-bindgen whose output looks different fails the build instead of
// shipping them.
//
// usage: node strip-foreign-exports.mjs <module.js> <module.d.ts> <module_bg.wasm.d.ts>
import { readFileSync, writeFileSync } from "node:fs";

const FOREIGN = ["IntoUnderlyingByteSource", "IntoUnderlyingSink", "IntoUnderlyingSource"];
const [jsPath, dtsPath, wasmDtsPath] = process.argv.slice(2);
if (!jsPath || !dtsPath || !wasmDtsPath) {
  console.error("usage: node strip-foreign-exports.mjs <module.js> <module.d.ts> <module_bg.wasm.d.ts>");
  process.exit(2);
}

function cut(text, pattern, what) {
  const found = text.match(new RegExp(pattern.source, pattern.flags + "g")) ?? [];
  if (found.length !== 1) {
    console.error(`strip-foreign-exports: expected one ${what}, found ${found.length}`);
    process.exit(1);
  }
  return text.replace(pattern, "");
}

let js = readFileSync(jsPath, "utf8");
let dts = readFileSync(dtsPath, "utf8");
for (const name of FOREIGN) {
  // A class ends at the first `}` in column 0; its dispose line follows.
  js = cut(
    js,
    new RegExp(`^export class ${name} \\{[\\s\\S]*?^\\}\\nif \\(Symbol\\.dispose\\) ${name}\\.prototype\\[Symbol\\.dispose\\] = ${name}\\.prototype\\.free;\\n`, "m"),
    `class ${name} in ${jsPath}`,
  );
  js = cut(
    js,
    new RegExp(`^const ${name}Finalization = [^;]*;\\n`, "m"),
    `finalizer of ${name} in ${jsPath}`,
  );
  dts = cut(dts, new RegExp(`^export class ${name} \\{[\\s\\S]*?^\\}\\n`, "m"), `class ${name} in ${dtsPath}`);
}
// The enum only those classes use.
js = cut(js, /^const __wbindgen_enum_ReadableStreamType = [^;]*;\n/m, `ReadableStreamType in ${jsPath}`);
dts = cut(
  dts,
  /^\/\*\*\n \* The `ReadableStreamType` enum\.[\s\S]*?^export type ReadableStreamType = [^;]*;\n/m,
  `ReadableStreamType in ${dtsPath}`,
);
// Their wasm exports, typed in `InitOutput` and in the wasm's own .d.ts:
// scripts/embed-package.sh removes them from the wasm after this script.
function cutTypedExports(text, pattern, path) {
  if (!pattern.test(text)) {
    console.error(`strip-foreign-exports: no wasm export of those classes typed in ${path}`);
    process.exit(1);
  }
  return text.replace(pattern, "");
}
dts = cutTypedExports(dts, /^ +readonly (__wbg_)?intounderlying\w*: [^;]*;\n/gm, dtsPath);
const wasmDts = cutTypedExports(
  readFileSync(wasmDtsPath, "utf8"),
  /^export const (__wbg_)?intounderlying\w*: [^;]*;\n/gm,
  wasmDtsPath,
);
for (const [path, text] of [[jsPath, js], [dtsPath, dts], [wasmDtsPath, wasmDts]]) {
  const left = text.match(/IntoUnderlying\w*|intounderlying\w*|ReadableStreamType/);
  if (left) {
    console.error(`strip-foreign-exports: ${left[0]} is still in ${path}`);
    process.exit(1);
  }
}
writeFileSync(jsPath, js);
writeFileSync(dtsPath, dts);
writeFileSync(wasmDtsPath, wasmDts);
