//! The NUT client against hostile servers: real sockets on loopback, each
//! server a thread playing one misbehaviour. Every read ends with its own
//! message, within the deadline, holding at most one line in memory.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::*;

/// A server on a free loopback port that plays `serve` with the first
/// client; its address.
fn server(serve: impl FnOnce(TcpStream) + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            serve(stream);
        }
    });
    address
}

/// A server answering each command line with the next of `answers`
/// (several lines each), then keeping the connection open.
fn answering(answers: &'static [&'static str]) -> String {
    server(move |stream| {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        for answer in answers {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let _ = writer.write_all(answer.as_bytes());
        }
        std::thread::sleep(Duration::from_secs(10));
    })
}

fn read(
    server: &str,
    login: Option<(&str, &str)>,
) -> (Result<Vec<(String, String)>, NutError>, Duration) {
    let started = Instant::now();
    let result = list_vars(Request {
        server,
        name: "ups",
        login,
    });
    (result, started.elapsed())
}

fn message(server: &str, login: Option<(&str, &str)>) -> String {
    let (result, took) = read(server, login);
    assert!(
        took < READ_DEADLINE + Duration::from_secs(1),
        "took {took:?}"
    );
    result.unwrap_err().to_string()
}

#[test]
fn a_list_of_variables_is_read_with_its_escapes() {
    let server = answering(&[
        "OK\n",
        "OK\n",
        "BEGIN LIST VAR ups\nVAR ups ups.status \"OB DISCHRG\"\n\
         VAR ups battery.charge \"64\"\nVAR ups ups.mfr \"say \\\"hi\\\" \\\\o/\"\n\
         END LIST VAR ups\n",
    ]);
    let (vars, _) = read(&server, Some(("panel", "secret")));
    assert_eq!(
        vars.unwrap(),
        [
            ("ups.status".into(), "OB DISCHRG".into()),
            ("battery.charge".into(), "64".into()),
            ("ups.mfr".into(), "say \"hi\" \\o/".into()),
        ]
    );
}

#[test]
fn nothing_listening_says_upsd_is_not_running_there() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    // (the listener is dropped: the port refuses)
    let server = port.to_string();
    assert_eq!(
        message(&server, None),
        format!("upsd not running at {server}")
    );
}

#[test]
fn refusals_are_said_in_words() {
    let denied = answering(&["ERR ACCESS-DENIED\n"]);
    assert_eq!(
        message(&denied, Some(("panel", "wrong"))),
        "login refused by upsd (ACCESS-DENIED): check username and password_file"
    );
    let unknown = answering(&["ERR UNKNOWN-UPS\n"]);
    assert_eq!(message(&unknown, None), "UPS ups unknown to upsd");
    let stale = answering(&["ERR DATA-STALE\n"]);
    assert_eq!(
        message(&stale, None),
        "UPS ups: its driver has no fresh data"
    );
    let other = answering(&["ERR \x1b[2JWEIRD-CODE extra\n"]);
    assert_eq!(message(&other, None), "upsd refused: ERR [2JWEIRD-CODE");
}

#[test]
fn garbage_is_a_garbled_answer() {
    let garbage = answering(&["HTTP/1.1 400 Bad Request\n"]);
    assert_eq!(
        message(&garbage, None),
        "garbled answer from upsd: \"HTTP/1.1 400 Bad Request\""
    );
    let bad_var = answering(&["BEGIN LIST VAR ups\nVAR ups ups.status OL\n"]);
    assert!(message(&bad_var, None).starts_with("garbled answer from upsd"));
    let binary = server(|mut stream| {
        let _ = stream.write_all(b"BEGIN LIST VAR ups\n\xff\xfe\n");
        std::thread::sleep(Duration::from_secs(10));
    });
    assert_eq!(
        message(&binary, None),
        "garbled answer from upsd: a line that is not text"
    );
}

#[test]
fn an_endless_line_is_cut_at_the_bound() {
    let server = server(|mut stream| {
        let chunk = [b'A'; 4096];
        // (until the client hangs up)
        while stream.write_all(&chunk).is_ok() {}
    });
    assert_eq!(
        message(&server, None),
        format!("garbled answer from upsd: a line longer than {MAX_LINE} bytes")
    );
}

#[test]
fn an_endless_list_is_cut_at_the_bound() {
    let server = server(|mut stream| {
        let _ = stream.write_all(b"BEGIN LIST VAR ups\n");
        let mut n = 0u64;
        while stream
            .write_all(format!("VAR ups x.{n} \"1\"\n").as_bytes())
            .is_ok()
        {
            n += 1;
        }
    });
    assert_eq!(
        message(&server, None),
        format!("garbled answer from upsd: more than {MAX_LINES} lines")
    );
}

#[test]
fn a_reply_that_never_comes_or_trickles_ends_at_the_deadline() {
    let silent = server(|stream| {
        std::thread::sleep(Duration::from_secs(15));
        drop(stream);
    });
    let trickle = server(|mut stream| {
        // one byte every 200 ms: each read answers, the line never ends
        for _ in 0..100 {
            if stream.write_all(b"B").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let (silent, trickle) = (
        std::thread::spawn(move || read(&silent, None)),
        std::thread::spawn(move || read(&trickle, None)),
    );
    for (result, took) in [silent.join().unwrap(), trickle.join().unwrap()] {
        let err = result.unwrap_err();
        assert!(
            matches!(err, NutError::NoAnswer { seconds: 5, .. }),
            "{err}"
        );
        assert!(
            took >= READ_DEADLINE && took < READ_DEADLINE + Duration::from_secs(1),
            "{took:?}"
        );
    }
}

#[test]
fn a_server_that_hangs_up_halfway_says_so() {
    let server = server(|mut stream| {
        let mut command = String::new();
        let _ = BufReader::new(&stream).read_line(&mut command);
        let _ = stream.write_all(b"BEGIN LIST VAR ups\nVAR ups ups.st");
    });
    assert!(message(&server, None).ends_with("closed the connection: it ended an answer halfway"));
}

#[test]
fn the_variable_line_is_read_token_by_token() {
    assert_eq!(
        parse_var("VAR ups ups.status \"OL CHRG\"", "ups"),
        Some(("ups.status".into(), "OL CHRG".into()))
    );
    assert_eq!(parse_var("VAR upsx ups.status \"OL\"", "ups"), None);
    assert_eq!(parse_var("VAR ups ups.status \"OL", "ups"), None);
    assert_eq!(parse_var("VAR ups ups.status \"O\"L\"", "ups"), None);
    assert_eq!(
        parse_var("VAR ups a \"\\\"\"", "ups"),
        Some(("a".into(), "\"".into()))
    );
}
