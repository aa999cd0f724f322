import Glibc
import PacketCore

/// Output built as bytes in one reused buffer and written to a descriptor with write(2) in chunks of about
/// 64 KiB, with hand-written formatting of the values bgpdecode prints a million times (integers, IPv4 and
/// IPv6 addresses and prefixes, ISO 8601 timestamps).
///
/// Why: a `--table` of a million routes built with String interpolation (`IPv4Address.description`, one
/// `String` per piece, `+=` on a growing String) cost about 9,000 instructions per line (callgrind,
/// scripts/bench-bgpdecode), half the run; appending byte by byte to an `[UInt8]` still cost about 1,000
/// (a uniqueness and capacity check per byte). Here a line is formatted through one `withSpace` call: the
/// room is reserved once, then a `LineWriter` stores the bytes. Every formatter writes exactly what the
/// core's `description`/`iso8601` writes (BGPRenderingTests compares them on many values).
///
/// With `descriptor` nil nothing is written: the bytes accumulate (for tests and for callers that want a
/// String).
public struct OutputBuffer {
    /// The buffer; bytes `0..<count` are pending. Its size only grows (for a line longer than a chunk).
    private var storage: [UInt8]
    public private(set) var count = 0
    public let descriptor: Int32?
    /// Flush once this many bytes are pending.
    public let chunkSize: Int
    /// False once a write failed (a closed pipe, a full disk): later output is dropped, not retried.
    public private(set) var isWritable = true
    /// `2023-11-14T22:13:20.` for `cachedSecond`: consecutive timestamps almost always share the second.
    private var cachedSecondText: [UInt8] = []
    private var cachedSecond: Int64 = .min

    public init(descriptor: Int32? = nil, chunkSize: Int = 1 << 16) {
        self.descriptor = descriptor
        self.chunkSize = chunkSize
        storage = [UInt8](repeating: 0, count: descriptor == nil ? 1 << 12 : chunkSize + 4096)
    }

    /// A buffer without a descriptor, starting with room for `capacity` bytes (it grows when needed).
    init(capacity: Int) {
        descriptor = nil
        chunkSize = 1 << 16
        storage = [UInt8](repeating: 0, count: capacity)
    }

    /// The pending bytes.
    public var bytes: [UInt8] { Array(storage[..<count]) }

    /// Lend the pending bytes (a buffer used to build pieces, no descriptor) without copying them.
    func withPendingBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        storage.withUnsafeBufferPointer { buffer in
            body(UnsafeBufferPointer(start: buffer.baseAddress, count: Swift.min(count, buffer.count)))
        }
    }

    /// Drop what is pending without writing it (a buffer reused to build pieces, no descriptor).
    mutating func discardPending() { count = 0 }
    public var string: String { String(decoding: storage[..<count], as: UTF8.self) }

    /// Write what is pending when it has reached the chunk size.
    @inline(__always)
    public mutating func flushIfFull() {
        if count >= chunkSize { flush() }
    }

    /// Write everything pending (no-op without a descriptor).
    public mutating func flush() {
        guard let descriptor else { return }
        if isWritable, count > 0 {
            let pending = count
            let ok = storage.withUnsafeBytes { raw -> Bool in
                guard let base = raw.baseAddress else { return false }
                var offset = 0
                while offset < pending {
                    let written = Glibc.write(descriptor, base + offset, pending - offset)
                    if written < 0, errno == EINTR { continue }
                    if written <= 0 { return false }
                    offset += written
                }
                return true
            }
            if !ok { isWritable = false }
        }
        count = 0
    }

    /// Make room for `needed` more bytes: flush first when writing to a descriptor, grow when that is
    /// not enough (or there is no descriptor).
    @inline(__always)
    private mutating func reserve(_ needed: Int) {
        if count + needed > storage.count { makeRoom(needed) }
    }

    private mutating func makeRoom(_ needed: Int) {
        if descriptor != nil { flush() }
        if count + needed > storage.count {
            storage.append(contentsOf: repeatElement(0, count: Swift.max(count + needed - storage.count, storage.count)))
        }
    }

    /// Format up to `maximum` bytes through `body` (which must not write more: the writer checks).
    @inline(__always)
    public mutating func withSpace(_ maximum: Int, _ body: (inout LineWriter) -> Void) {
        reserve(maximum)
        let start = count
        count = storage.withUnsafeMutableBufferPointer { buffer in
            var writer = LineWriter(buffer, at: start, limit: start + maximum)
            body(&writer)
            return writer.index
        }
    }

    // MARK: Pieces (each one reservation)

    public mutating func append(_ text: StaticString) {
        withSpace(text.utf8CodeUnitCount) { $0.append(text) }
    }

    public mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in withSpace(utf8.count) { $0.append(utf8) } }
    }

    public mutating func append(bytes other: [UInt8]) {
        withSpace(other.count) { $0.append(other) }
    }

    public mutating func append(byte: UInt8) {
        withSpace(1) { $0.append(byte: byte) }
    }

    /// `text` and a newline, then a flush when the chunk is full.
    public mutating func appendLine(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            withSpace(utf8.count + 1) { writer in
                writer.append(utf8)
                writer.append(byte: 10)
            }
        }
        flushIfFull()
    }

    public mutating func append(decimal value: UInt64) {
        withSpace(LineWriter.maximumDecimal) { $0.append(decimal: value) }
    }

    /// Decimal digits with a leading `-` for negative values.
    public mutating func append(decimal value: Int) {
        withSpace(LineWriter.maximumDecimal + 1) { $0.append(decimal: value) }
    }

    /// Dotted quad, as `IPv4Address.description`.
    public mutating func append(ipv4 value: UInt32) {
        withSpace(LineWriter.maximumIPv4) { $0.append(ipv4: value) }
    }

    /// RFC 5952 text, as `IPv6Address.description`.
    public mutating func append(ipv6High high: UInt64, low: UInt64) {
        withSpace(LineWriter.maximumIPv6) { $0.append(ipv6High: high, low: low) }
    }

    public mutating func append(_ address: IPAddress) {
        withSpace(LineWriter.maximumIPv6) { $0.append(address) }
    }

    /// `198.51.100.10/32`, as `BGPPrefix.description`.
    public mutating func append(_ prefix: BGPPrefix) {
        withSpace(LineWriter.maximumPrefix) { $0.append(prefix) }
    }

    // MARK: Time

    /// `2023-11-14T22:13:20.` for `seconds`, computed once per second.
    mutating func secondText(_ seconds: Int64) -> [UInt8] {
        if seconds != cachedSecond {
            // The core's text up to the fraction's point: the calendar arithmetic (and the saturation of times
            // RFC 3339 cannot show) stays in Timestamp.iso8601.
            let text = Timestamp(seconds: seconds, nanoseconds: 0).iso8601.utf8
            cachedSecondText = Array(text.prefix { $0 != UInt8(ascii: ".") }) + [UInt8(ascii: ".")]
            cachedSecond = seconds
        }
        return cachedSecondText
    }

    /// `2023-11-14T22:13:20.000010000Z`, as `Timestamp.iso8601`.
    public mutating func appendISO8601(_ timestamp: Timestamp) {
        let second = secondText(timestamp.seconds)
        withSpace(second.count + 10) { writer in
            writer.append(second)
            writer.append(nanoseconds: timestamp.nanoseconds)
            writer.append(byte: UInt8(ascii: "Z"))
        }
    }
}

