/// A bounds-checked reader over borrowed bytes: the only way the core touches packet memory.
///
/// - Every read is all-or-nothing: it either returns the value and advances, or throws
///   `ParseError(.truncated)` and leaves the cursor where it was.
/// - Endianness is explicit in the method name (`readU16` is network order; `readU16LE` is little-endian,
///   for MySQL).
/// - A cursor is a window `[position, end)` over a buffer. `sub(_:)` hands out a narrower window for a
///   length-delimited structure, so an inner parser can never read past its own length field.
/// - `origin` is the absolute offset of the buffer's first byte, so errors and ranges are reported in
///   packet (or stream) coordinates, whatever the window.
///
/// This file is the only place in the core with `unsafe` memory access. A cursor borrows its memory: use it
/// only inside the closure that lent the buffer (`withCursor`, libpcap's packet callback). Decoded values
/// never keep a cursor; they keep scalars and absolute `Range<Int>`s into the packet.
public struct Cursor {
    @usableFromInline let buffer: UnsafeRawBufferPointer
    /// Index into `buffer` of the next byte to read.
    @usableFromInline var position: Int
    /// Index into `buffer` one past the last byte this cursor may read.
    @usableFromInline let end: Int
    /// Absolute offset of `buffer[0]`.
    public let origin: Int
    /// The layer blamed by errors thrown from this cursor's reads.
    public var layer: Layer

