import Glibc
import ToolSupport

/// SIGINT/SIGTERM that interrupt a blocked read, so `bgpdecode -r FIFO` (libpcap's fread) or `--mrt` on a
/// stalled pipe stops when asked instead of waiting for bytes that may never come.
///
/// `StopSignal.install` sets its handlers with `signal()`, whose BSD semantics restart an interrupted
/// read: a read of a FIFO nobody writes to then never returns, and only a second signal (the default
/// action) ends the program, without its summary. Clearing SA_RESTART on the same handlers makes the read
/// fail with EINTR, libpcap report an error, and the loops see `StopSignal.isRaised`. (A workaround here
/// until StopSignal offers it: ToolSupport is not this tool's to change.)
enum InterruptibleReads {
    static func install(_ signals: [Int32] = [SIGINT, SIGTERM]) {
        StopSignal.install(signals)
        for signalNumber in signals {
            var action = sigaction()
            guard sigaction(signalNumber, nil, &action) == 0 else { continue }
            action.sa_flags &= ~Int32(SA_RESTART)
            sigaction(signalNumber, &action, nil)
        }
    }
}
