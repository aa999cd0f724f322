import PacketCore
import Testing

/// CI's share of the hostile-value harnesses (Fuzz/timestamp.swift, Fuzz/wire-text.swift): every committed seed
/// and regression input, through the same checks the harnesses make.
@Suite("Hostile value replay", .timeLimit(.minutes(5)))
struct HostileValueReplayTests {
    @Test func corporaAreThere() {
        for target in ["timestamp", "wire-text"] {
            #expect(FuzzInputs.all(target).count >= 5, "seeds for \(target): run scripts/fuzz --seeds \(target)")
        }
    }

    @Test(arguments: FuzzInputs.all("timestamp"))
    func timestamp(path: String) throws {
        let bytes = try FuzzInputs.bytes(path)
        func load<T: FixedWidthInteger>(_ at: Int, as type: T.Type) -> T {
            var value: T = 0
            for index in 0..<MemoryLayout<T>.size { value |= T(truncatingIfNeeded: bytes[at + index]) << (8 * index) }
            return value
        }
        var previous = Timestamp.zero
        var offset = 0
        while offset + 20 <= bytes.count {
            let time = Timestamp(seconds: load(offset, as: Int64.self), nanoseconds: load(offset + 8, as: Int32.self))
            let delta = load(offset + 12, as: Int64.self)
            #expect((0..<1_000_000_000).contains(time.nanoseconds))
            let difference = time.nanoseconds(since: previous)
            #expect(time < previous ? difference <= 0 : difference >= 0)
            #expect(time.seconds(since: previous).isFinite)
            let moved = time.adding(nanoseconds: delta)
            if delta > 0 { #expect(moved >= time, "\(path): \(time) + \(delta)") }
            if delta < 0 { #expect(moved <= time, "\(path): \(time) + \(delta)") }
            #expect(time.iso8601.utf8.count == 30, "\(time.iso8601)")
            previous = time
            offset += 20
        }
    }

    @Test(arguments: FuzzInputs.all("wire-text"))
    func wireText(path: String) throws {
        let text = String(decoding: try FuzzInputs.bytes(path), as: UTF8.self)
        let escaped = PrintableText.escaped(text)
        for scalar in escaped.unicodeScalars {
            let value = scalar.value
            #expect(!(value < 0x20 || value == 0x7F || (0x80...0x9F).contains(value)), "\(path)")
            #expect(!(0x2028...0x202E).contains(value) && !(0x2066...0x2069).contains(value), "\(path)")
        }
        #expect(escaped.split(separator: "\n").count <= 1)
        // Nothing lost: only escapes were added.
        #expect(escaped.unicodeScalars.count >= text.unicodeScalars.count)
    }
}
