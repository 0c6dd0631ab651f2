//! Starting JobManager and TaskManager processes for `cluster start` and
//! `run-application`: the same binary, its output redirected, and a wait
//! until each is up. [`Processes`] kills what it started when dropped,
//! unless told to let them run on.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::client::RestClient;
use super::jobmanager::REST_READY;

/// How long a process may take to come up.
pub(super) const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// Where a started process's stdout and stderr go.
pub(super) enum Output<'a> {
    /// Into `<stem>.out` and `<stem>.log`.
    Files(&'a Path),
    /// stdout into `<stem>.out`, stderr inherited.
    OutFile(&'a Path),
    /// Both inherited.
    Inherit,
}

/// Set in a child's environment to make it exit when its stdin closes,
/// i.e. when the process that started it is gone, even killed.
const EXIT_WITH_PARENT: &str = "WFLINK_EXIT_WITH_PARENT";

/// Processes started by this command.
#[derive(Default)]
pub(super) struct Processes {
    children: Vec<(String, Child)>,
    /// Set once they should outlive this command (`cluster start`).
    detached: bool,
    /// Children end with this command (`run-application`), even if it is killed.
    tied: bool,
}

/// In a child started tied to its parent: exits the process once stdin
/// closes (the parent is gone).
pub(crate) fn exit_with_parent_if_tied() {
    if std::env::var_os(EXIT_WITH_PARENT).is_none() {
        return;
    }
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(1);
    });
}

impl Processes {
    /// Processes that end when this command ends, even if it is killed.
    pub(super) fn tied() -> Self {
        Processes { children: Vec::new(), detached: false, tied: true }
    }

    /// Starts `wflink ARGS...` as `role`.
    pub(super) fn spawn(&mut self, role: &str, args: &[String], output: Output) -> anyhow::Result<u32> {
        let exe = std::env::current_exe().context("cannot find the wflink binary")?;
        let mut command = Command::new(exe);
        command.args(args).stdin(Stdio::null());
        if self.tied {
            // The child's stdin closes when this process dies; the child then exits.
            command.stdin(Stdio::piped()).env(EXIT_WITH_PARENT, "1");
        }
        if std::env::var_os("WFLINK_LOG").is_none() {
            command.env("WFLINK_LOG", "info");
        }
        let file =
            |path: std::path::PathBuf| File::create(&path).with_context(|| format!("cannot create {}", path.display()));
        match output {
            Output::Files(stem) => {
                command.stdout(file(stem.with_extension("out"))?).stderr(file(stem.with_extension("log"))?);
            }
            Output::OutFile(stem) => {
                command.stdout(file(stem.with_extension("out"))?).env("WFLINK_LOG", "warn");
            }
            Output::Inherit => {
                command.env("WFLINK_LOG", "warn");
            }
        }
        // Their own process group: a Ctrl-C meant for this command does not reach them.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().with_context(|| format!("cannot start the {role}"))?;
        let pid = child.id();
        self.children.push((role.to_string(), child));
        Ok(pid)
    }

    /// Fails if any started process has exited.
    pub(super) fn check_alive(&mut self) -> anyhow::Result<()> {
        for (role, child) in &mut self.children {
            if let Some(status) = child.try_wait()? {
                bail!("the {role} exited at start ({status})");
            }
        }
        Ok(())
    }

    /// Lets the processes run on after this command ends.
    pub(super) fn detach(mut self) {
        self.detached = true;
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        if self.detached {
            return;
        }
        // TaskManagers first, so none reports a lost JobManager while it goes.
        for (_, child) in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits until the JobManager whose stdout goes to `out` prints its
/// endpoints; returns `(rest_url, rpc_address)`.
pub(super) fn wait_for_jobmanager(out: &Path, processes: &mut Processes) -> anyhow::Result<(String, String)> {
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(out).unwrap_or_default();
        let find = |prefix: &str| text.lines().find_map(|l| l.strip_prefix(prefix)).map(|s| s.trim().to_string());
        if let (Some(rest), Some(rpc)) = (find(REST_READY), find("RPC endpoint:")) {
            return Ok((rest, rpc));
        }
        processes.check_alive()?;
        if started.elapsed() > STARTUP_DEADLINE {
            bail!("the JobManager did not start within {STARTUP_DEADLINE:?} (see {})", out.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until `count` TaskManagers are registered.
pub(super) fn wait_for_taskmanagers(
    client: &RestClient,
    count: usize,
    processes: &mut Processes,
) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let registered = client.get("/overview")?["taskmanagers"].as_u64().unwrap_or(0) as usize;
        if registered >= count {
            return Ok(());
        }
        processes.check_alive()?;
        if started.elapsed() > STARTUP_DEADLINE {
            bail!("only {registered} of {count} TaskManagers registered within {STARTUP_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