/// Stores bytes into the room `OutputBuffer.withSpace` reserved. Every store is checked against that room
/// (a formatting bug traps instead of writing past it).
public struct LineWriter {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    public private(set) var index: Int
    private let limit: Int

    public static let maximumDecimal = 20
    public static let maximumIPv4 = 15
    public static let maximumIPv6 = 45
    /// An IPv6 prefix with its length, or an IPv4-mapped one.
    public static let maximumPrefix = 49

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>, at index: Int, limit: Int) {
        precondition(limit <= buffer.count)
        self.buffer = buffer
        self.index = index
        self.limit = limit
    }

    @inline(__always)
    public mutating func append(byte: UInt8) {
        precondition(index < limit)
        buffer[index] = byte
        index += 1
    }

    @inline(__always)
    public mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        precondition(bytes.count <= limit - index)
        guard let source = bytes.baseAddress, let target = buffer.baseAddress else { return }
        (target + index).update(from: source, count: bytes.count)
        index += bytes.count
    }

    @inline(__always)
    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    @inline(__always)
    public mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { append($0) }
    }

    // MARK: Numbers

    /// Decimal digits of an unsigned value.
    @inline(__always)
    public mutating func append(decimal value: UInt64) {
        // Octets, prefix lengths and small numbers: no loop, inlined.
        if value < 1000 {
            precondition(3 <= limit - index)
            if value >= 100 {
                buffer[index] = UInt8(truncatingIfNeeded: value / 100) &+ 0x30
                index += 1
            }
            if value >= 10 {
                buffer[index] = UInt8(truncatingIfNeeded: value / 10 % 10) &+ 0x30
                index += 1
            }
            buffer[index] = UInt8(truncatingIfNeeded: value % 10) &+ 0x30
            index += 1
        } else {
            append(largeDecimal: value)
        }
    }

    private mutating func append(largeDecimal value: UInt64) {
        // The digit count by comparisons, then two digits per step: counting with `value / scale` divided
        // by a variable (a hardware division per digit), which made a 10-digit AS number cost ~300 cycles.
        var digits = 4
        var bound: UInt64 = 10_000
        while digits < 20, value >= bound {
            digits += 1
            bound = digits < 20 ? bound &* 10 : .max
        }
        precondition(digits <= limit - index)
        guard let base = buffer.baseAddress else { return }
        var remaining = value
        var position = base + index + digits
        while remaining >= 100 {
            let pair = remaining % 100
            remaining /= 100
            position -= 2
            position[0] = UInt8(truncatingIfNeeded: pair / 10) &+ 0x30
            position[1] = UInt8(truncatingIfNeeded: pair % 10) &+ 0x30
        }
        if remaining >= 10 {
            position -= 2
            position[0] = UInt8(truncatingIfNeeded: remaining / 10) &+ 0x30
            position[1] = UInt8(truncatingIfNeeded: remaining % 10) &+ 0x30
        } else {
            position -= 1
            position[0] = UInt8(truncatingIfNeeded: remaining) &+ 0x30
        }
        index += digits
    }

    /// Decimal digits with a leading `-` for negative values.
    public mutating func append(decimal value: Int) {
        if value < 0 { append(byte: UInt8(ascii: "-")) }
        append(decimal: UInt64(value.magnitude))
    }

    @inline(__always)
    mutating func appendTwoDigits(_ value: Int64) {
        append(byte: UInt8(truncatingIfNeeded: value / 10) &+ 0x30)
        append(byte: UInt8(truncatingIfNeeded: value % 10) &+ 0x30)
    }

    /// Nine digits, zero-padded.
    mutating func append(nanoseconds: Int32) {
        precondition(9 <= limit - index)
        guard let base = buffer.baseAddress else { return }
        var remaining = UInt32(clamping: nanoseconds) % 1_000_000_000
        var position = base + index + 9
        // Two digits per step (a multiply and shift each, no loop test per digit), then the ninth.
        for _ in 0..<4 {
            let pair = remaining % 100
            remaining /= 100
            position -= 2
            position[0] = UInt8(truncatingIfNeeded: pair / 10) &+ 0x30
            position[1] = UInt8(truncatingIfNeeded: pair % 10) &+ 0x30
        }
        (position - 1).pointee = UInt8(truncatingIfNeeded: remaining) &+ 0x30
        index += 9
    }

    /// Lower-case hexadecimal without leading zeros, as `String(value, radix: 16)`.
    mutating func append(hex value: UInt16) {
        var started = false
        var shift = 12
        while shift >= 0 {
            let nibble = UInt8(truncatingIfNeeded: value >> UInt16(shift)) & 0xF
            if nibble != 0 || started || shift == 0 {
                started = true
                append(byte: nibble < 10 ? nibble &+ 0x30 : nibble &+ 0x57)
            }
            shift -= 4
        }
    }

    // MARK: Addresses

    /// Dotted quad, as `IPv4Address.description`: one room check, then the digits of each octet.
    public mutating func append(ipv4 value: UInt32) {
        precondition(LineWriter.maximumIPv4 <= limit - index)
        guard let base = buffer.baseAddress else { return }
        var position = base + index
        @inline(__always) func octet(_ value: UInt32) {
            let octet = value & 0xFF
            if octet >= 100 {
                position.pointee = UInt8(truncatingIfNeeded: octet / 100) &+ 0x30
                position += 1
            }
            if octet >= 10 {
                position.pointee = UInt8(truncatingIfNeeded: octet / 10 % 10) &+ 0x30
                position += 1
            }
            position.pointee = UInt8(truncatingIfNeeded: octet % 10) &+ 0x30
            position += 1
        }
        octet(value >> 24)
        position.pointee = UInt8(ascii: ".")
        position += 1
        octet(value >> 16)
        position.pointee = UInt8(ascii: ".")
        position += 1
        octet(value >> 8)
        position.pointee = UInt8(ascii: ".")
        position += 1
        octet(value)
        index = position - base
    }

    /// RFC 5952 text, as `IPv6Address.description`: the longest run (>= 2, first on a tie) of zero groups
    /// compressed to `::`, IPv4-mapped addresses as `::ffff:a.b.c.d`.
    public mutating func append(ipv6High high: UInt64, low: UInt64) {
        if high == 0, low >> 32 == 0xFFFF {
            append("::ffff:")
            append(ipv4: UInt32(truncatingIfNeeded: low))
            return
        }
        @inline(__always) func group(_ index: Int) -> UInt16 {
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> UInt64(48 - 16 * (index & 3)))
        }
        let run = IPv6Address.compressedRun(high: high, low: low)
        var index = 0
        var needsColon = false
        while index < 8 {
            if let run, index == run.start {
                append("::")
                index += run.length
                needsColon = false
                continue
            }
            if needsColon { append(byte: UInt8(ascii: ":")) }
            append(hex: group(index))
            needsColon = true
            index += 1
        }
    }

    public mutating func append(_ address: IPAddress) {
        switch address {
        case .v4(let v4): append(ipv4: v4.rawValue)
        case .v6(let v6): append(ipv6High: v6.high, low: v6.low)
        }
    }

    /// `198.51.100.10/32`, as `BGPPrefix.description`.
    public mutating func append(_ prefix: BGPPrefix) {
        if prefix.isIPv6 {
            append(ipv6High: prefix.high, low: prefix.low)
        } else {
            append(ipv4: UInt32(truncatingIfNeeded: prefix.high >> 32))
        }
        append(byte: UInt8(ascii: "/"))
        append(decimal: UInt64(prefix.length))
    }
}
