// The word count `wflink bench` runs on Apache Flink 2.3, written as a Flink user would
// (DataStream API, STREAMING mode), doing the same work as wflink's wordcount example:
//
//   FileSource(text lines) -> flatMap(split on bytes that are not ASCII letters or digits,
//     lowercase -> (word, 1L)) -> keyBy(word) -> sum(1) -> DiscardingSink
//
// One updated (word, count) per input word goes to the sink, as with `wordcount --discard`.
// Flink's defaults are kept on purpose: no checkpoints, the heap state backend, object reuse
// off, default network buffers, operator chaining on.
//
// Run: flink run -p P -c WordCount wordcount.jar INPUT P   (prints JOB_ID and NET_RUNTIME_MS)

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

public class WordCount {

    /** wflink's tokenizing rule: ASCII letters and digits form words, lowercased; all else splits. */
    public static final class Tokenizer implements FlatMapFunction<String, Tuple2<String, Long>> {
        @Override
        public void flatMap(String line, Collector<Tuple2<String, Long>> out) {
            final int n = line.length();
            final StringBuilder word = new StringBuilder();
            for (int i = 0; i <= n; i++) {
                final char c = i < n ? line.charAt(i) : ' ';
                final boolean letter = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
                if (letter) {
                    word.append(c);
                } else if (c >= 'A' && c <= 'Z') {
                    word.append((char) (c + ('a' - 'A')));
                } else if (word.length() > 0) {
                    out.collect(Tuple2.of(word.toString(), 1L));
                    word.setLength(0);
                }
            }
        }
    }

    /** The word is the key. */
    public static final class WordKey implements KeySelector<Tuple2<String, Long>, String> {
        @Override
        public String getKey(Tuple2<String, Long> t) {
            return t.f0;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: WordCount <input-file> [parallelism]");
            System.exit(2);
        }
        final StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setRuntimeMode(RuntimeExecutionMode.STREAMING);
        if (args.length > 1) env.setParallelism(Integer.parseInt(args[1]));
        final FileSource<String> source =
                FileSource.forRecordStreamFormat(new TextLineInputFormat(), new Path(args[0])).build();
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "file-source")
                .flatMap(new Tokenizer()).name("tokenize")
                .keyBy(new WordKey())
                .sum(1).name("count")
                .sinkTo(new DiscardingSink<>()).name("discard");
        final JobExecutionResult r = env.execute("wflink-bench-wordcount-p" + env.getParallelism());
        System.out.println("JOB_ID " + r.getJobID());
        System.out.println("NET_RUNTIME_MS " + r.getNetRuntime());
    }
}
