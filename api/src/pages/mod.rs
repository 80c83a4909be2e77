//! The web pages: the monitor with charts, decisions and their consequences, money and
//! commitments, the audit trail, and the programme office's forms, served under `/` by the same
//! router as `/graphql`.
//!
//! Every page is an in-process GraphQL client: it runs one query (or mutation) against the
//! server's own schema with the signed-in user's token, so the API stays the one way in and out
//! of the ledger and its rules (public reading, roles, errors) hold on the pages exactly as they
//! do on `/graphql`. Templates (askama) and the stylesheet are compiled into the binary; charts
//! are inline SVG drawn on the server; the pages use no JavaScript. `docs/pages.md` describes
//! them.

mod audit;
mod chart;
mod decisions;
mod file_import;
mod i18n;
mod messages;
mod money;
mod monitor;
mod office;
mod session;

use std::sync::Arc;

use askama::Template;
use async_graphql::Variables;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::RequestId;
use crate::http::Shared;
use crate::Auth;
use i18n::{Lang, Texts};
use session::{SessionView, Sessions, SESSION_COOKIE, SIGN_IN_CSRF_COOKIE};

/// What every page handler shares: the API's state and schema, and the open sessions.
#[derive(Clone)]
pub(crate) struct Pages {
    shared: Shared,
    sessions: Arc<Sessions>,
}

/// The pages' routes, to be merged into the ledger's router.
pub(crate) fn router<S: Clone + Send + Sync + 'static>(shared: Shared) -> Router<S> {
    let pages = Pages {
        shared,
        sessions: Arc::new(Sessions::default()),
    };
    Router::new()
        .route("/", get(index))
        .route("/stijl.css", get(stylesheet))
        .route("/aanmelden", get(sign_in_form).post(sign_in))
        .route("/afmelden", post(sign_out))
        .route("/programmas/{programme}", get(programme_home))
        .route("/programmas/{programme}/monitor", get(monitor::page))
        .route(
            "/programmas/{programme}/besluiten",
            get(decisions::timeline),
        )
        .route(
            "/programmas/{programme}/besluiten/{decision}",
            get(decisions::page),
        )
        .route("/programmas/{programme}/geld", get(money::page))
        .route("/programmas/{programme}/geld/{file}", get(money::csv))
        .route("/programmas/{programme}/audit", get(audit::page))
        .route("/programmas/{programme}/secretariaat", get(office::index))
        .route(
            "/programmas/{programme}/secretariaat/import",
            get(file_import::form)
                .post(file_import::submit)
                // The server's body limit (`Limits::max_body_bytes`) is the one limit of an
                // upload, not axum's default for multipart bodies.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/programmas/{programme}/secretariaat/{form}",
            get(office::form).post(office::submit),
        )
        .layer(middleware::map_response(security_headers))
        .with_state(pages)
}

/// The content security policy of every page: nothing but this site's stylesheet, no scripts
/// at all, forms only to this site, never in a frame.
const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        // Pages depend on who is signed in and on the ledger's latest state.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("stijl.css"),
    )
        .into_response()
}

/// Who is asking, in which language, as of which date: read once per request.
pub(crate) struct Ctx {
    pages: Pages,
    pub(crate) lang: Lang,
    /// `?lang=` was given: the answer sets the `lang` cookie.
    remember_lang: bool,
    /// `?peildatum=` as given, when it is a date.
    pub(crate) peildatum: Option<NaiveDate>,
    pub(crate) session: Option<SessionView>,
    auth: Auth,
    request_id: String,
    path: String,
    query: Vec<(String, String)>,
    /// Set the `Secure` flag on cookies (the request came over HTTPS through a proxy).
    secure: bool,
}