    /// A cursor over all of `buffer`, whose first byte is at absolute offset `origin`.
    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer, origin: Int = 0, layer: Layer = .link) {
        self.buffer = buffer
        self.position = 0
        self.end = buffer.count
        self.origin = origin
        self.layer = layer
    }

    @inlinable
    init(buffer: UnsafeRawBufferPointer, position: Int, end: Int, origin: Int, layer: Layer) {
        self.buffer = buffer
        self.position = position
        self.end = end
        self.origin = origin
        self.layer = layer
    }

    // MARK: Position

    /// Bytes left in this window.
    @inlinable public var remaining: Int { end - position }
    @inlinable public var isEmpty: Bool { position >= end }
    /// Absolute offset of the next byte.
    @inlinable public var offset: Int { origin + position }
    /// Absolute offset one past the last readable byte.
    @inlinable public var endOffset: Int { origin + end }
    /// Absolute range of the bytes left.
    @inlinable public var remainingRange: Range<Int> { offset..<endOffset }

    /// An error at the current position, blaming this cursor's layer.
    @inlinable
    public func error(_ kind: ParseError.Kind, _ reason: StaticString) -> ParseError {
        ParseError(kind, at: offset, layer: layer, reason)
    }

    @inlinable @inline(__always)
    func require(_ count: Int) throws(ParseError) {
        guard count >= 0, count <= end - position else { throw truncation() }
    }

    /// The error for a read past the end, built out of line so the fast path of every read stays small
    /// enough to inline.
    @usableFromInline @inline(never)
    func truncation() -> ParseError {
        ParseError(.truncated, at: origin + position, layer: layer, "need more bytes")
    }

    // MARK: Big-endian (network order) reads

    @inlinable @inline(__always)
    public mutating func readU8() throws(ParseError) -> UInt8 {
        try require(1)
        let value = buffer[position]
        position += 1
        return value
    }

    @inlinable @inline(__always)
    public mutating func readU16() throws(ParseError) -> UInt16 {
        try require(2)
        let value = buffer.loadUnaligned(fromByteOffset: position, as: UInt16.self)
        position += 2
        return UInt16(bigEndian: value)
    }

    @inlinable @inline(__always)
    public mutating func readU24() throws(ParseError) -> UInt32 {
        try require(3)
        let value = UInt32(buffer[position]) << 16 | UInt32(buffer[position + 1]) << 8 | UInt32(buffer[position + 2])
        position += 3
        return value
    }

    @inlinable @inline(__always)
    public mutating func readU32() throws(ParseError) -> UInt32 {
        try require(4)
        let value = buffer.loadUnaligned(fromByteOffset: position, as: UInt32.self)
        position += 4
        return UInt32(bigEndian: value)
    }

    @inlinable @inline(__always)
    public mutating func readU64() throws(ParseError) -> UInt64 {
        try require(8)
        let value = buffer.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position += 8
        return UInt64(bigEndian: value)
    }

    // MARK: Little-endian reads (MySQL, MRT-embedded host-order fields)

    @inlinable @inline(__always)
    public mutating func readU16LE() throws(ParseError) -> UInt16 {
        try require(2)
        let value = buffer.loadUnaligned(fromByteOffset: position, as: UInt16.self)
        position += 2
        return UInt16(littleEndian: value)
    }

    @inlinable @inline(__always)
    public mutating func readU24LE() throws(ParseError) -> UInt32 {
        try require(3)
        let value = UInt32(buffer[position]) | UInt32(buffer[position + 1]) << 8 | UInt32(buffer[position + 2]) << 16
        position += 3
        return value
    }

    @inlinable @inline(__always)
    public mutating func readU32LE() throws(ParseError) -> UInt32 {
        try require(4)
        let value = buffer.loadUnaligned(fromByteOffset: position, as: UInt32.self)
        position += 4
        return UInt32(littleEndian: value)
    }

    @inlinable @inline(__always)
    public mutating func readU64LE() throws(ParseError) -> UInt64 {
        try require(8)
        let value = buffer.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position += 8
        return UInt64(littleEndian: value)
    }

    // MARK: Peeking (no advance)

    /// The byte `ahead` bytes past the current position, or nil past the end.
    @inlinable
    public func peekU8(ahead: Int = 0) -> UInt8? {
        guard ahead >= 0, ahead < end - position else { return nil }
        return buffer[position + ahead]
    }

    /// The big-endian UInt16 `ahead` bytes past the current position, or nil past the end.
    @inlinable
    public func peekU16(ahead: Int = 0) -> UInt16? {
        guard ahead >= 0, ahead <= end - position - 2 else { return nil }
        return UInt16(bigEndian: buffer.loadUnaligned(fromByteOffset: position + ahead, as: UInt16.self))
    }

    /// The big-endian UInt32 `ahead` bytes past the current position, or nil past the end.
    @inlinable
    public func peekU32(ahead: Int = 0) -> UInt32? {
        guard ahead >= 0, ahead <= end - position - 4 else { return nil }
        return UInt32(bigEndian: buffer.loadUnaligned(fromByteOffset: position + ahead, as: UInt32.self))
    }

    // MARK: Windows and ranges

    /// Skip `count` bytes.
    @inlinable @inline(__always)
    public mutating func skip(_ count: Int) throws(ParseError) {
        try require(count)
        position += count
    }

    /// Skip everything left.
    @inlinable
    public mutating func skipRest() {
        position = end
    }

    /// A cursor over the next `count` bytes (for a length-delimited structure); this cursor moves past them.
    @inlinable @inline(__always)
    public mutating func sub(_ count: Int, layer: Layer? = nil) throws(ParseError) -> Cursor {
        try require(count)
        let window = Cursor(
            buffer: buffer, position: position, end: position + count, origin: origin, layer: layer ?? self.layer)
        position += count
        return window
    }

    /// A cursor over the next `count` bytes, or over what is left if fewer remain (snaplen truncation:
    /// decode what is there). The second value is true when the window was cut short.
    @inlinable @inline(__always)
    public mutating func subUpTo(_ count: Int, layer: Layer? = nil) -> (Cursor, truncated: Bool) {
        let available = Swift.max(0, Swift.min(count, end - position))
        let window = Cursor(
            buffer: buffer, position: position, end: position + available, origin: origin,
            layer: layer ?? self.layer)
        position += available
        return (window, available < count)
    }

    /// A cursor over everything left; this cursor becomes empty.
    @inlinable @inline(__always)
    public mutating func rest(layer: Layer? = nil) -> Cursor {
        let window = Cursor(buffer: buffer, position: position, end: end, origin: origin, layer: layer ?? self.layer)
        position = end
        return window
    }

    /// The absolute range of the next `count` bytes; this cursor moves past them.
    @inlinable @inline(__always)
    public mutating func readRange(_ count: Int) throws(ParseError) -> Range<Int> {
        try require(count)
        let start = origin + position
        position += count
        return start..<(start + count)
    }

    /// A cursor over an absolute range of the same buffer (for example a payload range kept by a decoded
    /// header). Throws if the range is not inside the buffer.
    @inlinable
    public func window(_ absolute: Range<Int>, layer: Layer? = nil) throws(ParseError) -> Cursor {
        let lower = absolute.lowerBound - origin
        let upper = absolute.upperBound - origin
        guard lower >= 0, upper <= buffer.count, lower <= upper else {
            throw error(.malformed, "range outside buffer")
        }
        return Cursor(buffer: buffer, position: lower, end: upper, origin: origin, layer: layer ?? self.layer)
    }

    /// The next `count` bytes as a fixed-size header view; the cursor moves past them. Parsers of
    /// fixed-layout headers check the length once here, then read fields by offset: with a constant
    /// `count` and constant offsets the per-field checks fold away, which matters on the per-frame path.
    @inlinable @inline(__always)
    public mutating func readHeader(_ count: Int) throws(ParseError) -> HeaderBytes {
        try require(count)
        let header = HeaderBytes(
            base: buffer.baseAddress.map { $0 + position }, count: count, origin: origin + position)
        position += count
        return header
    }

    // MARK: Copies (allocate: for cold paths such as strings and reassembly)

    /// Copy the next `count` bytes out.
    public mutating func readBytes(_ count: Int) throws(ParseError) -> [UInt8] {
        try require(count)
        let bytes = Array(buffer[position..<(position + count)])
        position += count
        return bytes
    }

    /// Copy everything left.
    public mutating func readRest() -> [UInt8] {
        let bytes = Array(buffer[position..<end])
        position = end
        return bytes
    }

    /// The next `count` bytes as UTF-8 text (invalid sequences repaired); advances.
    public mutating func readString(_ count: Int) throws(ParseError) -> String {
        try require(count)
        let text = String(decoding: buffer[position..<(position + count)], as: UTF8.self)
        position += count
        return text
    }

    /// Text up to a NUL byte (the NUL is consumed, not returned). Throws truncated when no NUL follows.
    public mutating func readNulTerminatedString() throws(ParseError) -> String {
        var index = position
        while index < end, buffer[index] != 0 { index += 1 }
        guard index < end else { throw error(.truncated, "missing NUL terminator") }
        let text = String(decoding: buffer[position..<index], as: UTF8.self)
        position = index + 1
        return text
    }

    /// Call `body` with the raw bytes left in this window, without copying or advancing.
    @inlinable
    public func withUnsafeRemainingBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(rebasing: buffer[position..<end]))
    }

    /// Whether the remaining bytes equal `bytes` from the current position on (no advance).
    @inlinable
    public func hasPrefix(_ bytes: some Collection<UInt8>) -> Bool {
        guard bytes.count <= end - position else { return false }
        var index = position
        for byte in bytes {
            if buffer[index] != byte { return false }
            index += 1
        }
        return true
    }
}

