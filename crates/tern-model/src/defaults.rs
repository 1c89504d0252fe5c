//! Named defaults and limits of tern.toml values (STYLE habit 8), re-exported at the crate root.

use std::time::Duration;

/// Time between two health checks when `interval` is not given.
pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(5);
/// Time one health check may take when `timeout` is not given.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// Consecutive successes before a service counts as healthy.
pub const DEFAULT_RISE: u32 = 3;
/// Consecutive failures before a service counts as unhealthy.
pub const DEFAULT_FALL: u32 = 3;
/// HTTP status an http check expects when `expect_status` is not given.
pub const DEFAULT_HTTP_STATUS: u16 = 200;
/// Prepends of a `degrade` that names neither prepend nor communities.
pub const DEFAULT_DEGRADE_PREPEND: u8 = 3;
/// Most prepends of our own AS we accept: longer paths only add noise.
pub const MAX_PREPEND: u8 = 10;
/// Oldest VRP file `tern check` uses without a warning (validators refresh hourly).
pub const MAX_VRP_AGE: Duration = Duration::from_secs(24 * 3600);
/// Longest TCP-MD5 key (Linux `TCP_MD5SIG_MAXKEYLEN`, RFC 2385 sets no limit).
pub const MAX_MD5_KEY_LEN: usize = 80;
