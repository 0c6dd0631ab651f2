/*
 * Word count in C: splits lines into words and emits a running
 * (word, count) each time a word is seen -- the C twin of
 * guest-examples/wordcount, on the bindings `wit-bindgen c` generates.
 *
 *   --input PATH | --hostname HOST --port PORT   where lines come from
 *   --output DIR | --discard                     where counts go (default: print)
 *
 * Plan: 0 Source -> 1 tokenize (flat-map) -> 2 Key By -> 3 count (reduce) -> 4 Sink.
 * The host chains 1+2 into one task and runs 3 in the next; `open` says
 * which chain this instance runs.
 */
#include <stdio.h>

#include "stream_job.h"
#include "wflink.h"

/* ---- arguments ---- */

/* The job's options, as the Rust SDK's Args reads them. */
typedef struct {
    char *input, *hostname, *port, *output;
    bool discard;
} options_t;

static char *dup_n(const uint8_t *s, size_t n) {
    char *out = (char *)malloc(n + 1);
    if (!out) abort();
    memcpy(out, s, n);
    out[n] = 0;
    return out;
}

/* Sets `*slot` to a copy of the value (or NULL for a bare flag). */
static void set_option(char **slot, char *value) {
    free(*slot);
    *slot = value;
}

static void options_free(options_t *o) {
    free(o->input);
    free(o->hostname);
    free(o->port);
    free(o->output);
}

/* `--key value`, `--key=value` and bare `--flag`; the last one wins. */
static options_t parse_args(const stream_job_list_string_t *args) {
    options_t o = {0};
    for (size_t i = 0; i < args->len; i++) {
        const stream_job_string_t *t = &args->ptr[i];
        if (t->len < 3 || t->ptr[0] != '-' || t->ptr[1] != '-') continue;
        const uint8_t *name = t->ptr + 2;
        size_t name_len = t->len - 2;
        char *value = NULL;
        const uint8_t *eq = memchr(name, '=', name_len);
        if (eq) {
            value = dup_n(eq + 1, (size_t)(t->ptr + t->len - eq - 1));
            name_len = (size_t)(eq - name);
        } else if (i + 1 < args->len && !(args->ptr[i + 1].len >= 2 && args->ptr[i + 1].ptr[0] == '-' && args->ptr[i + 1].ptr[1] == '-')) {
            i++;
            value = dup_n(args->ptr[i].ptr, args->ptr[i].len);
        }
#define IS(s) (name_len == sizeof(s) - 1 && memcmp(name, s, name_len) == 0)
        if (IS("input")) set_option(&o.input, value);
        else if (IS("hostname")) set_option(&o.hostname, value);
        else if (IS("port")) set_option(&o.port, value);
        else if (IS("output")) set_option(&o.output, value);
        else if (IS("discard")) { o.discard = value == NULL || strcmp(value, "true") == 0; free(value); }
        else free(value);
#undef IS
    }
    return o;
}

static void set_error(wflink_job_types_job_error_t *err, uint8_t tag, const char *message) {
    err->tag = tag;
    stream_job_string_dup(&err->val.other, message); /* every case holds a string */
}

/* Checks the options; on failure fills `err` and returns false. */
static bool check_options(const options_t *o, wflink_job_types_job_error_t *err) {
    if (o->input) return true;
    if (!o->hostname) {
        set_error(err, WFLINK_JOB_TYPES_JOB_ERROR_INVALID_ARGUMENTS, "wordcount needs --input PATH or --hostname HOST --port PORT");
        return false;
    }
    if (!o->port) {
        set_error(err, WFLINK_JOB_TYPES_JOB_ERROR_INVALID_ARGUMENTS, "missing required argument --port");
        return false;
    }
    char *end = NULL;
    long port = strtol(o->port, &end, 10);
    if (*o->port == 0 || *end != 0 || port < 0 || port > 65535) {
        char message[160];
        snprintf(message, sizeof message, "argument --port: cannot read '%.80s' as u16", o->port);
        set_error(err, WFLINK_JOB_TYPES_JOB_ERROR_INVALID_ARGUMENTS, message);
        return false;
    }
    return true;
}

/* ---- describe: the plan ---- */

