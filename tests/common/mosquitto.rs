//! A real Mosquitto for the MQTT tests: started on a free loopback port
//! with a generated configuration (a password file made with
//! `mosquitto_passwd`, a TLS listener with certificates made with the
//! `openssl` command), killed when dropped. Without the programs a test is
//! skipped with a line saying why; with `CI=true` that is a failure.
//! Uses only the standard library and tempfile, so that the crate's unit
//! tests can include it too.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// What the broker is started with.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `(user, password)`: anonymous clients are refused.
    pub user: Option<(String, String)>,
    /// A TLS listener too, with a CA of the harness's own.
    pub tls: bool,
    /// More logins in the password file (with `user`).
    pub more_users: Vec<(String, String)>,
    /// An ACL file's text (`acl_file`).
    pub acl: Option<String>,
    /// More configuration, at the end of the file (a bridge).
    pub more_conf: String,
}

/// A running broker.
pub struct Mosquitto {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// The TLS listener's port, with [`Options::tls`].
    pub tls_port: Option<u16>,
    pub options: Options,
}

/// Whether the programs are here; otherwise prints that `test` is
/// skipped, or panics under `CI=true`.
pub fn available(test: &str) -> bool {
    let missing: Vec<&str> = [
        MOSQUITTO,
        "/usr/bin/mosquitto_sub",
        "/usr/bin/mosquitto_pub",
        "/usr/bin/mosquitto_passwd",
        "/usr/bin/openssl",
    ]
    .into_iter()
    .filter(|program| !Path::new(program).exists())
    .collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!(
        "{test}: skipped, {} not installed (apt-get install mosquitto mosquitto-clients openssl)",
        missing.join(", ")
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why}; under CI=true a missing program is a failure");
    }
    eprintln!("{why}");
    false
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Mosquitto {
    /// Starts a broker; `None` (with the reason printed) without Mosquitto.
    pub fn start(test: &str, options: Options) -> Option<Mosquitto> {
        Self::start_on(test, options, free_port())
    }

    /// Starts a broker on `port`.
    pub fn start_on(test: &str, options: Options, port: u16) -> Option<Mosquitto> {
        if !available(test) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut conf = format!(
            "user root\nper_listener_settings false\npersistence false\nmax_queued_messages 100000\nlog_dest file {}\nlog_type all\nlistener {port} 127.0.0.1\n",
            dir.path().join("log").display()
        );
        let tls_port = options.tls.then(free_port);
        if let Some(tls_port) = tls_port {
            make_certificates(dir.path());
            let d = dir.path().display();
            conf += &format!(
                "listener {tls_port} 127.0.0.1\ncafile {d}/ca.pem\ncertfile {d}/server.pem\nkeyfile {d}/server.key\n"
            );
        }
        match &options.user {
            Some((user, password)) => {
                let file = dir.path().join("passwd");
                run(Command::new("mosquitto_passwd")
                    .arg("-c")
                    .arg("-b")
                    .arg(&file)
                    .args([user, password]));
                for (user, password) in &options.more_users {
                    run(Command::new("mosquitto_passwd")
                        .arg("-b")
                        .arg(&file)
                        .args([user, password]));
                }
                conf += &format!("allow_anonymous false\npassword_file {}\n", file.display());
            }
            None => conf += "allow_anonymous true\n",
        }
        if let Some(acl) = &options.acl {
            let file = dir.path().join("acl");
            std::fs::write(&file, acl).unwrap();
            conf += &format!("acl_file {}\n", file.display());
        }
        conf += &options.more_conf;
        std::fs::write(dir.path().join("mosquitto.conf"), conf).unwrap();
        let mut broker = Mosquitto {
            child: None,
            dir,
            port,
            tls_port,
            options,
        };
        broker.launch();
        Some(broker)
    }

    fn launch(&mut self) {
        let child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        let ports = [Some(self.port), self.tls_port];
        for port in ports.into_iter().flatten() {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "mosquitto did not listen on {port}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Kills the broker (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills it and starts it again on the same ports.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// The broker's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// The CA that signed the TLS listener's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn login(&self) -> Vec<String> {
        match &self.options.user {
            Some((user, password)) => {
                vec!["-u".into(), user.clone(), "-P".into(), password.clone()]
            }
            None => Vec::new(),
        }
    }

    /// Starts `mosquitto_sub` on `topic` for `count` messages within `wait`
    /// (retained ones included); its output is one message a line.
    pub fn subscriber(&self, topic: &str, count: u32, wait: Duration) -> Child {
        Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-t", topic])
            .args([
                "-C",
                &count.to_string(),
                "-W",
                &wait.as_secs().max(1).to_string(),
            ])
            .args(self.login())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto_sub")
    }

    /// The retained message on `topic` (waits up to 5 s for one).
    pub fn retained(&self, topic: &str) -> Option<String> {
        let mut sub = self.subscriber(topic, 1, Duration::from_secs(5));
        let mut out = String::new();
        sub.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        let _ = sub.wait();
        out.lines().next().map(str::to_string)
    }

    /// Publishes `payload` to `topic` with `mosquitto_pub`.
    pub fn publish(&self, topic: &str, payload: &[u8], retain: bool) {
        self.publish_with(topic, payload, if retain { &["-r", "-s"] } else { &["-s"] });
    }

    /// Publishes each line of `lines` as a message of its own.
    pub fn publish_lines(&self, topic: &str, lines: &str) {
        self.publish_with(topic, lines.as_bytes(), &["-l"]);
    }

    fn publish_with(&self, topic: &str, stdin: &[u8], mode: &[&str]) {
        let mut child = Command::new("mosquitto_pub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-t",
                topic,
                "-q",
                "1",
            ])
            .args(mode)
            .args(self.login())
            .stdin(Stdio::piped())
            .spawn()
            .expect("start mosquitto_pub");
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        assert!(child.wait().unwrap().success(), "mosquitto_pub to {topic}");
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.kill();
    }
}

fn run(command: &mut Command) {
    let out = command
        .output()
        .unwrap_or_else(|err| panic!("{command:?}: {err}"));
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`ca.pem`, and `other-ca.pem`, one that signed nothing here) and
/// a server certificate for 127.0.0.1 and localhost signed by the first.
pub fn make_certificates(dir: &Path) {
    let ssl = |args: &[&str]| run(Command::new("openssl").current_dir(dir).args(args));
    for ca in ["ca", "other-ca"] {
        ssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.pem"),
            "-subj",
            &format!("/CN=rackpi test {ca}"),
        ]);
    }
    ssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    ssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "server.pem",
        "-extfile",
        "san.ext",
    ]);
}
