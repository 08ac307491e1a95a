//! Request bodies: read with a size limit, parsed as a JSON object, and checked field by
//! field into FastAPI-shaped 422 errors so clients of Python FastAuth keep working.

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use http_body_util::BodyExt as _;
use serde_json::{Map, Value, json};

use super::error::ApiError;

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How long a client may take to send a body of at most [`MAX_BODY_BYTES`]; a slower one
/// would hold a connection and a task without limit.
const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Field names whose values never appear in an error body.
const SECRET_FIELDS: [&str; 4] = ["password", "new_password", "current_password", "token"];

/// A request body: `None` when it is empty or JSON `null`, else a JSON object.
#[derive(Debug)]
pub struct JsonBody(pub Option<Map<String, Value>>);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ApiError> {
        let declared = request
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(ApiError::body_too_large());
        }
        let json_type = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .map(|value| value.to_str().is_ok_and(is_json_media_type));
        let bytes = read_limited(request.into_body()).await?;
        match json_type {
            // A form or text body is never read as JSON, as FastAPI does: a cross-site HTML
            // form cannot send `application/json`, so it cannot drive these routes.
            Some(false) if !bytes.is_empty() => Err(not_an_object(Value::String(
                String::from_utf8_lossy(&bytes).chars().take(256).collect(),
            ))),
            // Without a Content-Type header the body is still parsed as JSON.
            _ => {
                let object = parse_object(&bytes)?;
                if let Some(object) = &object {
                    reject_nul_characters(object)?;
                }
                Ok(JsonBody(object))
            }
        }
    }
}

