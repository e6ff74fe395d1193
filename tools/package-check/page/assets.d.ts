// What esbuild's `file` loader gives for the package's wasm: its URL.
declare module "*.wasm" {
  const url: string;
  export default url;
}

// A stylesheet imported for its side effect; esbuild emits it as main.css.
declare module "*.css";
