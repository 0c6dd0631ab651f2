//! A component built against an older `wflink:job` version (0.0.9): the
//! runtime must refuse it at load, naming both package versions.

wit_bindgen::generate!({ path: "wit", world: "stream-job" });

struct OldJob;

impl exports::wflink::job::job::Guest for OldJob {
    fn describe(_args: Vec<String>) -> Result<String, String> {
        Ok("an old plan".into())
    }
}

export!(OldJob);
