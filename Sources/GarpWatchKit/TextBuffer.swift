import Glibc
import PacketCore

/// Output text built as bytes, and written to a descriptor in large chunks.
///
/// garpwatch prints a line per new station and per address in the summary: 20,000 lines for the benchmark's
/// 10,000 addresses. Built with String interpolation (`iso8601`, `MACAddress.description`, one `String` per
/// piece) and written one `write(2)` per line, those lines cost more than reading the million frames
/// (callgrind: about 35,000 instructions per line). Appending digits to one reused byte array costs a few
/// hundred. Every formatter here produces exactly what the core's `description`/`iso8601` produce (a test
/// compares them on many values); the rare IPv6 address falls back to the core's own text.
public struct TextBuffer: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// `2026-11-27T` for `cachedDay` (days since the epoch): consecutive timestamps share the date.
    private var cachedDate: [UInt8] = []
    private var cachedDay: Int64 = .min

    public init(capacity: Int = 1 << 12) {
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }
    public var isEmpty: Bool { bytes.isEmpty }
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    @inline(__always)
    public mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Dynamic text (names, enum raw values); literals go through the `StaticString` overload.
    @inline(__always)
    public mutating func append(string text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    @inline(__always)
    public mutating func append(byte: UInt8) {
        bytes.append(byte)
    }

    /// Decimal digits, with a leading `-` for negative values.
    public mutating func append(decimal value: Int) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 20 digits, least significant first
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(truncatingIfNeeded: magnitude % 10) + UInt8(ascii: "0")
                magnitude /= 10
                count += 1
            } while magnitude > 0
            while count > 0 {
                count -= 1
                bytes.append(buffer[count])
            }
        }
    }

    /// `02:76:73:03:00:02`, as `MACAddress.description`.
    public mutating func append(_ mac: MACAddress) {
        let hex: StaticString = "0123456789abcdef"
        hex.withUTF8Buffer { digits in
            for index in 0..<6 {
                let octet = Int(truncatingIfNeeded: mac.rawValue >> (40 - 8 * UInt64(index))) & 0xFF
                if index > 0 { bytes.append(UInt8(ascii: ":")) }
                bytes.append(digits[octet >> 4])
                bytes.append(digits[octet & 0xF])
            }
        }
    }

    /// Dotted quad for IPv4, the core's RFC 5952 text for IPv6.
    public mutating func append(_ ip: IPAddress) {
        switch ip {
        case .v4(let address):
            let value = address.rawValue
            append(decimal: Int(value >> 24))
            bytes.append(UInt8(ascii: "."))
            append(decimal: Int(value >> 16 & 0xFF))
            bytes.append(UInt8(ascii: "."))
            append(decimal: Int(value >> 8 & 0xFF))
            bytes.append(UInt8(ascii: "."))
            append(decimal: Int(value & 0xFF))
        case .v6(let address):
            append(string: address.description)
        }
    }

    /// `198.51.100.20` or `198.51.100.20 vlan 100`, as `BindingKey.description`.
    public mutating func append(_ key: BindingKey) {
        append(key.ip)
        if key.vlans.count > 0 {
            bytes.append(UInt8(ascii: " "))
            append(string: key.vlans.description)
        }
    }

    /// `2026-11-27T19:33:15.202385772Z`, as `Timestamp.iso8601`.
    public mutating func append(iso8601 time: Timestamp) {
        // A time RFC 3339 cannot show is saturated by the core's own text (rare: hostile or broken captures).
        guard Timestamp.rfc3339Range.contains(time.seconds) else {
            bytes.append(contentsOf: Array(time.iso8601.utf8))
            return
        }
        let (days, secondOfTheDay) = time.daysAndSecondOfDay
        if days != cachedDay {
            // The core's own text up to the `T`: the calendar arithmetic stays in one place.
            let text = time.iso8601.utf8
            cachedDate = Array(text.prefix { $0 != UInt8(ascii: "T") }) + [UInt8(ascii: "T")]
            cachedDay = days
        }
        bytes.append(contentsOf: cachedDate)
        let secondOfDay = Int(secondOfTheDay)
        appendTwoDigits(secondOfDay / 3600)
        bytes.append(UInt8(ascii: ":"))
        appendTwoDigits(secondOfDay / 60 % 60)
        bytes.append(UInt8(ascii: ":"))
        appendTwoDigits(secondOfDay % 60)
        bytes.append(UInt8(ascii: "."))
        // Nine digits, zero-padded; constant divisors compile to multiplications.
        let nanoseconds = Int(time.nanoseconds)
        bytes.append(UInt8(truncatingIfNeeded: nanoseconds / 100_000_000) + UInt8(ascii: "0"))
        appendTwoDigits(nanoseconds / 1_000_000 % 100)
        appendTwoDigits(nanoseconds / 10_000 % 100)
        appendTwoDigits(nanoseconds / 100 % 100)
        appendTwoDigits(nanoseconds % 100)
        bytes.append(UInt8(ascii: "Z"))
    }

    @inline(__always)
    private mutating func appendTwoDigits(_ value: Int) {
        bytes.append(UInt8(truncatingIfNeeded: value / 10) + UInt8(ascii: "0"))
        bytes.append(UInt8(truncatingIfNeeded: value % 10) + UInt8(ascii: "0"))
    }

    /// Write everything to `descriptor` (retrying short writes and EINTR) and empty the buffer. Output that
    /// cannot be written (a closed pipe) is dropped: there is nobody left to tell.
    public mutating func flush(to descriptor: Int32 = 1) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count, let base = buffer.baseAddress {
                let written = write(descriptor, base + offset, buffer.count - offset)
                if written < 0, errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
        bytes.removeAll(keepingCapacity: true)
    }
}

extension NodeMap {
    /// `02:76:73:03:00:02 (node1)` or the bare MAC, as `label(_:)`.
    @inline(__always)
    func appendLabel(_ mac: MACAddress, to text: inout TextBuffer) {
        text.append(mac)
        if !names.isEmpty, let name = names[mac] {
            text.append(" (")
            text.append(string: PrintableText.escaped(name))
            text.append(")")
        }
    }
}
