//! The terminal in the simulator's hands: raw mode on the alternate
//! screen, log lines kept for the event pane meanwhile, and the terminal
//! given back however the run ends (a panic and Ctrl-Z included).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

use crossterm::{cursor, terminal, QueueableCommand};

/// The size of the terminal on standard output (the one drawn on, even
/// when the process has another controlling terminal), 80×24 if unknown.
pub(super) fn terminal_size() -> (u16, u16) {
    match rustix::termios::tcgetwinsize(std::io::stdout()) {
        Ok(size) if size.ws_col > 0 && size.ws_row > 0 => (size.ws_col, size.ws_row),
        _ => (80, 24),
    }
}

/// Whether standard input (where the keys come from) is a terminal.
pub(crate) fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Whether standard output is a terminal.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Set while the terminal is in the simulator's hands (raw mode, alternate
/// screen): log lines go to the event pane, and a panic restores it first.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Log lines waiting for the event pane.
static PANE_LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Where the logger writes in interactive mode: into the event pane while
/// the panel is drawn (so nothing is painted over), to stderr otherwise.
#[derive(Debug, Default)]
pub struct PaneLog;

impl Write for PaneLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if ACTIVE.load(Ordering::SeqCst) {
            let text = String::from_utf8_lossy(buf);
            if let Ok(mut pane) = PANE_LOG.lock() {
                pane.extend(
                    text.lines()
                        .filter(|line| !line.is_empty())
                        .map(str::to_owned),
                );
            }
            Ok(buf.len())
        } else {
            std::io::stderr().write(buf)
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

fn restore_terminal() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = std::io::stdout();
        let _ = out.queue(cursor::Show);
        let _ = out.queue(terminal::LeaveAlternateScreen);
        let _ = out.flush();
        let _ = terminal::disable_raw_mode();
        // what was logged in the last moments, where it can still be read
        if let Ok(mut pane) = PANE_LOG.lock() {
            for line in pane.drain(..) {
                eprintln!("{line}");
            }
        }
    }
}

/// The terminal in raw mode on the alternate screen, with the cursor
/// hidden; given back when dropped, and by a panic hook before a panic
/// message is printed (the release build aborts on panic, which runs no
/// destructors).
pub(crate) struct Session;

impl Session {
    pub(crate) fn start() -> std::io::Result<Self> {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore_terminal();
                previous(info);
            }));
        });
        take_terminal()?;
        Ok(Session)
    }
}

/// Raw mode, the alternate screen, the cursor hidden.
fn take_terminal() -> std::io::Result<()> {
    terminal::enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let mut out = std::io::stdout();
    out.queue(terminal::EnterAlternateScreen)?;
    out.queue(cursor::Hide)?;
    out.queue(terminal::Clear(terminal::ClearType::All))?;
    out.flush()
}

/// SIGTSTP or Ctrl-Z: the terminal is given back, the process stops (as
/// the default action of SIGTSTP would), and on SIGCONT takes the terminal
/// again. The button stays as it was meanwhile.
pub(super) fn suspend() -> std::io::Result<()> {
    restore_terminal();
    nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP)?;
    take_terminal()
}

impl Drop for Session {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// The log lines written since the last call, for the event pane.
pub(super) fn take_pane_log() -> Vec<String> {
    PANE_LOG
        .lock()
        .map(|mut pane| pane.drain(..).collect())
        .unwrap_or_default()
}
