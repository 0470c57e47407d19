//! The floor every `bench/run` case is measured against: a bare hyper server, built from this
//! workspace with the same hyper, hyper-util (auto HTTP/1 + HTTP/2 builder) and tokio
//! multi-thread runtime as `wrk`, doing no work beyond answering.
//!
//! - `GET /hello` answers `hello`;
//! - `GET /bytes/{n}` answers `n` bytes of JSON-typed filler, so a case's floor sends the same
//!   number of bytes as the case (at most 16 MiB).
//!
//! Usage: `wrk-floor [ADDR]` (default `127.0.0.1:0`); prints the bound address on stdout.

use std::convert::Infallible;
use std::io::Write;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

const MAX_BODY: usize = 16 << 20;

fn answer(req: &Request<Incoming>, filler: &Bytes) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    let body = if path == "/hello" {
        Some(Bytes::from_static(b"hello"))
    } else {
        path.strip_prefix("/bytes/")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= MAX_BODY)
            .map(|n| filler.slice(..n))
    };
    match body {
        Some(body) => {
            let mut res = Response::new(Full::new(body));
            res.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            res
        }
        None => {
            let mut res = Response::new(Full::new(Bytes::from_static(b"not found")));
            *res.status_mut() = StatusCode::NOT_FOUND;
            res
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", listener.local_addr()?)?;
        out.flush()?;
    }
    let filler = Bytes::from(vec![b'x'; MAX_BODY]);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let filler = filler.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let res = answer(&req, &filler);
                async move { Ok::<_, Infallible>(res) }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
