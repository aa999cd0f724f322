import ToolSupport

/// addrinspect's exit statuses for its manual page (`addrinspect --exit-codes`, read by scripts/install);
/// `--help` and `has --help` explain the same codes.
extension AddrInspect: DocumentedExitCodes {
    static var exitCodes: [(status: Int32, meaning: String)] {
        [(0, "ok; for has, the IP is local (assigned here, or delivered locally by a local route)"),
         (10, "has: not local, and no neighbour entry with a MAC for it, but a route sends it somewhere"),
         (11, "has: not local, and this node holds a neighbour MAC for it (another host answers for it)"),
         (12, "has: unknown, not local, no usable neighbour entry and no usable route")]
            + CommandRunner.sharedExitCodes.filter { $0.status != ExitStatus.interrupted }  // watch: Ctrl-C is 0
    }
}
