//! Requests to an application in-process through `tower::ServiceExt::oneshot`, and the
//! replies read back as status, headers and JSON.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// An application under test.
#[derive(Debug, Clone)]
pub struct TestApp {
    router: Router,
}

/// A response, read completely.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body parsed as JSON, or `Value::Null` when it is empty or not JSON.
    pub json: Value,
    /// The body as text, for failure messages.
    pub text: String,
}

impl Reply {
    /// Returns the `detail` text of an error body, and panics with the whole body when there
    /// is none.
    pub fn detail(&self) -> &str {
        self.json["detail"]
            .as_str()
            .unwrap_or_else(|| panic!("no string `detail` in {} {}", self.status, self.text))
    }

    /// Returns the value of header `name`, if present and ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and the `detail` text of an error.
    #[track_caller]
    pub fn assert_error(&self, status: u16, detail: &str) {
        assert_eq!(self.status.as_u16(), status, "status of {}", self.text);
        assert_eq!(self.detail(), detail, "detail of {}", self.text);
    }

    /// Asserts a `401 Not authenticated` with its `WWW-Authenticate: Bearer` challenge.
    #[track_caller]
    pub fn assert_not_authenticated(&self) {
        self.assert_error(401, "Not authenticated");
        assert_eq!(self.header("www-authenticate"), Some("Bearer"));
    }

    /// Asserts a 422 whose single entry has `type` and `loc`, and returns that entry.
    #[track_caller]
    pub fn assert_validation(&self, kind: &str, loc: &Value) -> &Value {
        assert_eq!(self.status.as_u16(), 422, "status of {}", self.text);
        let entries = self.json["detail"]
            .as_array()
            .unwrap_or_else(|| panic!("422 without a list: {}", self.text));
        assert_eq!(entries.len(), 1, "entries of {}", self.text);
        assert_eq!(entries[0]["type"], kind, "type of {}", self.text);
        assert_eq!(&entries[0]["loc"], loc, "loc of {}", self.text);
        &entries[0]
    }
}

/// The tokens of a `TokenPair` response.
#[derive(Debug, Clone)]
pub struct TokenPair {
    /// The access JWT.
    pub access: String,
    /// The refresh JWT.
    pub refresh: String,
}

impl TokenPair {
    /// Checks the `TokenPair` shape of a sign-in response and takes its tokens.
    #[track_caller]
    pub fn from_reply(reply: &Reply) -> Self {
        let body = reply
            .json
            .as_object()
            .unwrap_or_else(|| panic!("a TokenPair is an object: {}", reply.text));
        let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["access_token", "expires_in", "refresh_token", "token_type"]
        );
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["expires_in"], 900);
        let token = |key: &str| {
            let value = body[key].as_str().expect("tokens are strings");
            assert_eq!(value.split('.').count(), 3, "{key} is a compact JWS");
            value.to_owned()
        };
        Self {
            access: token("access_token"),
            refresh: token("refresh_token"),
        }
    }
}

impl TestApp {
    /// Wraps an assembled router.
    pub fn new(router: Router) -> Self {
        Self { router }
    }

    /// Sends a request and reads the whole response.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router's error type is Infallible");
        let (parts, body) = response.into_parts();
        let bytes = body
            .collect()
            .await
            .expect("reading the response body failed")
            .to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// Sends `bytes` as the body of a POST, with `content_type` if given.
    pub async fn post_bytes(&self, uri: &str, content_type: Option<&str>, bytes: Vec<u8>) -> Reply {
        let mut request = Request::post(uri);
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        self.send(request.body(Body::from(bytes)).expect("valid request"))
            .await
    }

    /// Sends a JSON POST.
    pub async fn post(&self, uri: &str, body: &Value) -> Reply {
        let bytes = body.to_string().into_bytes();
        self.post_bytes(uri, Some("application/json"), bytes).await
    }

    /// Sends a JSON POST as if from the TCP peer `peer`, with extra headers.
    pub async fn post_from(
        &self,
        peer: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> Reply {
        let peer: std::net::SocketAddr = peer.parse().expect("peer is ip:port");
        let mut request = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request
            .body(Body::from(body.to_string()))
            .expect("valid request");
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        self.send(request).await
    }

    /// Sends a JSON POST with a bearer token.
    pub async fn post_authorized(&self, uri: &str, token: &str, body: &Value) -> Reply {
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(body.to_string()))
            .expect("valid request");
        self.send(request).await
    }

