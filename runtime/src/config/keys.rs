//! Every configuration key wflink knows, with its default and meaning (what
//! `/jobmanager/config` shows and unknown keys are checked against), and
//! the keys Flink 2.x renamed.

/// Every key wflink knows, with its default and what it is for.
pub const KNOWN_KEYS: &[(&str, &str, &str)] = &[
    ("parallelism.default", "1", "parallelism of operators that set none, when none is given at submit"),
    ("taskmanager.numberOfTaskSlots", "1", "slots each TaskManager offers"),
    ("taskmanager.memory.process.size", "1728m", "total memory of a TaskManager process"),
    (
        "taskmanager.memory.flink.size",
        "1280m",
        "memory shared by the slots of a TaskManager; each slot gets an equal part for its guests",
    ),
    ("execution.buffer-timeout.interval", "1 ms", "longest time a record waits in a partly filled output batch"),
    (
        "pipeline.auto-watermark-interval",
        "200 ms",
        "how often timestamp assigners emit watermarks; 0 emits them only at the end of input",
    ),
    ("pipeline.max-parallelism", "128", "number of key groups, the upper bound of any operator's parallelism"),
    ("wasm.call-timeout", "10 s", "deadline of a single guest call; a guest running longer fails its task"),
    (
        "wasm.describe.timeout",
        "10 s",
        "deadline of a job's describe step (its plan, built at submit, `wflink info` and GET /jars/:id/plan)",
    ),
    ("wasm.describe.memory", "256m", "memory one describe step may use"),
    (
        "wasm.describe.threads",
        "2",
        "threads that compile and describe submitted jobs, apart from the threads that answer REST and heartbeats",
    ),
    ("wasm.describe.queue", "16", "submits and plan requests that may wait for a describe thread; more get 429"),
    (
        "task.cancellation.timeout",
        "180 s",
        "a cancelled task still running after this long is a fatal error: its TaskManager exits; 0 disables the watchdog",
    ),
    ("jobmanager.rpc.address", "localhost", "address TaskManagers connect to"),
    ("jobmanager.rpc.port", "6123", "port TaskManagers connect to"),
    ("rest.address", "localhost", "address of the REST server and dashboard"),
    ("rest.port", "8081", "port of the REST server and dashboard"),
    ("rest.bind-address", "", "address the REST server listens on (0.0.0.0: every interface); empty: rest.address"),
    ("execution.checkpointing.interval", "0 ms", "interval between checkpoints; 0 disables them"),
    ("execution.checkpointing.timeout", "10 min", "a checkpoint not acknowledged by every task within this time fails"),
    (
        "execution.checkpointing.max-concurrent-checkpoints",
        "1",
        "most checkpoints in progress at once; a trigger beyond waits for the next interval",
    ),
    (
        "execution.checkpointing.dir",
        "",
        "where checkpoints are stored (a directory or an object store URL); empty means <tmp>/wflink-checkpoints",
    ),
    ("execution.checkpointing.num-retained", "1", "completed checkpoints kept; older ones are deleted"),
    ("execution.checkpointing.savepoint-dir", "", "default target directory of savepoints"),
    (
        "restart-strategy.type",
        "",
        "none, fixed-delay or exponential-delay; empty means exponential-delay when checkpointing is enabled, else none",
    ),
    ("restart-strategy.fixed-delay.attempts", "1", "restarts fixed-delay allows before the job fails"),
    ("restart-strategy.fixed-delay.delay", "1 s", "wait before each fixed-delay restart"),
    ("restart-strategy.exponential-delay.initial-backoff", "1 s", "wait before the first exponential-delay restart"),
    ("restart-strategy.exponential-delay.max-backoff", "1 min", "longest wait between exponential-delay restarts"),
    (
        "restart-strategy.exponential-delay.backoff-multiplier",
        "1.5",
        "factor applied to the wait after each exponential-delay restart",
    ),
    (
        "restart-strategy.exponential-delay.reset-backoff-threshold",
        "1 h",
        "running this long without failure resets the wait to the initial backoff",
    ),
    (
        "restart-strategy.exponential-delay.attempts-before-reset-backoff",
        "2147483647",
        "restarts exponential-delay allows before the job fails",
    ),
    ("taskmanager.host", "localhost", "address other TaskManagers reach this one's data port at"),
    ("taskmanager.data.port", "0", "port of the TaskManager's record exchange; 0 picks a free one"),
    ("heartbeat.interval", "1 s", "how often a TaskManager reports to the ResourceManager"),
    (
        "heartbeat.timeout",
        "5 s",
        "silence after which a TaskManager counts as lost and its jobs fail (and a TaskManager counts its JobManager as lost)",
    ),
    (
        "taskmanager.registration.initial-backoff",
        "100 ms",
        "first wait before a TaskManager that lost its JobManager tries to register again; it doubles after each failed try",
    ),
    (
        "taskmanager.registration.max-backoff",
        "5 s",
        "longest wait between a TaskManager's tries to register again with its JobManager",
    ),
    ("slot.request.timeout", "10 s", "how long a job waits for enough free slots before it fails"),
    ("rest.server.max-content-length", "104857600", "largest request body (and .wasm upload) in bytes"),
    ("web.upload.dir", "", "where uploaded components are kept; empty means a temporary directory"),
    (
        "blob.storage.directory",
        "",
        "where a JobManager keeps the components of submitted jobs for TaskManagers to fetch; empty means a temporary directory",
    ),
    ("rest.server.max-connections", "256", "most REST connections open at once; more are answered 503 and closed"),
    (
        "rest.server.header-read-timeout",
        "10 s",
        "a REST request's headers must arrive within this, and a kept-alive connection is closed after this long without a request",
    ),
    (
        "rest.server.idle-timeout",
        "60 s",
        "a REST connection on which nothing is read or written for this long, while no request is being handled, is closed",
    ),
    (
        "pekko.framesize",
        "",
        "largest message between JobManager and TaskManagers (a component travels in one); empty means rest.server.max-content-length plus 1 MiB",
    ),
    (
        "taskmanager.network.max-frame-size",
        "64m",
        "largest batch of records between TaskManagers, so also the largest record that crosses processes",
    ),
    (
        "network.handshake-timeout",
        "10 s",
        "a new RPC or data connection must deliver its first message (registration, channel name) within this",
    ),
    (
        "network.read-timeout",
        "30 s",
        "once a message has begun to arrive on an RPC or data connection, the rest must arrive within this",
    ),
    ("jobmanager.rpc.max-connections", "1024", "most RPC connections a JobManager holds open at once"),
    ("taskmanager.network.max-connections", "4096", "most data connections a TaskManager holds open at once"),
    (
        "execution.checkpointing.tolerable-failed-checkpoints",
        "0",
        "checkpoint failures in a row a job tolerates; one more fails the job (then its restart strategy applies)",
    ),
    (
        "security.internal.secret",
        "",
        "cluster secret TaskManagers and data connections must prove they know (mutual HMAC challenge); empty: no check",
    ),
    (
        "security.internal.secret-file",
        "",
        "file holding the cluster secret (kept off command lines); used when security.internal.secret is empty",
    ),
    ("security.rest.token", "", "bearer token every REST request must carry (Authorization: Bearer); empty: none"),
    ("security.rest.token-file", "", "file holding the REST token; used when security.rest.token is empty"),
    ("web.submit.enable", "true", "whether jobs can be uploaded, planned and run through REST (403 when false)"),
    ("web.cancel.enable", "true", "whether jobs can be cancelled or stopped through REST (403 when false)"),
    (
        "security.ssl.rest.enabled",
        "false",
        "serve the REST API and dashboard over https (TLS); the CLI then speaks https",
    ),
    ("security.ssl.rest.cert-file", "", "PEM file with the REST server's certificate chain, leaf first"),
    ("security.ssl.rest.key-file", "", "PEM file with the REST server's private key"),
    (
        "security.ssl.rest.ca-file",
        "",
        "PEM file of the certificates the CLI trusts for the REST server; empty: the system's web roots",
    ),
    (
        "security.ssl.internal.enabled",
        "false",
        "TLS with mutual authentication on RPC and data connections between JobManager and TaskManagers",
    ),
    ("security.ssl.internal.cert-file", "", "PEM file with this process's certificate chain for internal connections"),
    ("security.ssl.internal.key-file", "", "PEM file with the private key of security.ssl.internal.cert-file"),
    (
        "security.ssl.internal.ca-file",
        "",
        "PEM file of the certificate authorities a peer's certificate must be signed by; empty: the cert-file itself",
    ),
    (
        "wflink.io.allowed-paths",
        "",
        "directories (separated by ';' or ',') file sources, file sinks, savepoints and restores may use; empty: any",
    ),
];

/// Keys Flink 2.x renamed, as (current name, older name). The older names
/// still work, as in Flink, with a warning; a value under the current name
/// wins over one under the older.
pub const RENAMED_KEYS: &[(&str, &str)] = &[
    ("execution.checkpointing.dir", "state.checkpoints.dir"),
    ("execution.checkpointing.savepoint-dir", "state.savepoints.dir"),
    ("execution.checkpointing.num-retained", "state.checkpoints.num-retained"),
    ("execution.buffer-timeout.interval", "execution.buffer-timeout"),
];

/// The current name of `key` (itself unless Flink renamed it).
pub(super) fn current_name(key: &str) -> &str {
    RENAMED_KEYS.iter().find(|(_, older)| *older == key).map_or(key, |(current, _)| current)
}

/// The older name of `key`, if Flink renamed it.
pub(super) fn older_name(key: &str) -> Option<&'static str> {
    RENAMED_KEYS.iter().find(|(current, _)| *current == key).map(|(_, older)| *older)
}
