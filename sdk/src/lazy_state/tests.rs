//! The lazy handles against the off-wasm stand-in for the host's store:
//! reads fall through to the host, writes stay in the call, iteration
//! pages and merges both in order.

use super::host::test_store;
use super::*;
use crate::codec::encode_into;
use crate::context::{begin, end, set_key};

fn msgpack<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_into(&mut buf, value).unwrap();
    buf
}

/// Stores `entries` for `key` as if earlier calls had written them.
fn stored(state_id: u32, key: &str, entries: &[(Vec<u8>, Vec<u8>)]) {
    test_store(|s| {
        for (user_key, value) in entries {
            s.insert((state_id, msgpack(&key), Vec::new(), user_key.clone()), value.clone());
        }
    });
}

fn in_call_for(key: &str) {
    begin(Default::default(), i64::MIN, 0);
    set_key(&msgpack(&key), None);
}

#[test]
fn map_reads_the_host_and_iterates_in_pages_merged_with_the_calls_writes() {
    let map = LazyMapState::<String, i64>::new("lazy-map-test").with_page_size(2);
    let entries: Vec<_> =
        ["a", "b", "c", "d", "e"].iter().enumerate().map(|(i, k)| (msgpack(k), msgpack(&(i as i64)))).collect();
    stored(map.id, "user", &entries);
    in_call_for("user");
    assert_eq!(map.get(&"c".into()).unwrap(), Some(2));
    assert_eq!(map.get(&"z".into()).unwrap(), None);
    map.put(&"b".into(), &10).unwrap();
    map.remove(&"d".into()).unwrap();
    map.put(&"bb".into(), &20).unwrap();
    assert!(!map.contains(&"d".into()).unwrap());
    let all: Vec<(String, i64)> = map.iter().unwrap().map(Result::unwrap).collect();
    let expected = [("a", 0), ("b", 10), ("c", 2), ("e", 4), ("bb", 20)];
    assert_eq!(all, expected.map(|(k, v)| (k.to_string(), v)), "fixstr encodings order by length first");
    let out = end();
    assert_eq!(out.state.state_ids.len(), 3, "only the written entries go back");
}

#[test]
fn list_appends_after_the_stored_elements_and_iterates_in_order() {
    let list = LazyListState::<String>::new("lazy-list-test").with_page_size(3);
    let stored_elements: Vec<_> = (0..4u64).map(|i| (i.to_be_bytes().to_vec(), msgpack(&format!("old{i}")))).collect();
    stored(list.id, "k", &stored_elements);
    stored(list.id, "k", &[(Vec::new(), msgpack(&4u64))]);
    in_call_for("k");
    assert_eq!(list.len().unwrap(), 4);
    list.add(&"new".into()).unwrap();
    assert_eq!(list.get(4).unwrap().as_deref(), Some("new"));
    let all: Vec<String> = list.iter().unwrap().map(Result::unwrap).collect();
    assert_eq!(all, ["old0", "old1", "old2", "old3", "new"]);
    list.update(&["only".to_string()]).unwrap();
    let all: Vec<String> = list.iter().unwrap().map(Result::unwrap).collect();
    assert_eq!(all, ["only"]);
    assert_eq!(list.len().unwrap(), 1);
    end();
}

#[test]
fn lazy_state_outside_a_keyed_call_is_an_error() {
    let map = LazyMapState::<String, i64>::new("lazy-unkeyed");
    let list = LazyListState::<i64>::new("lazy-unkeyed-list");
    begin(Default::default(), i64::MIN, 0);
    assert_eq!(map.get(&"a".into()), Err(StateError::NoKeyedContext));
    assert!(matches!(map.iter(), Err(StateError::NoKeyedContext)));
    assert_eq!(list.add(&1), Err(StateError::NoKeyedContext));
    end();
}

#[test]
fn clearing_a_map_removes_stored_and_written_entries() {
    let map = LazyMapState::<u32, u32>::new("lazy-clear").with_page_size(1);
    stored(map.id, "k", &[(msgpack(&1u32), msgpack(&1u32)), (msgpack(&2u32), msgpack(&2u32))]);
    in_call_for("k");
    map.put(&3, &3).unwrap();
    assert!(!map.is_empty().unwrap());
    map.clear().unwrap();
    assert!(map.is_empty().unwrap());
    assert_eq!(map.iter().unwrap().count(), 0);
    end();
}
