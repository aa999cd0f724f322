// libFuzzer harness: packet timestamps from hostile files (issue 18: a pcapng timestamp of 2^63 with a
// 1-second resolution crashed four tools). Every operation the tools apply to a Timestamp, on values the
// fuzzer picks, must saturate and never trap; the RFC 3339 text is always 30 bytes with a four-digit year.
//
// Input: records of 20 bytes, [seconds 8][nanoseconds 4][delta 8] little-endian, each paired with the one
// before it. Replayed in CI by Tests/RobustnessTests (HostileValueReplayTests) with the same checks.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTimestamp(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    var previous = Timestamp.zero
    var offset = 0
    while offset + 20 <= size {
        func load<T: FixedWidthInteger>(_ at: Int, as type: T.Type) -> T {
            var value: T = 0
            for index in 0..<MemoryLayout<T>.size { value |= T(truncatingIfNeeded: bytes[at + index]) << (8 * index) }
            return value
        }
        let time = Timestamp(seconds: load(offset, as: Int64.self), nanoseconds: load(offset + 8, as: Int32.self))
        let delta = load(offset + 12, as: Int64.self)
        precondition((0..<1_000_000_000).contains(time.nanoseconds), "nanoseconds out of range")
        let difference = time.nanoseconds(since: previous)
        precondition(time < previous ? difference <= 0 : difference >= 0, "difference has the wrong sign")
        precondition(time.seconds(since: previous).isFinite, "seconds(since:) not finite")
        _ = time.totalNanoseconds
        let moved = time.adding(nanoseconds: delta)
        precondition((0..<1_000_000_000).contains(moved.nanoseconds), "adding: nanoseconds out of range")
        if delta > 0 { precondition(moved >= time, "adding a positive delta went backwards") }
        if delta < 0 { precondition(moved <= time, "adding a negative delta went forwards") }
        precondition(time.iso8601.utf8.count == 30, "RFC 3339 text of another length")
        precondition(!time.description.isEmpty)
        let (_, secondOfDay) = time.daysAndSecondOfDay
        precondition((0..<86_400).contains(secondOfDay), "second of day out of range")
        previous = time
        offset += 20
    }
    return 0
}
