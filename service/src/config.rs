//! Reading a service's configuration file: TOML into the service's own `serde` types, with
//! every error naming the key it is about, and secrets kept out of the file.
//!
//! A secret is written in the file as where to find it — `{ file = "/etc/myna/x" }` (the
//! file must be readable by its owner only, or its group) or `{ env = "VARIABLE" }` — never
//! as its value ([`SecretRef`]); a key that holds a secret is typed [`SecretField`], which
//! refuses a plain value (a string, a number) naming the key without echoing it. The services' own `Config` types name their fields with
//! `#[serde(deny_unknown_fields)]`, so a misspelt key stops the start too.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};

/// Why a configuration could not be read. The message names the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A key is unknown, missing or has a bad value (or the file is not TOML).
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, starting with the key (`key `a.b`: ...`).
        message: String,
    },
    /// A secret named by the file could not be read or is too open.
    #[error("secret `{key}`: {message}")]
    Secret {
        /// The configuration key naming the secret.
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// Reads `path` as TOML into `T`. Errors name the key (`key `edge.listen`: invalid socket
/// address syntax`), or the line for a syntax error.
pub fn load_toml<T: DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_toml(&text).map_err(|message| ConfigError::Invalid {
        path: path.to_path_buf(),
        message,
    })
}

/// Parses `text` as TOML into `T`; the error names the key (see [`load_toml`]).
pub fn parse_toml<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let deserializer = toml::Deserializer::parse(text).map_err(|e| one_line(&e.to_string()))?;
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let key = error.path().to_string();
        let what = one_line(&error.into_inner().to_string());
        if key == "." || key.is_empty() {
            what
        } else {
            format!("key `{key}`: {what}")
        }
    })
}

/// toml's multi-line message (position, the source line, a caret, what is wrong) as one
/// line: what is wrong, then where.
fn one_line(message: &str) -> String {
    let mut lines = message.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default();
    let Some(position) = first.strip_prefix("TOML parse error at ") else {
        return first.to_string();
    };
    let what = message
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or_default();
    format!("{what} (at {position})")
}

/// Where a secret comes from: a file or an environment variable, never the configuration
/// file itself.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// A file holding the secret (surrounding whitespace is trimmed). It must not be
    /// readable or writable by others, nor writable by its group.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// An environment variable holding it.
    #[serde(default)]
    pub env: Option<String>,
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretRef")
            .field("file", &self.file)
            .field("env", &self.env)
            .finish()
    }
}

/// A secret's value. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value (tests, development defaults).
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl SecretRef {
    /// Reads the secret named under configuration key `key` (for the error message).
    pub fn resolve(&self, key: &str) -> Result<Secret, ConfigError> {
        let error = |message: String| ConfigError::Secret {
            key: key.to_string(),
            message,
        };
        let value = match (&self.file, &self.env) {
            (Some(path), None) => {
                check_secret_file(path).map_err(error)?;
                std::fs::read_to_string(path)
                    .map_err(|e| error(format!("cannot read {}: {e}", path.display())))?
            }
            (None, Some(variable)) => std::env::var(variable).map_err(|_| {
                error(format!(
                    "the environment variable {variable} is not set (or not UTF-8)"
                ))
            })?,
            _ => {
                return Err(error(
                    "give exactly one of `file = \"PATH\"` or `env = \"VARIABLE\"`".into(),
                ));
            }
        };
        let value = value.trim();
        if value.is_empty() {
            return Err(error("the secret is empty".into()));
        }
        Ok(Secret(value.to_string()))
    }
}

/// A secret named in a configuration file: `{ file = "PATH" }` or `{ env = "VARIABLE" }`
/// ([`SecretRef`]). Any other value (a string, a number, a list) is refused without being
/// echoed, so a secret pasted into the file never reaches the start's error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretField(pub SecretRef);

impl SecretField {
    /// Reads the secret named under configuration key `key` ([`SecretRef::resolve`]).
    pub fn resolve(&self, key: &str) -> Result<Secret, ConfigError> {
        self.0.resolve(key)
    }
}

const INLINE_SECRET: &str = "a secret never sits in the configuration file: write \
     `{ file = \"PATH\" }` (a file readable by the service only) or `{ env = \"VARIABLE\" }`";

