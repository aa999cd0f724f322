import Glibc

/// The monotonic clock in nanoseconds: every deadline and timer of a loop comes from it (never the wall clock,
/// which an operator or NTP may step).
public enum MonotonicClock {
    public static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// The `poll(2)` timeout that waits until `deadline` (monotonic ns) and not a millisecond less: rounded up, so
    /// a loop never wakes just before its deadline and spins; 0 once it has passed; a deadline further away than
    /// poll can wait (`.max`) is clamped to Int32.max milliseconds, about 24 days.
    public static func pollTimeout(until deadline: Int64, now: Int64 = now()) -> Int32 {
        let wait = deadline <= now ? 0 : deadline.subtractingReportingOverflow(now).partialValue
        return Int32(clamping: wait / 1_000_000 + (wait % 1_000_000 == 0 ? 0 : 1))
    }

    /// Sleep until `deadline` (monotonic ns), at most `slice` ns at a time so a caller that checks a stop signal
    /// between sleeps notices it promptly.
    public static func sleep(until deadline: Int64, slice: Int64 = 50_000_000) {
        let now = now()
        guard deadline > now else { return }
        let pause = min(deadline - now, slice)
        var request = timespec(tv_sec: Int(pause / 1_000_000_000), tv_nsec: Int(pause % 1_000_000_000))
        nanosleep(&request, nil)
    }
}

/// When a loop must end (`--duration`), on the monotonic clock; `.never` for a loop that runs until stopped.
/// The stop signal is the caller's to check between turns (`StopSignal.isRaised` in ToolSupport), so this target
/// depends on nothing but the core and a libnl wrapper can use it too.
public struct Deadline: Sendable, Equatable {
    /// Monotonic nanoseconds; `.max` for never.
    public let at: Int64

    public init(at: Int64) { self.at = at }

    public static let never = Deadline(at: .max)

    /// `seconds` from now, or never when nil.
    public init(afterSeconds seconds: Double?, now: Int64 = MonotonicClock.now()) {
        guard let seconds else {
            self = .never
            return
        }
        // As ToolSupport's OptionRange.duration: clamped to [0, 9.2e9] s, whole nanoseconds rounded down.
        let nanoseconds = Int64((min(max(seconds, 0), 9.2e9) * 1e9).rounded(.down))
        let (sum, overflow) = now.addingReportingOverflow(nanoseconds)
        at = overflow ? .max : sum
    }

    public func hasPassed(now: Int64 = MonotonicClock.now()) -> Bool { at != .max && now >= at }

    /// The poll timeout for one turn: until the deadline, but at most `cap` milliseconds (so the caller checks its
    /// stop signal that often) and at least 1 while the deadline is ahead.
    public func pollTimeout(cap: Int32, now: Int64 = MonotonicClock.now()) -> Int32 {
        if at == .max { return cap }
        return min(cap, max(1, MonotonicClock.pollTimeout(until: at, now: now)))
    }
}
