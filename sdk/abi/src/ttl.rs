//! How a keyed state with a time to live stores its values, written once
//! for the guest SDK (which stamps and reads them) and the host (which
//! drops expired ones from snapshots, Flink's `cleanupFullSnapshot`).
//!
//! A value of a state with a time to live is the processing time of its
//! last update (8 bytes, big-endian milliseconds) before the value's
//! encoding, as Flink stores a `TtlValue`. A list state gives each element
//! its own stamp, as Flink does: the stored list is its elements back to
//! back, each as the stamp, the element's length (4 bytes, big-endian)
//! and the element's encoding, so the host can cut a list without
//! decoding its elements.

use alloc::vec::Vec;

/// Bytes of a stamp.
const STAMP: usize = 8;
/// Bytes of a list element's stamp and length.
const ELEMENT_HEAD: usize = STAMP + 4;

/// The stored form of `value` written at `now` (ms).
pub fn stamped(now: i64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(STAMP + value.len());
    out.extend_from_slice(&now.to_be_bytes());
    out.extend_from_slice(value);
    out
}

/// The stored form's value, or `None` when it expired at `now` (`ttl_ms`
/// after its stamp) or is too short to hold a stamp (which only an entry
/// written without a time to live can be: it counts as expired).
pub fn live(stored: &[u8], ttl_ms: i64, now: i64) -> Option<&[u8]> {
    let (at, value) = stored.split_first_chunk::<STAMP>()?;
    (now < i64::from_be_bytes(*at).saturating_add(ttl_ms)).then_some(value)
}

/// Appends `element` (its encoding), stamped `now`, to the stored list `list`.
pub fn push_element(list: &mut Vec<u8>, now: i64, element: &[u8]) {
    list.reserve(ELEMENT_HEAD + element.len());
    list.extend_from_slice(&now.to_be_bytes());
    list.extend_from_slice(&(element.len() as u32).to_be_bytes());
    list.extend_from_slice(element);
}

/// The elements of a stored list with their stamps, in order. A tail too
/// short for its head or length ends the list (it counts as expired).
pub fn elements(stored: &[u8]) -> impl Iterator<Item = (i64, &[u8])> {
    let mut rest = stored;
    core::iter::from_fn(move || {
        let (at, after) = rest.split_first_chunk::<STAMP>()?;
        let (len, after) = after.split_first_chunk::<4>()?;
        let len = u32::from_be_bytes(*len) as usize;
        if after.len() < len {
            rest = &[];
            return None;
        }
        let (element, after) = after.split_at(len);
        rest = after;
        Some((i64::from_be_bytes(*at), element))
    })
}

/// What is left of a stored entry of a state with a time to live at some time.
#[derive(Debug, PartialEq, Eq)]
pub enum Pruned {
    /// All of it: nothing expired.
    Whole,
    /// Nothing: it expired (a list: every element did).
    Expired,
    /// A list's elements that did not expire, as it is stored.
    Part(Vec<u8>),
}

/// What is left at `now` of the stored entry `stored` of a state whose
/// time to live is `ttl_ms`; `list`: the state is a list state.
pub fn prune(stored: &[u8], ttl_ms: i64, now: i64, list: bool) -> Pruned {
    if !list {
        return match live(stored, ttl_ms, now) {
            Some(_) => Pruned::Whole,
            None => Pruned::Expired,
        };
    }
    let is_live = |at: i64| now < at.saturating_add(ttl_ms);
    let (mut kept, mut all) = (0, true);
    for (at, element) in elements(stored) {
        match is_live(at) {
            true => kept += ELEMENT_HEAD + element.len(),
            false => all = false,
        }
    }
    match (kept, all && kept == stored.len()) {
        (_, true) => Pruned::Whole,
        (0, false) => Pruned::Expired,
        (_, false) => {
            let mut out = Vec::with_capacity(kept);
            for (at, element) in elements(stored).filter(|&(at, _)| is_live(at)) {
                push_element(&mut out, at, element);
            }
            Pruned::Part(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_lives_exactly_its_ttl_from_its_stamp() {
        let stored = stamped(1_000, b"v");
        assert_eq!(live(&stored, 500, 1_499), Some(&b"v"[..]));
        assert_eq!(live(&stored, 500, 1_500), None);
        assert_eq!(live(b"short", 500, 0), None, "an entry without a stamp counts as expired");
        assert_eq!(prune(&stored, 500, 1_000, false), Pruned::Whole);
        assert_eq!(prune(&stored, 500, 1_500, false), Pruned::Expired);
    }

    #[test]
    fn a_list_keeps_the_elements_whose_own_ttl_has_not_passed() {
        let mut list = Vec::new();
        push_element(&mut list, 1_000, b"old");
        push_element(&mut list, 2_000, b"new");
        push_element(&mut list, 1_200, b"");
        assert_eq!(elements(&list).collect::<Vec<_>>(), [(1_000, &b"old"[..]), (2_000, b"new"), (1_200, b"")]);
        assert_eq!(prune(&list, 500, 1_400, true), Pruned::Whole);
        let mut expected = Vec::new();
        push_element(&mut expected, 2_000, b"new");
        assert_eq!(prune(&list, 500, 1_700, true), Pruned::Part(expected));
        assert_eq!(prune(&list, 500, 2_500, true), Pruned::Expired);
    }

    #[test]
    fn a_cut_list_keeps_its_whole_elements_only() {
        let mut list = Vec::new();
        push_element(&mut list, 1_000, b"abc");
        let whole = list.len();
        push_element(&mut list, 1_000, b"def");
        list.truncate(list.len() - 1);
        assert_eq!(elements(&list).count(), 1);
        let mut expected = list.clone();
        expected.truncate(whole);
        assert_eq!(prune(&list, 500, 1_100, true), Pruned::Part(expected), "the cut element is dropped");
    }
}
