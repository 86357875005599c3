//! `AWS_LAMBDA_RUNTIME_API` in both forms: `host:port` (Lambda) and `http://host:port/prefix`
//! (`cargo lambda watch` sets `http://127.0.0.1:9000/.rt/<function>`). The client must send
//! every Runtime API request under the prefix, to the right host.

use jwt_authorizer::function::runtime::{Client, Invocation, Outcome};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

/// Answers `answers.len()` requests, in order, on as many connections as the client opens;
/// returns each request line and Host header.
fn serve(answers: Vec<&'static str>) -> (u16, thread::JoinHandle<Vec<(String, String)>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let mut seen = Vec::new();
        let mut answers = answers.into_iter().peekable();
        while answers.peek().is_some() {
            let (stream, _) = listener.accept().unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer: TcpStream = stream;
            // Requests on this connection until the client closes it.
            while answers.peek().is_some() {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let (mut host, mut len) = (String::new(), 0usize);
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    let h = h.trim_end();
                    if h.is_empty() {
                        break;
                    }
                    let (name, value) = h.split_once(':').unwrap();
                    match name.to_ascii_lowercase().as_str() {
                        "host" => host = value.trim().to_owned(),
                        "content-length" => len = value.trim().parse().unwrap(),
                        _ => {}
                    }
                }
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                seen.push((line.trim_end().to_owned(), host));
                writer.write_all(answers.next().unwrap().as_bytes()).unwrap();
            }
        }
        seen
    });
    (port, handle)
}

const EVENT: &str = "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: req-1\r\nContent-Length: 2\r\n\r\n{}";
const ACK: &str = "HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}";

#[test]
fn an_emulator_url_prefixes_every_path() {
    let (port, server) = serve(vec![EVENT, ACK, ACK]);
    let mut client = Client::new(&format!("http://127.0.0.1:{port}/.rt/jwt-authorizer"));
    let mut inv = Invocation::default();
    client.next(&mut inv).unwrap();
    assert_eq!(inv.request_id, "req-1");
    assert_eq!(client.post_outcome(&inv, &Outcome::Response(b"{\"isAuthorized\":false}".to_vec())).unwrap(), 202);
    assert_eq!(client.init_error("Runtime.ConfigError", "invalid configuration: X").unwrap(), 202);
    let seen = server.join().unwrap();
    let lines: Vec<&str> = seen.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        lines,
        [
            "GET /.rt/jwt-authorizer/2018-06-01/runtime/invocation/next HTTP/1.1",
            "POST /.rt/jwt-authorizer/2018-06-01/runtime/invocation/req-1/response HTTP/1.1",
            "POST /.rt/jwt-authorizer/2018-06-01/runtime/init/error HTTP/1.1",
        ]
    );
    assert!(seen.iter().all(|(_, host)| *host == format!("127.0.0.1:{port}")), "{seen:?}");
}

#[test]
fn lambdas_host_port_form_has_no_prefix() {
    for api in ["127.0.0.1:{port}", "http://127.0.0.1:{port}", "http://127.0.0.1:{port}/"] {
        let (port, server) = serve(vec![ACK]);
        let mut client = Client::new(&api.replace("{port}", &port.to_string()));
        assert_eq!(client.init_error("Runtime.ConfigError", "x").unwrap(), 202, "{api}");
        let seen = server.join().unwrap();
        assert_eq!(seen[0].0, "POST /2018-06-01/runtime/init/error HTTP/1.1", "{api}");
    }
}
