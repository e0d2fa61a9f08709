//! Files and folders that hold personal data or secrets (the SQLite database, `.eml` copies of emails,
//! attachments, backups) are created readable by the service's own user only: files 0600, folders 0700,
//! whatever the process umask. Existing files and folders keep the mode they have.

use std::fs::File;
use std::io;
use std::path::Path;

/// Mode of a file Cordée creates: read and write for its owner only.
pub const FILE_MODE: u32 = 0o600;
/// Mode of a folder Cordée creates: its owner only.
pub const DIR_MODE: u32 = 0o700;

/// Creates `path` and its missing parents, each new one 0700.
pub fn create_dir_all(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(path)
}

/// Creates (or truncates) the file `path` for writing; a new file is 0600.
pub fn create_file(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options.open(path)
}

/// Creates the file `path`, empty and 0600, unless it exists (which is left as it is).
pub fn ensure_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options.open(path).map(|_| ())
}

/// [`create_dir_all`] for async code.
pub async fn create_dir_all_async(path: &Path) -> io::Result<()> {
    let mut builder = tokio::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(DIR_MODE);
    builder.create(path).await
}

/// [`create_file`] for async code.
pub async fn create_file_async(path: &Path) -> io::Result<tokio::fs::File> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(FILE_MODE);
    options.open(path).await
}

/// Restricts an existing file to its owner (0600): for a file written by another library (a copy).
pub fn restrict(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(FILE_MODE))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn files_and_folders_are_private_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        create_dir_all(&nested).unwrap();
        assert_eq!(mode(&dir.path().join("a")), DIR_MODE);
        assert_eq!(mode(&nested), DIR_MODE);
        let file = nested.join("f");
        create_file(&file).unwrap();
        assert_eq!(mode(&file), FILE_MODE);
        let other = nested.join("g");
        ensure_file(&other).unwrap();
        assert_eq!(mode(&other), FILE_MODE);
    }
}
