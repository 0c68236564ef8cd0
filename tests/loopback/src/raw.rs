//! HTTP/1.1 on a plain socket: the request goes out exactly as the test wrote it (no client
//! tidies a header, a framing or a repeated key), and the answer is read as the server sent it.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

use serde_json::Value;

/// How long a read waits before the test gives up on an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A response as it came off the socket.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Header lines in order, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
}

impl Answer {
    /// The first value of the header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(found, _)| found == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A connection to `address` (`host:port`, or a base URL `http://host:port/...`) whose reads
/// give up after ten seconds.
///
/// # Panics
/// When the connection cannot be made.
pub fn connect(address: &str) -> TcpStream {
    let address = address.strip_prefix("http://").unwrap_or(address);
    let address = address.split('/').next().unwrap_or(address);
    let stream = TcpStream::connect(address).expect("connecting on loopback");
    stream
        .set_read_timeout(Some(READ_TIMEOUT))
        .expect("a read timeout");
    stream
}

/// Sends `request` as it is on a new connection to `address` and reads the answer.
///
/// # Panics
/// When nothing comes back: the server closed the connection without an answer.
pub fn exchange(address: &str, request: &[u8]) -> Answer {
    let mut stream = connect(address);
    stream.write_all(request).expect("writing the request");
    read_answer(&mut stream).expect("an answer")
}

/// Reads one response from `stream`: its head, then `content-length` bytes; `None` when the
/// connection ends (or the read times out) first. Interim answers (`100 Continue`) are passed
/// over.
///
/// # Panics
/// On a head that is not HTTP/1.1 as servers write it: a test's server must at least do that.
pub fn read_answer(stream: &mut TcpStream) -> Option<Answer> {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    let (status, headers, head_end) = loop {
        let Some(end) = bytes.windows(4).position(|window| window == b"\r\n\r\n") else {
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => return None,
                Ok(n) => bytes.extend_from_slice(&buffer[..n]),
            }
            continue;
        };
        let head = String::from_utf8(bytes[..end].to_vec()).expect("a head in UTF-8");
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|line| line.get(9..12))
            .and_then(|code| code.parse().ok())
            .expect("a status line");
        if status < 200 {
            bytes.drain(..end + 4);
            continue;
        }
        let headers: Vec<(String, String)> = lines
            .map(|line| {
                let (name, value) = line.split_once(':').expect("a header line");
                (name.to_ascii_lowercase(), value.trim().to_owned())
            })
            .collect();
        break (status, headers, end);
    };
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .map_or(0, |(_, value)| value.parse().expect("a content-length"));
    let mut body = bytes[head_end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buffer[..n]),
        }
    }
    // A second answer (to the rest of a request cut short) may have come in the same read.
    body.truncate(length);
    Some(Answer {
        status,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    })
}
