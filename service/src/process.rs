//! Process setup: tracing output, the open-file limit, loopback-only listening.

/// How the service writes its log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line, with the span fields (request id, route, incident id)
    /// as fields: for a log collector.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "unknown log format `{other}`: use `text` or `json`"
            )),
        }
    }
}

/// Installs the tracing subscriber: `RUST_LOG` if set, else `default_filter`, human-readable.
pub fn init_tracing(default_filter: &str) {
    init_tracing_as(default_filter, LogFormat::Text);
}

/// Installs the tracing subscriber writing `format`: `RUST_LOG` if set, else
/// `default_filter`.
pub fn init_tracing_as(default_filter: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

/// Refuses a listen address that is not loopback, saying `why` the service must stay local
/// (development credentials, no sign-in yet).
pub fn require_loopback(addr: std::net::SocketAddr, why: &str) -> std::io::Result<()> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("refusing to listen on {addr}: {why}; use a loopback address"),
        ))
    }
}

/// Raises the process's soft limit on open files to its hard limit: a service holds a
/// descriptor per connection, and the national fleet keeps 5,334 tablets connected to one
/// edge, far above the usual soft default of 1,024. Returns the soft limit afterwards
/// (`None`: unlimited). Logs a warning when it stays below what
/// [`crate::tls::MAX_CONNECTIONS`] needs, so an operator sees why connections are refused.
pub fn raise_open_file_limit() -> std::io::Result<Option<u64>> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        setrlimit(Resource::Nofile, limit)?;
    }
    // Connections plus the databases, logs and listeners.
    let wanted = crate::tls::MAX_CONNECTIONS as u64 + 256;
    if let Some(soft) = limit.current
        && soft < wanted
    {
        tracing::warn!(
            limit = soft,
            wanted,
            "open-file limit below the connection cap: raise it (e.g. LimitNOFILE) or connections will fail"
        );
    }
    Ok(limit.current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_pass() {
        assert!(require_loopback(([127, 0, 0, 1], 80).into(), "dev").is_ok());
        assert!(require_loopback(([0, 0, 0, 0], 80).into(), "dev").is_err());
        assert!(require_loopback(([192, 168, 1, 2], 80).into(), "dev").is_err());
    }
}
