use serde_json::{json, Value};

/// A GraphQL client over real HTTP, optionally with a bearer token.
#[derive(Debug, Clone)]
pub struct GraphqlClient {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// A GraphQL response: its `data` and its `errors`.
#[derive(Debug, Clone)]
pub struct GraphqlReply {
    pub status: u16,
    pub body: Value,
}

impl GraphqlReply {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The `extensions.code` of each error, in order.
    pub fn error_codes(&self) -> Vec<String> {
        self.errors()
            .iter()
            .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    pub fn errors(&self) -> Vec<Value> {
        self.body["errors"].as_array().cloned().unwrap_or_default()
    }

    /// Panics with the whole reply unless it has no errors.
    pub fn expect_ok(self) -> Value {
        assert!(
            self.errors().is_empty() && self.status == 200,
            "expected success, got {} {}",
            self.status,
            self.body
        );
        self.body["data"].clone()
    }
}

impl GraphqlClient {
    /// A client of the ledger served at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.into(),
            token: None,
        }
    }

    /// The same client, sending `token` as its bearer token.
    pub fn with_token(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Posts a query with variables to `/graphql`.
    pub async fn query(&self, query: &str, variables: Value) -> GraphqlReply {
        let reply = self
            .try_query(query, variables)
            .await
            .expect("the ledger answers over HTTP");
        assert!(
            !reply.body.is_string(),
            "a JSON body (HTTP {}): {}",
            reply.status,
            reply.body
        );
        reply
    }

    /// [`query`](Self::query), giving back a failure to send or to read the answer (refused,
    /// reset, or closed halfway, as when the server dies under the request). A body that is not
    /// JSON is kept as a JSON string.
    pub async fn try_query(
        &self,
        query: &str,
        variables: Value,
    ) -> Result<GraphqlReply, reqwest::Error> {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(GraphqlReply { status, body })
    }

    /// Posts a query with file uploads to `/graphql` as a multipart request (the GraphQL
    /// multipart request specification): each file is `(variable path, file name, bytes)`,
    /// e.g. `("variables.input.file", "cijfers.xlsx", bytes)`, and the variable itself is null
    /// in `variables`.
    pub async fn upload(
        &self,
        query: &str,
        variables: Value,
        files: Vec<(&str, &str, Vec<u8>)>,
    ) -> GraphqlReply {
        self.try_upload(query, variables, files)
            .await
            .expect("the ledger answers over HTTP")
    }

    /// [`upload`](Self::upload), giving back a failure to send: a body over the server's limit
    /// is refused by its `Content-Length` before it is read, and the connection closed, so the
    /// client may find it closed while still sending ([`closed_while_sending`]).
    pub async fn try_upload(
        &self,
        query: &str,
        variables: Value,
        files: Vec<(&str, &str, Vec<u8>)>,
    ) -> Result<GraphqlReply, reqwest::Error> {
        let operations = json!({ "query": query, "variables": variables });
        let map: serde_json::Map<String, Value> = files
            .iter()
            .enumerate()
            .map(|(i, (path, _, _))| (i.to_string(), json!([path])))
            .collect();
        let mut form = reqwest::multipart::Form::new()
            .text("operations", operations.to_string())
            .text("map", Value::Object(map).to_string());
        for (i, (_, name, bytes)) in files.into_iter().enumerate() {
            let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
            form = form.part(i.to_string(), part);
        }
        let mut request = self
            .http
            .post(format!("{}/graphql", self.base))
            .multipart(form);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(GraphqlReply { status, body })
    }

    /// `GET` of a path, e.g. `/healthz`: the status and the body as text.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("the ledger answers over HTTP");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }
}

/// Whether sending a request failed because the server closed the connection under it (a
/// broken pipe or a reset), as it does after refusing a body over its limit unread.
pub fn closed_while_sending(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            );
        }
        source = cause.source();
    }
    false
}
