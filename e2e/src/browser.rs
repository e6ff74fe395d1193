//! A headless browser session over WebDriver, plus the browser-specific
//! controls the scenarios need (network conditions, tab visibility).

use std::fmt;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

use crate::env::Paths;
use crate::process::{DriverKind, WebDriverProcess};
use crate::{fail, Result};

/// The browsers the suite runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserKind {
    /// Headless Chromium through ChromeDriver.
    Chromium,
    /// Headless Firefox through geckodriver.
    Firefox,
    /// WebKitGTK's MiniBrowser through WebKitWebDriver, on the X display
    /// in `DISPLAY` (Xvfb): the engine of Safari and every iOS browser.
    WebKit,
}

impl fmt::Display for BrowserKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BrowserKind::Chromium => "chromium",
            BrowserKind::Firefox => "firefox",
            BrowserKind::WebKit => "webkit",
        })
    }
}

/// How the browser was taken offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfflineMethod {
    /// ChromeDriver network conditions: every request of the page fails and
    /// the page gets `offline` / `online` events.
    ChromeNetworkConditions,
    /// Firefox's own offline switch (`Services.io.offline`, privileged
    /// context), loopback included: requests fail, `offline` / `online` fire.
    FirefoxIoOffline,
}

/// A WebDriver session and the driver process behind it.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    /// Which browser this is.
    pub kind: BrowserKind,
    _driver: WebDriverProcess,
}

/// ChromeDriver's `POST /session/{id}/chromium/network_conditions`.
#[derive(Debug)]
struct ChromeNetworkConditions {
    offline: bool,
}

impl WebDriverCompatibleCommand for ChromeNetworkConditions {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> std::result::Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/chromium/network_conditions",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"network_conditions": {
            "offline": self.offline,
            "latency": 0,
            "download_throughput": -1,
            "upload_throughput": -1,
        }});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// ChromeDriver's `POST /session/{id}/goog/cdp/execute`: one Chrome