impl<'de> Deserialize<'de> for SecretField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor;
        impl<'de> Visitor<'de> for SecretVisitor {
            type Value = SecretField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("{ file = \"PATH\" } or { env = \"VARIABLE\" }")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<SecretField, E> {
                Err(E::custom(INLINE_SECRET))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<SecretField, E> {
                Err(E::custom(INLINE_SECRET))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<SecretField, E> {
                Err(E::custom(INLINE_SECRET))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<SecretField, E> {
                Err(E::custom(INLINE_SECRET))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<SecretField, E> {
                Err(E::custom(INLINE_SECRET))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<SecretField, A::Error> {
                Err(de::Error::custom(INLINE_SECRET))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SecretField, A::Error> {
                SecretRef::deserialize(de::value::MapAccessDeserializer::new(map)).map(SecretField)
            }
        }
        deserializer.deserialize_any(SecretVisitor)
    }
}

/// Refuses a secret file others may read or write, or its group may write.
pub fn check_secret_file(path: &Path) -> Result<(), String> {
    let metadata =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !metadata.is_file() {
        return Err(format!("{} is not a file", path.display()));
    }
    let mode = crate::private::mode(&metadata);
    if mode & 0o027 != 0 {
        return Err(format!(
            "{} has mode {:o}: others may read it or its group may write it; run \
             `chmod 0600 {}` (or 0640 for a group the service runs in)",
            path.display(),
            mode & 0o777,
            path.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        listen: std::net::SocketAddr,
        #[serde(default)]
        limits: Limits,
        token: Option<SecretRef>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct WithSecrets {
        token: Option<SecretField>,
        #[serde(default)]
        tokens: Vec<SecretField>,
        #[serde(default)]
        tls: Option<Tls>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Tls {
        key: SecretField,
    }

    #[test]
    fn an_inline_secret_is_refused_naming_the_key_not_the_value() {
        let inline = parse_toml::<WithSecrets>("token = \"hunter2-secret\"").unwrap_err();
        assert!(inline.starts_with("key `token`"), "{inline}");
        assert!(
            inline.contains("file = ") && !inline.contains("hunter2"),
            "{inline}"
        );
        let nested =
            parse_toml::<WithSecrets>("[tls]\nkey = \"-----BEGIN PRIVATE KEY-----hunter2\"")
                .unwrap_err();
        assert!(nested.starts_with("key `tls.key`"), "{nested}");
        assert!(!nested.contains("hunter2"), "{nested}");
        let number = parse_toml::<WithSecrets>("tokens = [123456]").unwrap_err();
        assert!(
            number.contains("tokens[0]") && !number.contains("123456"),
            "{number}"
        );
        let unknown =
            parse_toml::<WithSecrets>("token = { file = \"/a\", path = \"/b\" }").unwrap_err();
        assert!(unknown.contains("path"), "{unknown}");
        let good = parse_toml::<WithSecrets>("token = { env = \"X\" }").unwrap();
        assert_eq!(good.token.unwrap().0.env.as_deref(), Some("X"));
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Limits {
        #[serde(default)]
        burst: u32,
    }

    #[test]
    fn errors_name_the_key() {
        let bad_value = parse_toml::<Sample>("listen = \"nowhere\"").unwrap_err();
        assert!(bad_value.starts_with("key `listen`:"), "{bad_value}");
        let unknown =
            parse_toml::<Sample>("listen = \"127.0.0.1:1\"\n[limits]\nburts = 3").unwrap_err();
        assert!(unknown.contains("limits"), "{unknown}");
        assert!(unknown.contains("burts"), "{unknown}");
        let nested =
            parse_toml::<Sample>("listen = \"127.0.0.1:1\"\n[limits]\nburst = -1").unwrap_err();
        assert!(nested.starts_with("key `limits.burst`:"), "{nested}");
        let missing = parse_toml::<Sample>("").unwrap_err();
        assert!(missing.contains("missing field `listen`"), "{missing}");
        let syntax = parse_toml::<Sample>("listen = ").unwrap_err();
        assert!(syntax.contains("line 1"), "{syntax}");
        assert!(parse_toml::<Sample>("listen = \"127.0.0.1:1\"").is_ok());
    }

    #[test]
    fn secrets_come_from_private_files_or_the_environment() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "s3cret\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let from_file = SecretRef {
            file: Some(path.clone()),
            env: None,
        };
        assert_eq!(from_file.resolve("a").unwrap().expose(), "s3cret");
        assert!(!format!("{:?}", from_file.resolve("a").unwrap()).contains("s3cret"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let open = from_file
            .resolve("hospitals.token")
            .unwrap_err()
            .to_string();
        assert!(
            open.contains("hospitals.token") && open.contains("chmod"),
            "{open}"
        );
        let both = SecretRef {
            file: Some(path),
            env: Some("X".into()),
        };
        assert!(both.resolve("a").is_err());
        let unset = SecretRef {
            file: None,
            env: Some("MYNA_TEST_SURELY_UNSET_VARIABLE".into()),
        };
        let message = unset.resolve("k").unwrap_err().to_string();
        assert!(
            message.contains("MYNA_TEST_SURELY_UNSET_VARIABLE"),
            "{message}"
        );
    }
}
