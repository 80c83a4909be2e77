//! A real browser for the tests of the web pages: the system's headless Chromium, driven over
//! WebDriver by its chromedriver (Debian packages `chromium` and `chromium-driver`).
//!
//! [`Browser::start`] starts a chromedriver of its own on a port the system picks, in its own
//! process group and with its own temporary folder (profile, caches and Chromium's temporary
//! files), and opens one headless session. [`Browser::close`] ends the session; dropping a
//! [`Browser`] (also when a test panics) kills the whole process group, driver and browser,
//! and removes the folder. A missing Chromium or chromedriver fails the test with the command
//! that installs them: the browser tests never pass by not running.
//!
//! `CHROMIUM` and `CHROMEDRIVER` name other binaries than the ones found on `PATH`.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::TestServer;

/// How long a page or an element may take before a wait fails.
pub const WAIT: Duration = Duration::from_secs(15);

/// How to install what the browser tests need, for failure messages.
const INSTALL: &str = "install them with `apt-get install -y chromium chromium-driver` \
     (`bash .ci/run --services-only` does that), or name the binaries in CHROMIUM and CHROMEDRIVER";

/// The window the browser renders into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewport {
    /// A laptop screen: 1280 × 900 CSS pixels.
    Desktop,
    /// A phone held upright: 390 × 844 CSS pixels, as a phone's browser lays pages out.
    Phone,
}

impl Viewport {
    /// Width and height in CSS pixels.
    pub fn size(self) -> (u32, u32) {
        match self {
            Self::Desktop => (1280, 900),
            Self::Phone => (390, 844),
        }
    }
}

/// The folder the screenshots of the pages go to: `docs/screenshots/` of the workspace.
pub fn screenshots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("docs")
        .join("screenshots")
}

/// `name` found as an executable file on `PATH`, or `$variable` when that is set.
fn find_binary(variable: &str, names: &[&str]) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(variable).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "{variable}={} is not a file; {INSTALL}",
                path.display()
            ))
        };
    }
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| format!("none of {names:?} is on PATH; {INSTALL}"))
}

/// A running chromedriver in a process group of its own, with everything it and its browser
/// write kept in one temporary folder. Dropping it kills the group and removes the folder.
struct Driver {
    child: Child,
    port: u16,
    output: Arc<Mutex<Vec<String>>>,
    folder: tempfile::TempDir,
}

