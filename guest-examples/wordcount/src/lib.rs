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
    // One reused record for every word: `collect_ref` encodes it where it
    // stands, so no word allocates.
    let mut pair = (String::new(), 1);
    let counts = lines
        .flat_map(move |mut line: String, out: &mut Collector<(String, i64)>| {
            line.make_ascii_lowercase();
            for word in words(&line) {
                pair.0.clear();
                pair.0.push_str(word);
                out.collect_ref(&pair);
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

/// The words of `line` by the ASCII rule: every character that is not an
/// ASCII letter or digit separates words (non-ASCII ones too); no empty
/// words. The job lowercases the line first.
fn words(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| !c.is_ascii_alphanumeric()).filter(|word| !word.is_empty())
}

wflink_sdk::export_job!(build);

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn splits_on_non_ascii_alphanumerics() {
        let words: Vec<_> = words("To be, or NOT to-be: café 42x").collect();
        assert_eq!(words, ["To", "be", "or", "NOT", "to", "be", "caf", "42x"]);
    }
}