static void connector(wflink_job_plan_connector_t *c, const char *name, const char *k1, const char *v1, const char *k2, const char *v2) {
    stream_job_string_dup(&c->name, name);
    size_t n = k2 ? 2 : k1 ? 1 : 0;
    c->options.len = n;
    c->options.ptr = n ? (stream_job_tuple2_string_string_t *)malloc(n * sizeof *c->options.ptr) : NULL;
    if (k1) {
        stream_job_string_dup(&c->options.ptr[0].f0, k1);
        stream_job_string_dup(&c->options.ptr[0].f1, v1);
    }
    if (k2) {
        stream_job_string_dup(&c->options.ptr[1].f0, k2);
        stream_job_string_dup(&c->options.ptr[1].f1, v2);
    }
}

static void node(wflink_job_plan_node_t *n, uint32_t id, const char *name, const char *uid, uint8_t kind, int input, uint8_t partitioning) {
    memset(n, 0, sizeof *n);
    n->id = id;
    stream_job_string_dup(&n->name, name);
    stream_job_string_dup(&n->uid, uid);
    n->kind.tag = kind;
    if (input >= 0) {
        n->inputs.len = 1;
        n->inputs.ptr = (wflink_job_plan_edge_t *)malloc(sizeof *n->inputs.ptr);
        n->inputs.ptr[0].source = (uint32_t)input;
        n->inputs.ptr[0].partitioning = partitioning;
    }
}

bool exports_wflink_job_job_describe(stream_job_list_string_t *args, exports_wflink_job_job_stream_plan_t *ret, exports_wflink_job_job_job_error_t *err) {
    options_t o = parse_args(args);
    stream_job_list_string_free(args);
    if (!check_options(&o, err)) {
        options_free(&o);
        return false;
    }
    memset(ret, 0, sizeof *ret);
    stream_job_string_dup(&ret->job_name, "wordcount");
    ret->nodes.len = 5;
    wflink_job_plan_node_t *nodes = (wflink_job_plan_node_t *)malloc(5 * sizeof *nodes);
    ret->nodes.ptr = nodes;
    const uint8_t FWD = WFLINK_JOB_PLAN_PARTITIONING_FORWARD;
    if (o.input) {
        node(&nodes[0], 0, "Source: file", "source-file-0", WFLINK_JOB_PLAN_NODE_KIND_SOURCE, -1, FWD);
        connector(&nodes[0].kind.val.source, "file", "path", o.input, NULL, NULL);
    } else {
        node(&nodes[0], 0, "Source: socket", "source-socket-0", WFLINK_JOB_PLAN_NODE_KIND_SOURCE, -1, FWD);
        connector(&nodes[0].kind.val.source, "socket", "hostname", o.hostname, "port", o.port);
    }
    node(&nodes[1], 1, "tokenize", "flat-map-1", WFLINK_JOB_PLAN_NODE_KIND_FLAT_MAP, 0, FWD);
    node(&nodes[2], 2, "Key By", "key-by-2", WFLINK_JOB_PLAN_NODE_KIND_KEY_BY, 1, FWD);
    node(&nodes[3], 3, "count", "reduce-3", WFLINK_JOB_PLAN_NODE_KIND_REDUCE, 2, WFLINK_JOB_PLAN_PARTITIONING_HASH);
    if (o.output) {
        node(&nodes[4], 4, "Sink: File", "sink-file-4", WFLINK_JOB_PLAN_NODE_KIND_SINK, 3, FWD);
        connector(&nodes[4].kind.val.sink, "file", "path", o.output, NULL, NULL);
    } else if (o.discard) {
        node(&nodes[4], 4, "Sink: Discard", "sink-discard-4", WFLINK_JOB_PLAN_NODE_KIND_SINK, 3, FWD);
        connector(&nodes[4].kind.val.sink, "discard", NULL, NULL, NULL, NULL);
    } else {
        node(&nodes[4], 4, "Sink: Print", "sink-print-4", WFLINK_JOB_PLAN_NODE_KIND_SINK, 3, FWD);
        connector(&nodes[4].kind.val.sink, "print", NULL, NULL, NULL, NULL);
    }
    options_free(&o);
    return true;
}

/* ---- operator: the two chains ---- */

/* Which chain this instance runs (set by open). */
static enum { CHAIN_NONE, CHAIN_TOKENIZE, CHAIN_COUNT } chain = CHAIN_NONE;

