import ToolSupport

/// svcprobe's exit statuses for its manual page (`svcprobe --exit-codes`, read by scripts/install); `--help`
/// explains the same codes in its EXIT STATUS paragraph.
extension SvcProbe: DocumentedExitCodes {
    static var exitCodes: [(status: Int32, meaning: String)] {
        [(0, "ran, and every expectation held"),
         (10, "with --expect-up (or an option implying it): a target did not answer"),
         (11, "a target answered with an ERR packet instead of a greeting"),
         (12, "a greeting's version did not match --expect-version")] + CommandRunner.sharedExitCodes
    }
}
