//! The binary as an operator runs it: printed address, SIGKILL durability, graceful SIGTERM.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use loopback::raw;
use reference_server::store::Store;
use serde_json::json;

use crate::{ADMIN, minimal};

/// The server binary, started on an ephemeral loopback port.
struct Process {
    child: Child,
    base_url: String,
}

impl Process {
    fn start(database: &Path) -> Self {
        Self::start_with(database, &[])
    }

    fn start_with(database: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nexudus-reference-server"))
            .args(["--listen", "127.0.0.1:0", "--database"])
            .arg(database)
            .args(args)
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base_url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{line:?}"))
            .to_owned();
        Self { child, base_url }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for the `100 Continue` the server sends on `stream` once it starts reading the body of
/// the request whose head (with `Expect: 100-continue`) was sent: the request is then under way.
/// The read timeout of [`raw::connect`] is the deadline.
fn await_continue(stream: &mut TcpStream) {
    const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
    let mut received = [0u8; CONTINUE.len()];
    stream
        .read_exact(&mut received)
        .expect("no 100 Continue within 10 s: the server never started on the request");
    assert_eq!(
        String::from_utf8_lossy(&received),
        String::from_utf8_lossy(CONTINUE)
    );
}

/// Waits until the server at `address` takes no new connection: it has begun its stop.
fn await_no_new_connections(address: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(address).is_ok() {
        assert!(
            Instant::now() < deadline,
            "{address} still takes connections 10 s after the signal"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_creates_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("durable.sqlite3");
    let mut server = Process::start(&database);
    let client = nexudus_client::authenticated(&server.base_url, ADMIN).unwrap();
    let mut acknowledged = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..40u32 {
        let client = client.clone();
        tasks.spawn(async move {
            let mut body = minimal();
            body["CreateMultiple"] = json!(n % 3 + 1);
            let request = serde_json::from_value(body).unwrap();
            (
                client
                    .create_coworker_time_pass(&request)
                    .await
                    .unwrap()
                    .value
                    .id
                    .get() as i64,
                i64::from(n % 3 + 1),
            )
        });
    }
    while let Some(result) = tasks.join_next().await {
        acknowledged.push(result.unwrap());
    }
    // SIGKILL right after the last 200: no shutdown code runs.
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let store = Store::open(&database).unwrap();
    let stored = store.ids().unwrap();
    for (first, count) in &acknowledged {
        for id in *first..first + count {
            assert!(stored.contains(&id), "acknowledged id {id} lost");
        }
    }
    let expected: i64 = acknowledged.iter().map(|(_, count)| count).sum();
    assert_eq!(stored.len() as i64, expected);
    drop(store);

    // Ids keep increasing across the restart.
    let restarted = Process::start(&database);
    let client = nexudus_client::authenticated(&restarted.base_url, ADMIN).unwrap();
    let request = serde_json::from_value(minimal()).unwrap();
    let next = client
        .create_coworker_time_pass(&request)
        .await
        .unwrap()
        .value
        .id
        .get() as i64;
    assert!(next > *stored.iter().max().unwrap());
}

#[test]
fn sigterm_finishes_the_request_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("graceful.sqlite3");
    let mut server = Process::start(&database);
    let address = server.base_url.strip_prefix("http://").unwrap().to_owned();
    let body = serde_json::to_vec(&minimal()).unwrap();
    let (head, tail) = body.split_at(body.len() / 2);

    let mut stream = raw::connect(&address);
    write!(
        stream,
        "POST /api/billing/coworkertimepasses HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {ADMIN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    )
    .unwrap();
    await_continue(&mut stream);
    stream.write_all(head).unwrap();
    stream.flush().unwrap();
    server.signal("-TERM");
    // The rest of the body arrives only once the server is stopping.
    await_no_new_connections(&address);
    stream.write_all(tail).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"WasSuccessful\":true"), "{response}");

    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(Store::open(&database).unwrap().count().unwrap(), 1);
}

/// Clients that never finish their request (a half-sent head, a stalled body, a body sent a byte
/// at a time) cannot hold a stop: the server exits by its deadline, and every record it
/// acknowledged is there after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_by_its_deadline_whatever_the_clients_do() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("deadline.sqlite3");
    let mut server = Process::start_with(
        &database,
        &[
            "--shutdown-deadline",
            "1s",
            "--header-timeout",
            "60s",
            "--body-timeout",
            "60s",
        ],
    );
    let client = nexudus_client::authenticated(&server.base_url, ADMIN).unwrap();
    let request = serde_json::from_value(minimal()).unwrap();
    let mut acknowledged = Vec::new();
    for _ in 0..5 {
        let answer = client.create_coworker_time_pass(&request).await.unwrap();
        acknowledged.push(answer.value.id.get() as i64);
    }
    let address = server.base_url.strip_prefix("http://").unwrap().to_owned();
    let body = serde_json::to_vec(&minimal()).unwrap();
    let mut half_head = raw::connect(&address);
    half_head
        .write_all(b"POST /api/billing/coworkertimepasses HTTP/1.1\r\nHost: ")
        .unwrap();
    // The server accepts connections in the order they were made, so once the next one's
    // request is under way, this one is the server's too.
    let mut stalled = raw::connect(&address);
    write!(
        stalled,
        "POST /api/billing/coworkertimepasses HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {ADMIN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    )
    .unwrap();
    await_continue(&mut stalled);
    stalled.write_all(&body[..body.len() / 2]).unwrap();
    let (under_way, trickling) = std::sync::mpsc::channel();
    let trickle = std::thread::spawn({
        let address = address.clone();
        let body = body.clone();
        move || {
            let mut trickle = raw::connect(&address);
            let head = format!(
                "POST /api/billing/coworkertimepasses HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {ADMIN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
                body.len()
            );
            trickle.write_all(head.as_bytes()).unwrap();
            await_continue(&mut trickle);
            under_way.send(()).unwrap();
            for byte in &body[..body.len() - 1] {
                if trickle.write_all(&[*byte]).is_err() {
                    return;
                }
                // The slow client under test: a byte every 200 ms.
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    });
    trickling
        .recv_timeout(Duration::from_secs(10))
        .expect("the trickling client's request never got under way");
    let started = Instant::now();
    server.signal("-TERM");
    let status = tokio::task::block_in_place(|| server.child.wait().unwrap());
    let took = started.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(3),
        "the stop took {took:?} with a 1 s deadline"
    );
    trickle.join().unwrap();
    let store = Store::open(&database).unwrap();
    let stored = store.ids().unwrap();
    for id in &acknowledged {
        assert!(stored.contains(id), "acknowledged id {id} lost");
    }
    assert_eq!(stored.len(), acknowledged.len());
}

#[test]
fn builtin_users_cannot_listen_beyond_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_nexudus-reference-server"))
        .args(["--listen", "0.0.0.0:0", "--database"])
        .arg(dir.path().join("db"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:0"),
        "{stderr}"
    );
}