/// Rejects a body with a NUL character in any string: PostgreSQL cannot store one in text,
/// and no auth field has a use for it.
fn reject_nul_characters(object: &Map<String, Value>) -> Result<(), ApiError> {
    fn find(value: &Value, path: &mut Vec<Value>) -> bool {
        match value {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().enumerate().any(|(index, item)| {
                path.push(Value::from(index));
                let found = find(item, path);
                if !found {
                    path.pop();
                }
                found
            }),
            Value::Object(map) => map.iter().any(|(key, item)| {
                path.push(Value::from(key.as_str()));
                let found = key.contains('\0') || find(item, path);
                if !found {
                    path.pop();
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = vec![Value::from("body")];
    for (key, value) in object {
        path.push(Value::from(key.as_str()));
        if key.contains('\0') || find(value, &mut path) {
            return Err(ApiError::validation(vec![json!({
                "type": "string_pattern_mismatch",
                "loc": path,
                "msg": "String should not contain a NUL character",
            })]));
        }
        path.pop();
    }
    Ok(())
}

/// Checks for `application/json` or a `+json` media type, parameters ignored.
fn is_json_media_type(value: &str) -> bool {
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn not_an_object(input: Value) -> ApiError {
    let mut entry = json!({
        "type": "model_attributes_type",
        "loc": ["body"],
        "msg": "Input should be a valid dictionary or object to extract fields from",
    });
    entry["input"] = input;
    ApiError::validation(vec![entry])
}

async fn read_limited(body: Body) -> Result<Vec<u8>, ApiError> {
    let limited = http_body_util::Limited::new(body, MAX_BODY_BYTES);
    let Ok(collected) = tokio::time::timeout(BODY_READ_TIMEOUT, limited.collect()).await else {
        tracing::info!(
            target: "fastauth::http",
            timeout_seconds = BODY_READ_TIMEOUT.as_secs(),
            "request body not received in time"
        );
        return Err(ApiError::new(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            "Request body not received in time",
        ));
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes().to_vec()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            Err(ApiError::body_too_large())
        }
        Err(error) => {
            tracing::debug!(target: "fastauth::http", %error, "reading the request body failed");
            Err(ApiError::validation(vec![json!({
                "type": "json_invalid",
                "loc": ["body"],
                "msg": "JSON decode error",
            })]))
        }
    }
}

fn parse_object(bytes: &[u8]) -> Result<Option<Map<String, Value>>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|error| {
        ApiError::validation(vec![json!({
            "type": "json_invalid",
            "loc": ["body", error.column().saturating_sub(1)],
            "msg": "JSON decode error",
            "ctx": { "error": error.to_string() },
        })])
    })?;
    match value {
        Value::Null => Ok(None),
        Value::Object(object) => Ok(Some(object)),
        other => Err(not_an_object(other)),
    }
}

/// Reads fields out of a body object and gathers every problem into one 422.
#[derive(Debug)]
pub struct Fields<'a> {
    object: &'a Map<String, Value>,
    errors: Vec<Value>,
}

impl<'a> Fields<'a> {
    /// Starts reading `object`.
    pub fn new(object: &'a Map<String, Value>) -> Self {
        Self {
            object,
            errors: Vec::new(),
        }
    }

    /// Requires a body: `None` becomes the 422 for a missing body.
    pub fn require(body: &Option<Map<String, Value>>) -> Result<&Map<String, Value>, ApiError> {
        body.as_ref().ok_or_else(|| {
            ApiError::validation(vec![json!({
                "type": "missing",
                "loc": ["body"],
                "msg": "Field required",
                "input": null,
            })])
        })
    }

    fn error(&mut self, kind: &str, field: &str, msg: &str, input: Option<&Value>) {
        let mut entry = json!({ "type": kind, "loc": ["body", field], "msg": msg });
        if let Some(input) = input.filter(|_| !SECRET_FIELDS.contains(&field)) {
            entry["input"] = input.clone();
        }
        self.errors.push(entry);
    }

    /// Reads a string that must be present and not `null`.
    pub fn required_string(&mut self, field: &str) -> Option<String> {
        match self.object.get(field) {
            None => {
                self.error("missing", field, "Field required", None);
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.error(
                    "string_type",
                    field,
                    "Input should be a valid string",
                    Some(other),
                );
                None
            }
        }
    }

    /// Reads a string that may be absent or `null`, at most `max_chars` characters long.
    pub fn optional_string(&mut self, field: &str, max_chars: usize) -> Option<String> {
        match self.object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.chars().count() > max_chars => {
                let msg = format!("String should have at most {max_chars} characters");
                self.error("string_too_long", field, &msg, None);
                if let Some(last) = self.errors.last_mut() {
                    last["ctx"] = json!({ "max_length": max_chars });
                }
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.error(
                    "string_type",
                    field,
                    "Input should be a valid string",
                    Some(other),
                );
                None
            }
        }
    }

    /// Reads a required e-mail address, validated and normalised as FastAuth does.
    pub fn email(&mut self, field: &str) -> Option<String> {
        let raw = self.required_string(field)?;
        match crate::email::normalize_email(&raw) {
            Ok(email) => Some(email),
            Err(error) => {
                let input = Value::String(raw);
                self.error(
                    "value_error",
                    field,
                    &error.pydantic_message(),
                    Some(&input),
                );
                None
            }
        }
    }

    /// Reads a boolean in the lax forms FastAuth accepts (`0`/`1`, `"yes"`, `"off"`, ...),
    /// or `default` when absent or `null`.
    pub fn lax_bool(&mut self, field: &str, default: bool) -> bool {
        let value = match self.object.get(field) {
            None | Some(Value::Null) => return default,
            Some(value) => value,
        };
        match lax_bool(value) {
            Some(b) => b,
            None => {
                let (kind, msg) = if value.is_string() || value.is_number() {
                    (
                        "bool_parsing",
                        "Input should be a valid boolean, unable to interpret input",
                    )
                } else {
                    ("bool_type", "Input should be a valid boolean")
                };
                self.error(kind, field, msg, Some(value));
                default
            }
        }
    }

    /// A list of strings of at most `max_items` entries. When absent or `null` it is
    /// `Some` empty list if `required` is false, else a `missing` error.
    pub fn string_list(
        &mut self,
        field: &str,
        required: bool,
        max_items: usize,
    ) -> Option<Vec<String>> {
        let items = match self.object.get(field) {
            None | Some(Value::Null) if !required => return Some(Vec::new()),
            None => {
                self.error("missing", field, "Field required", None);
                return None;
            }
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.error(
                    "list_type",
                    field,
                    "Input should be a valid list",
                    Some(other),
                );
                return None;
            }
        };
        if items.len() > max_items {
            let msg = format!("List should have at most {max_items} items after validation");
            self.error("too_long", field, &msg, None);
            if let Some(last) = self.errors.last_mut() {
                last["ctx"] = json!({ "max_length": max_items, "actual_length": items.len() });
            }
            return None;
        }
        let mut strings = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => strings.push(s.clone()),
                other => self.errors.push(json!({
                    "type": "string_type",
                    "loc": ["body", field, index],
                    "msg": "Input should be a valid string",
                    "input": other,
                })),
            }
        }
        (strings.len() == items.len()).then_some(strings)
    }

    /// Records an error found outside these helpers (for example in the struct's own
    /// register fields).
    pub fn push(&mut self, entry: Value) {
        self.errors.push(entry);
    }

    /// Ends reading: a 422 with every problem found, if any.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.errors))
        }
    }
}

