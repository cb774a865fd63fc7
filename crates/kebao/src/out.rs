//! Standard output for every command, through one writer.
//!
//! `println!` panics when standard output is a closed pipe (`kebao index build … | head -n 1`).
//! Here a closed pipe only closes the output: later writes are dropped, the command goes on
//! quietly to its end — so files it writes (`--out`, …) are never lost — and exits with 0, as
//! `head` expects. Any other write error is kept and reported when the command ends.
//!
//! Write with [`outln!`] (like `println!`), [`write_fmt`] (like `print!`) or [`write_all`].

use std::io::{ErrorKind, Write};
use std::sync::{Mutex, PoisonError};

enum State {
    Open,
    /// The reader went away (`EPIPE`): nothing more is written, and that is no error.
    Closed,
    /// Writing failed otherwise (a full disk, …): nothing more is written; reported at the end.
    Failed(std::io::Error),
}

static STATE: Mutex<State> = Mutex::new(State::Open);

fn state() -> std::sync::MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn classify(e: std::io::Error) -> State {
    if e.kind() == ErrorKind::BrokenPipe {
        State::Closed
    } else {
        State::Failed(e)
    }
}

fn with(f: impl FnOnce(&mut std::io::StdoutLock<'static>) -> std::io::Result<()>) {
    let mut state = state();
    if let State::Open = *state {
        if let Err(e) = f(&mut std::io::stdout().lock()) {
            *state = classify(e);
        }
    }
}

/// Writes formatted text to standard output (what [`outln!`] calls).
pub fn write_fmt(args: std::fmt::Arguments<'_>) {
    with(|w| w.write_fmt(args));
}

/// Writes bytes to standard output.
pub fn write_all(bytes: &[u8]) {
    with(|w| w.write_all(bytes));
}

/// Whether standard output no longer takes anything (closed pipe or failed write): work whose
/// only product is standard output can be skipped.
pub fn closed() -> bool {
    !matches!(*state(), State::Open)
}

/// Flushes standard output at the end of a command. A closed pipe is not an error; any other
/// write error met on the way is.
pub fn finish() -> std::io::Result<()> {
    let mut state = state();
    if let State::Open = *state {
        if let Err(e) = std::io::stdout().lock().flush() {
            *state = classify(e);
        }
    }
    match std::mem::replace(&mut *state, State::Closed) {
        State::Failed(e) => Err(e),
        State::Open | State::Closed => Ok(()),
    }
}

/// Whether an error comes from a closed pipe (an `EPIPE` anywhere in its chain).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == ErrorKind::BrokenPipe))
}

/// `println!` to standard output through [`crate::out`]: never panics.
macro_rules! outln {
    () => {
        $crate::out::write_fmt(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::out::write_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}
