//! C guests (not yet).
use std::path::Path;
use super::GuestBuildError;
pub(super) fn build(dir: &Path, _o: &Path, _w: &Path) -> Result<(), GuestBuildError> { Err(GuestBuildError::NotAJob(dir.into())) }
