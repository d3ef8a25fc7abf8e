//! Every call ends within a bound the user sets: the real binary against endpoints on
//! 127.0.0.1 that misbehave (an answer one byte at a time, an endless or oversized body,
//! reset and closed connections, an HTML 500), each with small bounds so a test takes seconds.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::cli::{Output, Skyql};

const COUNT: &str = "SELECT count(*) AS n FROM aws.ecr.pull_through_cache_rules";
/// The secret key every run signs with: it must never show up in any output.
const SECRET: &str = "faults-secret-key-never-printed";

/// How an endpoint misbehaves, once it has read a request (or part of one).
#[derive(Debug, Clone, Copy)]
enum Misbehaviour {
    /// Answers 200 with a long declared body, one byte every 100 ms.
    Trickle,
    /// Answers 200 with a chunked body that never ends, as fast as it can.
    Endless,
    /// Answers 200 declaring a body of a gigabyte.
    Declared,
    /// Reads a few bytes of the request and closes: the unread rest makes it a reset.
    Reset,
    /// Reads the whole request and closes without answering.
    Close,
    /// Answers a proxy's HTML error page with status 500.
    Html500,
}

/// An endpoint on 127.0.0.1 that misbehaves on every connection; counts the connections.
struct Endpoint {
    url: String,
    connections: Arc<AtomicUsize>,
}

