//! The top-level modules of `runtime/src` depend on each other in one
//! direction only: no module reaches, through `crate::` paths in code
//! (comments aside), a module that reaches back to it. A change that
//! closes a cycle fails here, naming the cycle and a line of each edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module's `crate::` dependencies, with a place each is used.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let modules: BTreeSet<String> = std::fs::read_dir(src)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter_map(|path| {
            let name = path.file_stem()?.to_str()?.to_string();
            let module = path.is_dir() || path.extension().is_some_and(|e| e == "rs");
            (module && name != "lib" && name != "main").then_some(name)
        })
        .collect();
    let mut graph: BTreeMap<String, BTreeMap<String, String>> =
        modules.iter().map(|m| (m.clone(), BTreeMap::new())).collect();
    for file in rust_files(src) {
        let relative = file.strip_prefix(src).unwrap();
        let top = relative.components().next().unwrap().as_os_str().to_str().unwrap();
        let top = top.strip_suffix(".rs").unwrap_or(top).to_string();
        if !modules.contains(&top) {
            continue;
        }
        for (number, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for used in code.split("crate::").skip(1) {
                let name: String = used.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if name != top && modules.contains(&name) {
                    let place = format!("{}:{}", relative.display(), number + 1);
                    graph.get_mut(&top).unwrap().entry(name).or_insert(place);
                }
            }
        }
    }
    graph
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// A cycle of the graph as the modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeMap<String, String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeMap<String, String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(module) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = path.iter().position(|m| m == module).unwrap();
                let mut cycle = path[start..].to_vec();
                cycle.push(module.to_string());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(module.to_string(), Mark::Open);
        path.push(module.to_string());
        for next in graph[module].keys() {
            if let Some(cycle) = visit(next, graph, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(module.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph.keys().find_map(|module| visit(module, graph, &mut marks, &mut Vec::new()))
}

#[test]
fn the_top_level_modules_form_no_cycle() {
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(graph.len() > 10, "the modules of runtime/src were not found: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        let edges: Vec<String> =
            cycle.windows(2).map(|w| format!("{} -> {} ({})", w[0], w[1], graph[&w[0]][&w[1]])).collect();
        panic!("the top-level modules depend on each other in a circle:\n  {}", edges.join("\n  "));
    }
}

#[test]
fn a_cycle_is_found_and_named() {
    let edge = |to: &str| (to.to_string(), "here.rs:1".to_string());
    let graph = BTreeMap::from([
        ("a".to_string(), BTreeMap::from([edge("b")])),
        ("b".to_string(), BTreeMap::from([edge("c")])),
        ("c".to_string(), BTreeMap::from([edge("a")])),
        ("d".to_string(), BTreeMap::from([edge("a")])),
    ]);
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    let acyclic = BTreeMap::from([("a".to_string(), BTreeMap::from([edge("b")])), ("b".to_string(), BTreeMap::new())]);
    assert_eq!(find_cycle(&acyclic), None);
}
