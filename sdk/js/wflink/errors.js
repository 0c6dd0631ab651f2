// Errors a job throws on purpose; each becomes a case of the WIT `job-error`.

/** Base of the errors a job throws on purpose; the message reaches the user. */
export class JobError extends Error {
  /** The WIT `job-error` case this error becomes.
   * @returns {string} */
  get tag() {
    return "other";
  }
}

/** The job's arguments were wrong (a missing `--input`, say). */
export class InvalidArguments extends JobError {
  /** @returns {string} `"invalid-arguments"` */
  get tag() {
    return "invalid-arguments";
  }
}

/** The plan the job describes is not valid (a stream with no sink, say). */
export class InvalidPlan extends JobError {
  /** @returns {string} `"invalid-plan"` */
  get tag() {
    return "invalid-plan";
  }
}

/** A user function failed on a record. Any other exception a user
 * function throws becomes one too, with its stack. */
export class UserError extends JobError {
  /** @returns {string} `"user"` */
  get tag() {
    return "user";
  }
}
