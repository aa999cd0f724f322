import ToolSupport

/// bgpdecode's exit statuses for its manual page (`bgpdecode --exit-codes`, read by scripts/install); `--help`
/// explains the same codes in its EXIT STATUS paragraph.
extension BGPDecode: DocumentedExitCodes {
    static var exitCodes: [(status: Int32, meaning: String)] {
        [(0, "decoded; when verifying, the announced set is the expected one"),
         (10, "verifying: an expected prefix is not announced"),
         (11, "verifying: an expected prefix is announced with another next hop"),
         (12, "verifying: a prefix that is not expected is announced"),
         (13, "verifying: no session of --peer is in the input (or, for listen, none came up)")]
            + CommandRunner.sharedExitCodes
    }
}
