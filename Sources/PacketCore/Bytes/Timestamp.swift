/// A packet timestamp: seconds and nanoseconds since the Unix epoch, as libpcap reports them.
///
/// Time in the core always comes from packet timestamps, never from the wall clock, so a replayed capture
/// gives the same answer every time.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Int64
    /// 0 ..< 1_000_000_000
    public var nanoseconds: Int32

    @inline(__always)
    public init(seconds: Int64, nanoseconds: Int32) {
        // Every frame's timestamp comes through here, nearly always already normal.
        if nanoseconds >= 0 && nanoseconds < 1_000_000_000 {
            self.seconds = seconds
            self.nanoseconds = nanoseconds
        } else {
            (self.seconds, self.nanoseconds) = Self.normalised(seconds, nanoseconds)
        }
    }

    /// Normalise so that nanoseconds is in range, whatever a capture file claims. Time saturates at the ends
    /// of the range, seconds and nanoseconds together (a pcapng block with a 1-second resolution can claim
    /// 2^63 seconds and more).
    @inline(never)
    private static func normalised(_ seconds: Int64, _ nanoseconds: Int32) -> (Int64, Int32) {
        var carry = Int64(nanoseconds) / 1_000_000_000
        var nanos = Int64(nanoseconds) % 1_000_000_000
        if nanos < 0 {
            nanos += 1_000_000_000
            carry -= 1
        }
        let (sum, overflow) = seconds.addingReportingOverflow(carry)
        if overflow { return carry < 0 ? (.min, 0) : (.max, 999_999_999) }
        return (sum, Int32(nanos))
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
        let (whole, overflow) = seconds.subtractingReportingOverflow(other.seconds)
        let wholeSeconds = overflow ? Double(seconds) - Double(other.seconds) : Double(whole)
        return wholeSeconds + Double(Int64(nanoseconds) - Int64(other.nanoseconds)) / 1e9
    }

    /// `self` moved by `delta` nanoseconds, saturating at the ends of the representable range.
    public func adding(nanoseconds delta: Int64) -> Timestamp {
        let (sum, overflow) = seconds.addingReportingOverflow(delta / 1_000_000_000)
        if overflow { return delta < 0 ? .minimum : .maximum }
        return Timestamp(seconds: sum, nanoseconds: nanoseconds + Int32(delta % 1_000_000_000))
    }

    /// The earliest and the latest time a Timestamp holds: where arithmetic on times saturates.
    public static let minimum = Timestamp(seconds: .min, nanoseconds: 0)
    public static let maximum = Timestamp(seconds: .max, nanoseconds: 999_999_999)

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    /// `seconds.nanoseconds` with all nine digits, e.g. `1700000000.000123456`.
    public var description: String {
        let fraction = String(nanoseconds)
        return "\(seconds).\(String(repeating: "0", count: 9 - fraction.count))\(fraction)"
    }
}

extension Timestamp {
    /// UTC calendar time with nanoseconds, `2026-11-27T19:33:15.202385772Z` (ISO 8601). No Foundation:
    /// days-to-civil conversion from Howard Hinnant's public-domain algorithm.
    ///
    /// RFC 3339 has four-digit years only: a time before year 0 or after 9999 (a hostile or broken capture's)
    /// is shown saturated at 0000-01-01T00:00:00Z or 9999-12-31T23:59:59.999999999Z.
    public var iso8601: String {
        if seconds < Self.rfc3339Range.lowerBound {
            return Timestamp(seconds: Self.rfc3339Range.lowerBound, nanoseconds: 0).iso8601
        }
        if seconds > Self.rfc3339Range.upperBound {
            return Timestamp(seconds: Self.rfc3339Range.upperBound, nanoseconds: 999_999_999).iso8601
        }
        let (days, secondOfDay) = daysAndSecondOfDay
        let (year, month, day) = Self.civil(fromDays: days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let fraction = String(nanoseconds)
        let yearText = String(year)
        return "\(String(repeating: "0", count: max(0, 4 - yearText.count)))\(yearText)-\(two(month))-\(two(day))T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):"
            + "\(two(secondOfDay % 60)).\(String(repeating: "0", count: 9 - fraction.count))\(fraction)Z"
    }

    /// The seconds RFC 3339 can show: 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
    public static let rfc3339Range: ClosedRange<Int64> = -62_167_219_200...253_402_300_799

    /// Whole days since 1970-01-01 and the second within that day (0 ..< 86 400), by floor division, for
    /// any `seconds` (no `seconds - 86_399`, which overflows near Int64.min).
    public var daysAndSecondOfDay: (days: Int64, secondOfDay: Int64) {
        let remainder = seconds % 86_400
        return (seconds / 86_400 - (remainder < 0 ? 1 : 0), remainder < 0 ? remainder + 86_400 : remainder)
    }

    /// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (`iso8601`'s, and the
    /// byte formatters' of the tools).
    public static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