impl FromRequestParts<Pages> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, pages: &Pages) -> Result<Self, Response> {
        let jar = axum_extra::extract::cookie::CookieJar::from_headers(&parts.headers);
        let query: Vec<(String, String)> = parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let param = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let asked = param("lang").and_then(|l| Lang::parse(&l));
        let peildatum = param("peildatum").filter(|p| !p.is_empty());
        let lang = asked
            .or_else(|| jar.get("lang").and_then(|c| Lang::parse(c.value())))
            .unwrap_or(Lang::Nl);
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let secure = parts
            .headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
        let mut ctx = Ctx {
            pages: pages.clone(),
            lang,
            remember_lang: asked.is_some(),
            peildatum: None,
            session: None,
            auth: Auth::Anonymous,
            request_id,
            path: parts.uri.path().to_owned(),
            query,
            secure,
        };
        if let Some(text) = peildatum {
            match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
                Ok(date) => ctx.peildatum = Some(date),
                Err(_) => {
                    let t = ctx.t();
                    return Err(ctx.error_page(
                        StatusCode::BAD_REQUEST,
                        t.bad_request,
                        t.bad_date.to_owned(),
                    ));
                }
            }
        }
        if let Some(id) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) {
            if let Some(view) = pages.sessions.get(&id) {
                let state = &pages.shared.state;
                match state.tokens.authenticate(&state.db, &view.token).await {
                    Ok(Some(principal)) => {
                        ctx.auth = Auth::Principal(principal);
                        ctx.session = Some(view);
                    }
                    Ok(None) => pages.sessions.close(&id),
                    Err(e) => {
                        tracing::warn!(error = ?e, "cannot check a page session's token");
                        let t = ctx.t();
                        return Err(ctx.error_page(
                            StatusCode::SERVICE_UNAVAILABLE,
                            t.unavailable,
                            t.unavailable_text.to_owned(),
                        ));
                    }
                }
            }
        }
        Ok(ctx)
    }
}

/// A navigation link of the layout.
pub(crate) struct NavLink {
    pub(crate) href: String,
    pub(crate) label: &'static str,
    pub(crate) current: bool,
}

/// What the layout around every page shows.
pub(crate) struct Layout {
    pub(crate) lang: &'static str,
    pub(crate) t: &'static Texts,
    pub(crate) title: String,
    pub(crate) programme_name: Option<String>,
    pub(crate) home: String,
    pub(crate) nav: Vec<NavLink>,
    pub(crate) lang_href: String,
    /// The past view's date as people read it; `None` for the present.
    pub(crate) past: Option<String>,
    pub(crate) peildatum: String,
    pub(crate) history_action: String,
    /// Query parameters the date picker keeps (wijk, pijler).
    pub(crate) history_keep: Vec<(String, String)>,
    pub(crate) now_href: String,
    pub(crate) signed_in: Option<String>,
    pub(crate) csrf: String,
    pub(crate) sign_in_href: String,
    pub(crate) notice: Option<&'static str>,
}

/// Which page of a programme a layout is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Monitor,
    Decisions,
    Money,
    Audit,
    Office,
    Other,
}

