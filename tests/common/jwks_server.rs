//! A JWKS server for the tests, on 127.0.0.1: plain HTTP, or HTTPS with a certificate from a
//! test CA made at test time (rcgen), trusted by the function through `SSL_CERT_FILE`.
//! Each connection serves one request (the client sends `Connection: close`); every request
//! is counted before it is answered, and the answer is whatever the test's closure says for
//! that request's number. Every wait is bounded.
#![allow(dead_code)]

use jwt_authorizer::jwt::header::Alg;
use jwt_authorizer::jwt::keys::Key;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a silent or trickling answer keeps its connection.
pub const HOLD: Duration = Duration::from_secs(20);

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Answer {
    /// 200 with this body (Content-Length framed, `Content-Type: application/json`).
    Json(String),
    /// These exact bytes, then close.
    Raw(Vec<u8>),
    /// Read the request, answer nothing, hold the connection for [`HOLD`].
    Silent,
    /// These bytes one at a time, one every 100 ms (for at most [`HOLD`]).
    Trickle(Vec<u8>),
    /// Wait this long, then answer 200 with this body.
    Slow(Duration, String),
}

/// A test CA and a server certificate it signed (for `names`), and the CA as a PEM file.
pub struct Pki {
    pub ca_file: PathBuf,
    pub cert: CertificateDer<'static>,
    pub key: PrivatePkcs8KeyDer<'static>,
}

static FILES: AtomicUsize = AtomicUsize::new(0);

/// A fresh CA and a certificate for `names` (DNS names or IP addresses).
pub fn pki(names: &[&str]) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let n = FILES.fetch_add(1, Ordering::Relaxed);
    let ca_file = std::env::temp_dir().join(format!("jwt-authorizer-test-ca-{}-{n}.pem", std::process::id()));
    std::fs::write(&ca_file, ca_cert.pem()).unwrap();
    Pki { ca_file, cert: leaf.der().clone(), key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()) }
}

type Respond = dyn Fn(usize, &str) -> Answer + Send + Sync;

/// A running server; it serves until the test process ends.
pub struct JwksServer {
    pub port: u16,
    tls: bool,
    hits: Arc<AtomicUsize>,
    respond: Arc<Mutex<Arc<Respond>>>,
}

impl JwksServer {
    /// Plain HTTP on 127.0.0.1.
    pub fn http(respond: impl Fn(usize) -> Answer + Send + Sync + 'static) -> JwksServer {
        JwksServer::start(None, move |n, _| respond(n))
    }

    /// Plain HTTP on 127.0.0.1, answering by the request's path (and number).
    pub fn http_paths(respond: impl Fn(usize, &str) -> Answer + Send + Sync + 'static) -> JwksServer {
        JwksServer::start(None, respond)
    }

    /// HTTPS on 127.0.0.1 with `pki`'s certificate.
    pub fn https(pki: &Pki, respond: impl Fn(usize) -> Answer + Send + Sync + 'static) -> JwksServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![pki.cert.clone()], PrivateKeyDer::Pkcs8(pki.key.clone_key()))
            .unwrap();
        JwksServer::start(Some(Arc::new(config)), move |n, _| respond(n))
    }

    fn start(
        tls: Option<Arc<rustls::ServerConfig>>,
        respond: impl Fn(usize, &str) -> Answer + Send + Sync + 'static,
    ) -> JwksServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let respond: Arc<Mutex<Arc<Respond>>> = Arc::new(Mutex::new(Arc::new(respond)));
        let server = JwksServer { port, tls: tls.is_some(), hits: hits.clone(), respond: respond.clone() };
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (tls, hits, respond) = (tls.clone(), hits.clone(), respond.clone());
                std::thread::spawn(move || {
                    let _ = conn.set_read_timeout(Some(HOLD));
                    let _ = conn.set_write_timeout(Some(HOLD));
                    match tls {
                        None => serve(conn, &hits, &respond),
                        Some(config) => {
                            let Ok(session) = rustls::ServerConnection::new(config) else { return };
                            serve(rustls::StreamOwned::new(session, conn), &hits, &respond)
                        }
                    }
                });
            }
        });
        server
    }

    /// The URL of the JWKS on this server.
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}/jwks", if self.tls { "https" } else { "http" }, self.port)
    }

    /// Requests read so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Answers later requests with `respond` instead.
    pub fn set(&self, respond: impl Fn(usize) -> Answer + Send + Sync + 'static) {
        *self.respond.lock().unwrap() = Arc::new(move |n, _| respond(n));
    }

    /// `http://127.0.0.1:PORT` (an issuer served by this server).
    pub fn origin(&self) -> String {
        format!("{}://127.0.0.1:{}", if self.tls { "https" } else { "http" }, self.port)
    }
}

fn serve(mut stream: impl Read + Write, hits: &AtomicUsize, respond: &Mutex<Arc<Respond>>) {
    // The request head, to its blank line (bounded).
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) if head.len() < 16 * 1024 => head.push(byte[0]),
            _ => return,
        }
    }
    let n = hits.fetch_add(1, Ordering::SeqCst);
    let line = String::from_utf8_lossy(&head).lines().next().unwrap_or("").to_owned();
    let path = line.split(' ').nth(1).unwrap_or("");
    let answer = (respond.lock().unwrap().clone())(n, path);
    match answer {
        Answer::Json(body) => {
            let _ = stream.write_all(&ok(&body));
        }
        Answer::Slow(wait, body) => {
            std::thread::sleep(wait);
            let _ = stream.write_all(&ok(&body));
        }
        Answer::Raw(bytes) => {
            let _ = stream.write_all(&bytes);
        }
        Answer::Silent => {
            let _ = stream.flush();
            std::thread::sleep(HOLD);
        }
        Answer::Trickle(bytes) => {
            let end = Instant::now() + HOLD;
            for b in bytes {
                if Instant::now() > end || stream.write_all(&[b]).and_then(|()| stream.flush()).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    let _ = stream.flush();
}

/// A 200 response with `body`.
pub fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A JWKS document of the fixture keys `names` (e.g. "rsa2048-a"), each with its `kid`.
pub fn jwks(keys: &[(&str, &str)]) -> String {
    let keys: Vec<serde_json::Value> = keys
        .iter()
        .map(|(name, kid)| {
            let (n, e) = super::signer(name).public_components();
            Key::from_modulus_exponent(&n, &e).unwrap().to_jwk(kid, Alg::RS256)
        })
        .collect();
    serde_json::json!({ "keys": keys }).to_string()
}
