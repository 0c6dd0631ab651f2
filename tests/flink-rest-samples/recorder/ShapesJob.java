// The streaming job whose REST answers record.sh saves: an endless number source, throttled, with
// checkpoints every second, a keyed sum and a discarding sink; its first attempt fails once, so
// /jobs/:id/exceptions has an entry.

import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

public class ShapesJob {

    /** Slows the source to about 1000 records/s per subtask; the first attempt throws at record 3000. */
    public static final class Throttle extends RichMapFunction<Long, Long> {
        private long seen;

        @Override
        public Long map(Long n) throws Exception {
            if (++seen % 10 == 0) Thread.sleep(10);
            if (seen == 3000 && getRuntimeContext().getTaskInfo().getAttemptNumber() == 0) {
                throw new IllegalStateException("the first attempt fails on purpose");
            }
            return n % 100;
        }
    }

    public static void main(String[] args) throws Exception {
        final StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(1000);
        env.fromSequence(0, Long.MAX_VALUE).name("numbers")
                .map(new Throttle()).name("throttle")
                .keyBy(n -> n)
                .reduce(Long::sum).name("sum")
                .sinkTo(new DiscardingSink<>()).name("discard");
        env.execute("shapes");
    }
}
