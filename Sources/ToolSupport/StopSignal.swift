import Glibc
import Synchronization

/// Turns SIGINT/SIGTERM into a flag a capture loop polls, so Ctrl-C ends a live capture cleanly (statistics printed,
/// files flushed). A second signal gets the default action, so a stuck program can still be killed.
///
/// This is the one piece of process-wide state in ToolSupport: a signal handler cannot be handed context, so the flag
/// it sets has to be global. It is an atomic, written only by the handler.
///
///     StopSignal.install()
///     try source.forEach(shouldStop: { StopSignal.isRaised }) { record in ... }
public enum StopSignal {
    private static let raised = Atomic<Bool>(false)

    /// Install the handler for `signals` (SIGINT and SIGTERM by default), and unblock them in the calling
    /// thread: a parent may start a tool with them blocked (a test runner's thread did, and some supervisors
    /// do), and a blocked signal never reaches the handler, so Ctrl-C or `kill` would not stop the loop.
    ///
    /// The handler is installed with `sigaction` and without SA_RESTART (glibc's `signal()` sets it): a
    /// `read(2)` blocked on a FIFO or a stalled pipe (`-r fifo`, `--mrt -`) then fails with EINTR, the reader
    /// reports it, and the loop sees `isRaised`, instead of the read restarting until SIGKILL. SA_RESETHAND
    /// gives a second signal the default action.
    public static func install(_ signals: [Int32] = [SIGINT, SIGTERM]) {
        // Initialise the flag now: lazy initialisation inside a signal handler would not be async-signal-safe.
        raised.store(false, ordering: .relaxed)
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signalNumber in signals {
            sigaddset(&unblock, signalNumber)
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in StopSignal.raised.store(true, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = Int32(truncatingIfNeeded: SA_RESETHAND)  // 0x80000000: the sign bit of sa_flags
            sigaction(signalNumber, &action, nil)
        }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }

    /// Whether one of the installed signals has arrived.
    public static var isRaised: Bool { raised.load(ordering: .relaxed) }
}