impl Driver {
    fn start(chromedriver: &Path) -> Self {
        let folder = tempfile::tempdir().expect("create a folder for the browser");
        let tmp = folder.path().join("tmp");
        std::fs::create_dir_all(&tmp).expect("create the browser's temporary folder");
        let mut child = Command::new(chromedriver)
            .arg("--port=0")
            .env("TMPDIR", &tmp)
            .env("HOME", folder.path())
            // Dutch, as the pages' readers: the browser's own controls (date pickers) too.
            .env("LANGUAGE", "nl")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: the browser it starts joins it, and one signal ends both.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start chromedriver {}: {e}; {INSTALL}",
                    chromedriver.display()
                )
            });
        let output = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = mpsc::channel();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let output = Arc::clone(&output);
            let port_tx = port_tx.clone();
            // Reads until the driver exits, so that its pipes never fill up.
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(port) = line
                        .strip_prefix("ChromeDriver was started successfully on port ")
                        .and_then(|rest| rest.trim_end_matches('.').parse::<u16>().ok())
                    {
                        let _ = port_tx.send(port);
                    }
                    if let Ok(mut lines) = output.lock() {
                        lines.push(line);
                    }
                }
            });
        }
        let mut driver = Self {
            child,
            port: 0,
            output,
            folder,
        };
        match port_rx.recv_timeout(WAIT) {
            Ok(port) => driver.port = port,
            Err(_) => panic!(
                "chromedriver {} did not report its port within {WAIT:?}; it said:\n{}",
                chromedriver.display(),
                driver.said()
            ),
        }
        driver
    }

    /// What the driver printed so far.
    fn said(&self) -> String {
        self.output
            .lock()
            .map(|lines| lines.join("\n"))
            .unwrap_or_default()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The driver leads its group (process_group(0)), so its pid is the group's id.
        if let Some(group) = i32::try_from(self.child.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One headless Chromium session on the pages of a [`TestServer`].
pub struct Browser {
    client: Client,
    base: String,
    viewport: Viewport,
    // Declared last: dropped after the client, killing driver and browser.
    driver: Driver,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("base", &self.base)
            .field("viewport", &self.viewport)
            .field("driver_port", &self.driver.port)
            .finish_non_exhaustive()
    }
}

impl Browser {
    /// A headless browser at desktop size on `server`'s pages.
    pub async fn start(server: &TestServer) -> Self {
        Self::start_at(server, Viewport::Desktop).await
    }

    /// A headless browser with `viewport` on `server`'s pages.
    pub async fn start_at(server: &TestServer, viewport: Viewport) -> Self {
        let chromium = find_binary("CHROMIUM", &["chromium", "chromium-browser"])
            .unwrap_or_else(|e| panic!("the browser tests need Chromium: {e}"));
        let chromedriver = find_binary("CHROMEDRIVER", &["chromedriver"])
            .unwrap_or_else(|e| panic!("the browser tests need chromedriver: {e}"));
        let driver = Driver::start(&chromedriver);
        let profile = driver.folder.path().join("profile");
        let (width, height) = viewport.size();
        let mut args = vec![
            "--headless=new".to_owned(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.display()),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-extensions".to_owned(),
            "--no-first-run".to_owned(),
            "--no-default-browser-check".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--force-device-scale-factor=1".to_owned(),
            "--lang=nl-NL".to_owned(),
            // No name but this machine's resolves: a page that loads anything from elsewhere
            // (a CDN) fails to, as it would on a machine without internet access.
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"
                .to_owned(),
        ];
        // Chromium's sandbox refuses to run as root (as CI does); elsewhere it stays on.
        if rustix::process::geteuid().is_root() {
            args.push("--no-sandbox".to_owned());
        }
        let mut options = json!({
            "binary": chromium.to_string_lossy(),
            "args": args,
            "prefs": { "intl.accept_languages": "nl-NL,nl" },
        });
        if viewport == Viewport::Phone {
            // A phone's layout width, touch and user agent, not only a narrow window.
            options["mobileEmulation"] = json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0, "touch": true },
                "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
                    (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36",
            });
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), options);
        capabilities.insert("pageLoadStrategy".into(), json!("normal"));
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver could not start Chromium {}: {e}; chromedriver said:\n{}",
                    chromium.display(),
                    driver.said()
                )
            });
        let browser = Self {
            client,
            base: format!("http://{}", server.addr),
            viewport,
            driver,
        };
        if viewport == Viewport::Desktop {
            // `--window-size` sizes the window, whose viewport is smaller by the browser's frame.
            browser.set_window_content_height(width, height).await;
        }
        browser
    }

    /// The WebDriver client, for what the helpers here do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The absolute URL of `path` (e.g. `/aanmelden`) on the server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Opens `path` of the server and waits until the page has loaded.
    pub async fn open(&self, path: &str) {
        let url = self.url(path);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("the browser cannot open {url}: {e}"));
        self.wait_loaded().await;
    }

    /// The path and query of the page the browser shows.
    pub async fn path(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .unwrap_or_else(|e| panic!("the browser has no current URL: {e}"));
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    async fn ready_state(&self) -> Option<String> {
        self.client
            .execute("return document.readyState", vec![])
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    /// Waits until the document has loaded.
    async fn wait_loaded(&self) {
        let deadline = Instant::now() + WAIT;
        while self.ready_state().await.as_deref() != Some("complete") {
            if Instant::now() > deadline {
                panic!(
                    "{} did not finish loading within {WAIT:?}",
                    self.path().await
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// What the page shows, for failure messages: its path, title and the start of its text.
    pub async fn describe(&self) -> String {
        let path = self.path().await;
        let title = self.client.title().await.unwrap_or_default();
        let text: String = self
            .client
            .execute(
                "return document.body ? document.body.innerText : ''",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
            .chars()
            .take(1500)
            .collect();
        format!("page {path} titled {title:?} showing:\n{text}")
    }

    /// The first element matching the CSS `selector`, waiting for it up to [`WAIT`]; fails the
    /// test naming the selector and what the page shows instead.
    pub async fn wait_for(&self, selector: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(selector))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!(
                "no element {selector:?} within {WAIT:?} ({e}) on the {}",
                self.describe().await
            ),
        }
    }

    /// Every element matching `selector` now (no waiting; possibly none).
    pub async fn find_all(&self, selector: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("cannot search {selector:?}: {e}"))
    }

    /// Whether an element matches `selector` now.
    pub async fn exists(&self, selector: &str) -> bool {
        !self.find_all(selector).await.is_empty()
    }

    /// The text of the first element matching `selector` (waiting for it).
    pub async fn text(&self, selector: &str) -> String {
        let element = self.wait_for(selector).await;
        element
            .text()
            .await
            .unwrap_or_else(|e| panic!("cannot read the text of {selector:?}: {e}"))
    }

    /// The attribute `name` of the first element matching `selector` (waiting for it).
    pub async fn attr(&self, selector: &str, name: &str) -> Option<String> {
        let element = self.wait_for(selector).await;
        element
            .attr(name)
            .await
            .unwrap_or_else(|e| panic!("cannot read {name:?} of {selector:?}: {e}"))
    }

    /// Runs `script` in the page with `args` and returns its result.
    pub async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("the script failed: {e}\n{script}"))
    }

    /// Puts `value` into the form field named `name` as a user would: types into an input or
    /// text area (after clearing it), picks the option with that value in a select.
    pub async fn fill(&self, name: &str, value: &str) {
        let selector = format!("[name=\"{name}\"]");
        let field = self.wait_for(&selector).await;
        let tag = field.tag_name().await.unwrap_or_default().to_lowercase();
        let typed: Result<(), CmdError> = if tag == "select" {
            field.select_by_value(value).await
        } else {
            match field.clear().await {
                Ok(()) => field.send_keys(value).await,
                Err(e) => Err(e),
            }
        };
        if let Err(e) = typed {
            panic!(
                "cannot put {value:?} into field {name:?} ({tag}): {e} on the {}",
                self.describe().await
            );
        }
    }

    /// Chooses the file at `path` in the file input named `name`, as a user picks it in the
    /// file dialog.
    pub async fn upload(&self, name: &str, path: &Path) {
        let selector = format!("input[type=\"file\"][name=\"{name}\"]");
        let field = self.wait_for(&selector).await;
        let path = path
            .to_str()
            .unwrap_or_else(|| panic!("{} is no UTF-8 path", path.display()));
        if let Err(e) = field.send_keys(path).await {
            panic!(
                "cannot choose {path} in {name:?}: {e} on the {}",
                self.describe().await
            );
        }
    }

    /// How long the page shown took, from the Navigation Timing API: the server's time to the
    /// first byte of its answer (request start to response start) and the whole load (to the
    /// document complete), in milliseconds.
    pub async fn timing(&self) -> (f64, f64) {
        let times = self
            .eval(
                "const n = performance.getEntriesByType('navigation')[0];
                 return [n.responseStart - n.requestStart, n.domComplete - n.startTime];",
                vec![],
            )
            .await;
        let at = |i: usize| {
            times[i]
                .as_f64()
                .unwrap_or_else(|| panic!("a navigation timing: {times}"))
        };
        (at(0), at(1))
    }

    /// Sets the form field `name` to `value` through the DOM, for fields a user sets with a
    /// picker (dates, times) whose typing depends on the browser's locale.
    pub async fn set_value(&self, name: &str, value: &str) {
        let selector = format!("[name=\"{name}\"]");
        self.wait_for(&selector).await;
        self.eval(
            "const f = document.querySelector(arguments[0]); f.value = arguments[1];
             f.dispatchEvent(new Event('input', {bubbles: true}));
             f.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(selector), json!(value)],
        )
        .await;
    }

    /// Clicks the element matching `selector` and waits for the page it leads to.
    pub async fn click_and_wait(&self, selector: &str) {
        let element = self.wait_for(selector).await;
        let old_root = self
            .client
            .find(Locator::Css("html"))
            .await
            .unwrap_or_else(|e| panic!("the page has no root element: {e}"));
        if let Err(e) = element.click().await {
            panic!(
                "cannot click {selector:?}: {e} on the {}",
                self.describe().await
            );
        }
        // The old page's root goes stale once the browser has moved on to the next page.
        let deadline = Instant::now() + WAIT;
        while old_root.tag_name().await.is_ok() {
            if Instant::now() > deadline {
                panic!(
                    "clicking {selector:?} led to no new page within {WAIT:?}; still on the {}",
                    self.describe().await
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.wait_loaded().await;
    }

    /// Submits the form on the page with its button `#submit` and waits for the answer page.
    pub async fn submit(&self) {
        self.click_and_wait("#submit").await;
    }

    /// Saves what the browser shows as `docs/screenshots/{name}.png`: the whole page, up to
    /// `max_height` CSS pixels tall, at the browser's width. Returns the file's path.
    pub async fn screenshot(&self, name: &str, max_height: u32) -> PathBuf {
        let (width, height) = self.viewport.size();
        let content = self
            .eval(
                "return Math.ceil(Math.max(document.documentElement.scrollHeight, \
                 document.body ? document.body.scrollHeight : 0))",
                vec![],
            )
            .await
            .as_u64()
            .and_then(|h| u32::try_from(h).ok())
            .unwrap_or(height);
        let full = content.clamp(height, max_height.max(height));
        if self.viewport == Viewport::Desktop && full != height {
            self.set_window_content_height(width, full).await;
        }
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("cannot take a screenshot of {name}: {e}"));
        if self.viewport == Viewport::Desktop && full != height {
            self.set_window_content_height(width, height).await;
        }
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "the screenshot of {name} is not a PNG"
        );
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &png)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// Resizes the window so that the page's viewport is `width` × `height` CSS pixels.
    async fn set_window_content_height(&self, width: u32, height: u32) {
        // The window is larger than its viewport by the browser's frame: measured, not assumed.
        let inner = self
            .eval("return [window.innerWidth, window.innerHeight]", vec![])
            .await;
        let (outer_w, outer_h) = self
            .client
            .get_window_size()
            .await
            .unwrap_or_else(|e| panic!("cannot read the window size: {e}"));
        let frame_w = outer_w.saturating_sub(inner[0].as_u64().unwrap_or(outer_w));
        let frame_h = outer_h.saturating_sub(inner[1].as_u64().unwrap_or(outer_h));
        let to_u32 = |v: u64| u32::try_from(v).unwrap_or(0);
        self.client
            .set_window_size(width + to_u32(frame_w), height + to_u32(frame_h))
            .await
            .unwrap_or_else(|e| panic!("cannot resize the window: {e}"));
    }

    /// Ends the session and stops the driver and the browser.
    pub async fn close(self) {
        let Self { client, driver, .. } = self;
        let _ = client.close().await;
        drop(driver);
    }
}
