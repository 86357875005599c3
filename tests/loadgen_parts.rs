//! The load generator's own pieces (benches/loadgen, a `harness = false` bench, so tested
//! here): its HTTP framing and bounds, its answer check, and the mixed load's labels — every
//! event's expected answer is what the real authorizer decides for it.

#[allow(dead_code)]
#[path = "../benches/loadgen/events.rs"]
mod events;
#[allow(dead_code)]
#[path = "../benches/loadgen/http.rs"]
mod http;

use events::{Expect, Mix};
use http::Conn;
use jwt_authorizer::{Scratch, config};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::{SystemTime, UNIX_EPOCH};

/// A connection whose peer writes `bytes` (from a thread: they may exceed the socket
/// buffers) and then closes its side.
fn conn_with(bytes: &[u8]) -> Conn {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    let bytes = bytes.to_vec();
    std::thread::spawn(move || {
        let _ = client.write_all(&bytes);
    });
    Conn::new(server).unwrap()
}

fn too_long(e: std::io::Error) -> bool {
    e.to_string().contains("too long")
}

#[test]
fn requests_on_one_connection_are_framed_by_length_and_by_chunks() {
    let mut c = conn_with(
        b"POST /2018-06-01/runtime/invocation/a/response HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello\
          POST /2018-06-01/runtime/invocation/b/error HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\
          Lambda-Runtime-Function-Error-Type: Unauthorized\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n\
          GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let mut body = Vec::new();
    let h = c.read_request().unwrap().unwrap();
    c.read_body(&h, &mut body).unwrap();
    assert_eq!(
        (h.method.as_str(), h.path.as_str(), &body[..]),
        ("POST", "/2018-06-01/runtime/invocation/a/response", &b"hello"[..])
    );
    let h = c.read_request().unwrap().unwrap();
    c.read_body(&h, &mut body).unwrap();
    assert_eq!((h.error_type.as_str(), &body[..]), ("Unauthorized", &b"abcde"[..]));
    let h = c.read_request().unwrap().unwrap();
    c.read_body(&h, &mut body).unwrap();
    assert_eq!((h.method.as_str(), body.len()), ("GET", 0));
    assert!(c.read_request().unwrap().is_none(), "a clean EOF between requests");
}

#[test]
fn a_response_head_gives_status_and_request_id() {
    let mut c = conn_with(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: id-1\r\nContent-Length: 2\r\n\r\n{}");
    let h = c.read_response().unwrap();
    let mut body = Vec::new();
    c.read_body(&h, &mut body).unwrap();
    assert_eq!((h.status, h.request_id.as_str(), &body[..]), (200, "id-1", &b"{}"[..]));
}

#[test]
fn every_size_and_framing_error_is_refused() {
    let long_head = [b"GET / HTTP/1.1\r\nX: ".as_slice(), &vec![b'a'; http::MAX_HEAD], b"\r\n\r\n"].concat();
    assert!(conn_with(&long_head).read_request().is_err_and(too_long), "head over MAX_HEAD");
    // Bodies one byte over the bound, sent whole: refused for their size, not for a short read.
    let over = vec![b'a'; http::MAX_BODY + 1];
    let by_length = [format!("POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n", over.len()).as_bytes(), &over].concat();
    let mut chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for part in over.chunks(http::MAX_BODY / 2) {
        chunked.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        chunked.extend_from_slice(part);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    for bytes in [by_length, chunked] {
        let mut c = conn_with(&bytes);
        let h = c.read_request().unwrap().unwrap();
        assert!(c.read_body(&h, &mut Vec::new()).is_err_and(too_long), "a body over MAX_BODY");
    }
    for head in [
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_owned(),
        "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc".to_owned(),
    ] {
        let mut c = conn_with(head.as_bytes());
        let h = c.read_request().unwrap().unwrap();
        assert!(c.read_body(&h, &mut Vec::new()).is_err(), "{head:?}");
    }
    for head in [
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        "NOT HTTP\r\n\r\n",
    ] {
        assert!(conn_with(head.as_bytes()).read_request().is_err(), "{head:?}");
    }
    assert!(conn_with(b"GET / HTTP/1.1\r\nHost:").read_request().is_err(), "EOF inside a head");
}

#[test]
fn the_answer_check_names_the_subject_and_the_verdict() {
    let allow = Expect::Allow("user_1".into());
    assert!(allow.check(Some(br#"{"isAuthorized":true,"context":{"sub":"user_1"}}"#), "").is_ok());
    assert!(allow.check(Some(br#"{"isAuthorized":true,"context":{"sub":"user_2"}}"#), "").is_err());
    assert!(allow.check(Some(br#"{"isAuthorized":true}"#), "").is_err());
    assert!(allow.check(Some(br#"{"isAuthorized":false,"context":{"sub":"user_1"}}"#), "").is_err());
    assert!(allow.check(None, "Unauthorized").is_err());
    assert!(Expect::Deny.check(Some(br#"{"isAuthorized":false}"#), "").is_ok());
    assert!(Expect::Deny.check(None, "Unauthorized").is_ok());
    assert!(Expect::Deny.check(None, "Runtime.Panic").is_err());
    assert!(Expect::Deny.check(Some(br#"{"isAuthorized":true}"#), "").is_err());
    assert!(Expect::Deny.check(Some(b"not json"), "").is_err());
    assert!(Expect::Any.check(Some(b"anything"), "").is_ok());
}

#[test]
fn the_mixed_load_expects_what_the_authorizer_decides() {
    let env = events::function_env();
    let authorizer =
        config::load(|k| env.iter().find(|(name, _)| name == k).map(|(_, v)| v.clone())).unwrap().authorizer;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let load = events::mixed(400, &Mix { hot_subjects: 10, new_pct: 15, invalid_pct: 30 }, 9);
    let mut scratch = Scratch::default();
    let (mut allows, mut denies) = (0, 0);
    for i in 0..load.len() {
        let event = load.event(i);
        let handled = authorizer.handle(&event.body, now, &mut scratch);
        let verdict = match handled.response.to_json() {
            Some(json) => event.expect.check(Some(json.as_bytes()), ""),
            None => event.expect.check(None, "Unauthorized"),
        };
        assert!(verdict.is_ok(), "invocation {i}: {verdict:?}");
        match event.expect {
            Expect::Allow(_) => allows += 1,
            Expect::Deny => denies += 1,
            Expect::Any => panic!("every mixed event has an expectation"),
        }
    }
    assert!(allows > 200 && denies > 80, "{allows} allows, {denies} denies");
}
