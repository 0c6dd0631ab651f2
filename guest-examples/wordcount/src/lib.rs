//! Word count: splits lines into words and emits a running `(word, count)`
//! each time a word is seen.
//!
//! ```text
//! --input PATH | --hostname HOST --port PORT   where lines come from
//! --output DIR | --discard                     where counts go (default: print)
//! ```

use wflink_sdk::prelude::*;

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("wordcount");
    let lines = match (args.get("input"), args.get("hostname")) {
        (Some(path), _) => env.read_text_file(path),
        (None, Some(hostname)) => env.socket_text_stream(hostname, args.required_parsed("port")?),
        (None, None) => {
            return Err(JobError::invalid_arguments(
                "wordcount needs --input PATH or --hostname HOST --port PORT",
            ));
        }
    };
    let counts = lines
        .flat_map(|line: String, out: &mut Collector<(String, i64)>| {
            for word in tokenize(&line) {
                out.collect((word, 1));
            }
        })
        .name("tokenize")
        .key_by_ref(|(word, _): &(String, i64)| word)
        .sum(1)
        .name("count");
    if let Some(dir) = args.get("output") {
        counts.write_as_text(dir);
    } else if args.flag("discard") {
        counts.discard();
    } else {
        counts.print();
    }
    Ok(())
}

/// The ASCII rule: lowercase ASCII letters; every byte that is not an ASCII
/// letter or digit separates words (non-ASCII bytes too); no empty words.
fn tokenize(line: &str) -> impl Iterator<Item = String> + '_ {
    line.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_ascii_lowercase)
}

wflink_sdk::export_job!(build);

#[cfg(test)]
mod tests {
    use super::tokenize;

    #[test]
    fn splits_on_non_ascii_alphanumerics_and_lowercases() {
        let words: Vec<_> = tokenize("To be, or NOT to-be: café 42x").collect();
        assert_eq!(words, ["to", "be", "or", "not", "to", "be", "caf", "42x"]);
    }
}
