import Glibc

/// The descriptors one turn of a loop waits on, and what `poll(2)` said about each. Reused across turns (its
/// storage is kept), so a loop over a thousand sockets allocates nothing per turn.
///
///     var set = PollSet()
///     set.removeAll()
///     for connection in active { set.add(connection.descriptor, events: connection.pollEvents) }
///     if case .success(let ready) = set.wait(until: deadline), ready > 0 { for i in active.indices where set.events(at: i) != 0 { ... } }
public struct PollSet {
    private var descriptors: [pollfd] = []

    public init() {}

    public var count: Int { descriptors.count }

    /// Forget every descriptor (keeping the storage) before the next turn.
    public mutating func removeAll() { descriptors.removeAll(keepingCapacity: true) }

    /// Wait on `descriptor` for `events` (POLLIN, POLLOUT, ...); its position is the order of the calls.
    public mutating func add(_ descriptor: Int32, events: Int16) {
        descriptors.append(pollfd(fd: descriptor, events: events, revents: 0))
    }

    /// What the last `wait` reported for the descriptor added at `position` (0 if nothing happened).
    public func events(at position: Int) -> Int16 { descriptors[position].revents }

    /// Wait until one of the descriptors is ready or `deadline` (monotonic ns; `.max`: as long as poll can) passes. Returns
    /// the number of ready descriptors: 0 when the deadline passed or a signal interrupted the wait (the loop
    /// then checks `StopSignal` and its timers); the errno of any other failure.
    @discardableResult
    public mutating func wait(until deadline: Int64) -> Result<Int, PollError> {
        wait(timeoutMilliseconds: MonotonicClock.pollTimeout(until: deadline))
    }

    /// As `wait(until:)`, with poll's own timeout (milliseconds, -1 forever).
    @discardableResult
    public mutating func wait(timeoutMilliseconds: Int32) -> Result<Int, PollError> {
        let ready = Glibc.poll(&descriptors, nfds_t(descriptors.count), timeoutMilliseconds)
        if ready >= 0 { return .success(Int(ready)) }
        let number = errno
        return number == EINTR ? .success(0) : .failure(PollError(errno: number))
    }
}

/// A `poll(2)` failure other than an interrupting signal.
public struct PollError: Error, Sendable, Equatable {
    public let errno: Int32
    public init(errno: Int32) { self.errno = errno }
}
