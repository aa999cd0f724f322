/// Exit statuses shared by every vipscope tool, so scripts can rely on them. Tools document their own
/// verification codes (10 and up) in `--help`.
public enum ExitStatus {
    /// Ran, and (in a verification mode) everything was as expected.
    public static let ok: Int32 = 0
    /// Could not do the job: unreadable or broken input file, missing interface, no permission, bad filter,
    /// unreachable peer. One sentence on standard error says what to do.
    public static let failure: Int32 = 1
    /// Ended by SIGINT/SIGTERM before a verification verdict could be reached.
    public static let interrupted: Int32 = 2
    /// Command-line usage errors (swift-argument-parser's own code).
    public static let usage: Int32 = 64
    /// First code a tool may use for its own verification outcomes (wrong owner, missing prefix, ...).
    public static let firstVerificationCode: Int32 = 10
}