/// Pydantic's lax boolean forms.
fn lax_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_f64() {
            Some(0.0) => Some(false),
            Some(1.0) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "1" | "true" | "t" | "yes" | "y" | "on" => Some(true),
            "0" | "false" | "f" | "no" | "n" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(object) => object,
            other => panic!("expected a JSON object, got {other}"),
        }
    }

    #[test]
    fn empty_and_null_bodies_are_absent() {
        assert!(parse_object(b"").unwrap().is_none());
        assert!(parse_object(b"  \n").unwrap().is_none());
        assert!(parse_object(b"null").unwrap().is_none());
    }

    #[test]
    fn malformed_json_is_json_invalid() {
        for body in [&b"{"[..], b"{\"a\":}", b"\xff\xfe", b"{'a': 1}"] {
            let error = parse_object(body).unwrap_err();
            assert_eq!(error.status().as_u16(), 422);
            assert_eq!(error.body()["detail"][0]["type"], "json_invalid");
            assert_eq!(error.body()["detail"][0]["loc"][0], "body");
        }
    }

    #[test]
    fn non_object_is_rejected() {
        let error = parse_object(b"[1, 2]").unwrap_err();
        assert_eq!(error.body()["detail"][0]["type"], "model_attributes_type");
    }

    #[test]
    fn fields_gather_every_error() {
        let body = object(json!({"email": 5, "remember": "maybe"}));
        let mut fields = Fields::new(&body);
        assert_eq!(fields.email("email"), None);
        assert_eq!(fields.required_string("password"), None);
        assert!(!fields.lax_bool("remember", false));
        let error = fields.finish().unwrap_err();
        let detail = error.body()["detail"].as_array().unwrap().clone();
        assert_eq!(detail.len(), 3);
        assert_eq!(detail[0]["type"], "string_type");
        assert_eq!(detail[0]["loc"], json!(["body", "email"]));
        assert_eq!(detail[1]["type"], "missing");
        assert_eq!(detail[1]["loc"], json!(["body", "password"]));
        assert_eq!(detail[2]["type"], "bool_parsing");
    }

    #[test]
    fn secret_fields_are_not_echoed() {
        let body = object(json!({"password": 12345}));
        let mut fields = Fields::new(&body);
        fields.required_string("password");
        let error = fields.finish().unwrap_err();
        assert!(error.body()["detail"][0].get("input").is_none());
    }

    #[test]
    fn nul_characters_are_rejected() {
        let body = object(json!({"a": "fine", "b": {"c": ["x", "y\u{0}"]}}));
        let error = reject_nul_characters(&body).unwrap_err();
        assert_eq!(
            error.body()["detail"][0]["loc"],
            json!(["body", "b", "c", 1])
        );
        assert!(reject_nul_characters(&object(json!({"a": "fine"}))).is_ok());
    }

    #[test]
    fn json_media_types() {
        assert!(is_json_media_type("application/json"));
        assert!(is_json_media_type("Application/JSON; charset=utf-8"));
        assert!(is_json_media_type("application/vnd.api+json"));
        assert!(!is_json_media_type("text/plain"));
        assert!(!is_json_media_type("application/x-www-form-urlencoded"));
        assert!(!is_json_media_type("multipart/form-data; boundary=x"));
    }

    #[test]
    fn lax_bools() {
        for (input, expected) in [
            (json!(true), Some(true)),
            (json!(0), Some(false)),
            (json!(1), Some(true)),
            (json!("YES"), Some(true)),
            (json!("off"), Some(false)),
            (json!("1"), Some(true)),
            (json!(2), None),
            (json!("maybe"), None),
            (json!([]), None),
        ] {
            assert_eq!(lax_bool(&input), expected, "{input}");
        }
    }

    #[test]
    fn long_optional_string_is_rejected() {
        let body = object(json!({"name": "x".repeat(257)}));
        let mut fields = Fields::new(&body);
        assert_eq!(fields.optional_string("name", 256), None);
        let error = fields.finish().unwrap_err();
        assert_eq!(error.body()["detail"][0]["type"], "string_too_long");
    }
}
