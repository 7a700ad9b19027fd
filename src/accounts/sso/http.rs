//! The HTTP client `openidconnect` speaks through: our own reqwest (rustls
//! on ring), so the crate brings no client of its own. It follows no
//! redirects (a provider's answer cannot send Sello elsewhere), times out,
//! and reads at most [`ANSWER_MAX`] of an answer.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// The largest answer read from the provider: a discovery document, a key
/// set or a token response is a few kilobytes.
pub const ANSWER_MAX: usize = 512 * 1024;

/// Why a request to the provider got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum ProviderHttpError {
    #[error("sin respuesta del proveedor: {0}")]
    Unreachable(String),
    #[error("la respuesta del proveedor pasa de {ANSWER_MAX} bytes")]
    TooLarge,
    #[error("respuesta ilegible del proveedor: {0}")]
    Malformed(String),
}

/// A reqwest client as `openidconnect`'s asynchronous HTTP client.
#[derive(Debug, Clone)]
pub struct ProviderHttp {
    client: reqwest::Client,
}

impl ProviderHttp {
    pub fn new(timeout: Duration) -> Result<Self, ProviderHttpError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("Sello/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderHttpError::Unreachable(e.to_string()))?;
        Ok(Self { client })
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, ProviderHttpError> {
        let (parts, body) = request.into_parts();
        let url = reqwest::Url::parse(&parts.uri.to_string())
            .map_err(|e| ProviderHttpError::Malformed(e.to_string()))?;
        let mut response = self
            .client
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(|e| ProviderHttpError::Unreachable(describe(&e)))?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| ProviderHttpError::Unreachable(describe(&e)))?
        {
            if body.len() + chunk.len() > ANSWER_MAX {
                return Err(ProviderHttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let mut answer = openidconnect::http::Response::new(body);
        *answer.status_mut() = status;
        *answer.headers_mut() = headers;
        Ok(answer)
    }
}

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = ProviderHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// reqwest's error with its causes, which name what failed (DNS, TLS, refused).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
