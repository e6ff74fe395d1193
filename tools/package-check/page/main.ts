// A page bundled by esbuild from the installed embed package, as an app
// would bundle it: the module, its stylesheet and its wasm (as a URL) all
// imported by package name. The end-to-end suite drives it
// (e2e/tests/bundled_page.rs).
import init, { mount_upload_progress, type Progress, type UploadProgressHandle } from "upload-progress-robust";
import "upload-progress-robust/upload-progress.css";
import wasmUrl from "upload-progress-robust/upload_progress_embed_bg.wasm";

declare global {
  interface Window {
    /** The ids `onComplete` was called with, in order. */
    __uprBundledCompleted: string[];
  }
}

window.__uprBundledCompleted = [];
const start = document.querySelector<HTMLButtonElement>("#start")!;
const unmount = document.querySelector<HTMLButtonElement>("#unmount")!;
const log = document.querySelector<HTMLElement>("#log")!;
let handle: UploadProgressHandle | undefined;

async function startScriptedJob(): Promise<string> {
  const id = "bundled_" + Math.random().toString(36).slice(2, 10);
  const res = await fetch(`/ws/test/${id}?step_ms=300&steps_per_stage=5`, { method: "POST" });
  if (!res.ok) throw new Error(`could not start a job: HTTP ${res.status}`);
  const job: { process_id: string } = await res.json();
  return job.process_id;
}

start.addEventListener("click", async () => {
  const id = await startScriptedJob();
  const host = document.createElement("div");
  host.setAttribute("data-e2e-job", id);
  document.querySelector("main")!.append(host);
  handle = mount_upload_progress(host, {
    processId: id,
    filename: "Bundled: scripted job",
    onComplete: (p: Progress) => {
      window.__uprBundledCompleted.push(p.process_id);
      log.textContent = `completed ${p.process_id} at ${p.percent.toFixed(1)}% (seq ${p.seq}, ${p.stages.length} stages)`;
    },
    onError: (e) => {
      log.textContent = `${e.kind}: ${e.message} ${e.hint}`;
    },
  });
  unmount.disabled = false;
});

unmount.addEventListener("click", () => {
  handle?.unmount();
  handle = undefined;
  document.querySelectorAll("[data-e2e-job]").forEach((host) => host.remove());
  unmount.disabled = true;
});

await init({ module_or_path: wasmUrl });
start.disabled = false;
