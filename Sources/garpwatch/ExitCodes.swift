import ToolSupport

/// garpwatch's exit statuses for its manual page (`garpwatch --exit-codes`, read by scripts/install); `--help`
/// explains the same codes in its EXIT STATUS paragraph.
extension GarpWatch: DocumentedExitCodes {
    static var exitCodes: [(status: Int32, meaning: String)] {
        [(0, "ran; with --expect, every expected IP was announced, and only by its owner"),
         (10, "--expect: wrong owner, another MAC announced the IP"),
         (11, "--expect: more than one owner, MACs claimed the IP at the same time (split-brain)"),
         (12, "--expect: not seen, no frame announced the IP")] + CommandRunner.sharedExitCodes
    }
}
