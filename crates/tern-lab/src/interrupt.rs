//! Interrupts (SIGINT, SIGTERM) as a flag that the long steps of `up` and of the demo look at.
//!
//! The binary owns the signal handling (it installs the handler and raises the flag); tern-lab
//! only reads the flag between steps and in its waiting loops, and answers with
//! [`LabError::Interrupted`] after removing what it made. A second signal while that cleanup
//! runs changes nothing: the flag is already up and the cleanup goes on to the end.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::error::LabError;

/// SIGINT (Ctrl-C).
pub const SIGINT: i32 = 2;
/// SIGTERM (`kill`, systemd stop).
pub const SIGTERM: i32 = 15;

/// A shared "stop now" flag holding the signal number that raised it (0: none yet).
#[derive(Clone, Debug, Default)]
pub struct Interrupt(Arc<AtomicI32>);

impl Interrupt {
    /// A flag nobody raised.
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// Raises the flag with `signal` (the first signal is kept).
    pub fn raise(&self, signal: i32) {
        let _ = self
            .0
            .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// The signal that raised the flag, if any.
    pub fn signal(&self) -> Option<i32> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            s => Some(s),
        }
    }

    /// `Err(Interrupted)` once the flag is up (nothing removed yet: the caller cleans up and
    /// fills in what it removed).
    pub fn check(&self) -> Result<(), LabError> {
        match self.signal() {
            None => Ok(()),
            Some(signal) => Err(LabError::Interrupted {
                signal,
                namespaces: 0,
                processes: 0,
            }),
        }
    }
}

/// `SIGINT`, `SIGTERM` or `signal N`.
pub fn name(signal: i32) -> String {
    crate::error::signal_name(signal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_signal_wins_and_check_fails_after_it() {
        let i = Interrupt::new();
        assert!(i.check().is_ok());
        let j = i.clone();
        j.raise(SIGTERM);
        j.raise(SIGINT);
        assert_eq!(i.signal(), Some(SIGTERM));
        assert!(matches!(
            i.check(),
            Err(LabError::Interrupted {
                signal: SIGTERM,
                ..
            })
        ));
        assert_eq!(name(SIGINT), "SIGINT");
        assert_eq!(name(9), "signal 9");
    }
}
