//! The order-payments example (`guest-examples/order-payments`) run from
//! its guide: its own data files at parallelism 1 and 2 print exactly the
//! lines its README lists, and so does its Python port
//! (`guest-examples/order-payments-python`).

use std::time::Duration;

use crate::common::*;

const LIMIT: Duration = Duration::from_secs(120);

/// The output the example's README shows for `data/`, sorted.
pub(crate) fn expected() -> Vec<String> {
    let readme = std::fs::read_to_string(wflink::guest_build::repo::example("order-payments").join("README.md"))
        .expect("the example's README");
    let block = readme.split("```text\n").nth(1).expect("an output block in the README");
    let lines: Vec<String> = block.split("\n```").next().unwrap().lines().map(str::to_owned).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "the README lists the output sorted");
    sorted
}

/// Runs the component `wasm` on the example's data at parallelism `p`;
/// returns its printed lines, sorted and without the subtask prefix.
pub(crate) fn run(wasm: &std::path::Path, p: u32) -> Vec<String> {
    let data = wflink::guest_build::repo::example("order-payments").join("data");
    let mut command = wflink();
    command.args(["run", "--local", "-p", &p.to_string()]).arg(wasm);
    command.arg("--orders").arg(data.join("orders.csv")).arg("--payments").arg(data.join("payments.csv"));
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "order-payments at p={p} failed: {}", String::from_utf8_lossy(&output.stderr));
    sorted_lines(&String::from_utf8_lossy(&output.stdout))
}

#[test]
fn order_payments_prints_its_guides_exact_output_at_parallelism_1_and_2() {
    let expected = expected();
    assert_eq!(expected.len(), 14, "{expected:#?}");
    for p in [1, 2] {
        assert_eq!(run(&example_wasm("order-payments"), p), expected, "order-payments at p={p}");
    }
}

/// The Python port prints exactly what the Rust example prints.
#[test]
fn order_payments_python_prints_the_same_exact_output_at_parallelism_1_and_2() {
    let expected = expected();
    for p in [1, 2] {
        assert_eq!(run(&example_wasm("order-payments-python"), p), expected, "order-payments-python at p={p}");
    }
}
