//! A scripted stand-in for Hex that misbehaves on purpose: a raw TCP listener on loopback whose
//! answers are whatever bytes a test scripts (absurd headers, endless or huge bodies, control
//! characters, redirects), so the real emulator can stay faithful to Hex.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the server sends back.
pub enum Reply {
    /// These bytes, verbatim (status line, headers and body), then the connection is closed.
    Raw(Vec<u8>),
    /// A chunked 200 whose body never ends (until the client hangs up).
    EndlessChunked,
    /// A status line and headers, then `len` bytes of `fill` as the body (with Content-Length).
    Sized { status: u16, len: usize, fill: u8 },
}

impl Reply {
    /// A complete answer with `Content-Length` and `Connection: close`.
    pub fn http(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut out = format!("HTTP/1.1 {status} Scripted\r\n");
        for (k, v) in headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ));
        Reply::Raw(out.into_bytes())
    }

    /// A JSON 200.
    pub fn json(body: &str) -> Reply {
        Reply::http(200, &[("Content-Type", "application/json")], body)
    }
}

type Script = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running scripted server; it stops accepting when dropped (its thread is left to die with the
/// test process, blocked in `accept` on a listener nobody connects to).
pub struct Hostile {
    addr: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Hostile {
    /// Serves `script` for every request, each connection on its own thread.
    pub fn start(script: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let script = Arc::clone(&script);
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || serve(stream, &*script, &seen));
            }
        });
        Hostile { addr, requests }
    }

    /// The base URL a client is pointed at (`http://127.0.0.1:PORT/api/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/api/v1", self.addr)
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Every request read so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, script: &Script, seen: &Mutex<Vec<Request>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut write) = stream.try_clone() else {
        return;
    };
    let mut read = BufReader::new(stream);
    // Keep-alive: answer requests on this connection until the client closes it.
    while let Some(request) = read_request(&mut read) {
        seen.lock().unwrap().push(request.clone());
        let keep_going = match script(&request) {
            Reply::Raw(bytes) => {
                let _ = write.write_all(&bytes);
                false
            }
            Reply::EndlessChunked => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                            Transfer-Encoding: chunked\r\n\r\n";
                if write.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                let frame = format!("{:x}\r\n", chunk.len());
                loop {
                    let ok = write.write_all(frame.as_bytes()).is_ok()
                        && write.write_all(&chunk).is_ok()
                        && write.write_all(b"\r\n").is_ok();
                    if !ok {
                        return;
                    }
                }
            }
            Reply::Sized { status, len, fill } => {
                let head = format!(
                    "HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\n\
                     Content-Length: {len}\r\nConnection: close\r\n\r\n"
                );
                if write.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let block = vec![fill; 64 * 1024];
                let mut left = len;
                while left > 0 {
                    let n = left.min(block.len());
                    if write.write_all(&block[..n]).is_err() {
                        return;
                    }
                    left -= n;
                }
                false
            }
        };
        let _ = write.flush();
        if !keep_going {
            let _ = write.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
}

fn read_request(read: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if read.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if read.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    read.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}
