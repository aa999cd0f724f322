/// A packet timestamp: seconds and nanoseconds since the Unix epoch, as libpcap reports them.
///
/// Time in the core always comes from packet timestamps, never from the wall clock, so a replayed capture
/// gives the same answer every time.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Int64
    /// 0 ..< 1_000_000_000
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32) {
        // Normalise so that nanoseconds is always in range, whatever a capture file claims.
        let carry = Int64(nanoseconds) / 1_000_000_000
        var nanos = Int64(nanoseconds) % 1_000_000_000
        var secs = seconds &+ carry
        if nanos < 0 {
            nanos += 1_000_000_000
            secs &-= 1
        }
        self.seconds = secs
        self.nanoseconds = Int32(nanos)
    }

    public static let zero = Timestamp(seconds: 0, nanoseconds: 0)

    /// Nanoseconds since the epoch (saturating).
    public var totalNanoseconds: Int64 {
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return product.addingReportingOverflow(Int64(nanoseconds)).overflow ? .max : product + Int64(nanoseconds)
    }

    /// `self - other` in nanoseconds (saturating).
    public func nanoseconds(since other: Timestamp) -> Int64 {
        let (difference, overflow) = totalNanoseconds.subtractingReportingOverflow(other.totalNanoseconds)
        if overflow { return totalNanoseconds < other.totalNanoseconds ? .min : .max }
        return difference
    }

    /// `self - other` in seconds.
    public func seconds(since other: Timestamp) -> Double {
        Double(seconds - other.seconds) + Double(Int64(nanoseconds) - Int64(other.nanoseconds)) / 1e9
    }

    public func adding(nanoseconds delta: Int64) -> Timestamp {
        Timestamp(seconds: seconds &+ delta / 1_000_000_000, nanoseconds: nanoseconds + Int32(delta % 1_000_000_000))
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    /// `seconds.nanoseconds` with all nine digits, e.g. `1700000000.000123456`.
    public var description: String {
        let fraction = String(nanoseconds)
        return "\(seconds).\(String(repeating: "0", count: 9 - fraction.count))\(fraction)"
    }
}