/// A fixed-size window on a header, read by field offset (network byte order). Every read is checked
/// against `count` (a trap, never an out-of-bounds read); the checks are free when offsets are constants.
public struct HeaderBytes {
    @usableFromInline let base: UnsafeRawPointer?
    public let count: Int
    /// Absolute offset of the first byte.
    public let origin: Int

    @inlinable
    init(base: UnsafeRawPointer?, count: Int, origin: Int) {
        self.base = base
        self.count = count
        self.origin = origin
    }

    @inlinable @inline(__always)
    func pointer(_ offset: Int, _ width: Int) -> UnsafeRawPointer {
        guard offset >= 0, offset + width <= count, let base else { preconditionFailure("header field out of range") }
        return base + offset
    }

    @inlinable @inline(__always)
    public func u8(_ offset: Int) -> UInt8 { pointer(offset, 1).load(as: UInt8.self) }

    @inlinable @inline(__always)
    public func u16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: pointer(offset, 2).loadUnaligned(as: UInt16.self))
    }

    @inlinable @inline(__always)
    public func u32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: pointer(offset, 4).loadUnaligned(as: UInt32.self))
    }

    @inlinable @inline(__always)
    public func u64(_ offset: Int) -> UInt64 {
        UInt64(bigEndian: pointer(offset, 8).loadUnaligned(as: UInt64.self))
    }

    @inlinable @inline(__always)
    public func mac(_ offset: Int) -> MACAddress {
        MACAddress(rawValue: UInt64(u16(offset)) << 32 | UInt64(u32(offset + 2)))
    }

    @inlinable @inline(__always)
    public func ipv4(_ offset: Int) -> IPv4Address { IPv4Address(rawValue: u32(offset)) }

    @inlinable @inline(__always)
    public func ipv6(_ offset: Int) -> IPv6Address { IPv6Address(high: u64(offset), low: u64(offset + 8)) }
}

extension UnsafeRawBufferPointer {
    /// A sub-buffer, bounds-checked in every build (the slice subscript checks only in debug builds, so a
    /// wrong index there would read out of bounds in release). Code outside this file slices through this.
    @inlinable
    public func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "buffer slice out of bounds")
        return UnsafeRawBufferPointer(rebasing: self[range])
    }

    /// The bytes from `start` to the end, bounds-checked in every build.
    @inlinable
    public func slice(from start: Int) -> UnsafeRawBufferPointer { slice(start..<count) }
}

/// Lend a cursor over an array's bytes for the duration of `body` (tests, reassembled streams).
@inlinable
public func withCursor<R, E: Error>(
    over bytes: [UInt8], origin: Int = 0, layer: Layer = .link, _ body: (inout Cursor) throws(E) -> R
) throws(E) -> R {
    let result: Result<R, E> = bytes.withUnsafeBytes { raw in
        var cursor = Cursor(raw, origin: origin, layer: layer)
        do throws(E) {
            return .success(try body(&cursor))
        } catch {
            return .failure(error)
        }
    }
    return try result.get()
}
