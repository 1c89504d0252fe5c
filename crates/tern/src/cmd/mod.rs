//! One module per subcommand: its clap `Args` and a `run` that returns an [`crate::exit::Exit`].

pub mod atlas;
pub mod check;
pub mod completions;
pub mod ctl;
pub mod dns;
pub mod lab;
pub mod observe;
pub mod plan;
pub mod providers;
pub mod publish;
pub mod render;
pub mod run;
pub mod simulate;
