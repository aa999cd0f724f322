import PacketCore

/// Range checks for numeric command-line options read as text, as one sentence that names the allowed range:
/// the companion of `OptionRange` (CommandLineRules.swift) for options a tool declares as `String`, so that a
/// value too large for any integer type (`99999999999999999999`) is still answered with the range rather than
/// swift-argument-parser's "not a valid value". bgpdecode and its `listen` use it.
///
/// The options are read as text (with swift-argument-parser's `.unconditional` parsing, so `-5` reaches
/// the check instead of reading as an option) and checked here: an absurd value (`1e300`, `9999999999`)
/// or a negative one is a usage error that says what is allowed, never an arithmetic trap later when the
/// value becomes a duration or a timer.
public enum NumericOption {
    /// The longest wait or capture duration accepted: 30 days, far past any use and far from overflowing
    /// a nanosecond count.
    public static let maximumSeconds: Double = 30 * 86_400

    /// Why a value was refused, phrased for `ValidationError`.
    public struct Invalid: Error, Sendable, Equatable {
        public var message: String
    }

    /// `text` as an integer in `range`, else the sentence naming `option` and the range.
    public static func integer<T: FixedWidthInteger>(
        _ text: String, option: String, range: ClosedRange<T>, allowed: String? = nil
    ) -> Result<T, Invalid> {
        let allowedText = allowed ?? "a whole number between \(range.lowerBound) and \(range.upperBound)"
        let shown = PrintableText.escaped(text.prefix(40))
        let trimmed = text.hasPrefix("+") ? String(text.dropFirst()) : text
        if let value = T(trimmed), range.contains(value) { return .success(value) }
        if isNegativeNumber(text) {
            return .failure(Invalid(message: "\(option) must be positive: \(allowedText) (got \(shown))."))
        }
        return .failure(Invalid(message: "\(option) must be \(allowedText) (got \(shown))."))
    }

    /// `text` as a number of seconds, more than 0 and at most `maximum`.
    public static func seconds(_ text: String, option: String, maximum: Double = maximumSeconds) -> Result<Double, Invalid> {
        let allowedText = "more than 0 and at most \(Int(maximum)) seconds"
        let shown = PrintableText.escaped(text.prefix(40))
        guard let value = Double(text), value.isFinite else {
            if isNegativeNumber(text) {
                return .failure(Invalid(message: "\(option) must be positive: \(allowedText) (got \(shown))."))
            }
            return .failure(Invalid(message: "\(option) must be a number of seconds, \(allowedText) (got \(shown))."))
        }
        if value <= 0 || value.sign == .minus {
            return .failure(Invalid(message: "\(option) must be positive: \(allowedText) (got \(shown))."))
        }
        guard value <= maximum else {
            return .failure(Invalid(message: "\(option) must be \(allowedText) (got \(shown))."))
        }
        return .success(value)
    }

    /// Whether `text` reads as a negative number of any size (`-5`, `-1e300`, `-99999999999999999999`).
    static func isNegativeNumber(_ text: String) -> Bool {
        guard text.hasPrefix("-") else { return false }
        let rest = text.dropFirst()
        return !rest.isEmpty && (Double(rest) != nil || rest.allSatisfy { $0.isNumber })
    }

    /// `seconds` (already checked by `seconds(_:option:)`) as a `Duration`, saturating instead of trapping.
    public static func duration(_ seconds: Double) -> Duration {
        seconds.isFinite ? OptionRange.duration(seconds: seconds) : .zero
    }
}