impl Ctx {
    pub(crate) fn t(&self) -> &'static Texts {
        self.lang.texts()
    }

    pub(crate) fn state(&self) -> &crate::AppState {
        &self.pages.shared.state
    }

    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The instant a read is answered at: the end of the peildatum (UTC), or now.
    pub(crate) fn as_of(&self) -> Value {
        match self.peildatum {
            Some(date) => json!(format!("{}T23:59:59.999999Z", date.format("%Y-%m-%d"))),
            None => Value::Null,
        }
    }

    /// An internal link that keeps the peildatum.
    pub(crate) fn link(&self, path: &str) -> String {
        self.link_with(path, &[])
    }

    /// An internal link with query parameters, keeping the peildatum.
    pub(crate) fn link_with(&self, path: &str, params: &[(&str, &str)]) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            if !v.is_empty() {
                query.append_pair(k, v);
            }
        }
        if let Some(date) = self.peildatum {
            query.append_pair("peildatum", &date.format("%Y-%m-%d").to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    }

    /// Whether the signed-in user may record (secretary or admin).
    pub(crate) fn may_record(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.role.may_record())
    }

    /// The layout of a page; `programme` is `(id, name)` for a programme's pages.
    pub(crate) fn layout(
        &self,
        title: impl Into<String>,
        programme: Option<(&str, &str)>,
        section: Section,
    ) -> Layout {
        let t = self.t();
        let mut nav = Vec::new();
        let home = match programme {
            Some((id, _)) => {
                let base = format!("/programmas/{id}");
                let mut entries = vec![
                    (Section::Monitor, "monitor", t.monitor),
                    (Section::Decisions, "besluiten", t.decisions),
                    (Section::Money, "geld", t.money),
                    (Section::Audit, "audit", t.audit),
                ];
                if self.may_record() {
                    entries.push((Section::Office, "secretariaat", t.office));
                }
                for (s, path, label) in entries {
                    nav.push(NavLink {
                        href: self.link(&format!("{base}/{path}")),
                        label,
                        current: s == section,
                    });
                }
                self.link(&format!("{base}/monitor"))
            }
            None => self.link("/"),
        };
        let mut lang_query: Vec<(String, String)> = self
            .query
            .iter()
            .filter(|(k, _)| k != "lang" && k != "melding")
            .cloned()
            .collect();
        lang_query.push(("lang".into(), t.other_lang_code.into()));
        let lang_href = format!(
            "{}?{}",
            self.path,
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(lang_query)
                .finish()
        );
        let history_keep: Vec<(String, String)> = self
            .query
            .iter()
            .filter(|(k, _)| k == "wijk" || k == "pijler")
            .cloned()
            .collect();
        let now_href = {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.extend_pairs(history_keep.iter());
            let q = q.finish();
            if q.is_empty() {
                self.path.clone()
            } else {
                format!("{}?{q}", self.path)
            }
        };
        let notice = self.param("melding").and_then(|m| notice_text(t, m));
        let sign_in_href = format!(
            "/aanmelden?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("terug", &self.path)
                .finish()
        );
        Layout {
            lang: self.lang.code(),
            t,
            title: title.into(),
            programme_name: programme.map(|(_, name)| name.to_owned()),
            home,
            nav,
            lang_href,
            past: self
                .peildatum
                .map(|d| self.lang.date(&d.format("%Y-%m-%d").to_string())),
            peildatum: self
                .peildatum
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            history_action: self.path.clone(),
            history_keep,
            now_href,
            signed_in: self.session.as_ref().map(|s| s.actor.clone()),
            csrf: self
                .session
                .as_ref()
                .map(|s| s.csrf.clone())
                .unwrap_or_default(),
            sign_in_href,
            notice,
        }
    }

    /// An HTML answer, with the `lang` cookie when `?lang=` chose the language.
    pub(crate) fn html(&self, status: StatusCode, body: String) -> Response {
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response();
        self.remember(&mut response);
        response
    }

    fn remember(&self, response: &mut Response) {
        if self.remember_lang {
            let cookie = Cookie::build(("lang", self.lang.code()))
                .path("/")
                .same_site(SameSite::Lax)
                .permanent()
                .build();
            append_cookie(response, &cookie);
        }
    }

    /// Renders a template as a page.
    pub(crate) fn render(&self, template: &impl Template) -> Response {
        match template.render() {
            Ok(body) => self.html(StatusCode::OK, body),
            Err(e) => {
                tracing::error!(error = %e, "a page template failed");
                let t = self.t();
                self.error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    t.unavailable,
                    t.unavailable_text.to_owned(),
                )
            }
        }
    }

    /// A 303 redirect (after a form, or to the only programme).
    pub(crate) fn redirect(&self, to: &str) -> Response {
        let mut response = Redirect::to(to).into_response();
        self.remember(&mut response);
        response
    }

    pub(crate) fn error_page(&self, status: StatusCode, title: &str, text: String) -> Response {
        let page = ErrorPage {
            layout: self.layout(title, None, Section::Other),
            text,
        };
        match page.render() {
            Ok(body) => self.html(status, body),
            Err(_) => (status, title.to_owned()).into_response(),
        }
    }

    /// Runs a GraphQL operation against the server's schema as the signed-in user (or
    /// anonymously).
    pub(crate) async fn graphql(&self, query: &str, variables: Value) -> Gql {
        self.graphql_as(self.auth.clone(), query, variables).await
    }

    /// [`Ctx::graphql`] as the given user (at sign-in, before the session is in the request).
    async fn graphql_as(&self, auth: Auth, query: &str, variables: Value) -> Gql {
        let request = async_graphql::Request::new(query).variables(Variables::from_json(variables));
        self.execute(auth, request).await
    }

    /// Runs a GraphQL mutation as the signed-in user with a file attached, as a multipart
    /// request attaches it: `variable` is the path of the `Upload` variable it fills (e.g.
    /// `variables.input.file`).
    pub(crate) async fn graphql_upload(
        &self,
        query: &str,
        variables: Value,
        variable: &str,
        upload: async_graphql::UploadValue,
    ) -> Gql {
        let mut request =
            async_graphql::Request::new(query).variables(Variables::from_json(variables));
        request.set_upload(variable, upload);
        self.execute(self.auth.clone(), request).await
    }

    async fn execute(&self, auth: Auth, request: async_graphql::Request) -> Gql {
        let request = request.data(auth).data(RequestId(self.request_id.clone()));
        let response = self.pages.shared.execute(request).await;
        let errors = response
            .errors
            .iter()
            .map(|e| {
                let ext = |name: &str| match e.extensions.as_ref().and_then(|x| x.get(name)) {
                    Some(async_graphql::Value::String(s)) => Some(s.clone()),
                    _ => None,
                };
                let problems = e
                    .extensions
                    .as_ref()
                    .and_then(|x| x.get("problems"))
                    .and_then(|p| serde_json::to_value(p).ok())
                    .and_then(|p| serde_json::from_value(p).ok())
                    .unwrap_or_default();
                let number = |name: &str| match e.extensions.as_ref().and_then(|x| x.get(name)) {
                    Some(async_graphql::Value::Number(n)) => n.as_u64(),
                    _ => None,
                };
                GqlError {
                    code: ext("code").unwrap_or_default(),
                    field: ext("field"),
                    rule: ext("rule"),
                    message: e.message.clone(),
                    problems,
                    stopped: number("line").zip(number("rowsRecorded")),
                }
            })
            .collect();
        Gql {
            data: response.data.into_json().unwrap_or(Value::Null),
            errors,
        }
    }

    /// Runs a read and decodes its data; any error becomes the page's answer.
    pub(crate) async fn read<T: DeserializeOwned>(
        &self,
        query: &str,
        variables: Value,
    ) -> Result<T, PageError> {
        let gql = self.graphql(query, variables).await;
        if let Some(error) = gql.errors.first() {
            return Err(PageError::from_gql(error));
        }
        serde_json::from_value(gql.data).map_err(|e| {
            tracing::error!(error = %e, "a page could not read its query's answer");
            PageError::Internal
        })
    }
}