/// DevTools Protocol command.
#[derive(Debug)]
struct ChromeDevTools {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for ChromeDevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> std::result::Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// geckodriver's `POST /session/{id}/moz/context`: `chrome` runs scripts
/// with browser privileges, `content` goes back to the page.
#[derive(Debug)]
struct MozContext {
    context: &'static str,
}

impl WebDriverCompatibleCommand for MozContext {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> std::result::Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/moz/context",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "context": self.context });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// Sets the page's visibility as a hidden tab would, then tells listeners.
const SET_VISIBILITY_JS: &str = r#"
const hidden = arguments[0];
Object.defineProperty(document, "visibilityState", { configurable: true, get: () => hidden ? "hidden" : "visible" });
Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
document.dispatchEvent(new Event("visibilitychange"));
return document.visibilityState;
"#;

fn capabilities(kind: BrowserKind, paths: &Paths) -> serde_json::Map<String, Value> {
    let caps = match kind {
        BrowserKind::Chromium => json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": paths.chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1280,2000",
                    // Keep timers of a tab that is merely in the background running.
                    "--disable-background-timer-throttling",
                ],
            },
        }),
        BrowserKind::WebKit => json!({
            "browserName": "MiniBrowser",
            "webkitgtk:browserOptions": {
                "binary": paths.minibrowser,
                "args": ["--automation"],
            },
        }),
        BrowserKind::Firefox => json!({
            "browserName": "firefox",
            "moz:firefoxOptions": {
                "binary": paths.firefox,
                "args": ["-headless"],
                "prefs": {
                    // Offline must cut loopback too, and stay offline until told.
                    "network.disable-localhost-when-offline": true,
                    "network.manage-offline-status": false,
                },
            },
        }),
    };
    match caps {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

impl Browser {
    /// Starts the driver and a fresh headless browser session.
    pub async fn launch(kind: BrowserKind, paths: &Paths) -> Result<Self> {
        let driver = match kind {
            BrowserKind::Chromium => {
                Paths::require(&paths.chromium, "chromium", "UPR_CHROMIUM")?;
                WebDriverProcess::start(DriverKind::Chrome, &paths.chromedriver).await?
            }
            BrowserKind::Firefox => {
                Paths::require(&paths.firefox, "firefox", "UPR_FIREFOX")?;
                WebDriverProcess::start(DriverKind::Gecko, &paths.geckodriver).await?
            }
            BrowserKind::WebKit => {
                Paths::require(&paths.minibrowser, "MiniBrowser", "UPR_MINIBROWSER")?;
                if std::env::var_os("DISPLAY").is_none() {
                    return Err(fail(
                        "webkit: MiniBrowser needs an X display; run under xvfb-run",
                    ));
                }
                WebDriverProcess::start(DriverKind::WebKit, &paths.webkit_driver).await?
            }
        };
        let mut connector = HttpConnector::new();
        connector.enforce_http(true);
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities(kind, paths))
            .connect(&driver.url)
            .await
            .map_err(|e| fail(format!("{kind}: cannot start a WebDriver session: {e}")))?;
        Ok(Self {
            client,
            kind,
            _driver: driver,
        })
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    pub async fn exec(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        Ok(self.client.execute(script, args).await?)
    }

    /// Runs an asynchronous script: its last argument is the callback.
    pub async fn exec_async(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        Ok(self.client.execute_async(script, args).await?)
    }

    /// Takes the whole browser off the network (`true`) or back on.
    pub async fn set_offline(&self, offline: bool) -> Result<OfflineMethod> {
        match self.kind {
            BrowserKind::Chromium => {
                self.client
                    .issue_cmd(ChromeNetworkConditions { offline })
                    .await?;
                Ok(OfflineMethod::ChromeNetworkConditions)
            }
            BrowserKind::Firefox => {
                self.client
                    .issue_cmd(MozContext { context: "chrome" })
                    .await
                    .map_err(|e| fail(format!("firefox: no privileged context: {e}")))?;
                let result = self
                    .client
                    .execute(
                        "Services.io.offline = arguments[0]; return Services.io.offline;",
                        vec![json!(offline)],
                    )
                    .await;
                self.client
                    .issue_cmd(MozContext { context: "content" })
                    .await?;
                let now = result.map_err(|e| fail(format!("firefox: offline switch: {e}")))?;
                if now != json!(offline) {
                    return Err(fail(format!("firefox: offline switch reads {now}")));
                }
                Ok(OfflineMethod::FirefoxIoOffline)
            }
            BrowserKind::WebKit => Err(fail(
                "webkit: WebKitWebDriver has no way to take the browser offline",
            )),
        }
    }

    /// What `navigator.onLine` says in the page.
    pub async fn page_online(&self) -> Result<bool> {
        let v = self.exec("return navigator.onLine;", vec![]).await?;
        v.as_bool()
            .ok_or_else(|| fail(format!("navigator.onLine is {v}")))
    }

    /// Makes the page report itself hidden (`true`) or visible, and fires
    /// `visibilitychange`, the way switching tabs does. Headless browsers
    /// have no second tab to switch to, and both honour this override.
    pub async fn set_hidden(&self, hidden: bool) -> Result<()> {
        let state = self.exec(SET_VISIBILITY_JS, vec![json!(hidden)]).await?;
        let want = if hidden { "hidden" } else { "visible" };
        if state != json!(want) {
            return Err(fail(format!(
                "visibilityState reads {state}, wanted {want}"
            )));
        }
        Ok(())
    }

    /// Freezes the page (`true`) the way Chromium freezes background tabs,
    /// or lets it run again (`false`): DevTools `Page.setWebLifecycleState`.
    /// While frozen the page runs nothing (no timers, no socket events);
    /// on `active` it gets `resume`, then what was queued. Chromium only.
    pub async fn set_frozen(&self, frozen: bool) -> Result<()> {
        if self.kind != BrowserKind::Chromium {
            return Err(fail(format!(
                "{}: no WebDriver command freezes a page",
                self.kind
            )));
        }
        let state = if frozen { "frozen" } else { "active" };
        self.client
            .issue_cmd(ChromeDevTools {
                cmd: "Page.setWebLifecycleState",
                params: json!({ "state": state }),
            })
            .await
            .map_err(|e| fail(format!("chromium: Page.setWebLifecycleState {state}: {e}")))?;
        Ok(())
    }

    /// Runs `source` in every document this tab loads from now on, before
    /// any of the page's own scripts (DevTools
    /// `Page.addScriptToEvaluateOnNewDocument`). Chromium only.
    pub async fn before_page_scripts(&self, source: &str) -> Result<()> {
        if self.kind != BrowserKind::Chromium {
            return Err(fail(format!(
                "{}: no WebDriver command runs a script before the page's",
                self.kind
            )));
        }
        self.client
            .issue_cmd(ChromeDevTools {
                cmd: "Page.addScriptToEvaluateOnNewDocument",
                params: json!({ "source": source }),
            })
            .await
            .map_err(|e| {
                fail(format!(
                    "chromium: Page.addScriptToEvaluateOnNewDocument: {e}"
                ))
            })?;
        Ok(())
    }

    /// Ends the session (closing the browser); the driver goes on drop.
    pub async fn quit(self) {
        let _ = self.client.close().await;
    }
}
