//! The reduce functions of Flink's built-in keyed aggregations (`sum`,
//! `min`, `max`, `min_by`, `max_by`), run on the keyed-reduce path so
//! their running values stay in the instance (keep-state) like any reduce.
//!
//! Semantics as in Flink: `min`/`max` replace only the compared field of
//! the running record (the other fields keep the values of the key's first
//! record); `min_by`/`max_by` keep the whole record holding the extreme,
//! the earlier one on ties.

use std::ops::AddAssign;

/// `sum`: adds the next record's field into the running record's.
pub(crate) fn sum<T, N, F>(field: F) -> impl FnMut(T, T) -> T + 'static
where
    N: AddAssign + Copy,
    F: Fn(&mut T) -> &mut N + 'static,
{
    move |mut acc: T, mut next: T| {
        let add = *field(&mut next);
        *field(&mut acc) += add;
        acc
    }
}

/// `min` (`keep_less`) or `max`: the running record with its field
/// replaced by the next record's when that one is strictly more extreme.
pub(crate) fn extreme_field<T, N, F>(field: F, keep_less: bool) -> impl FnMut(T, T) -> T + 'static
where
    N: PartialOrd + Copy,
    F: Fn(&mut T) -> &mut N + 'static,
{
    move |mut acc: T, mut next: T| {
        let candidate = *field(&mut next);
        let current = field(&mut acc);
        if (keep_less && candidate < *current) || (!keep_less && candidate > *current) {
            *current = candidate;
        }
        acc
    }
}

/// `min_by` (`keep_less`) or `max_by`: the next record when its key is
/// strictly more extreme, else the running one.
pub(crate) fn extreme_record<T, N, F>(by: F, keep_less: bool) -> impl FnMut(T, T) -> T + 'static
where
    N: PartialOrd,
    F: Fn(&T) -> N + 'static,
{
    move |acc: T, next: T| {
        let (candidate, current) = (by(&next), by(&acc));
        match (keep_less && candidate < current) || (!keep_less && candidate > current) {
            true => next,
            false => acc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Rec = (&'static str, i64, i64);

    fn fold(records: &[Rec], mut f: impl FnMut(Rec, Rec) -> Rec) -> Vec<Rec> {
        let mut out = Vec::new();
        let mut acc: Option<Rec> = None;
        for &r in records {
            let next = match acc.take() {
                Some(a) => f(a, r),
                None => r,
            };
            out.push(next);
            acc = Some(next);
        }
        out
    }

    const RECORDS: [Rec; 4] = [("a", 5, 1), ("b", 3, 2), ("c", 3, 3), ("d", 9, 4)];

    #[test]
    fn min_and_max_replace_only_the_field_compared() {
        let min = fold(&RECORDS, extreme_field(|r: &mut Rec| &mut r.1, true));
        assert_eq!(min, [("a", 5, 1), ("a", 3, 1), ("a", 3, 1), ("a", 3, 1)]);
        let max = fold(&RECORDS, extreme_field(|r: &mut Rec| &mut r.1, false));
        assert_eq!(max, [("a", 5, 1), ("a", 5, 1), ("a", 5, 1), ("a", 9, 1)]);
    }

    #[test]
    fn min_by_and_max_by_keep_the_whole_record_and_the_first_on_ties() {
        let min_by = fold(&RECORDS, extreme_record(|r: &Rec| r.1, true));
        assert_eq!(min_by, [("a", 5, 1), ("b", 3, 2), ("b", 3, 2), ("b", 3, 2)]);
        let max_by = fold(&RECORDS, extreme_record(|r: &Rec| r.1, false));
        assert_eq!(max_by, [("a", 5, 1), ("a", 5, 1), ("a", 5, 1), ("d", 9, 4)]);
    }

    #[test]
    fn sum_adds_the_field_and_keeps_the_first_records_others() {
        let sum = fold(&RECORDS, sum(|r: &mut Rec| &mut r.2));
        assert_eq!(sum, [("a", 5, 1), ("a", 5, 3), ("a", 5, 6), ("a", 5, 10)]);
    }
}
