//! End offsets: slicing a buffer by them, and checking them once.

use core::fmt;

/// Why a layout from the other side of the boundary was refused: its
/// offsets or list lengths do not describe its buffers. Always a bug in
/// the side that built it, never in user data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutError {
    /// An end offset is smaller than the one before or past the buffer.
    Ends {
        /// Which list, e.g. "batch key".
        what: &'static str,
        /// The offending offset.
        end: u32,
        /// The offset before it.
        previous: u32,
        /// The buffer's length.
        len: usize,
    },
    /// A list has another length than the items it describes.
    Count {
        /// Which list, e.g. "batch timestamps".
        what: &'static str,
        /// Its length.
        len: usize,
        /// The number of items.
        items: usize,
    },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutError::Ends { what, end, previous, len } => {
                write!(f, "{what} offsets out of order or beyond the buffer: {end} after {previous} in {len} bytes")
            }
            LayoutError::Count { what, len, items } => write!(f, "{len} {what} entries for {items} items"),
        }
    }
}

impl core::error::Error for LayoutError {}

/// Item `i` of `data` as `ends` delimits it. Panics on offsets that were
/// not checked with [`check_ends`].
#[inline]
pub fn slice<'a>(data: &'a [u8], ends: &[u32], i: usize) -> &'a [u8] {
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &data[start..ends[i] as usize]
}

/// Every item of `data` as `ends` delimits it, in order. Call only on
/// checked offsets.
pub fn slices<'a>(data: &'a [u8], ends: &'a [u32]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut start = 0usize;
    ends.iter().map(move |&end| {
        let item = &data[start..end as usize];
        start = end as usize;
        item
    })
}

/// Checks that `ends` never decrease and stay within a buffer of `len`
/// bytes, so [`slice`] and [`slices`] cannot fail on them.
pub fn check_ends(what: &'static str, ends: &[u32], len: usize) -> Result<(), LayoutError> {
    let mut previous = 0;
    for &end in ends {
        if end < previous || end as usize > len {
            return Err(LayoutError::Ends { what, end, previous, len });
        }
        previous = end;
    }
    Ok(())
}

/// Checks that a per-item list of `len` entries matches `items`.
pub fn check_count(what: &'static str, len: usize, items: usize) -> Result<(), LayoutError> {
    if len == items { Ok(()) } else { Err(LayoutError::Count { what, len, items }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_follow_the_ends_and_bad_ends_are_named() {
        let data = b"abcdef";
        let ends = [1, 1, 4, 6];
        assert!(check_ends("test", &ends, data.len()).is_ok());
        let items: alloc::vec::Vec<&[u8]> = slices(data, &ends).collect();
        assert_eq!(items, [&b"a"[..], b"", b"bcd", b"ef"]);
        assert_eq!(slice(data, &ends, 2), b"bcd");
        let err = check_ends("test", &[2, 1], 6).unwrap_err();
        assert_eq!(alloc::format!("{err}"), "test offsets out of order or beyond the buffer: 1 after 2 in 6 bytes");
        assert!(check_ends("test", &[7], 6).is_err());
        assert!(check_count("test", 2, 3).is_err());
    }
}
