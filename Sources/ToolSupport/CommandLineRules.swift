import ArgumentParser
import Glibc
import PacketCore

/// Runs a tool's root command the way every vipscope tool wants its command line handled:
/// - a usage error is one line on standard error (`garpwatch: --duration must be ...`) plus the `--help` hint,
///   exit 64, never the whole usage synopsis or help page (a bare `garpwatch` used to print 110 lines);
/// - `--help`, `--version` and every other clean exit behave as swift-argument-parser's own `main`.
///
///     @main struct GarpWatch: ParsableCommand {
///         static func main() { CommandRunner.main(Self.self) }
///     }
public enum CommandRunner {
    /// `helpCommand`: the command the hint names (`bgpdecode listen` for an error in that subcommand); the
    /// root command's name by default.
    public static func main<Command: ParsableCommand>(
        _ type: Command.Type, _ arguments: [String]? = nil, helpCommand: String? = nil
    ) -> Never {
        if (arguments ?? Array(CommandLine.arguments.dropFirst())) == ["--exit-codes"],
            let documented = type as? any DocumentedExitCodes.Type
        {
            printExitCodes(of: documented.exitCodes)
        }
        do {
            var command = try type.parseAsRoot(arguments)
            try command.run()
            Glibc.exit(ExitStatus.ok)
        } catch {
            // An ExitCode was thrown on purpose, after the tool said why: pass it through unchanged.
            if !(error is ExitCode), type.exitCode(for: error) == .validationFailure {
                let name = type.configuration.commandName ?? "vipscope"
                StandardStreams.error(usageLine(name, type.message(for: error), helpCommand: helpCommand))
                Glibc.exit(ExitStatus.usage)
            }
            type.exit(withError: error)
        }
    }

    /// The one-line form of a usage error: the message's first non-empty line, then the hint.
    static func usageLine(_ name: String, _ message: String, helpCommand: String? = nil) -> String {
        let first = message.split(separator: "\n").first.map(String.init) ?? "invalid command line"
        let text = first.hasPrefix("Error: ") ? String(first.dropFirst("Error: ".count)) : first
        // The message may quote what was typed (an unknown option): escaped like any text not of our own.
        return "\(name): \(PrintableText.escaped(text))\n"
            + "See '\(helpCommand ?? name) --help' for the options and examples."
    }
}

/// Range checks for numeric options, so an absurd value (`--duration 1e300`, `--timeout 9999999999s`) is a
/// usage error that names the allowed range instead of an arithmetic trap later on.
///
/// Declare such options with `parsing: .unconditional`, so `--duration -5` reaches this check ("must be
/// positive") instead of swift-argument-parser reading `-5` as an option and reporting "Missing value".
public enum OptionRange {
    /// The longest time any option may name: 10 years. Long enough for any real watch, short enough that
    /// every nanosecond computation on it fits in Int64 (2^63 ns is 292 years).
    public static let maximumSeconds: Double = 10 * 365 * 86_400

    /// Check a duration in seconds: finite, positive (or zero when `allowZero`), at least `minimum` and at
    /// most `maximum`.
    public static func seconds(
        _ value: Double?, option: String, minimum: Double = 0, maximum: Double = maximumSeconds,
        allowZero: Bool = false
    ) throws(ValidationError) {
        guard let value else { return }
        if value.isNaN {
            throw ValidationError("\(option) must be a number of seconds, from \(describe(minimum)) to "
                + "\(describe(maximum)) (got nan).")
        }
        guard value.isFinite, value > 0 || (allowZero && value == 0) else {
            throw ValidationError("\(option) must be positive\(allowZero ? " or zero" : ""), "
                + "from \(describe(minimum)) to \(describe(maximum)) seconds (got \(describe(value))).")
        }
        guard value >= minimum, value <= maximum else {
            throw ValidationError(
                "\(option) must be from \(describe(minimum)) to \(describe(maximum)) seconds (got \(describe(value))).")
        }
    }

    /// Check a whole number: within `range` (which starts at 1 for counts: "must be positive").
    public static func integer<T: BinaryInteger>(
        _ value: T?, option: String, in range: ClosedRange<T>, unit: String
    ) throws(ValidationError) {
        guard let value else { return }
        guard range.contains(value) else {
            let rule = range.lowerBound == 1 && value < 1 ? "must be positive, from" : "must be from"
            throw ValidationError(
                "\(option) \(rule) \(range.lowerBound) to \(range.upperBound) \(unit) (got \(value)).")
        }
    }

    /// `seconds` as a Duration: only for values `seconds(_:option:)` accepted (no trap below 292 years).
    public static func duration(seconds: Double) -> Duration {
        let clamped = min(max(seconds, 0), 9.2e9)
        return .nanoseconds(Int64((clamped * 1e9).rounded(.down)))
    }

    static func describe(_ value: Double) -> String {
        guard value.isFinite, abs(value) < 1e15 else { return String(value) }
        if value == value.rounded() { return String(Int64(value)) }
        return String(value)
    }
}

/// A tool's exit statuses, one line each, for its manual page: `scripts/install` replaces the boilerplate
/// EXIT STATUS section that swift-argument-parser's generate-manual writes with what `TOOL --exit-codes`
/// prints, and a test checks that every code here is also explained in the tool's `--help`.
public protocol DocumentedExitCodes {
    /// (status, meaning) in the order the manual lists them.
    static var exitCodes: [(status: Int32, meaning: String)] { get }
}

extension CommandRunner {
    /// The hidden `--exit-codes` request: `STATUS<TAB>MEANING` lines on standard output.
    static func printExitCodes(of codes: [(status: Int32, meaning: String)]) -> Never {
        var text = ""
        for code in codes { text += "\(code.status)\t\(code.meaning)\n" }
        StandardStreams.output(text)
        Glibc.exit(ExitStatus.ok)
    }

    /// The codes every tool shares, in the words each tool's `--help` uses.
    public static let sharedExitCodes: [(status: Int32, meaning: String)] = [
        (ExitStatus.failure, "could not run (unreadable or missing input, no such interface, no permission), or an "
            + "input could not be read to its end: what was decoded before the cut is printed and marked partial"),
        (ExitStatus.interrupted, "interrupted by SIGINT or SIGTERM before a verdict could be reached"),
        (ExitStatus.usage, "usage error (one line on standard error, and the --help hint)"),
    ]
}
