//! A client of upsd, Network UPS Tools' server (TCP, port 3493): logs in
//! when asked to, lists one UPS's variables, logs out. Hand-written over a
//! std `TcpStream` so that every wait and every byte is bounded: a connect
//! timeout, a deadline for the whole exchange, lines of at most
//! [`MAX_LINE`] bytes and answers of at most [`MAX_LINES`] lines. Runs on
//! the UPS worker's thread, never on the loop.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The longest line upsd's answers may hold (its own lines are far shorter).
pub(crate) const MAX_LINE: usize = 512;
/// The most lines a variable list may hold (a UPS has some 30 to 120).
pub(crate) const MAX_LINES: usize = 400;
/// The longest a connection may take to open.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest a whole read may take, from connecting to the last line.
pub(crate) const READ_DEADLINE: Duration = Duration::from_secs(5);

/// Why the UPS could not be read, worded for the panel's page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NutError {
    /// Nothing listens at the address: upsd is stopped or listens elsewhere.
    #[error("upsd not running at {server}")]
    NotRunning { server: String },
    /// The service's sandbox refuses IP to this address.
    #[error("connections to upsd at {server} are blocked: allow its address in the service (systemctl edit rackpi-panel: IPAddressAllow=)")]
    Blocked { server: String },
    /// The network has no way to the address (no route, host down).
    #[error("cannot reach upsd at {server}: {why}")]
    Unreachable { server: String, why: String },
    /// The host name does not resolve.
    #[error("no host {server}: check [ups] server")]
    NoSuchHost { server: String },
    /// upsd refused `USERNAME` / `PASSWORD` or access to the UPS.
    #[error("login refused by upsd ({code}): check username and password_file")]
    LoginRefused { code: String },
    /// upsd has no UPS of this name.
    #[error("UPS {name} unknown to upsd")]
    UnknownUps { name: String },
    /// upsd knows the UPS but its driver does not answer it.
    #[error("UPS {name}: {why}")]
    DriverDown { name: String, why: &'static str },
    /// upsd said `ERR` with another code.
    #[error("upsd refused: ERR {code}")]
    Refused { code: String },
    /// The connection or an answer took longer than allowed.
    #[error("no answer from upsd at {server} in {} s", .seconds)]
    NoAnswer { server: String, seconds: u64 },
    /// An answer that is not NUT's protocol, or too long.
    #[error("garbled answer from upsd: {what}")]
    Garbled { what: String },
    /// The connection broke (reset, closed early).
    #[error("upsd at {server} closed the connection: {why}")]
    Broken { server: String, why: String },
    /// The password file cannot be read.
    #[error("cannot read password_file {path}: {why}")]
    Password { path: String, why: String },
}

/// Who to ask about which UPS.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    /// `HOST:PORT`.
    pub server: &'a str,
    /// The UPS's name in upsd.
    pub name: &'a str,
    /// User and password.
    pub login: Option<(&'a str, &'a str)>,
}

/// Every variable of the UPS, as (name, value), within [`READ_DEADLINE`].
pub(crate) fn list_vars(request: Request<'_>) -> Result<Vec<(String, String)>, NutError> {
    let deadline = Instant::now() + READ_DEADLINE;
    let mut session = Session::connect(request.server, deadline)?;
    if let Some((user, password)) = request.login {
        session.command(&format!("USERNAME {user}\n"))?;
        session.expect_ok(request.name)?;
        session.command(&format!("PASSWORD {password}\n"))?;
        session.expect_ok(request.name)?;
    }
    session.command(&format!("LIST VAR {}\n", request.name))?;
    let begin = format!("BEGIN LIST VAR {}", request.name);
    let first = session.line()?;
    if first != begin {
        return Err(session.unexpected(&first, request.name));
    }
    let end = format!("END LIST VAR {}", request.name);
    let mut vars = Vec::new();
    loop {
        let line = session.line()?;
        if line == end {
            break;
        }
        vars.push(parse_var(&line, request.name).ok_or_else(|| garbled(&line))?);
    }
    // (a courtesy: upsd drops the connection either way)
    let _ = session.stream.write_all(b"LOGOUT\n");
    Ok(vars)
}

/// One exchange with upsd: the stream, what is read and not used yet, and
/// the time it all must end by.
struct Session<'a> {
    server: &'a str,
    stream: TcpStream,
    deadline: Instant,
    buffer: Vec<u8>,
    lines: usize,
}