    /// Sends a GET with the given headers.
    pub async fn get_with(&self, uri: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = Request::get(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request.body(Body::empty()).expect("valid request"))
            .await
    }

    /// Sends a GET with a bearer token.
    pub async fn get(&self, uri: &str, token: &str) -> Reply {
        let authorization = format!("Bearer {token}");
        self.get_with(uri, &[("authorization", &authorization)])
            .await
    }

    /// Sends a request with `method`, an optional bearer token and an optional JSON body.
    pub async fn request_json(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).expect("valid request")).await
    }

    /// Calls `GET /auth/me` with a bearer token.
    pub async fn me(&self, access: &str) -> Reply {
        self.get("/auth/me", access).await
    }

    /// Calls `POST /auth/register` with an address and a password.
    pub async fn register_with(&self, email: &str, password: &str) -> Reply {
        let body = json!({ "email": email, "password": password });
        self.post("/auth/register", &body).await
    }

    /// Registers an account with [`crate::PASSWORD`] and returns its tokens.
    pub async fn register(&self, email: &str) -> TokenPair {
        let reply = self.register_with(email, crate::PASSWORD).await;
        assert_eq!(reply.status.as_u16(), 201, "register: {}", reply.text);
        TokenPair::from_reply(&reply)
    }

    /// Calls `POST /auth/login` with an address and a password.
    pub async fn login_with(&self, email: &str, password: &str) -> Reply {
        let body = json!({ "email": email, "password": password });
        self.post("/auth/login", &body).await
    }

    /// Signs in with [`crate::PASSWORD`] and returns the tokens of the new session.
    pub async fn login(&self, email: &str) -> TokenPair {
        let reply = self.login_with(email, crate::PASSWORD).await;
        assert_eq!(reply.status.as_u16(), 200, "login: {}", reply.text);
        TokenPair::from_reply(&reply)
    }

    /// Calls `POST /auth/refresh` with a refresh token in the body.
    pub async fn refresh(&self, refresh: &str) -> Reply {
        let body = json!({ "refresh_token": refresh });
        self.post("/auth/refresh", &body).await
    }

    /// Calls `POST /auth/logout` with a bearer token and no body.
    pub async fn logout(&self, access: &str) -> Reply {
        let request = Request::post("/auth/logout")
            .header(header::AUTHORIZATION, format!("Bearer {access}"))
            .body(Body::empty())
            .expect("valid request");
        self.send(request).await
    }
}

/// One `Set-Cookie` header, parsed.
#[derive(Debug, Clone)]
pub struct SetCookie {
    /// The cookie name.
    pub name: String,
    /// The value, empty when the header deletes the cookie.
    pub value: String,
    /// The attributes by lower-case name; flags like `HttpOnly` map to an empty string.
    pub attributes: std::collections::HashMap<String, String>,
}

impl SetCookie {
    /// Returns attribute `name` (any case), if present.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Checks whether flag or attribute `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.attribute(name).is_some()
    }
}

impl Reply {
    /// Parses every `Set-Cookie` header of the response.
    pub fn set_cookies(&self) -> Vec<SetCookie> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|value| parse_set_cookie(value.to_str().expect("Set-Cookie is ASCII")))
            .collect()
    }

    /// Returns the `Set-Cookie` of cookie `name`, and panics when there is none.
    #[track_caller]
    pub fn set_cookie(&self, name: &str) -> SetCookie {
        self.set_cookies()
            .into_iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no Set-Cookie for {name} in {:?}", self.headers))
    }
}

fn parse_set_cookie(text: &str) -> SetCookie {
    let mut parts = text.split(';').map(str::trim);
    let (name, value) = parts
        .next()
        .and_then(|pair| pair.split_once('='))
        .expect("Set-Cookie starts with name=value");
    let attributes = parts
        .map(|attribute| match attribute.split_once('=') {
            Some((key, value)) => (key.to_ascii_lowercase(), value.to_owned()),
            None => (attribute.to_ascii_lowercase(), String::new()),
        })
        .collect();
    SetCookie {
        name: name.to_owned(),
        value: value.to_owned(),
        attributes,
    }
}

impl TestApp {
    /// Sends a request with `method`, the given headers and an optional JSON body.
    pub async fn request(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).expect("valid request")).await
    }
}
