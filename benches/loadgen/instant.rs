//! `--instant-function`: a function that answers every invocation at once with a constant,
//! one thread and one kept-alive connection per `AWS_LAMBDA_MAX_CONCURRENCY` slot, talking
//! to the Runtime API as the function does (the answer and the next `GET /next` in one
//! write, pipelined). Run against the same load, it measures the generator's own capacity,
//! and its CPU per invocation is the floor of any function on this harness.

use crate::http::Conn;
use std::io;
use std::net::TcpStream;

const ANSWER: &[u8] = b"{\"isAuthorized\":true}";

fn worker(api: &str) -> io::Result<()> {
    let mut conn = Conn::new(TcpStream::connect(api)?)?;
    let next = format!("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {api}\r\n\r\n");
    let mut body = Vec::with_capacity(8192);
    let mut out = Vec::with_capacity(512);
    conn.write_all(next.as_bytes())?;
    loop {
        let head = conn.read_response()?;
        conn.read_body(&head, &mut body)?;
        if head.status != 200 || head.request_id.is_empty() {
            return Err(io::Error::other(format!("GET /next answered {}", head.status)));
        }
        out.clear();
        out.extend_from_slice(
            format!(
                "POST /2018-06-01/runtime/invocation/{}/response HTTP/1.1\r\nHost: {api}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                head.request_id,
                ANSWER.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(ANSWER);
        out.extend_from_slice(next.as_bytes());
        conn.write_all(&out)?;
        let ack = conn.read_response()?;
        conn.read_body(&ack, &mut body)?;
    }
}

pub fn main() -> ! {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        eprintln!("--instant-function: AWS_LAMBDA_RUNTIME_API is not set");
        std::process::exit(2);
    };
    let workers = std::env::var("AWS_LAMBDA_MAX_CONCURRENCY").ok().and_then(|v| v.parse().ok()).unwrap_or(1usize);
    let handles: Vec<_> = (0..workers.max(1))
        .map(|_| {
            let api = api.clone();
            std::thread::spawn(move || worker(&api))
        })
        .collect();
    for h in handles {
        if let Ok(Err(e)) = h.join() {
            eprintln!("--instant-function: {e}");
        }
    }
    std::process::exit(1)
}
