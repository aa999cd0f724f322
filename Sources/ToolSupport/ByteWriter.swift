import Glibc
import PacketCore

/// The one byte writer every tool's output goes through (issue 20): lines built as bytes in one reusable buffer
/// and written with one write(2) per `flushThreshold` bytes, so a listing of tens of thousands of addresses makes no
/// String per line and a few dozen system calls in all. Addresses and numbers are formatted straight into the
/// buffer (the core's `description`s allocate); the formatting methods are inlinable so a tool's per-line loop
/// compiles them in place. A live tool that must show each event at once calls `flush()` after it; a negative
/// descriptor keeps everything in `bytes` (tests, fragments made once and reused). The JSON string escaping here
/// and `JSONValue.quote` are the same text, so byte-built lines and JSONLine objects agree.
public struct ByteWriter {
    public var bytes: [UInt8] = []
    /// Where `flush` writes; a negative descriptor keeps everything in `bytes` (tests, cached fragments).
    @usableFromInline let descriptor: Int32
    @usableFromInline let flushThreshold: Int

    public init(descriptor: Int32 = 1, flushThreshold: Int = 64 * 1024) {
        self.descriptor = descriptor
        self.flushThreshold = flushThreshold
        if descriptor >= 0 { bytes.reserveCapacity(flushThreshold + 4096) }
    }

    @inlinable
    public mutating func append(_ literal: StaticString) {
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func append(text: String) { bytes.append(contentsOf: text.utf8) }

    @inlinable
    public mutating func append(bytes more: [UInt8]) { bytes.append(contentsOf: more) }

    @inlinable
    public mutating func append(decimal value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        append(decimal: value.magnitude)
    }

    @inlinable
    public mutating func append(decimal value: Int) { append(decimal: Int64(value)) }

    @inlinable
    public mutating func append(decimal value: Int32) { append(decimal: Int64(value)) }

    /// 4294967295 is every permanent address's lifetime (`forever`): written as one literal.
    @inlinable
    public mutating func append(decimal value: UInt32) {
        if value == UInt32.max { append("4294967295") } else { append(decimal: UInt64(value)) }
    }

    /// Digits written from the last one back (division by the constant 10 is a multiply), into room made first.
    @inlinable
    public mutating func append(decimal value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
            return
        }
        var count = 1
        var probe = value
        while probe >= 10 {
            probe /= 10
            count += 1
        }
        let end = bytes.count + count
        bytes.append(contentsOf: repeatElement(0, count: count))
        var rest = value
        var index = end
        while index > end - count {
            index -= 1
            bytes[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
    }

    /// Lower-case hex without leading zeros, for one 16-bit IPv6 group.
    @inlinable
    mutating func append(hexGroup value: UInt16) {
        let digits: StaticString = "0123456789abcdef"
        var shift = 12
        while shift > 0, value >> UInt16(shift) == 0 { shift -= 4 }
        digits.withUTF8Buffer { table in
            while shift >= 0 {
                bytes.append(table[Int(value >> UInt16(shift) & 0xF)])
                shift -= 4
            }
        }
    }

    /// Dotted quad, as `IPv4Address.description`.
    @inlinable
    public mutating func append(_ address: IPv4Address) {
        let raw = address.rawValue
        append(decimal: raw >> 24)
        bytes.append(UInt8(ascii: "."))
        append(decimal: raw >> 16 & 0xFF)
        bytes.append(UInt8(ascii: "."))
        append(decimal: raw >> 8 & 0xFF)
        bytes.append(UInt8(ascii: "."))
        append(decimal: raw & 0xFF)
    }

    /// RFC 5952 text, byte for byte what `IPv6Address.description` gives: lower-case hex without leading zeros,
    /// the first longest run of two or more zero groups as `::`, IPv4-mapped addresses as `::ffff:a.b.c.d`.
    @inlinable
    public mutating func append(_ address: IPv6Address) {
        if let v4 = address.ipv4Mapped {
            append("::ffff:")
            append(v4)
            return
        }
        func group(_ index: Int) -> UInt16 {
            UInt16(truncatingIfNeeded: (index < 4 ? address.high : address.low) >> (48 - 16 * UInt64(index % 4)))
        }
        let run = IPv6Address.compressedRun(high: address.high, low: address.low)
        var index = 0
        while index < 8 {
            if let run, index == run.start {
                append("::")
                index += run.length
                continue
            }
            // A separator, except first and right after the `::`.
            if index > 0, index != (run.map { $0.start + $0.length } ?? -1) { bytes.append(UInt8(ascii: ":")) }
            append(hexGroup: group(index))
            index += 1
        }
    }

    @inlinable
    public mutating func append(_ address: IPAddress) {
        switch address {
        case .v4(let v4): append(v4)
        case .v6(let v6): append(v6)
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped (RFC 8259 section 7), the same
    /// text ToolSupport's `JSONValue.quote` makes.
    public mutating func appendJSONString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case UInt8(ascii: "\n"): append("\\n")
            case UInt8(ascii: "\r"): append("\\r")
            case UInt8(ascii: "\t"): append("\\t")
            case 0..<0x20:
                append("\\u00")
                append(hexGroup: UInt16(byte >> 4))
                append(hexGroup: UInt16(byte & 0xF))
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `text` and a newline (the line-at-a-time form every renderer that makes Strings uses).
    @inlinable
    public mutating func line(_ text: String) {
        append(text: text)
        endLine()
    }

    /// End a line; write out what has gathered once it passes the threshold.
    @inlinable
    public mutating func endLine() {
        bytes.append(UInt8(ascii: "\n"))
        if bytes.count >= flushThreshold { flush() }
    }

    /// Write everything gathered so far (retrying short writes and EINTR); a closed reader ends the writing.
    public mutating func flush() {
        guard descriptor >= 0, !bytes.isEmpty else { return }
        let descriptor = self.descriptor
        bytes.withUnsafeBytes { Self.writeAll($0, to: descriptor) }
        bytes.removeAll(keepingCapacity: true)
    }

    /// write(2) all of `buffer`, retrying short writes and EINTR; stops quietly when the reader has gone.
    public static func writeAll(_ buffer: UnsafeRawBufferPointer, to descriptor: Int32) {
        var offset = 0
        while offset < buffer.count {
            let written = write(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
            if written < 0, errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }
}
