//! Files only the service user may read: data directories 0700, databases, their WAL and
//! SHM files and keys 0600.
//!
//! The process umask is set to 077 at start ([`restrict_umask`]), so every file the
//! service or SQLite creates afterwards is private; [`prepare_data_dir`] checks and
//! tightens what already exists.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

/// The permission bits of a file.
pub fn mode(metadata: &std::fs::Metadata) -> u32 {
    metadata.permissions().mode() & 0o7777
}

/// Makes every file and directory the process creates from now on private to its user
/// (umask 077). Call first thing in `main`.
pub fn restrict_umask() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Why a data directory was refused.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// Creating or reading it failed.
    #[error("data directory {path}: {source}")]
    Io {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Others (or its group) may write it: they could swap the database or the keys.
    #[error(
        "data directory {path} has mode {mode:o}: others can write it; run `chmod 0700 {path}` \
         (the service refuses to keep its database and keys where others can replace them)"
    )]
    Writable {
        /// The directory.
        path: String,
        /// Its mode.
        mode: u32,
    },
    /// It is not a directory.
    #[error("data directory {path} is not a directory")]
    NotADirectory {
        /// The path.
        path: String,
    },
}

/// Creates `dir` (mode 0700) if missing; refuses it if its group or others may write it;
/// otherwise makes it 0700 and every regular file directly in it 0600 (a database created
/// before files were private, its WAL and SHM, keys).
pub fn prepare_data_dir(dir: &Path) -> Result<(), DataDirError> {
    let path = dir.display().to_string();
    let io = |source| DataDirError::Io {
        path: path.clone(),
        source,
    };
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)?;
        // `recursive` applies the mode to the last component only through the umask; set it.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        return Ok(());
    }
    let metadata = std::fs::metadata(dir).map_err(io)?;
    if !metadata.is_dir() {
        return Err(DataDirError::NotADirectory { path });
    }
    let dir_mode = mode(&metadata);
    if dir_mode & 0o022 != 0 {
        return Err(DataDirError::Writable {
            path,
            mode: dir_mode,
        });
    }
    if dir_mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let metadata = entry.metadata().map_err(io)?;
        if metadata.is_file() && mode(&metadata) & 0o077 != 0 {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))
                .map_err(io)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(path: &Path) -> u32 {
        mode(&std::fs::metadata(path).unwrap()) & 0o777
    }

    #[test]
    fn production_data_dir_is_created_private_and_tightened() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        prepare_data_dir(&dir).unwrap();
        assert_eq!(mode_of(&dir), 0o700);
        let db = dir.join("edge.sqlite3");
        std::fs::write(&db, "x").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        prepare_data_dir(&dir).unwrap();
        assert_eq!(mode_of(&dir), 0o700);
        assert_eq!(mode_of(&db), 0o600);
    }

    #[test]
    fn production_refuses_a_data_dir_others_can_write() {
        let root = tempfile::tempdir().unwrap();
        for open in [0o777, 0o770, 0o702] {
            std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(open)).unwrap();
            let error = prepare_data_dir(root.path()).unwrap_err().to_string();
            assert!(error.contains("chmod 0700"), "{error}");
        }
        let file = root.path().join("f");
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::write(&file, "").unwrap();
        assert!(matches!(
            prepare_data_dir(&file),
            Err(DataDirError::NotADirectory { .. })
        ));
    }
}
