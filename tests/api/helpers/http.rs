//! The HTTP client tests speak to Cordée with, and the assertions on its problem+json answers.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// An HTTP client bound to one server: what every test speaks to Cordée with (in process or as a child
/// process).
pub struct Http {
    pub client: reqwest::Client,
    /// `http://host:port`.
    pub base: String,
}

impl Http {
    /// A request to `path` (relative to the server), with a bearer token when given.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let builder = self
            .client
            .request(method, format!("{}{}", self.base, path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// Sends JSON and returns the status and the JSON answer (Null when there is no body).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.request(method, path, token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.send(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, token, Some(body)).await
    }

    /// Logs in; returns the session token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }
}

impl Http {
    /// A list (`{items, next_cursor}`) read from the start `limit` items at a time, following `next_cursor`:
    /// its pages, each checked to be full but the last.
    pub async fn pages(&self, path: &str, token: Option<&str>, limit: usize) -> Vec<Vec<Value>> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut pages: Vec<Vec<Value>> = Vec::new();
        let mut page_path = format!("{path}{separator}limit={limit}");
        loop {
            let (status, page) = self.get(&page_path, token).await;
            assert_eq!(status, StatusCode::OK, "{page_path}: {page}");
            let items = page["items"]
                .as_array()
                .unwrap_or_else(|| panic!("{page_path}: a page of items: {page}"))
                .clone();
            assert!(items.len() <= limit, "{page_path}: {page}");
            let next = page["next_cursor"].as_str().map(str::to_owned);
            if next.is_some() {
                assert_eq!(
                    items.len(),
                    limit,
                    "a page is full while more follow: {page}"
                );
            }
            pages.push(items);
            match next {
                Some(cursor) => {
                    page_path = format!("{path}{separator}limit={limit}&cursor={cursor}")
                }
                None => return pages,
            }
            assert!(pages.len() <= 100, "{path}: the cursor moves on");
        }
    }

    /// Asserts that the list at `path` answers a bad `limit` (0, 201, not a number) with a 422 naming
    /// `limit`, and a cursor it did not give with a 422 naming `cursor`.
    pub async fn assert_rejects_bad_pages(&self, path: &str, token: Option<&str>) {
        let separator = if path.contains('?') { '&' } else { '?' };
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=201", "limit"),
            ("limit=ten", "limit"),
            ("cursor=not%20a%20cursor", "cursor"),
            ("cursor=%C3%A9t%C3%A9", "cursor"),
        ] {
            let (status, body) = self.get(&format!("{path}{separator}{query}"), token).await;
            assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(failing_fields(&body), [field], "{path}?{query}: {body}");
        }
    }
}

/// The `id` (or another key) of each item of the pages, in order.
pub fn keys_of(pages: &[Vec<Value>], key: &str) -> Vec<String> {
    pages
        .iter()
        .flatten()
        .map(|item| {
            item[key]
                .as_str()
                .unwrap_or_else(|| panic!("{key} in {item}"))
                .to_owned()
        })
        .collect()
}

/// The fields named in a 422 answer, sorted.
pub fn failing_fields(body: &Value) -> Vec<String> {
    let mut fields: Vec<String> = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("a 422 lists its errors: {body}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    fields.sort();
    fields
}

/// Asserts that `body` is a problem+json document with `status`.
pub fn assert_problem(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["status"], expected.as_u16(), "{body}");
    assert!(
        body["type"].is_string() && body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
}
