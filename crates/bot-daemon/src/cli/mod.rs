//! Subcommands of `bot-daemon`.

pub mod backtest;
pub mod basket;
pub mod health;
pub mod plan;
pub mod simulate;

/// Writes `text` to standard output. A closed pipe (`bot-daemon basket list |
/// head`) is not an error: the reader has what it wanted. Never panics
/// (`println!` does on a broken pipe).
///
/// # Errors
/// Any other write error.
pub fn emit(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
