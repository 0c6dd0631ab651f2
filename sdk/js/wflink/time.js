// Event time: how a job tells the host where its timestamps are and how
// late records may come (WatermarkStrategy), and durations in ms.

/** Milliseconds of `duration` (a non-negative integer Number or BigInt of
 * ms); throws a TypeError/RangeError naming `what` otherwise.
 * @param {number | bigint} duration
 * @param {string} [what] what the duration is, for the error
 * @returns {number} */
export function toMs(duration, what = "a duration") {
  const ms = typeof duration === "bigint" ? Number(duration) : duration;
  if (!Number.isSafeInteger(ms)) throw new TypeError(`${what} must be an integer of milliseconds, got ${String(duration)}`);
  if (ms < 0) throw new RangeError(`${what} must not be negative`);
  return ms;
}

/** How watermarks follow the timestamps a stream's assigner extracts
 * (Flink's `WatermarkStrategy`); pass it to
 * `stream.assignTimestampsAndWatermarks`.
 *
 * The host makes the watermarks: after seeing timestamps up to `t`, the
 * watermark is `t - outOfOrdernessMs - 1`. Where streams meet (a key-by
 * after a parallel source), each task takes the minimum over its inputs. */
export class WatermarkStrategy {
  /** A strategy with `outOfOrdernessMs` of bounded out-of-orderness and an
   * idle timeout (ms, or undefined for never idle). Prefer the static
   * constructors.
   * @param {number} outOfOrdernessMs
   * @param {number} [idleTimeoutMs] */
  constructor(outOfOrdernessMs, idleTimeoutMs = undefined) {
    /** Bounded out-of-orderness in ms. */
    this.outOfOrdernessMs = outOfOrdernessMs;
    /** Idle timeout in ms, or undefined. */
    this.idleTimeoutMs = idleTimeoutMs;
  }

  /** Records may come up to `maxOutOfOrdernessMs` later than the newest one seen.
   * @param {number | bigint} maxOutOfOrdernessMs
   * @returns {WatermarkStrategy} */
  static forBoundedOutOfOrderness(maxOutOfOrdernessMs) {
    return new WatermarkStrategy(toMs(maxOutOfOrdernessMs, "the out-of-orderness"));
  }

  /** Timestamps never go back (out-of-orderness zero).
   * @returns {WatermarkStrategy} */
  static forMonotonousTimestamps() {
    return new WatermarkStrategy(0);
  }

  /** A source subtask without records for `timeoutMs` (wall clock) is
   * marked idle, so it does not hold back the watermark downstream.
   * @param {number | bigint} timeoutMs
   * @returns {WatermarkStrategy} */
  withIdleness(timeoutMs) {
    return new WatermarkStrategy(this.outOfOrdernessMs, Math.max(1, toMs(timeoutMs, "the idle timeout")));
  }
}
