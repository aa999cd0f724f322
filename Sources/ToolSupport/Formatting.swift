/// Number formatting for human-readable output (no Foundation, no locale: stable across machines).
public enum Formatting {
    /// `value` with exactly `decimals` digits after the point, rounded half away from zero.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        var scale = 1.0
        for _ in 0..<max(0, decimals) { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        // Past Int64's range (a gap between absurd timestamps) there are no digits to fix: plain notation.
        guard scaled < 9.2e18 else { return String(value) }
        let integer = Int64(scaled / scale)
        let fraction = Int64(scaled - Double(integer) * scale)
        let sign = value < 0 && scaled != 0 ? "-" : ""
        guard decimals > 0 else { return sign + String(integer) }
        let digits = String(fraction)
        return sign + String(integer) + "." + String(repeating: "0", count: decimals - digits.count) + digits
    }

    /// A duration in nanoseconds as milliseconds with three decimals: `812.345 ms` precision without noise.
    public static func milliseconds(_ nanoseconds: Int64) -> String {
        fixed(Double(nanoseconds) / 1e6, decimals: 3)
    }
}