bool exports_wflink_job_operator_open(stream_job_list_string_t *args, stream_job_list_u32_t *node_ids, exports_wflink_job_operator_subtask_info_t *subtask, exports_wflink_job_operator_job_error_t *err) {
    (void)subtask;
    options_t o = parse_args(args);
    stream_job_list_string_free(args);
    bool ok = check_options(&o, err);
    options_free(&o);
    const uint32_t *ids = node_ids->ptr;
    size_t n = node_ids->len;
    if (ok && n == 2 && ids[0] == 1 && ids[1] == 2) chain = CHAIN_TOKENIZE;
    else if (ok && n == 1 && ids[0] == 3) chain = CHAIN_COUNT;
    else if (ok) {
        char message[120];
        snprintf(message, sizeof message, "wordcount runs the chains [1, 2] and [3]; the host asked for %zu node(s) starting at %u", n, n ? ids[0] : 0);
        set_error(err, WFLINK_JOB_TYPES_JOB_ERROR_INVALID_PLAN, message);
        ok = false;
    }
    stream_job_list_u32_free(node_ids);
    return ok;
}

/* The output of one call, grown record by record. */
typedef struct {
    wf_buf values, keys;
    wf_ends value_ends, key_ends;
    int64_t *timestamps;
    size_t timestamps_len, timestamps_cap;
} output_t;

static void push_timestamp(output_t *out, int64_t ts) {
    if (out->timestamps_len == out->timestamps_cap) {
        out->timestamps_cap = out->timestamps_cap ? out->timestamps_cap * 2 : 64;
        out->timestamps = (int64_t *)realloc(out->timestamps, out->timestamps_cap * sizeof(int64_t));
        if (!out->timestamps) abort();
    }
    out->timestamps[out->timestamps_len++] = ts;
}

/* Hands the buffers to the host (the generated code frees them after the call). */
static void to_batch(output_t *out, exports_wflink_job_operator_batch_t *b) {
    b->values.ptr = out->values.ptr;
    b->values.len = out->values.len;
    b->value_ends.ptr = out->value_ends.ptr;
    b->value_ends.len = out->value_ends.len;
    b->keys.ptr = out->keys.ptr;
    b->keys.len = out->keys.len;
    b->key_ends.ptr = out->key_ends.ptr;
    b->key_ends.len = out->key_ends.len;
    b->timestamps.ptr = out->timestamps;
    b->timestamps.len = out->timestamps_len;
}

/* tokenize + Key By: each line's words, ASCII-lowercased, split on every
 * byte that is not an ASCII letter or digit, keyed by the word. */
static bool tokenize(const exports_wflink_job_operator_batch_t *in, output_t *out, wflink_job_types_job_error_t *err) {
    char word[256];
    uint32_t start = 0;
    for (size_t i = 0; i < in->value_ends.len; i++) {
        uint32_t end = in->value_ends.ptr[i];
        wf_reader r = {in->values.ptr + start, in->values.ptr + end};
        start = end;
        const char *line;
        size_t len;
        if (!wf_mp_read_str(&r, &line, &len)) {
            set_error(err, WFLINK_JOB_TYPES_JOB_ERROR_USER, "node 1 'tokenize' could not decode its input as a string");
            return false;
        }
        size_t w = 0;
        char *long_word = NULL; /* words longer than `word` */
        for (size_t j = 0; j <= len; j++) {
            unsigned char c = j < len ? (unsigned char)line[j] : ' ';
            bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            if (alnum) {
                if (w == sizeof word && !long_word) long_word = (char *)&line[j - w];
                if (w < sizeof word) word[w] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c;
                w++;
                continue;
            }
            if (w == 0) continue;
            const char *text = word;
            char *lowered = NULL;
            if (w > sizeof word) {
                lowered = (char *)malloc(w);
                for (size_t k = 0; k < w; k++) {
                    char ch = long_word[k];
                    lowered[k] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
                }
                text = lowered;
            }
            wf_mp_str(&out->keys, text, w);
            wf_ends_push(&out->key_ends, (uint32_t)out->keys.len);
            wf_mp_array(&out->values, 2);
            wf_mp_str(&out->values, text, w);
            wf_mp_int(&out->values, 1);
            wf_ends_push(&out->value_ends, (uint32_t)out->values.len);
            if (in->timestamps.len) push_timestamp(out, in->timestamps.ptr[i]);
            free(lowered);
            long_word = NULL;
            w = 0;
        }
    }
    return true;
}

/* One key's running count during a call. */
typedef struct {
    const uint8_t *key; /* points into the call's input, valid until it is freed */
    uint32_t key_len;
    const char *word;
    uint32_t word_len;
    int64_t count;
    bool changed;
} entry_t;

