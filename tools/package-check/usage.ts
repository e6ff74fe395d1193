// What a TypeScript user of the embed package writes (the README's usage),
// type-checked under `tsc --strict` against the packed and installed
// package. Never run: every line is here for its types.
import init, {
  initSync,
  mount_upload_progress,
  register_upload_progress_element,
  set_upload_limit,
  upload_limit,
  UploadProgressHandle,
  type ErrorKind,
  type JobState,
  type Progress,
  type SessionEvent,
  type Stage,
  type StageStatus,
  type UploadProgressError,
  type UploadProgressOptions,
  type UploadProgressRobustElement,
} from "upload-progress-robust";
import * as pkg from "upload-progress-robust";

// The package's values are exactly its API: an extra export (a class a
// dependency declares) is a missing key here, a removed one an excess key.
const api: Record<keyof typeof pkg, true> = {
  default: true,
  initSync: true,
  mount_upload_progress: true,
  register_upload_progress_element: true,
  set_upload_limit: true,
  upload_limit: true,
  UploadProgressHandle: true,
};

await init();
register_upload_progress_element();

// The custom element, typed by its tag.
const element = document.createElement("upload-progress-robust");
const typed: UploadProgressRobustElement = element;
element.setAttribute("process-id", "job_1");
element.setAttribute("filename", "a.pdf");
element.file = null;
element.addEventListener("upload-complete", (e) => console.log(e.detail.percent.toFixed(1)));
element.addEventListener("upload-error", (e) => console.warn(e.detail.kind, e.detail.hint));
document.body.append(element);

function stateWord(state: JobState): string {
  switch (state) {
    case "pending":
    case "running":
      return "working";
    case "completed":
      return "done";
    case "failed":
    case "cancelled":
      return "stopped";
    default: {
      const unreachable: never = state;
      return unreachable;
    }
  }
}

function stageLine(stage: Stage): string {
  const status: StageStatus = stage.status;
  return `${stage.label} (${stage.name}): ${status}`;
}

function describeEvent(event: SessionEvent): string {
  switch (event.type) {
    case "attempt_opened":
      return `attempt ${event.number}${event.probe ? " (probe)" : ""}`;
    case "socket_closed":
      return `closed ${event.code} ${event.reason}`;
    case "backoff_chosen":
      return `retry in ${(event.delay_ms / 1000).toFixed(1)} s (${event.attempt}/${event.max_attempts})`;
    case "token_refresh":
      return event.ahead_of_expiry ? "token renewed ahead" : "token renewed";
    case "stall_suspected":
      return `silent ${event.silent_ms} ms`;
    case "drain_hint":
      return `server restarts in ${event.retry_after_ms} ms`;
    default:
      return event.type;
  }
}

const onComplete = (p: Progress): void => {
  console.log("done", p.seq + 1, p.percent.toFixed(1), p.stages.length, stateWord(p.state));
  console.log(p.stages.map(stageLine).join("\n"), p.stage ?? "no stage", p.error?.length ?? 0);
  console.log(p.process_id.toUpperCase(), p.stage_index + 1, p.stage_count, p.updated_at_ms);
};

const onError = (e: UploadProgressError): void => {
  const kind: ErrorKind = e.kind;
  console.warn(kind, e.message, e.hint);
};

const options: UploadProgressOptions = {
  processId: "job_2",
  filename: "b.pdf",
  wsBase: "wss://api.example.com",
  httpBase: "https://api.example.com",
  token: "secret",
  tokenProvider: async () => "fresh",
  maxRetries: 5,
  autoRetry: true,
  labels: { reconnect: "Neu verbinden" },
  onComplete,
  onError,
  onEvent: (e) => console.debug(describeEvent(e)),
};
const handle: UploadProgressHandle = mount_upload_progress(document.getElementById("target")!, options);
handle.reconnect();
handle.setFilename("c.pdf");
handle.setToken(undefined);
if (handle.mounted) handle.unmount();
handle.free();

// Uploading a file instead of following a known job.
const input = document.querySelector<HTMLInputElement>("input[type=file]");
const file = input?.files?.[0];
if (file) mount_upload_progress(document.body, { file, uploadUrl: "/api/uploads/tus" });
// The page's uploads take turns; the limit is page-wide (default 3).
set_upload_limit(upload_limit() + 1);

// The types are closed: these must not compile.
// @ts-expect-error an unknown error kind
const badKind: ErrorKind = "teapot";
// @ts-expect-error percent is a number
const badPercent: string = ({} as Progress).percent;
// @ts-expect-error an unknown event type
const badEvent: SessionEvent = { type: "socket_opened" };
// @ts-expect-error the limit is a number
set_upload_limit("4");
// @ts-expect-error the callback gets a Progress, not a string
mount_upload_progress(document.body, { processId: "x", onComplete: (p: string) => p });

export { api, typed, initSync, badKind, badPercent, badEvent };
