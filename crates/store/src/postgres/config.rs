//! Connection settings of the Postgres store.

use std::time::Duration;

/// Where and how to connect. `Default` reads nothing; [`PgConfig::from_env`] honours
/// `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq)]
pub struct PgConfig {
    /// `postgres://user[:password]@host:port/database`.
    pub database_url: String,
    /// Pool size: the stream's writers plus the API's readers share it.
    pub max_connections: u32,
    /// Server-side limit per statement (`statement_timeout`), so a stuck query cannot hold a
    /// connection forever.
    pub statement_timeout: Duration,
    /// How long to wait for a connection (and for the first one at start-up).
    pub connect_timeout: Duration,
}

/// Default database: the local server with trust auth (architecture.md, "Real components").
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/deeprubin";

impl Default for PgConfig {
    fn default() -> Self {
        Self {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            max_connections: 10, // sqlx's own default pool size
            statement_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl PgConfig {
    /// Defaults, with `database_url` from `DATABASE_URL` when set.
    pub fn from_env() -> Self {
        let mut config = Self::default();
        if let Ok(url) = std::env::var("DATABASE_URL")
            && !url.trim().is_empty()
        {
            config.database_url = url;
        }
        config
    }

    /// A config for another URL with the other defaults.
    pub fn with_url(url: impl Into<String>) -> Self {
        Self {
            database_url: url.into(),
            ..Self::default()
        }
    }
}

/// The URL without its password, for error messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((user_info, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match user_info.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://me:secret@db:5432/x"),
            "postgres://me:***@db:5432/x"
        );
        assert_eq!(redact(DEFAULT_DATABASE_URL), DEFAULT_DATABASE_URL);
    }
}