pub(crate) fn append_cookie(response: &mut Response, cookie: &Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The notice a redirect after a form asks for (`?melding=`); only known keys show anything.
fn notice_text(t: &'static Texts, key: &str) -> Option<&'static str> {
    Some(match key {
        "besluit" => t.notice_decision,
        "vergadering" => t.notice_meeting,
        "stemmen" => t.notice_votes,
        "streefwaarde" => t.notice_target,
        "meting" => t.notice_measurement,
        "budget" => t.notice_budget,
        "voortgang" => t.notice_progress,
        "aangemeld" => t.notice_signed_in,
        "afgemeld" => t.signed_out,
        "vastgelegd" => t.notice_saved,
        _ => return None,
    })
}

/// A GraphQL answer: its data and its errors with their codes.
pub(crate) struct Gql {
    pub(crate) data: Value,
    pub(crate) errors: Vec<GqlError>,
}

#[derive(Debug, Clone)]
pub(crate) struct GqlError {
    pub(crate) code: String,
    pub(crate) field: Option<String>,
    /// The rule the error breaks (`extensions.rule`), when the ledger names one.
    pub(crate) rule: Option<String>,
    pub(crate) message: String,
    /// A refused file's problems (`extensions.problems` of `IMPORT_REFUSED`).
    pub(crate) problems: Vec<FileProblem>,
    /// An import that stopped while writing: the line it stopped at and the rows recorded
    /// before it (`extensions.line`, `extensions.rowsRecorded`).
    pub(crate) stopped: Option<(u64, u64)>,
}

/// One problem of a refused file, as the API lists it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct FileProblem {
    pub(crate) line: u64,
    pub(crate) column: Option<String>,
    pub(crate) rule: String,
    pub(crate) message: String,
}

/// Why a page cannot be shown.
#[derive(Debug)]
pub(crate) enum PageError {
    /// Reading needs a sign-in (a server without public reading).
    SignIn,
    NotFound,
    Forbidden(String),
    Unavailable,
    Internal,
}

impl PageError {
    fn from_gql(error: &GqlError) -> Self {
        match error.code.as_str() {
            "UNAUTHENTICATED" => Self::SignIn,
            // A malformed id in the address (a decision id that is no UUID) finds nothing.
            "NOT_FOUND" | "BAD_USER_INPUT" => Self::NotFound,
            "FORBIDDEN" => Self::Forbidden(error.message.clone()),
            "UNAVAILABLE" => Self::Unavailable,
            _ => Self::Internal,
        }
    }

    pub(crate) fn respond(self, ctx: &Ctx) -> Response {
        let t = ctx.t();
        match self {
            Self::SignIn => ctx.redirect(&ctx.layout("", None, Section::Other).sign_in_href),
            Self::NotFound => {
                ctx.error_page(StatusCode::NOT_FOUND, t.not_found, t.not_found_text.into())
            }
            Self::Forbidden(message) => ctx.error_page(StatusCode::FORBIDDEN, t.forbidden, message),
            Self::Unavailable => ctx.error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                t.unavailable,
                t.unavailable_text.into(),
            ),
            Self::Internal => ctx.error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                t.unavailable,
                t.unavailable_text.into(),
            ),
        }
    }
}