impl Endpoint {
    fn start(how: Misbehaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let _ = misbehave(stream, how);
                });
            }
        });
        Self { url, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Reads one HTTP request: its head, then as many body bytes as it declares.
fn read_request(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        seen.extend_from_slice(&buf[..n]);
        if let Some(at) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&seen[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = seen.len() - head_end;
    while body < length {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        body += n;
    }
    Ok(())
}

fn misbehave(mut stream: TcpStream, how: Misbehaviour) -> std::io::Result<()> {
    const OK: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n";
    if let Misbehaviour::Reset = how {
        let mut few = [0u8; 16];
        stream.read_exact(&mut few)?;
        return Ok(());
    }
    read_request(&mut stream)?;
    match how {
        Misbehaviour::Trickle => {
            stream.write_all(format!("{OK}Content-Length: 100000\r\n\r\n").as_bytes())?;
            loop {
                stream.write_all(b" ")?;
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Misbehaviour::Endless => {
            stream.write_all(format!("{OK}Transfer-Encoding: chunked\r\n\r\n").as_bytes())?;
            let chunk = vec![b' '; 64 * 1024];
            loop {
                stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
                stream.write_all(&chunk)?;
                stream.write_all(b"\r\n")?;
            }
        }
        Misbehaviour::Declared => {
            stream.write_all(format!("{OK}Content-Length: 1073741824\r\n\r\n").as_bytes())?;
            stream.write_all(&[b' '; 1024])?;
            std::thread::sleep(Duration::from_secs(30));
            Ok(())
        }
        Misbehaviour::Close | Misbehaviour::Reset => Ok(()),
        Misbehaviour::Html500 => {
            let body = "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n\
                        <body><center><h1>500 Internal Server Error</h1></center></body></html>";
            stream.write_all(
                format!(
                    "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
        }
    }
}

/// `skyql <flags> exec COUNT` against `url` in eu-west-1.
fn count_against(url: &str, flags: &[&str]) -> Output {
    let out = Skyql::bare()
        .env("AWS_ENDPOINT_URL", url)
        .env("AWS_ACCESS_KEY_ID", "AKIAFAULTSEXAMPLE01")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", "eu-west-1")
        .args(flags)
        .args(["exec", COUNT])
        .run();
    assert!(!out.stderr.contains(SECRET) && !out.stdout.contains(SECRET));
    out
}

/// The attempts a failure says were made ("(3 attempts in 2.1s").
fn attempts_said(stderr: &str) -> usize {
    let said = regex::Regex::new(r"\((\d+) attempts? in ").unwrap();
    said.captures(stderr)
        .and_then(|c| c[1].parse().ok())
        .unwrap_or_else(|| panic!("no attempt count in: {stderr}"))
}

#[test]
fn an_answer_sent_one_byte_at_a_time_ends_at_the_read_timeout() {
    let endpoint = Endpoint::start(Misbehaviour::Trickle);
    let out = count_against(&endpoint.url, &["--read-timeout", "1"]);
    out.expect_code(1).expect_stderr(&[
        "eu-west-1",
        "Timeout",
        "did not arrive in full within 1s (--read-timeout)",
        "(1 attempt in",
    ]);
    assert!(out.elapsed < Duration::from_secs(8), "{:?}", out.elapsed);
    assert_eq!(
        endpoint.connections(),
        1,
        "a timed-out attempt is not retried"
    );
}

#[test]
fn an_endless_or_oversized_answer_is_refused_at_the_cap() {
    let endless = Endpoint::start(Misbehaviour::Endless);
    let out = count_against(&endless.url, &["--max-response-mb", "1"]);
    out.expect_code(1).expect_stderr(&[
        "eu-west-1",
        "AnswerTooLarge",
        "larger than 1 MiB (--max-response-mb)",
    ]);
    assert!(out.elapsed < Duration::from_secs(8), "{:?}", out.elapsed);
    assert_eq!(
        endless.connections(),
        1,
        "an oversized answer is not retried"
    );

    // A declared length over the cap is refused before its body is read.
    let declared = Endpoint::start(Misbehaviour::Declared);
    let out = count_against(&declared.url, &["--max-response-mb", "1"]);
    out.expect_code(1)
        .expect_stderr(&["AnswerTooLarge", "declares 1073741824 bytes"]);
    assert!(out.elapsed < Duration::from_secs(8), "{:?}", out.elapsed);
    assert_eq!(declared.connections(), 1);
}

#[test]
fn reset_and_closed_connections_are_retried_within_the_retry_budget() {
    for how in [Misbehaviour::Reset, Misbehaviour::Close] {
        let endpoint = Endpoint::start(how);
        let out = count_against(&endpoint.url, &["--retry-budget", "2"]);
        out.expect_code(1).expect_stderr(&[
            "eu-west-1",
            "DispatchFailure",
            "within 2s of the statement's last successful call (--retry-budget)",
        ]);
        assert!(
            out.elapsed < Duration::from_secs(6),
            "{how:?}: {:?}",
            out.elapsed
        );
        let said = attempts_said(&out.stderr);
        assert!(said >= 2, "{how:?} is retried: {}", out.stderr);
        assert_eq!(said, endpoint.connections(), "{how:?}: {}", out.stderr);
    }
}

#[test]
fn the_retry_budget_is_the_statements_not_each_calls() {
    // Three regions one after another against a dead endpoint: the first spends the budget,
    // the others are not retried again, so the statement ends within about one budget.
    let endpoint = Endpoint::start(Misbehaviour::Close);
    let out = count_against(
        &endpoint.url,
        &[
            "--regions",
            "us-east-1,eu-west-1,ap-southeast-2",
            "--max-concurrency",
            "1",
            "--retry-budget",
            "2",
        ],
    );
    out.expect_code(1)
        .expect_stderr(&["every region called failed", "--retry-budget"]);
    assert!(out.elapsed < Duration::from_secs(5), "{:?}", out.elapsed);
    assert!(
        endpoint.connections() <= 6,
        "{} connections: the later regions get no retries of their own",
        endpoint.connections()
    );
}

#[test]
fn an_html_500_names_its_status_the_start_of_its_body_and_the_attempts() {
    let endpoint = Endpoint::start(Misbehaviour::Html500);
    let out = count_against(
        &endpoint.url,
        &["--max-attempts", "3", "--retry-budget", "30"],
    );
    out.expect_code(1).expect_stderr(&[
        "eu-west-1",
        "HTTP 500 Internal Server Error: the answer has no AWS error code",
        "<html> <head><title>500 Internal Server Error</title></head>",
        "(3 attempts in",
        "--max-attempts 3",
    ]);
    assert!(!out.stderr.contains("UnknownError"), "{}", out.stderr);
    assert_eq!(endpoint.connections(), 3);
}

#[test]
fn an_endpoint_that_is_not_http_is_refused_at_once() {
    for var in ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ECR"] {
        let out = Skyql::bare()
            .env(var, "ftp://127.0.0.1:1")
            .env("AWS_ACCESS_KEY_ID", "AKIAFAULTSEXAMPLE01")
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_REGION", "eu-west-1")
            .args(["exec", COUNT])
            .run();
        out.expect_code(2).expect_stderr(&[
            "'ftp://127.0.0.1:1'",
            &format!("(from {var})"),
            "not an http:// or https:// URL",
        ]);
        assert!(
            out.elapsed < Duration::from_secs(3),
            "{var}: {:?}",
            out.elapsed
        );
    }
}
