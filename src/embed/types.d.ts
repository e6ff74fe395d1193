/** Lifecycle of a job; `completed`, `failed` and `cancelled` are final. */
export type JobState = "pending" | "running" | "completed" | "failed" | "cancelled";

/** Where one stage of the pipeline stands. */
export type StageStatus = "pending" | "active" | "done" | "failed" | "skipped";

/** One stage of the pipeline. */
export interface Stage {
  /** Stable machine name, e.g. `text_extraction`. */
  name: string;
  /** Human label, e.g. `Text extraction`. */
  label: string;
  status: StageStatus;
}

/** A snapshot of one job, as the wire protocol (v1) spells it. */
export interface Progress {
  process_id: string;
  /** Strictly increasing per job; `0` means nothing is known yet. */
  seq: number;
  state: JobState;
  /** Machine name of the current stage, if any. */
  stage: string | null;
  /** Index of the current stage in `stages`. */
  stage_index: number;
  stage_count: number;
  stages: Stage[];
  /** 0 to 100; never decreases within a job. */
  percent: number;
  /** Human message from the server. */
  message: string;
  /** Why the job failed, when `state` is `failed`. */
  error: string | null;
  /** Server time of the snapshot, in milliseconds since the Unix epoch. */
  updated_at_ms: number;
}

/** Broad class of an error, for choosing a message. */
export type ErrorKind = "auth" | "network" | "server" | "policy" | "not_found" | "job";

/** What `onError` (and the element's `upload-error` event) receives. */
export interface UploadProgressError {
  kind: ErrorKind;
  /** What happened, in English. */
  message: string;
  /** What the user can do about it, in English. */
  hint: string;
}

/** One decision of the session, for logs and counters (`onEvent`). */
export type SessionEvent =
  | { type: "attempt_opened"; attempt: number; number: number; probe: boolean }
  | { type: "socket_live"; attempt: number }
  | { type: "socket_closed"; attempt: number; code: number; reason: string }
  | { type: "backoff_chosen"; delay_ms: number; attempt: number; max_attempts: number }
  | { type: "fell_back_to_polling" }
  | { type: "back_on_socket" }
  | { type: "bridge_polling" }
  | { type: "token_refresh"; ahead_of_expiry: boolean }
  | { type: "stall_suspected"; silent_ms: number }
  | { type: "offline_check" }
  | { type: "heartbeat_timeout" }
  | { type: "connect_timeout" }
  | { type: "drain_hint"; retry_after_ms: number };

/** Options of `mount_upload_progress`. Give `processId` or `file`. */
export interface UploadProgressOptions {
  /** The job to follow. Required unless `file` is given. */
  processId?: string;
  /** A file to upload over tus first; the widget then follows the job the server starts for it. */
  file?: File;
  /** The tus creation endpoint for `file`. Default: `{httpBase}/api/uploads/tus`. */
  uploadUrl?: string;
  /** Name shown in the header. Default: the file's name, else "Untitled file". */
  filename?: string;
  /** Socket base, e.g. `wss://api.example.com`. Default: the page's host. */
  wsBase?: string;
  /** HTTP base, e.g. `https://api.example.com`. Default: the page's origin. */
  httpBase?: string;
  /** Token for the job. Default: none, or with `file` the upload's `Upload-Token`. */
  token?: string;
  /** Returns a fresh token (or a promise of one) when the server rejects the current one. */
  tokenProvider?: () => string | undefined | Promise<string | undefined>;
  /**
   * Seconds the token has left. A one-job session (a build with the
   * `one-job-session` feature) refreshes it ahead; this package's page
   * connections refresh a job's token when the server refuses it.
   */
  tokenExpiresInS?: number;
  /**
   * Follow the job through the page's one connection, shared with every
   * other widget on the same server (`onEvent` then tells the page
   * socket's attempts, closes, backoff and fallback). `false` gives this
   * widget a page connection of its own, which no other widget or tab joins.
   * Default: true.
   */
  shared?: boolean;
  /** Reconnect on its own after a transient failure. Default: true. */
  autoRetry?: boolean;
  /** Failed socket attempts before HTTP polling. Default: 3. */
  maxRetries?: number;
  /** Default: 3000. */
  pollIntervalMs?: number;
  /** Default: 2000. */
  initialRetryMs?: number;
  /** Default: 16000. */
  maxRetryMs?: number;
  /** Default: 30000. */
  heartbeatIntervalMs?: number;
  /** Default: 10000. */
  pongTimeoutMs?: number;
  /** Default: 10000. */
  connectTimeoutMs?: number;
  /** Default: 30000. */
  probeIntervalMs?: number;
  /** Replacement strings, by `Labels` field name. */
  labels?: Record<string, string>;
  /** Called once when the job completes, with its progress. */
  onComplete?: (progress: Progress) => void;
  /** Called when following stops with an error, the job fails or the upload gives up. */
  onError?: (error: UploadProgressError) => void;
  /** Called with every decision of the session, for logs. */
  onEvent?: (event: SessionEvent) => void;
}

/** The DOM events of `<upload-progress-robust>` (they bubble). */
export interface UploadProgressRobustElementEventMap extends HTMLElementEventMap {
  /** The job completed; `detail` is its final progress. */
  "upload-complete": CustomEvent<Progress>;
  /** Following stopped with an error, the job failed or the upload gave up. */
  "upload-error": CustomEvent<UploadProgressError>;
}

/** `<upload-progress-robust>`, registered by `register_upload_progress_element()`. */
export interface UploadProgressRobustElement extends HTMLElement {
  /** A file to upload first (a file cannot be an attribute); assigning another remounts. */
  file: File | null;
  addEventListener<K extends keyof UploadProgressRobustElementEventMap>(
    type: K,
    listener: (this: UploadProgressRobustElement, ev: UploadProgressRobustElementEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof UploadProgressRobustElementEventMap>(
    type: K,
    listener: (this: UploadProgressRobustElement, ev: UploadProgressRobustElementEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
}

declare global {
  interface HTMLElementTagNameMap {
    "upload-progress-robust": UploadProgressRobustElement;
  }
}