/// Answers a page's result: the page, or the page that says why not.
pub(crate) fn answer(ctx: &Ctx, result: Result<Response, PageError>) -> Response {
    result.unwrap_or_else(|e| e.respond(ctx))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    text: String,
}

/// A programme's id and name, as every programme page asks for it.
#[derive(Deserialize)]
pub(crate) struct ProgrammeName {
    pub(crate) id: String,
    pub(crate) name: String,
}

#[derive(Deserialize)]
struct ProgrammeList {
    programmes: Connection<ProgrammeName>,
}

#[derive(Deserialize)]
pub(crate) struct Connection<T> {
    pub(crate) nodes: Vec<T>,
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    layout: Layout,
    programmes: Vec<(String, String)>,
}

/// `/`: the programmes, or straight to the only one's monitor.
async fn index(ctx: Ctx) -> Response {
    let result = async {
        let list: ProgrammeList = ctx
            .read(
                "query($asOf: DateTime) { programmes(asOf: $asOf, first: 1000) { nodes { id name } } }",
                json!({ "asOf": ctx.as_of() }),
            )
            .await?;
        if let [only] = list.programmes.nodes.as_slice() {
            return Ok(ctx.redirect(&ctx.link(&format!("/programmas/{}/monitor", only.id))));
        }
        let programmes = list
            .programmes
            .nodes
            .into_iter()
            .map(|p| (ctx.link(&format!("/programmas/{}/monitor", p.id)), p.name))
            .collect();
        Ok(ctx.render(&IndexPage {
            layout: ctx.layout(ctx.t().programmes, None, Section::Other),
            programmes,
        }))
    }
    .await;
    answer(&ctx, result)
}

async fn programme_home(
    ctx: Ctx,
    axum::extract::Path(programme): axum::extract::Path<String>,
) -> Response {
    ctx.redirect(&ctx.link(&format!("/programmas/{programme}/monitor")))
}

#[derive(Template)]
#[template(path = "aanmelden.html")]
struct SignInPage {
    layout: Layout,
    csrf: String,
    terug: String,
    error: Option<&'static str>,
}

/// Where to go after signing in: a path on this site, never another site.
fn safe_return(path: Option<&str>) -> Option<String> {
    path.filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.contains('\\'))
        .map(str::to_owned)
}

fn sign_in_page(
    ctx: &Ctx,
    status: StatusCode,
    terug: String,
    error: Option<&'static str>,
) -> Response {
    let csrf = session::random_secret();
    let page = SignInPage {
        layout: ctx.layout(ctx.t().sign_in, None, Section::Other),
        csrf: csrf.clone(),
        terug,
        error,
    };
    let mut response = match page.render() {
        Ok(body) => ctx.html(status, body),
        Err(_) => return PageError::Internal.respond(ctx),
    };
    let cookie = Cookie::build((SIGN_IN_CSRF_COOKIE, csrf))
        .path("/aanmelden")
        .http_only(true)
        .secure(ctx.secure)
        .same_site(SameSite::Strict)
        .build();
    append_cookie(&mut response, &cookie);
    response
}

