//! TypeScript declarations for the embed API's plain-object options and the
//! custom element's `file` property: wasm-bindgen types them as `any`, so
//! these go into the emitted `.d.ts` beside the generated ones.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const EMBED_TYPES: &str = r#"
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
  /** Seconds the token has left, so it is refreshed ahead. */
  tokenExpiresInS?: number;
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
  onComplete?: (progress: Record<string, unknown>) => void;
  /** Called when following stops with an error, the job fails or the upload gives up. */
  onError?: (error: {
    kind: "auth" | "network" | "server" | "policy" | "not_found" | "job";
    message: string;
    hint: string;
  }) => void;
  /** Called with every decision of the session, for logs. */
  onEvent?: (event: { type: string; [field: string]: unknown }) => void;
}

/** `<upload-progress-robust>`, registered by `register_upload_progress_element()`. */
export interface UploadProgressRobustElement extends HTMLElement {
  /** A file to upload first (a file cannot be an attribute); assigning another remounts. */
  file: File | null;
}

declare global {
  interface HTMLElementTagNameMap {
    "upload-progress-robust": UploadProgressRobustElement;
  }
}
"#;
