//! `AWS_LAMBDA_RUNTIME_API` in both forms: `host:port` (Lambda) and `http://host:port/prefix`
//! (`cargo lambda watch` sets `http://127.0.0.1:9000/.rt/<function>`). The client must send
//! every Runtime API request under the prefix, to the right host.

mod common;

use common::runtime_api::RuntimeApi;
use jwt_authorizer::function::runtime::{Client, Invocation, Outcome};

/// The shared test Runtime API answering `answers.len()` requests, in order, on as many
/// connections as the client opens; its port, and the server (it records each request line
/// and Host header).
fn serve(answers: Vec<&'static str>) -> (u16, RuntimeApi) {
    let api = RuntimeApi::scripted(answers.into_iter().map(|a| Some(a.as_bytes().to_vec())).collect());
    (api.addr.port(), api)
}

/// Each request line and Host header the server has read so far.
fn seen(api: &RuntimeApi) -> Vec<(String, String)> {
    api.drain().into_iter().map(|r| (r.line.clone(), r.header("host").unwrap_or_default().to_owned())).collect()
}

const EVENT: &str = "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: req-1\r\nContent-Length: 2\r\n\r\n{}";
const ACK: &str = "HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}";

#[test]
fn an_emulator_url_prefixes_every_path() {
    let (port, server) = serve(vec![EVENT, ACK, ACK]);
    let mut client = Client::new(&format!("http://127.0.0.1:{port}/.rt/jwt-authorizer")).unwrap();
    let mut inv = Invocation::default();
    client.next(&mut inv).unwrap();
    assert_eq!(inv.request_id, "req-1");
    assert_eq!(client.post_outcome(&inv, &Outcome::Response(b"{\"isAuthorized\":false}".to_vec())).unwrap(), 202);
    assert_eq!(client.init_error("Runtime.ConfigError", "invalid configuration: X").unwrap(), 202);
    let seen = seen(&server);
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
        let mut client = Client::new(&api.replace("{port}", &port.to_string())).unwrap();
        assert_eq!(client.init_error("Runtime.ConfigError", "x").unwrap(), 202, "{api}");
        let seen = seen(&server);
        assert_eq!(seen[0].0, "POST /2018-06-01/runtime/init/error HTTP/1.1", "{api}");
    }
}