async fn sign_in_form(ctx: Ctx) -> Response {
    let terug = safe_return(ctx.param("terug")).unwrap_or_default();
    sign_in_page(&ctx, StatusCode::OK, terug, None)
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    terug: String,
}

async fn sign_in(
    ctx: Ctx,
    axum::Extension(client): axum::Extension<crate::throttle::Client>,
    headers: axum::http::HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let t = ctx.t();
    let jar = axum_extra::extract::cookie::CookieJar::from_headers(&headers);
    let expected = jar
        .get(SIGN_IN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let terug = safe_return(Some(&form.terug)).unwrap_or_default();
    if expected.is_empty() || !session::same_secret(&expected, &form.csrf) {
        return sign_in_page(&ctx, StatusCode::FORBIDDEN, terug, Some(t.csrf_failed));
    }
    // Too many failed sign-ins from this client: refused before the token is looked at.
    if let Some(wait) = ctx.pages.shared.sign_ins.refused(client) {
        let text = match ctx.lang {
            i18n::Lang::Nl => {
                "Te veel mislukte aanmeldpogingen vanaf dit adres; probeer het later opnieuw."
            }
            i18n::Lang::En => "Too many failed sign-ins from this address; try again later.",
        };
        let mut page = sign_in_page(&ctx, StatusCode::TOO_MANY_REQUESTS, terug, Some(text));
        let seconds = wait.as_secs_f64().ceil() as u64;
        page.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return page;
    }
    let token = form.token.trim();
    let state = ctx.state();
    let principal = match state.tokens.authenticate(&state.db, token).await {
        Ok(Some(principal)) => principal,
        Ok(None) => {
            ctx.pages.shared.sign_ins.failed(client);
            return sign_in_page(
                &ctx,
                StatusCode::UNAUTHORIZED,
                terug,
                Some(t.sign_in_failed),
            );
        }
        Err(e) => {
            tracing::warn!(error = ?e, "cannot check a token at sign-in");
            return PageError::Unavailable.respond(&ctx);
        }
    };
    let may_record = principal.role.may_record();
    let only = only_programme(&ctx, Auth::Principal(principal.clone())).await;
    let id = ctx
        .pages
        .sessions
        .open(token.to_owned(), principal.actor.clone(), principal.role);
    tracing::info!(actor = %principal.actor, role = %principal.role, "signed in on the pages");
    let to = if !terug.is_empty() {
        terug
    } else {
        match only {
            Some(p) if may_record => format!("/programmas/{p}/secretariaat?melding=aangemeld"),
            Some(p) => format!("/programmas/{p}/monitor?melding=aangemeld"),
            None => "/".to_owned(),
        }
    };
    let mut response = ctx.redirect(&to);
    let cookie = Cookie::build((SESSION_COOKIE, id))
        .path("/")
        .http_only(true)
        .secure(ctx.secure)
        .same_site(SameSite::Strict)
        .build();
    append_cookie(&mut response, &cookie);
    response
}

/// The programme's id when the ledger holds exactly one.
async fn only_programme(ctx: &Ctx, auth: Auth) -> Option<String> {
    let gql = ctx
        .graphql_as(
            auth,
            "{ programmes(first: 2) { nodes { id name } } }",
            json!({}),
        )
        .await;
    let list: ProgrammeList = serde_json::from_value(gql.data).ok()?;
    match list.programmes.nodes.as_slice() {
        [only] => Some(only.id.clone()),
        _ => None,
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn sign_out(ctx: Ctx, Form(form): Form<CsrfOnly>) -> Response {
    let Some(session) = &ctx.session else {
        return ctx.redirect("/");
    };
    if !session::same_secret(&session.csrf, &form.csrf) {
        let t = ctx.t();
        return ctx.error_page(StatusCode::FORBIDDEN, t.forbidden, t.csrf_failed.into());
    }
    ctx.pages.sessions.close(&session.id);
    let mut response = ctx.redirect("/aanmelden?melding=afgemeld");
    let mut cookie = Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .build();
    cookie.make_removal();
    append_cookie(&mut response, &cookie);
    response
}
