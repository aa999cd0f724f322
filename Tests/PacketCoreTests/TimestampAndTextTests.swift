import PacketCore
import TestSupport
import Testing

/// Packet timestamps come from files anyone can write: every arithmetic on them must saturate, never trap
/// (issue 18: a pcapng interface with a 1-second resolution and a timestamp of 2^63 crashed four tools).
@Suite("Timestamps and wire text under hostile values")
struct TimestampAndTextTests {
    /// Extreme and random second counts, with every nanosecond edge.
    static let extremes: [Int64] = [
        .min, .min + 1, .min + 86_399, -62_167_219_201, -62_167_219_200, -86_401, -86_400, -1, 0, 1, 86_399,
        86_400, 1_700_000_000, 253_402_300_799, 253_402_300_800, .max - 86_399, .max - 1, .max,
    ]

    static func samples() -> [Timestamp] {
        var random = SplitMix64(seed: 0x7157)
        var seconds = extremes
        for _ in 0..<2000 { seconds.append(Int64(bitPattern: random.next())) }
        let nanos: [Int32] = [.min, -1_000_000_001, -1, 0, 1, 999_999_999, 1_000_000_000, .max]
        return seconds.enumerated().map { index, value in
            Timestamp(seconds: value, nanoseconds: nanos[index % nanos.count])
        }
    }

    @Test func everyOperationOnAnyTimestampSaturatesInsteadOfTrapping() {
        let all = Self.samples()
        var random = SplitMix64(seed: 99)
        for (index, time) in all.enumerated() {
            #expect((0..<1_000_000_000).contains(time.nanoseconds))
            let other = all[Int(random.next() % UInt64(all.count))]
            // Each of these trapped (or could) on some input before.
            _ = time.totalNanoseconds
            let difference = time.nanoseconds(since: other)
            if time > other { #expect(difference >= 0) } else if time < other { #expect(difference <= 0) }
            #expect(time.seconds(since: other).isFinite)
            let moved = time.adding(nanoseconds: Int64(bitPattern: random.next()))
            #expect((0..<1_000_000_000).contains(moved.nanoseconds))
            let text = time.iso8601
            #expect(text.utf8.count == 30, "RFC 3339 with nine fraction digits, four-digit year: \(text)")
            #expect(text.hasSuffix("Z"))
            #expect(!time.description.isEmpty, "sample \(index)")
            let (days, secondOfDay) = time.daysAndSecondOfDay
            #expect((0..<86_400).contains(secondOfDay))
            if Timestamp.rfc3339Range.contains(time.seconds) { #expect(days * 86_400 + secondOfDay == time.seconds) }
        }
    }

    @Test func adjacentDaysAroundTheEpochAndTheRFC3339Ends() {
        #expect(Timestamp(seconds: -1, nanoseconds: 5).iso8601 == "1969-12-31T23:59:59.000000005Z")
        #expect(Timestamp(seconds: 0, nanoseconds: 0).iso8601 == "1970-01-01T00:00:00.000000000Z")
        #expect(Timestamp(seconds: 1_700_000_000, nanoseconds: 123).iso8601 == "2023-11-14T22:13:20.000000123Z")
        #expect(Timestamp(seconds: .min, nanoseconds: 0).iso8601 == "0000-01-01T00:00:00.000000000Z")
        #expect(Timestamp(seconds: .max, nanoseconds: 0).iso8601 == "9999-12-31T23:59:59.999999999Z")
        #expect(Timestamp(seconds: -62_135_596_800, nanoseconds: 0).iso8601 == "0001-01-01T00:00:00.000000000Z")
        // Saturation, not wrap-around.
        #expect(Timestamp(seconds: .max, nanoseconds: 1_500_000_000).seconds == .max)
        #expect(Timestamp(seconds: .min, nanoseconds: -1).seconds == .min)
        #expect(Timestamp(seconds: .max, nanoseconds: 0).adding(nanoseconds: .max).seconds == .max)
        #expect(Timestamp(seconds: .min, nanoseconds: 0).adding(nanoseconds: .min).seconds == .min)
        #expect(Timestamp(seconds: .max, nanoseconds: 0).nanoseconds(since: Timestamp(seconds: .min, nanoseconds: 0)) == .max)
        #expect(Timestamp(seconds: .min, nanoseconds: 0).nanoseconds(since: Timestamp(seconds: .max, nanoseconds: 0)) == .min)
        let span = Timestamp(seconds: .max, nanoseconds: 0).seconds(since: Timestamp(seconds: .min, nanoseconds: 0))
        #expect(span > 1.8e19 && span < 1.9e19)
    }

    @Test(arguments: [
        ("plain 10.11.19-MariaDB", "plain 10.11.19-MariaDB"),
        ("two\r\nsession established", "two\\r\\nsession established"),
        ("\u{1b}[2J\u{1b}]0;title\u{07}", "\\x1b[2J\\x1b]0;title\\x07"),
        ("tab\there, nul\u{0}, del\u{7f}", "tab\\there, nul\\x00, del\\x7f"),
        ("back\\slash", "back\\\\slash"),
        ("c1 \u{9b}31m", "c1 \\u{9b}31m"),
        ("bidi \u{202e}txt.exe\u{2066}", "bidi \\u{202e}txt.exe\\u{2066}"),
        ("line\u{2028}sep", "line\\u{2028}sep"),
        ("nœud-é 東京 \u{fffd}", "nœud-é 東京 \u{fffd}"),
    ])
    func peerTextIsEscapedForOneTerminalLine(_ input: String, _ expected: String) {
        let escaped = PrintableText.escaped(input)
        #expect(escaped == expected)
        #expect(PrintableText.isPlain(input) == (input == expected))
    }

    @Test func escapedTextNeverHoldsAControlCharacterWhateverTheBytes() {
        var random = SplitMix64(seed: 0xE5C)
        for _ in 0..<5000 {
            let length = Int(random.next() % 40)
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let text = String(decoding: bytes, as: UTF8.self)
            let escaped = PrintableText.escaped(text)
            for scalar in escaped.unicodeScalars {
                let value = scalar.value
                #expect(!(value < 0x20 || value == 0x7f || (0x80...0x9f).contains(value)), "\(bytes)")
                #expect(![0x2028, 0x2029].contains(value) && !(0x202a...0x202e).contains(value))
                #expect(!(0x2066...0x2069).contains(value))
            }
            // Escaping is reversible in principle: a backslash in the output always starts an escape.
            #expect(escaped.count >= text.count)
        }
    }
}
