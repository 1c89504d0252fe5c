//! Exit codes of every tern command, documented in the README.

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: done; for `check`, clean or warnings only.
    Ok,
    /// 1: the command ran and found errors (e.g. `tern check` diagnostics of severity error).
    Findings,
    /// 2: unusable input or a failure to run (unreadable file, bad syntax, missing tool).
    Unusable,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(match e {
            Exit::Ok => 0,
            Exit::Findings => 1,
            Exit::Unusable => 2,
        })
    }
}
