// The latency job `wflink bench-latency` runs on Apache Flink 2.3, the same as wflink's
// guest-examples/latency, written as a Flink user would (DataStream API, STREAMING mode, p=1):
//
//   Paced (numbers at RATE/s, each stamped at emit) -> keyBy(n % KEYS) -> map(pass) -> Measure
//
// keyBy ends the operator chain, so every record is serialized into a network buffer that goes
// downstream when it is full or when the buffer timeout (execution.buffer-timeout.interval,
// 100 ms by default) fires; map and sink are chained behind it. Source and sink run in the same
// TaskManager JVM, so the stamp is System.nanoTime() (wflink's, in another process model, is
// the wall clock) and a record's latency is nanoTime() at the sink minus its stamp.
//
// The source works as wflink's datagen does: it emits every record that is due by now (each
// stamped as it is emitted), then sleeps until the next is due (LockSupport.parkNanos). The
// sink skips records emitted in the first WARMUP_MS after the first one it saw (JIT, start-up)
// and counts the others, in units of 100 ns, into Flink's Histogram accumulator (exact, merged
// over subtasks by Flink); the client reads it from the job's result and prints one line:
//
//   LATENCY p50_us=.. p99_us=.. p999_us=.. max_us=.. measured=N emitted=N buffer_timeout_ms=N
//
// Run: flink run -c Latency latency.jar RATE COUNT WARMUP_MS KEYS BUFFER_TIMEOUT_MS|default

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.accumulators.Histogram;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.legacy.RichSinkFunction;
import org.apache.flink.streaming.api.functions.source.legacy.RichParallelSourceFunction;

public class Latency {

    /** The histogram's unit: 100 ns, so an int holds up to 214 s. */
    static final long UNIT_NS = 100;

    /** `count` numbers at `rate` per second, as (n, System.nanoTime() at emit). */
    public static final class Paced extends RichParallelSourceFunction<Tuple2<Long, Long>> {
        private final double rate;
        private final long count;
        private volatile boolean running = true;

        Paced(double rate, long count) {
            this.rate = rate;
            this.count = count;
        }

        @Override
        public void open(OpenContext context) {
            getRuntimeContext().addAccumulator("emitted", new LongCounter());
        }

        @Override
        public void run(SourceContext<Tuple2<Long, Long>> out) {
            final long start = System.nanoTime();
            long n = 0;
            while (running && n < count) {
                final long due = Math.min(count, (long) ((System.nanoTime() - start) * rate / 1e9));
                synchronized (out.getCheckpointLock()) {
                    for (; n < due; n++) out.collect(Tuple2.of(n, System.nanoTime()));
                }
                final long next = start + (long) ((n + 1) * 1e9 / rate);
                final long wait = next - System.nanoTime();
                if (wait > 0) LockSupport.parkNanos(wait);
            }
            getRuntimeContext().getLongCounter("emitted").add(n);
        }

        @Override
        public void cancel() {
            running = false;
        }
    }

    public static final class Pass implements MapFunction<Tuple2<Long, Long>, Tuple2<Long, Long>> {
        @Override
        public Tuple2<Long, Long> map(Tuple2<Long, Long> record) {
            return record;
        }
    }

    /** Counts each record's time since its stamp, once the warm-up is over. */
    public static final class Measure extends RichSinkFunction<Tuple2<Long, Long>> {
        private final long warmupNs;
        private transient Histogram latencies;
        private transient long first;
        private transient boolean seen;

        Measure(long warmupNs) {
            this.warmupNs = warmupNs;
        }

        @Override
        public void open(OpenContext context) {
            latencies = new Histogram();
            getRuntimeContext().addAccumulator("latency", latencies);
        }

        @Override
        public void invoke(Tuple2<Long, Long> record, Context context) {
            final long now = System.nanoTime();
            final long stamp = record.f1;
            if (!seen) {
                first = stamp;
                seen = true;
            }
            if (stamp - first >= warmupNs) {
                latencies.add((int) Math.min(Integer.MAX_VALUE, Math.max(0, now - stamp) / UNIT_NS));
            }
        }
    }

    /** The nearest-rank quantile q of the counts by value, in µs. */
    static double quantileUs(TreeMap<Integer, Integer> counts, long total, double q) {
        final long rank = Math.max(1, (long) Math.ceil(q * total));
        long below = 0;
        for (Map.Entry<Integer, Integer> e : counts.entrySet()) {
            below += e.getValue();
            if (below >= rank) return e.getKey() * UNIT_NS / 1000.0;
        }
        return Double.NaN;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: Latency RATE COUNT WARMUP_MS KEYS BUFFER_TIMEOUT_MS|default");
            System.exit(2);
        }
        final double rate = Double.parseDouble(args[0]);
        final long count = Long.parseLong(args[1]);
        final long warmupMs = Long.parseLong(args[2]);
        final long keys = Long.parseLong(args[3]);
        final StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setRuntimeMode(RuntimeExecutionMode.STREAMING);
        env.setParallelism(1);
        if (!args[4].equals("default")) env.setBufferTimeout(Long.parseLong(args[4]));

        env.addSource(new Paced(rate, count), "paced", Types.TUPLE(Types.LONG, Types.LONG))
                .keyBy(record -> record.f0 % keys, Types.LONG)
                .map(new Pass()).returns(Types.TUPLE(Types.LONG, Types.LONG)).name("pass")
                .addSink(new Measure(warmupMs * 1_000_000L)).name("measure");
        final JobExecutionResult result = env.execute("wflink-bench-latency-bt-" + args[4]);

        final TreeMap<Integer, Integer> counts = result.getAccumulatorResult("latency");
        long total = 0;
        for (int c : counts.values()) total += c;
        final Long emitted = result.getAccumulatorResult("emitted");
        System.out.println(String.format(Locale.ROOT,
                "LATENCY p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f measured=%d emitted=%d buffer_timeout_ms=%d",
                quantileUs(counts, total, 0.5), quantileUs(counts, total, 0.99),
                quantileUs(counts, total, 0.999), quantileUs(counts, total, 1.0),
                total, emitted, env.getBufferTimeout()));
    }
}