impl<'a> Session<'a> {
    fn connect(server: &'a str, deadline: Instant) -> Result<Session<'a>, NutError> {
        let addresses: Vec<SocketAddr> = server
            .to_socket_addrs()
            .map_err(|_| NutError::NoSuchHost {
                server: server.into(),
            })?
            .collect();
        let mut last = NutError::NoSuchHost {
            server: server.into(),
        };
        for address in addresses {
            let wait = CONNECT_TIMEOUT.min(deadline.saturating_duration_since(Instant::now()));
            match TcpStream::connect_timeout(&address, wait.max(Duration::from_millis(1))) {
                Ok(stream) => {
                    return Ok(Session {
                        server,
                        stream,
                        deadline,
                        buffer: Vec::with_capacity(MAX_LINE),
                        lines: 0,
                    })
                }
                Err(err) if err.kind() == std::io::ErrorKind::TimedOut => {
                    last = NutError::NoAnswer {
                        server: server.into(),
                        seconds: CONNECT_TIMEOUT.as_secs(),
                    }
                }
                Err(err) => last = connect_error(server, &err),
            }
        }
        Err(last)
    }

    fn no_answer(&self) -> NutError {
        NutError::NoAnswer {
            server: self.server.into(),
            seconds: READ_DEADLINE.as_secs(),
        }
    }

    fn broken(&self, why: impl ToString) -> NutError {
        NutError::Broken {
            server: self.server.into(),
            why: why.to_string(),
        }
    }

    /// The time left, or the error saying it ran out.
    fn time_left(&self) -> Result<Duration, NutError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.no_answer());
        }
        Ok(left)
    }

    fn command(&mut self, text: &str) -> Result<(), NutError> {
        let left = self.time_left()?;
        let _ = self.stream.set_write_timeout(Some(left));
        self.stream.write_all(text.as_bytes()).map_err(|err| {
            if is_timeout(&err) {
                self.no_answer()
            } else {
                self.broken(err)
            }
        })
    }

    /// The next line, without its end; bounded in length, in number and
    /// in time.
    fn line(&mut self) -> Result<String, NutError> {
        self.lines += 1;
        if self.lines > MAX_LINES {
            return Err(NutError::Garbled {
                what: format!("more than {MAX_LINES} lines"),
            });
        }
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).take(end).collect();
                let line = String::from_utf8(line).map_err(|_| NutError::Garbled {
                    what: "a line that is not text".into(),
                })?;
                return Ok(line.strip_suffix('\r').unwrap_or(&line).to_string());
            }
            if self.buffer.len() >= MAX_LINE {
                return Err(NutError::Garbled {
                    what: format!("a line longer than {MAX_LINE} bytes"),
                });
            }
            let left = self.time_left()?;
            let _ = self.stream.set_read_timeout(Some(left));
            let mut chunk = [0u8; MAX_LINE];
            let room = MAX_LINE - self.buffer.len();
            match self.stream.read(&mut chunk[..room]) {
                Ok(0) => return Err(self.broken("it ended an answer halfway")),
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) if is_timeout(&err) => return Err(self.no_answer()),
                Err(err) => return Err(self.broken(err)),
            }
        }
    }

    fn expect_ok(&mut self, name: &str) -> Result<(), NutError> {
        let line = self.line()?;
        if line == "OK" || line.starts_with("OK ") {
            return Ok(());
        }
        Err(self.unexpected(&line, name))
    }

    /// The error an unexpected line means: upsd's `ERR`, or garbage.
    fn unexpected(&self, line: &str, name: &str) -> NutError {
        let Some(code) = line.strip_prefix("ERR ") else {
            return garbled(line);
        };
        let code = code.split_whitespace().next().unwrap_or_default();
        let name = name.to_string();
        match code {
            "ACCESS-DENIED" | "INVALID-USERNAME" | "INVALID-PASSWORD" | "USERNAME-REQUIRED"
            | "PASSWORD-REQUIRED" => NutError::LoginRefused { code: code.into() },
            "UNKNOWN-UPS" => NutError::UnknownUps { name },
            "DRIVER-NOT-CONNECTED" => NutError::DriverDown {
                name,
                why: "its driver is not running",
            },
            "DATA-STALE" => NutError::DriverDown {
                name,
                why: "its driver has no fresh data",
            },
            _ => NutError::Refused {
                code: printable(code, 32),
            },
        }
    }
}

/// What a refused connection means for the page.
fn connect_error(server: &str, err: &std::io::Error) -> NutError {
    let server = server.to_string();
    match err.kind() {
        std::io::ErrorKind::ConnectionRefused => NutError::NotRunning { server },
        // (IPAddressDeny= drops with EPERM; RestrictAddressFamilies= refuses
        // the socket with EAFNOSUPPORT)
        std::io::ErrorKind::PermissionDenied => NutError::Blocked { server },
        _ if err.raw_os_error() == Some(nix::libc::EAFNOSUPPORT) => NutError::Blocked { server },
        _ => NutError::Unreachable {
            server,
            why: err.to_string(),
        },
    }
}

fn is_timeout(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

fn garbled(line: &str) -> NutError {
    NutError::Garbled {
        what: format!("{:?}", printable(line, 40)),
    }
}

/// At most `most` characters of `text`, control characters left out.
fn printable(text: &str, most: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(most)
        .collect()
}

/// `VAR <ups> <name> "<value>"` → (name, value), the value unquoted
/// (`\"` and `\\` are NUT's escapes).
fn parse_var(line: &str, ups: &str) -> Option<(String, String)> {
    let rest = line
        .strip_prefix("VAR ")?
        .strip_prefix(ups)?
        .strip_prefix(' ')?;
    let (name, quoted) = rest.split_once(' ')?;
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let mut value = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => value.push(chars.next()?),
            '"' => return None,
            c => value.push(c),
        }
    }
    Some((name.to_string(), value))
}

#[cfg(test)]
#[path = "nut_tests.rs"]
mod tests;