/* Open addressing over entries, rebuilt every call (state travels with the batch). */
static entry_t *entries;
static size_t entries_len, entries_cap;
static uint32_t *slots; /* index + 1 into entries; 0 = empty */
static size_t slots_cap;

static uint64_t hash_bytes(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void table_reset(size_t expected) {
    size_t want = 64;
    while (want < expected * 2) want *= 2;
    if (want > slots_cap) {
        free(slots);
        slots = (uint32_t *)malloc(want * sizeof *slots);
        slots_cap = want;
    }
    if (!slots) abort();
    memset(slots, 0, slots_cap * sizeof *slots);
    if (expected > entries_cap) {
        free(entries);
        entries = (entry_t *)malloc(expected * sizeof *entries);
        entries_cap = expected;
        if (!entries) abort();
    }
    entries_len = 0;
}

/* The entry of `key`, added with `count` 0 and `word` if absent; `*added` tells which. */
static entry_t *table_entry(const uint8_t *key, uint32_t key_len, bool *added) {
    size_t mask = slots_cap - 1;
    for (size_t i = hash_bytes(key, key_len) & mask;; i = (i + 1) & mask) {
        uint32_t s = slots[i];
        if (s == 0) {
            entry_t *e = &entries[entries_len++];
            slots[i] = (uint32_t)entries_len;
            e->key = key;
            e->key_len = key_len;
            e->changed = false;
            *added = true;
            return e;
        }
        entry_t *e = &entries[s - 1];
        if (e->key_len == key_len && memcmp(e->key, key, key_len) == 0) {
            *added = false;
            return e;
        }
    }
}

/* Reads a `(word, count)` value. */
static bool read_pair(const uint8_t *p, const uint8_t *end, const char **word, size_t *word_len, int64_t *count) {
    wf_reader r = {p, end};
    uint32_t n;
    return wf_mp_read_array(&r, &n) && n == 2 && wf_mp_read_str(&r, word, word_len) && wf_mp_read_int(&r, count) && r.p == end;
}

/* count: the keyed running sum; takes the state of the batch's keys and
 * returns the entries it changed. */
static bool count(const exports_wflink_job_operator_batch_t *in, const exports_wflink_job_operator_keyed_state_t *state, output_t *out, exports_wflink_job_operator_keyed_state_t *changed, wflink_job_types_job_error_t *err) {
    if (in->value_ends.len && in->key_ends.len != in->value_ends.len) {
        set_error(err, WFLINK_JOB_TYPES_JOB_ERROR_OTHER, "node 3 'count' received records without keys (a host bug)");
        return false;
    }
    table_reset(state->key_ends.len + in->value_ends.len + 1);
    uint32_t key_start = 0, value_start = 0;
    for (size_t i = 0; i < state->key_ends.len; i++) {
        bool added;
        entry_t *e = table_entry(state->keys.ptr + key_start, state->key_ends.ptr[i] - key_start, &added);
        const char *word;
        size_t word_len;
        if (!read_pair(state->values.ptr + value_start, state->values.ptr + state->value_ends.ptr[i], &word, &word_len, &e->count)) {
            set_error(err, WFLINK_JOB_TYPES_JOB_ERROR_OTHER, "node 3 'count' could not decode its state as (word, count)");
            return false;
        }
        e->word = word;
        e->word_len = (uint32_t)word_len;
        key_start = state->key_ends.ptr[i];
        value_start = state->value_ends.ptr[i];
    }
    key_start = value_start = 0;
    for (size_t i = 0; i < in->value_ends.len; i++) {
        const char *word;
        size_t word_len;
        int64_t n;
        if (!read_pair(in->values.ptr + value_start, in->values.ptr + in->value_ends.ptr[i], &word, &word_len, &n)) {
            set_error(err, WFLINK_JOB_TYPES_JOB_ERROR_USER, "node 3 'count' could not decode its input as (word, count)");
            return false;
        }
        bool added;
        entry_t *e = table_entry(in->keys.ptr + key_start, in->key_ends.ptr[i] - key_start, &added);
        if (added) {
            e->word = word;
            e->word_len = (uint32_t)word_len;
            e->count = n;
        } else {
            e->count += n;
        }
        e->changed = true;
        wf_mp_array(&out->values, 2);
        wf_mp_str(&out->values, e->word, e->word_len);
        wf_mp_int(&out->values, e->count);
        wf_ends_push(&out->value_ends, (uint32_t)out->values.len);
        if (in->timestamps.len) push_timestamp(out, in->timestamps.ptr[i]);
        key_start = in->key_ends.ptr[i];
        value_start = in->value_ends.ptr[i];
    }
    wf_buf keys = {0}, values = {0};
    wf_ends key_ends = {0}, value_ends = {0};
    for (size_t i = 0; i < entries_len; i++) {
        entry_t *e = &entries[i];
        if (!e->changed) continue;
        wf_buf_append(&keys, e->key, e->key_len);
        wf_ends_push(&key_ends, (uint32_t)keys.len);
        wf_mp_array(&values, 2);
        wf_mp_str(&values, e->word, e->word_len);
        wf_mp_int(&values, e->count);
        wf_ends_push(&value_ends, (uint32_t)values.len);
    }
    changed->keys.ptr = keys.ptr;
    changed->keys.len = keys.len;
    changed->key_ends.ptr = key_ends.ptr;
    changed->key_ends.len = key_ends.len;
    changed->values.ptr = values.ptr;
    changed->values.len = values.len;
    changed->value_ends.ptr = value_ends.ptr;
    changed->value_ends.len = value_ends.len;
    return true;
}

bool exports_wflink_job_operator_process(exports_wflink_job_operator_batch_t *input, exports_wflink_job_operator_keyed_state_t *state, exports_wflink_job_operator_chain_output_t *ret, exports_wflink_job_operator_job_error_t *err) {
    output_t out = {0};
    memset(ret, 0, sizeof *ret);
    bool ok;
    if (chain == CHAIN_TOKENIZE) ok = tokenize(input, &out, err);
    else if (chain == CHAIN_COUNT) ok = count(input, state, &out, &ret->state, err);
    else {
        set_error(err, WFLINK_JOB_TYPES_JOB_ERROR_OTHER, "no chain is open in this instance");
        ok = false;
    }
    /* The table points into the input: free it only now. */
    exports_wflink_job_operator_batch_free(input);
    exports_wflink_job_operator_keyed_state_free(state);
    if (!ok) {
        free(out.values.ptr);
        free(out.keys.ptr);
        free(out.value_ends.ptr);
        free(out.key_ends.ptr);
        free(out.timestamps);
        return false;
    }
    to_batch(&out, &ret->records);
    return true;
}

/* wordcount keeps no named state, timers or side outputs: the host calls
 * these only for chains with time or keyed-process nodes, which this job
 * does not declare. */
bool exports_wflink_job_operator_process_with_context(exports_wflink_job_operator_batch_t *input, exports_wflink_job_operator_state_entries_t *state, exports_wflink_job_operator_time_context_t *time, exports_wflink_job_operator_context_output_t *ret, exports_wflink_job_operator_job_error_t *err) {
    (void)time;
    (void)ret;
    exports_wflink_job_operator_batch_free(input);
    exports_wflink_job_operator_state_entries_free(state);
    set_error(err, WFLINK_JOB_TYPES_JOB_ERROR_OTHER, "wordcount has no chain that runs with context (timers, named state)");
    return false;
}

bool exports_wflink_job_operator_on_timers(exports_wflink_job_operator_timers_t *fired, exports_wflink_job_operator_state_entries_t *state, exports_wflink_job_operator_time_context_t *time, exports_wflink_job_operator_context_output_t *ret, exports_wflink_job_operator_job_error_t *err) {
    (void)time;
    (void)ret;
    exports_wflink_job_operator_timers_free(fired);
    exports_wflink_job_operator_state_entries_free(state);
    set_error(err, WFLINK_JOB_TYPES_JOB_ERROR_OTHER, "wordcount registers no timers");
    return false;
}

/* wordcount keeps no named state: the host's per-call protocol applies. */
bool exports_wflink_job_operator_keep_state(void) {
    return false;
}

bool exports_wflink_job_operator_snapshot_state(exports_wflink_job_operator_state_entries_t *ret, exports_wflink_job_operator_job_error_t *err) {
    (void)err;
    memset(ret, 0, sizeof *ret); /* no entries */
    return true;
}

bool exports_wflink_job_operator_finish(exports_wflink_job_operator_chain_output_t *ret, exports_wflink_job_operator_job_error_t *err) {
    (void)err;
    memset(ret, 0, sizeof *ret); /* nothing buffered: empty records and state */
    return true;
}
