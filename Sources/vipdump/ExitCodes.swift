import ToolSupport

/// vipdump's exit statuses for its manual page (`vipdump --exit-codes`, read by scripts/install).
extension VipDump: DocumentedExitCodes {
    static var exitCodes: [(status: Int32, meaning: String)] {
        [(0, "decoded every frame (a live capture ended by --duration, -c or Ctrl-C included)")]
            + CommandRunner.sharedExitCodes
    }
}
